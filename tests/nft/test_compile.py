"""The compiler: golden rulesets for hand-built rules, every ruleset accepted by ``nft -c``,
and per-packet work that does not grow with the number of policies."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stockade.engine import Engine
from stockade.engine.resolved import (
    NamedPort,
    PodRules,
    PortRange,
    ResolvedBlock,
    ResolvedPeers,
    ResolvedRule,
)
from stockade.errors import CommandFailed, InputError
from stockade.model.build import build_cluster
from stockade.model.netparse import IPNetwork, parse_cidr
from stockade.model.types import Container, ContainerPort, ObjectMeta, Pod, PodSpec, Protocol
from stockade.nft.apply import NftRunner
from stockade.nft.compile import compile_engine, compile_ruleset
from stockade.nft.render import render_json, render_replace, render_table
from stockade.sources.files import parse_text, read_paths

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def check_netns() -> Iterator[str]:
    """A scratch namespace for ``nft -c -f``: the check talks to the kernel, and the root
    namespace's firewall is never the place for that."""
    name = f"stk-nftcheck{os.getpid()}-node"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)


def _pod(ns: str, name: str, *ips: str, ports: tuple[ContainerPort, ...] = ()) -> Pod:
    return Pod(ObjectMeta(name, ns), PodSpec(containers=(Container("c", ports),)), ips=ips)


def _net(text: str) -> IPNetwork:
    net = parse_cidr(text)
    assert net is not None
    return net


PODS = (
    _pod("a", "web", "10.0.0.1", "fd00::1", ports=(ContainerPort(8080, "TCP", "http"),)),
    _pod("a", "db", "10.0.0.2", ports=(ContainerPort(5432, "TCP", "pg"),
                                       ContainerPort(53, "UDP", "dns"))),
    _pod("b", "client", "10.0.1.1"),
    _pod("b", "pending"),
)

INGRESS = {
    "a/web": PodRules("a/web", True, (
        ResolvedRule("a/allow-web", 0, ResolvedPeers(True), (PortRange(Protocol.TCP, 8080, 8080),)),
    )),
    "a/db": PodRules("a/db", True, (
        ResolvedRule("a/db", 0, ResolvedPeers(False, frozenset({"a/web"})),
                     (PortRange(Protocol.TCP, 5000, 6000), PortRange(Protocol.TCP, 5432, 5432))),
        ResolvedRule("a/db", 1, ResolvedPeers(False, blocks=(
            ResolvedBlock(_net("10.0.0.0/16"), (_net("10.0.1.0/24"),)),)),
            (PortRange(Protocol.UDP),)),
    )),
}
EGRESS = {
    "b/client": PodRules("b/client", True, (
        ResolvedRule("b/out", 0, ResolvedPeers(False, frozenset({"a/db"})), (),
                     (NamedPort(Protocol.UDP, "dns"), NamedPort(Protocol.TCP, "nope"))),
        ResolvedRule("b/out", 1, ResolvedPeers(False, blocks=(
            ResolvedBlock(_net("fd00::/64"), ()),)), None),
    )),
    "a/web": PodRules("a/web", False),
}


def test_golden_small_ruleset() -> None:
    result = compile_ruleset(PODS, INGRESS, EGRESS, table="stockade")
    text = render_replace(result.table)
    golden = GOLDEN / "small.nft"
    assert text == golden.read_text()
    assert result.notes == ("b/pending: no pod IP, not enforced (and matches no pod peer)",)


