"""``stockade lab``: pods as network namespaces, policies enforced by nftables, real probes.

Subcommands up, exec, probe, apply, logs, down, list and run (up + probe + compare with the
engine + down). Thin: the work is in ``stockade.lab``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from types import FrameType

from stockade.cli.common import add_input_arguments, read_inputs
from stockade.errors import UsageError
from stockade.lab.names import DEFAULT_POD_CIDR, check_lab_name
from stockade.wording import count

_PROTOCOLS = ("TCP", "UDP", "SCTP")


def parse_port(text: str) -> tuple[int, str]:
    number, _, protocol = text.partition("/")
    protocol = (protocol or "TCP").upper()
    if not number.isdigit() or not 1 <= int(number) <= 65535 or protocol not in _PROTOCOLS:
        raise argparse.ArgumentTypeError(f"{text!r}: expected PORT/PROTOCOL such as 80/TCP "
                                         "or 53/UDP (port 1-65535; TCP, UDP or SCTP)")
    return int(number), protocol


def _lab_name(text: str) -> str:
    try:
        return check_lab_name(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _probe_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", action="append", type=parse_port, default=[],
                        metavar="PORT/PROTO", help="probe this port (repeatable; default: "
                        "every declared container port)")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    parser.add_argument("--timeout", type=float, default=0.5,
                        help="seconds a probe waits before it counts as dropped (0.5)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lab = subparsers.add_parser(
        "lab", help="run the pods as network namespaces and probe them with real packets",
        description="A lab runs the input's pods as Linux network namespaces on this machine "
        "(needs root), enforces the policies with the compiled nftables ruleset, writes each "
        "pod's kubelet /etc/hosts, runs containers' commands with the host's binaries (no "
        "images) and probes flows with real TCP and UDP packets.")
    sub = lab.add_subparsers(dest="lab_command", metavar="SUBCOMMAND", required=True,
                             parser_class=type(lab))

    up = sub.add_parser("up", help="build a lab and leave it running")
    add_input_arguments(up, cluster=False)
    up.add_argument("--name", type=_lab_name, default="lab", help="lab name (default lab)")
    up.add_argument("--pod-cidr", default=DEFAULT_POD_CIDR,
                    help=f"addresses for pods without one (default {DEFAULT_POD_CIDR})")
    up.set_defaults(func=_up)

    ex = sub.add_parser("exec", help="run a command inside a pod's network namespace")
    ex.add_argument("name", type=_lab_name)
    ex.add_argument("pod", metavar="NS/POD")
    ex.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD...")
    ex.set_defaults(func=_exec)

    pr = sub.add_parser("probe", help="probe a running lab and compare with the engine")
    pr.add_argument("name", type=_lab_name)
    _probe_options(pr)
    pr.set_defaults(func=_probe)

    ap = sub.add_parser("apply", help="replace a running lab's policies atomically")
    ap.add_argument("name", type=_lab_name)
    add_input_arguments(ap, cluster=False)
    ap.set_defaults(func=_apply)

    lg = sub.add_parser("logs", help="print the output of a pod's commands")
    lg.add_argument("name", type=_lab_name)
    lg.add_argument("pod", metavar="NS/POD")
    lg.add_argument("-c", "--container", help="only this container")
    lg.set_defaults(func=_logs)

    dn = sub.add_parser("down", help="remove a lab (also one left behind by a crash)")
    dn.add_argument("name", type=_lab_name)
    dn.set_defaults(func=_down)

    ls = sub.add_parser("list", help="list running labs")
    ls.set_defaults(func=_list)

    rn = sub.add_parser("run", help="up, probe, compare with the engine, down")
    add_input_arguments(rn, cluster=False)
    _probe_options(rn)
    rn.add_argument("--name", type=_lab_name, default=None,
                    help="lab name (default run<pid>)")
    rn.add_argument("--pod-cidr", default=DEFAULT_POD_CIDR)
    rn.set_defaults(func=_run)


def _up(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle

    lab = lifecycle.up(read_inputs(args), args.name, pod_cidr=args.pod_cidr,
                       skip_invalid=args.skip_invalid)
    for note in lab.plan.skipped:
        print(f"note: {note}", file=sys.stderr)
    print(f"lab {args.name} up in {lab.seconds:.2f} s: {len(lab.plan.pods)} pods")
    for pod in lab.plan.pods:
        print(f"  {pod.key:<40} {pod.netns:<20} {' '.join(pod.ips)}")
    return 0


def _exec(args: argparse.Namespace) -> int:
    from stockade.lab import state as lab_state

    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise UsageError("lab exec: give a command after --")
    pod = lab_state.load(args.name).pod(args.pod)
    return subprocess.call(["ip", "netns", "exec", pod.netns, *argv])


def _print(measurement_json: dict[str, object], text: str, output: str) -> None:
    if output == "json":
        json.dump(measurement_json, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text)


def _probe(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle, measure

    lab, engine = lifecycle.engine_of(args.name)
    m = measure.measure(lab, engine, args.port, timeout=args.timeout)
    _print(measure.to_json(m, {}), measure.to_text(m, {}), args.output)
    return 0 if m.ok else 1


def _apply(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle

    raws = read_inputs(args)
    others = sorted({r.kind or "(no kind)" for r in raws if r.kind != "NetworkPolicy"})
    if others:
        print(f"note: ignored {', '.join(others)}: lab apply replaces the lab's "
              "NetworkPolicies only (for other changes: lab down, then lab up)",
              file=sys.stderr)
    engine = lifecycle.apply(args.name, raws, skip_invalid=args.skip_invalid)
    if not engine.policies:
        print(f"warning: no NetworkPolicy in the input: lab {args.name} now enforces none",
              file=sys.stderr)
    print(f"lab {args.name}: {count(len(engine.policies), 'policy')} applied")
    return 0


def _logs(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle
    from stockade.lab import state as lab_state

    logs = lifecycle.read_logs(lab_state.load(args.name), args.pod)
    if not logs:
        print(f"pod {args.pod} ran no command (no container has command or args)",
              file=sys.stderr)
        return 0
    if args.container:
        if args.container not in logs:
            raise UsageError(f"pod {args.pod} ran no command in container {args.container!r}")
        logs = {args.container: logs[args.container]}
    for container, output in logs.items():
        if len(logs) > 1:
            print(f"--- {container}")
        sys.stdout.write(output)
    return 0


def _down(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle

    lifecycle.require_root()
    removed = lifecycle.down(args.name)
    print(f"lab {args.name}: removed {count(len(removed), 'namespace')}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from stockade.lab import state as lab_state

    for name in lab_state.running():
        lab = lab_state.load(name)
        print(f"{name}\t{len(lab.pods)} pods\tnode {lab.node_netns}")
    return 0


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle, measure

    name = args.name or f"run{os.getpid()}"
    raws = read_inputs(args)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        lab = lifecycle.up(raws, name, pod_cidr=args.pod_cidr, skip_invalid=args.skip_invalid)
        try:
            for note in lab.plan.skipped:
                print(f"note: {note}", file=sys.stderr)
            lifecycle.wait_for_commands(lab.state, 2.0)
            m = measure.measure(lab.state, lab.engine, args.port, timeout=args.timeout)
            logs = {p.key: lifecycle.read_logs(lab.state, p.key) for p in lab.state.pods
                    if p.containers}
        finally:
            lifecycle.down(name)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"lab {name}: up in {lab.seconds:.2f} s", file=sys.stderr)
    _print(measure.to_json(m, logs), measure.to_text(m, logs), args.output)
    return 0 if m.ok else 1
