"""``lab apply`` and tracked connections: a UDP flow the new policies deny is forgotten (a
packet reusing its source port is judged afresh and dropped), one they still allow is
kept (its replies keep flowing). Real conntrack tables in the lab's node namespace; the
parsing and judging are also checked on their own."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from lab_support import SCENARIOS

from stockade.engine import Engine
from stockade.lab import lifecycle, tracking
from stockade.lab.state import PodState
from stockade.model.types import Protocol
from stockade.sources.files import read_paths

PORT = 5353  # a port no listener of the lab serves: the test's own echo server does

LISTING = (
    "udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=51377 dport=53 [UNREPLIED] "
    "src=10.0.0.2 dst=10.0.0.1 sport=53 dport=51377 mark=0 use=1\n"
    "tcp      6 431999 ESTABLISHED src=fd00::1 dst=fd00::2 sport=4000 dport=80 "
    "src=fd00::2 dst=fd00::1 sport=80 dport=4000 [ASSURED] mark=0 use=1\n"
    "icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=7 src=10.0.0.2 "
    "dst=10.0.0.1 type=0 code=0 id=7 mark=0 use=1\n")


def test_parse_reads_the_original_direction_of_tcp_and_udp() -> None:
    assert tracking.parse(LISTING) == [
        tracking.Tracked(Protocol.UDP, "10.0.0.1", "10.0.0.2", 51377, 53),
        tracking.Tracked(Protocol.TCP, "fd00::1", "fd00::2", 4000, 80)]


def test_denied_judges_each_flow_once() -> None:
    asked: list[tuple[str, str, Protocol, int]] = []

    def allowed(src: str, dst: str, protocol: Protocol, port: int) -> bool:
        asked.append((src, dst, protocol, port))
        return port == 80

    same_flow = [tracking.Tracked(Protocol.UDP, "10.0.0.1", "10.0.0.2", sport, 53)
                 for sport in (1000, 1001)]
    kept = tracking.Tracked(Protocol.TCP, "10.0.0.1", "10.0.0.2", 1002, 80)
    assert tracking.denied([*same_flow, kept], allowed) == same_flow
    assert len(asked) == 2
    assert same_flow[0].delete_line() == (
        "-D -p udp -s 10.0.0.1 -d 10.0.0.2 --sport 1000 --dport 53")


ECHO = textwrap.dedent("""
    import socket, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(sys.argv[1])))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(100)
        s.sendto(data, peer)
""")

SEND = textwrap.dedent("""
    import socket, sys
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(sys.argv[3])))
    s.settimeout(float(sys.argv[4]))
    try:
        for _ in range(3):
            s.sendto(b"x", (sys.argv[1], int(sys.argv[2])))
            try:
                s.recvfrom(100)
                print("reply")
                break
            except TimeoutError:
                pass
        else:
            print("none")
    finally:
        s.close()
""")


def _send(src: PodState, dst: PodState, sport: int, timeout: float) -> bool:
    out = subprocess.run(["ip", "netns", "exec", src.netns, sys.executable, "-c", SEND,
                          dst.ips[0], str(PORT), str(sport), str(timeout)],
                         capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.strip() == "reply"


def _tracked(node_netns: str, sport: int) -> bool:
    out = subprocess.run(["ip", "netns", "exec", node_netns, "conntrack", "-L", "-p", "udp",
                          "--sport", str(sport)], capture_output=True, text=True, check=True)
    return f"sport={sport} " in out.stdout


@pytest.mark.lab
def test_apply_forgets_denied_flows_and_keeps_allowed_ones(lab_name: str) -> None:
    base, policies = SCENARIOS / "nine-pods-base.yaml", SCENARIOS / "nine-pods-policies.yaml"
    lab = lifecycle.up(read_paths([str(base)]), lab_name)  # no policy: all allowed
    node = lab.state.nodes[0].netns
    after = Engine(lifecycle.build(read_paths([str(base), str(policies)])).cluster)
    pods = {p.key: p for p in lab.state.pods}
    pairs = [(a, b) for a in pods for b in pods if a != b and pods[b].ips]
    cut = next((a, b) for a, b in pairs if not after.allowed(a, b, Protocol.UDP, PORT))
    kept = next((a, b) for a, b in pairs if after.allowed(a, b, Protocol.UDP, PORT))
    servers = []
    try:
        for key in {cut[1], kept[1]}:
            server = subprocess.Popen(["ip", "netns", "exec", pods[key].netns,
                                       sys.executable, "-c", ECHO, str(PORT)],
                                      stdout=subprocess.PIPE, text=True)
            servers.append(server)
            assert server.stdout is not None and server.stdout.readline() == "ready\n"
        for sport, (a, b) in ((40001, cut), (40002, kept)):
            assert _send(pods[a], pods[b], sport, 5.0)
            assert _tracked(node, sport)
        lifecycle.apply(lab_name, read_paths([str(policies)]))
        assert not _tracked(node, 40001)
        assert _tracked(node, 40002)
        assert not _send(pods[cut[0]], pods[cut[1]], 40001, 0.5)  # judged afresh: dropped
        assert _send(pods[kept[0]], pods[kept[1]], 40002, 5.0)
    finally:
        for server in servers:
            server.kill()
            server.wait()
            if server.stdout is not None:
                server.stdout.close()