def test_golden_facts_spelled_out() -> None:
    """What the golden file must say, independently of its bytes."""
    table = compile_ruleset(PODS, INGRESS, EGRESS).table
    sets = {s.name: s for s in table.sets}
    # ipBlock 10.0.0.0/16 except 10.0.1.0/24, UDP all ports: the difference, two ranges.
    assert sets["ingress_1_v4"].elements == (
        "10.0.0.1 . tcp . 5000-6000",
        "10.0.0.0-10.0.0.255 . udp . 1-65535",
        "10.0.2.0-10.0.255.255 . udp . 1-65535",
    )
    # egress named port resolved on the destination pod; a name it lacks adds nothing;
    # ports None: every protocol and port to the IPv6 block.
    assert sets["egress_0_v4"].elements == ("10.0.0.2 . udp . 53",)
    assert sets["egress_0_v6"].elements == tuple(
        f"fd00::-fd00::ffff:ffff:ffff:ffff . {p} . 0-65535" for p in ("tcp", "udp", "sctp"))
    assert sets["ingress_v4"].elements == ("10.0.0.1 : jump ingress_0",
                                           "10.0.0.2 : jump ingress_1")
    assert sets["ingress_v6"].elements == ("fd00::1 : jump ingress_0",)


def test_every_golden_is_valid_nft(check_netns: str) -> None:
    for golden in sorted(GOLDEN.glob("*.nft")):
        NftRunner(check_netns).run(golden.read_text(), check=True)


def test_nft_check_rejects_garbage(check_netns: str) -> None:
    with pytest.raises(CommandFailed) as info:
        NftRunner(check_netns).run("table inet x { chain c { bogus } }\n", check=True)
    assert "syntax error" in info.value.stderr


def test_duplicate_pod_ip_is_an_input_error() -> None:
    with pytest.raises(InputError, match="also the IP of a/web"):
        compile_ruleset((_pod("a", "web", "10.0.0.1"), _pod("a", "x", "10.0.0.1")), {}, {})


def _scenario_files() -> list[Path]:
    return sorted((ROOT / "tests" / "scenarios").glob("*.yaml")) + sorted(
        (ROOT / "tests" / "lab" / "scenarios").glob("*.yaml"))


def _engine(*paths: Path) -> Engine:
    result = build_cluster(read_paths([str(p) for p in paths]))
    return Engine(result.cluster)


@pytest.mark.parametrize("path", _scenario_files(), ids=lambda p: p.name)
def test_scenario_rulesets_pass_nft_check(path: Path, check_netns: str) -> None:
    table = compile_engine(_engine(path)).table
    NftRunner(check_netns).run(render_replace(table), check=True)
    assert render_json(table)["table"] == {"family": "inet", "name": "stockade"}


def test_nine_pod_lab_scenario_loads_for_real(check_netns: str) -> None:
    scen = ROOT / "tests" / "lab" / "scenarios"
    table = compile_engine(_engine(scen / "nine-pods-base.yaml",
                                   scen / "nine-pods-policies.yaml"), table="stk-t").table
    runner = NftRunner(check_netns)
    runner.run(render_replace(table))
    runner.run(render_replace(table))  # replacing an existing table works too
    listed = subprocess.run(["ip", "netns", "exec", check_netns, "nft", "list", "table", "inet",
                             "stk-t"], capture_output=True, text=True, check=True).stdout
    assert "ingress_v4" in listed and "egress_v6" in listed
    runner.run("table inet stk-t {}\ndelete table inet stk-t\n")
    assert runner.list_tables() == []


def _many_policies(count: int) -> str:
    docs = [f"""apiVersion: v1
kind: Pod
metadata: {{name: p{i}, namespace: 'n', labels: {{app: a{i % 7}}}}}
spec: {{containers: [{{name: c}}]}}
status: {{podIP: 10.1.{i // 250}.{i % 250 + 1}}}
""" for i in range(60)]
    docs += [f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: np{j}, namespace: 'n'}}
spec:
  podSelector: {{matchLabels: {{app: a{j % 7}}}}}
  policyTypes: [Ingress, Egress]
  ingress: [{{from: [{{podSelector: {{matchLabels: {{app: a{(j + 1) % 7}}}}}}}],
             ports: [{{port: {1000 + j}}}]}}]
  egress: [{{to: [{{ipBlock: {{cidr: 10.{j}.0.0/16}}}}]}}]
""" for j in range(count)]
    return "---\n".join(docs)


@pytest.mark.parametrize("count", [1, 60])
def test_per_packet_rules_do_not_grow_with_policies(count: int, tmp_path: Path) -> None:
    source = tmp_path / "many.yaml"
    source.write_text(_many_policies(count))
    table = compile_engine(_engine(source)).table
    forward = next(c for c in table.chains if c.hook == "forward")
    # Two fixed rules plus one verdict-map lookup per direction and family in use.
    assert len(forward.rules) <= 2 + 4
    # A packet visits at most one group chain per direction, each a few lookups long.
    assert all(len(c.rules) <= 3 for c in table.chains if not c.hook)
    assert render_table(table).count("\n") > 10


# --- cluster-wide policies ------------------------------------------------------------------

TIERED = """
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: b}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.1.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-http, namespace: a}
spec:
  podSelector: {}
  ingress: [{ports: [{port: http}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: admin}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: a}}}
  ingress:
  - {action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 22}}}]}
  - action: Pass
    from: [{namespaces: {}}]
    protocols: [{tcp: {destinationPort: {range: {start: 8000, end: 9000}}}}]
  - {action: Accept, from: [{namespaces: {}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: base}
spec:
  tier: Baseline
  priority: 1
  subject: {namespaces: {}}
  egress:
  - action: Deny
    to: [{networks: [10.0.0.0/24]}]
    protocols: [{udp: {destinationPort: {number: 53}}}]
  ingress:
  - {action: Deny, from: [{namespaces: {}}]}
"""


def _tiered_table() -> str:
    result = build_cluster(parse_text(TIERED, "tiered.yaml"))
    assert not result.findings
    return render_table(compile_engine(Engine(result.cluster)).table)


def test_tiers_are_ordered_stages_with_verdict_maps() -> None:
    text = _tiered_table()
    # a/web's ingress: the Admin tier's first match per (peer, port), one lookup
    # (namespaces peers match pods: the two pod addresses, not the whole address space)
    assert "map ingress_admin_0_v4 {" in text
    assert "10.0.1.1 . tcp . 22 : drop," in text
    # Pass returns to the group's chain, which goes on to NetworkPolicy's stage (web is
    # isolated): http only
    assert "10.0.1.1 . tcp . 8000-9000 : return," in text
    assert "10.0.1.1 . tcp . 23-7999 : accept," in text
    assert "\tchain ingress_0 {\n\t\tjump ingress_admin_0\n" \
        "\t\tip saddr . meta l4proto . th dport @ingress_0_v4 accept\n" in text
    assert "\tchain ingress_admin_0 {\n\t\tip saddr . meta l4proto . th dport vmap " \
        "@ingress_admin_0_v4\n\t}" in text
    # web has a Baseline rule too, but NetworkPolicy isolates it: its chain ends in drop;
    # client's ingress has only the Baseline tier, gone to from its chain, allow after it
    assert "\tchain ingress_1 {\n\t\tgoto ingress_baseline_0\n\t}" in text
    assert "map ingress_baseline_0_v4 {" in text
    assert "ingress_baseline_1" not in text
    # both pods' egress: one group, only a Baseline tier, default allow after it
    assert "10.0.0.0-10.0.0.255 . udp . 53 : drop," in text
    body = text[text.index("chain egress_baseline_0 {"):]
    assert body.splitlines()[1:3] == ["\t\tip daddr . meta l4proto . th dport vmap "
                                      "@egress_baseline_0_v4", "\t\treturn"]
    # the forward chain ends its egress part in the ingress check, which accepts at its end
    forward = text[text.index("chain forward {"):]
    assert forward.splitlines()[5:7] == ["\t\tgoto ingress_check", "\t}"]
    check = text[text.index("chain ingress_check {"):]
    assert check.splitlines()[1:4] == ["\t\tip daddr vmap @ingress_v4", "\t\taccept", "\t}"]


SHARED = """
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: x}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c}]}
status: {podIPs: [{ip: 10.0.0.1}, {ip: "fd00::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: a, labels: {app: db}}
spec: {containers: [{name: c}]}
status: {podIPs: [{ip: 10.0.0.2}, {ip: "fd00::2"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: job, namespace: a, labels: {app: job}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.0.3}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: a}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{ports: [{port: 80}]}]
  egress: [{ports: [{port: 53, protocol: UDP}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: a}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{ports: [{port: 5432}]}]
  egress: [{ports: [{port: 443}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress:
  - action: Deny
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]
    protocols: [{tcp: {destinationPort: {number: 9999}}}]
  - {action: Pass, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 22}}}]}
  - action: Accept
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: job}}}}]
  egress:
  - {action: Accept, to: [{networks: [198.51.100.0/24]}]}
  - action: Deny
    to: [{networks: [0.0.0.0/0, "::/0"]}]
    protocols: [{tcp: {destinationPort: {number: 25}}}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: floor}
spec:
  tier: Baseline
  priority: 1
  subject: {namespaces: {}}
  ingress:
  - {action: Deny, from: [{namespaces: {}}]}
  egress:
  - {action: Deny, to: [{networks: [10.0.0.0/8]}]}
"""


def test_groups_with_the_same_tier_rules_share_one_stage() -> None:
    """web, db and job are three rule groups per side (their NetworkPolicies differ) with
    the same Admin rules: one Admin chain and one verdict map per family for all of them,
    jumped to from each group's chain."""
    result = build_cluster(parse_text(SHARED, "shared.yaml"))
    assert not result.findings
    table = compile_engine(Engine(result.cluster)).table
    chains = {c.name: c for c in table.chains}
    sets = {s.name for s in table.sets}
    for word in ("egress", "ingress"):
        groups = [c for name, c in chains.items() if re.fullmatch(rf"{word}_\d+", name)]
        assert len(groups) == 3
        assert all(c.rules[0] == f"jump {word}_admin_0" for c in groups)
        assert {n for n in chains if n.startswith(f"{word}_admin_")} == {f"{word}_admin_0"}
        assert {n for n in sets if n.startswith(f"{word}_admin_")} == {
            f"{word}_admin_0_v4", f"{word}_admin_0_v6"}
        assert chains[f"{word}_admin_0"].comment.startswith(
            "admin tier: ClusterNetworkPolicy/guard; 3 rule groups, 3 pods")
    # job alone is not isolated: its chains go on to the one Baseline stage of each side
    assert {n for n in chains if "baseline" in n} == {"egress_baseline_0", "ingress_baseline_0"}
    # an egress Accept ends the side: on to the destination's ingress check
    egress_admin = next(s for s in table.sets if s.name == "egress_admin_0_v4")
    assert "198.51.100.0-198.51.100.255 . tcp . 0-65535 : goto ingress_check" in (
        egress_admin.elements)


def test_tiered_ruleset_passes_nft_check(check_netns: str) -> None:
    result = build_cluster(parse_text(TIERED, "tiered.yaml"))
    compiled = compile_engine(Engine(result.cluster))
    NftRunner(check_netns).run(render_replace(compiled.table), check=True)


@pytest.mark.parametrize("paths", [["cluster-policies"],
                                   ["cluster-policies/world", "admin-network-policies"]],
                         ids=["v1alpha2", "v1alpha1"])
def test_cluster_policy_examples_pass_nft_check(paths: list[str], check_netns: str) -> None:
    result = build_cluster(read_paths([str(ROOT / "examples" / p) for p in paths]))
    assert result.cluster.pods and result.cluster.cluster_policies
    table = compile_engine(Engine(result.cluster)).table
    NftRunner(check_netns).run(render_replace(table), check=True)
