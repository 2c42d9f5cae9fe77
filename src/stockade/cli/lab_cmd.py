"""``stockade lab``: pods as network namespaces, policies enforced by nftables, real probes.

Subcommands up, exec, probe, apply, logs, down, list, run (up + probe + compare with the
engine + down) and test (up + promises checked with packets + down). Thin: the work is in
``stockade.lab``. Every option is checked here, before anything is built.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
from types import FrameType
from typing import TYPE_CHECKING

import msgspec

from stockade.cli import diagnostics
from stockade.cli.common import add_input_arguments, read_inputs, report
from stockade.cli.test_cmd import TESTS_HELP
from stockade.errors import UsageError
from stockade.lab.names import DEFAULT_POD_CIDR, check_lab_name
from stockade.model.port_text import read_port
from stockade.render.escape import escape, safe_log
from stockade.render.style import Style
from stockade.wording import count

if TYPE_CHECKING:
    from stockade.lab.lifecycle import Lab
    from stockade.model.build import BuildResult

MIN_TIMEOUT, MAX_TIMEOUT = 0.05, 60.0
RUN_COMMANDS_HINT = ("run them sandboxed with --run-commands (no image: the host's binaries, "
                     "read-only; see the README's lab sandbox section)")


def parse_port(text: str) -> tuple[int, str]:
    """``--port``, read as ``model.port_text.read_port`` reads it (as ``matrix --port``)."""
    number, protocol = read_port(text)
    if number is None or protocol is None:
        raise argparse.ArgumentTypeError(f"{text!r}: expected PORT/PROTOCOL such as 80/TCP "
                                         "or 53/UDP (port 1-65535; TCP, UDP or SCTP)")
    return number, protocol.value


class _AppendOnce(argparse.Action):
    """``action="append"`` that keeps a value given again once, where it was first given:
    ``--port 80 --port 80/TCP`` probes port 80 once and shows one grid for it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        # A new list each time, as "append" makes: the default list is never changed.
        items = list(getattr(namespace, self.dest) or [])
        if values not in items:
            items.append(values)
        setattr(namespace, self.dest, items)


_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")  # ASCII digits, as for ports


def parse_timeout(text: str) -> float:
    value = float(text) if _SECONDS.fullmatch(text) else math.nan
    if not math.isfinite(value) or not MIN_TIMEOUT <= value <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected seconds from {MIN_TIMEOUT} to {MAX_TIMEOUT:g} (a probe "
            "waits this long for an answer before its drop is checked against the ruleset)")
    return value


def parse_pod_cidr(text: str) -> str:
    from stockade.lab.plan import check_pod_cidr

    try:
        return check_pod_cidr(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_nodes(text: str) -> int:
    from stockade.lab.plan import MAX_NODES

    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_NODES:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of nodes from 1 to "
                                         f"{MAX_NODES}")
    return int(text)


def _lab_name(text: str) -> str:
    try:
        return check_lab_name(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _name_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", type=_lab_name, metavar="NAME",
                        help="the lab's name, as given to lab up --name (see lab list)")


def _probe_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", action=_AppendOnce, type=parse_port, default=[],
                        metavar="PORT/PROTO", help="probe this port, such as 80/TCP or 53/UDP "
                        "(repeatable; default: every declared container port)")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text",
                        help="text grids (default) or JSON in the shape of matrix --port")
    parser.add_argument("--timeout", type=parse_timeout, default=0.5, metavar="SECONDS",
                        help="how long a probe waits for an answer before the node's record "
                        f"of it is checked ({MIN_TIMEOUT} to {MAX_TIMEOUT:g}; default 0.5)")


def _build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pod-cidr", type=parse_pod_cidr, default=DEFAULT_POD_CIDR,
                        metavar="CIDR", help="where pods without status.podIP get an "
                        f"address (default {DEFAULT_POD_CIDR})")
    parser.add_argument("--nodes", type=parse_nodes, default=1, metavar="N",
                        help="node namespaces, joined by an underlay; pods go to the node "
                        "their spec.nodeName names, the others round-robin (default 1)")
    parser.add_argument("--agent", action="store_true",
                        help="run a stockade agent on each node, reading the cluster from an "
                        "API server double the lab starts (lab apply then changes objects "
                        "through the API); without it the lab loads the compiled ruleset")
    parser.add_argument("--run-commands", action="store_true",
                        help="run the containers' command/args, each in a sandbox (own mount, "
                        "PID, UTS and IPC namespaces, host read-only, no capabilities, "
                        "unprivileged user by default); without it no manifest command runs")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lab = subparsers.add_parser(
        "lab", help="run the pods as network namespaces and probe them with real packets",
        description="A lab runs the input's pods as Linux network namespaces on this machine "
        "(needs root), routed by a node namespace that enforces the policies with the "
        "compiled nftables ruleset, writes each pod's kubelet /etc/hosts, and probes flows "
        "with real TCP and UDP packets. Containers' commands run only with --run-commands, "
        "sandboxed.")
    sub = lab.add_subparsers(dest="lab_command", metavar="SUBCOMMAND", required=True,
                             parser_class=type(lab))

    up = sub.add_parser("up", help="build a lab and leave it running",
                        description="Build a lab from the manifests and leave it running "
                        "(probe, exec, apply, logs; remove it with lab down).")
    add_input_arguments(up, cluster=False)
    up.add_argument("--name", type=_lab_name, default="lab", metavar="NAME",
                    help="lab name: 1-16 lowercase letters and digits (default lab)")
    _build_options(up)
    up.set_defaults(func=_up)

    ex = sub.add_parser("exec", help="run a command inside a pod's network namespace",
                        description="Run a command of yours, as root, in a pod's network "
                        "namespace with the pod's /etc/hosts (not sandboxed: it is yours).")
    _name_argument(ex)
    ex.add_argument("pod", metavar="NS/POD", help="the pod, as lab up lists it")
    ex.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD...",
                    help="the command and its arguments, after --")
    ex.set_defaults(func=_exec)

    pr = sub.add_parser("probe", help="probe a running lab and compare with the engine",
                        description="Check the lab's plumbing, probe every pod from every "
                        "pod and compare each packet's fate with the engine's verdict; exit 1 "
                        "on any mismatch or plumbing failure.")
    _name_argument(pr)
    _probe_options(pr)
    pr.set_defaults(func=_probe)

    ap = sub.add_parser("apply", help="replace a running lab's policies atomically",
                        description="Replace the lab's NetworkPolicies and cluster-wide "
                        "policies with those of the input, in one nftables transaction; "
                        "Namespaces bring their labels; other kinds are ignored. In an agent "
                        "lab (--agent) the input goes through the API instead: its policies "
                        "replace the lab's, its namespaces are created or updated, and its "
                        "pods and workloads, if any, replace the lab's pods (pods come up "
                        "and go); it returns once every agent has loaded it.")
    _name_argument(ap)
    add_input_arguments(ap, cluster=False)
    ap.set_defaults(func=_apply)

    lg = sub.add_parser("logs", help="print the output of a pod's commands",
                        description="Print what a pod's containers wrote (labs started with "
                        "--run-commands; each log is capped at 1 MiB).")
    _name_argument(lg)
    lg.add_argument("pod", metavar="NS/POD", help="the pod, as lab up lists it")
    lg.add_argument("-c", "--container", metavar="NAME", help="only this container")
    lg.set_defaults(func=_logs)

    dn = sub.add_parser("down", help="remove a lab (also one left behind by a crash)",
                        description="Remove everything the lab created: its processes, "
                        "namespaces, hosts files and state, also of a half-built or crashed "
                        "lab.")
    _name_argument(dn)
    dn.set_defaults(func=_down)

    ls = sub.add_parser("list", help="list labs",
                        description="List every lab on this machine, also half-built ones "
                        "(remove those with lab down NAME). Takes no argument.")
    ls.set_defaults(func=_list)

    rn = sub.add_parser("run", help="up, probe, compare with the engine, down",
                        description="Build a lab, probe it, compare with the engine and "
                        "remove it, whatever happens; exit 1 on any mismatch or plumbing "
                        "failure.")
    add_input_arguments(rn, cluster=False)
    _probe_options(rn)
    rn.add_argument("--name", type=_lab_name, default=None, metavar="NAME",
                    help="lab name (default run<pid>)")
    _build_options(rn)
    rn.set_defaults(func=_run)

    ts = sub.add_parser("test", help="check promises (as stockade test) with real packets",
                        description="Bring the manifests' pods up in a lab, check every "
                        "promise of the test files with real TCP and UDP packets, report "
                        "any packet verdict that differs from the engine's, and remove the "
                        "lab. Exit 0 all pass and agree, 1 a promise fails, packets and "
                        "engine disagree or the lab's plumbing fails, 2 bad input.")
    add_input_arguments(ts, cluster=False, paths_help=TESTS_HELP)
    ts.add_argument("--add", action="store_true",
                    help="PATHs add to the test files' spec.manifests instead of replacing "
                    "them")
    ts.add_argument("-o", "--output", choices=("text", "json"), default="text",
                    help="text like stockade test's (default) or its JSON with the lab's "
                    "mismatches, untestable probes and problems")
    ts.add_argument("--timeout", type=parse_timeout, default=0.5, metavar="SECONDS",
                    help="how long a probe waits for an answer before the node's record of "
                    f"it is checked ({MIN_TIMEOUT} to {MAX_TIMEOUT:g}; default 0.5)")
    ts.add_argument("--name", type=_lab_name, default=None, metavar="NAME",
                    help="lab name (default test<pid>)")
    ts.add_argument("--pod-cidr", type=parse_pod_cidr, default=DEFAULT_POD_CIDR,
                    metavar="CIDR", help="where pods without status.podIP get an address "
                    f"(default {DEFAULT_POD_CIDR})")
    ts.set_defaults(func=_test, cluster=False)


def _notes(lab: Lab) -> None:
    """Pods not run, containers not run (once, with how to opt in), what was not honoured."""
    for note in lab.state.skipped:
        diagnostics.note(note)
    with_commands = [p for p in lab.state.pods if p.containers]
    if not with_commands:
        return
    if not lab.state.run_commands:
        listed = "; ".join(f"{p.key} [{', '.join(c.name for c in p.containers)}]"
                           for p in with_commands[:10])
        more = (f" and {count(len(with_commands) - 10, 'more pod', 'more pods')}"
                if len(with_commands) > 10 else "")
        diagnostics.note(f"the lab did not run the commands of {listed}{more}: "
                         f"{RUN_COMMANDS_HINT}")
        return
    for pod in with_commands:
        for container in pod.containers:
            for text in container.notes:
                diagnostics.note(f"{pod.key} [{container.name}]: {text}")


def _up(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle

    lab = lifecycle.up(read_inputs(args), args.name, pod_cidr=args.pod_cidr,
                       skip_invalid=args.skip_invalid, run_commands=args.run_commands,
                       nodes=args.nodes, agent=args.agent,
                       report=lambda result: report(result, args, errors=False))
    _notes(lab)
    nodes = len(lab.plan.nodes)
    where = (f" on {count(nodes, 'node')}" if nodes > 1 else "") + (
        ", a stockade agent on each" if args.agent else "")
    print(f"lab {args.name} up in {lab.seconds:.2f} s: {len(lab.plan.pods)} pods{where}")
    for pod in lab.plan.pods:
        node = f" {lab.plan.nodes[pod.node].name:<12}" if nodes > 1 else ""
        print(f"  {escape(pod.key):<40}{node} {pod.netns:<20} {' '.join(pod.ips)}")
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

    lifecycle.require_root()
    lab, engine = lifecycle.engine_of(args.name)
    m = measure.measure(lab, engine, args.port, timeout=args.timeout)
    _print(measure.to_json(m, {}), measure.to_text(m, {}), args.output)
    return 0 if m.ok else 1


def _apply(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle
    from stockade.lab import state as lab_state

    raws = read_inputs(args)
    others = sorted({r.kind or "(no kind)" for r in raws
                     if r.kind not in lifecycle.APPLIED_KINDS})
    agent_lab = lab_state.load(args.name).agent
    if others and not agent_lab:
        diagnostics.note(f"ignored {', '.join(others)}: lab apply replaces the lab's "
                         "policies (and takes Namespaces' labels) only (for other changes: "
                         "lab down, then lab up)")
    if agent_lab:
        through = lifecycle.apply_through_api(
            args.name, raws, skip_invalid=args.skip_invalid,
            report=lambda result: report(result, args, errors=False))
        if not through.engine.policies and not through.engine.cluster_policies:
            diagnostics.warning(f"no NetworkPolicy or cluster-wide policy in the input: lab "
                                f"{args.name} now enforces none")
        print(f"lab {args.name}: {count(len(through.engine.policies), 'policy')} through the "
              f"API; {count(len(through.added), 'pod')} up, "
              f"{count(len(through.removed), 'pod')} down; every agent had it loaded "
              f"{through.seconds:.2f} s later")
        return 0
    engine = lifecycle.apply(args.name, raws, skip_invalid=args.skip_invalid,
                             report=lambda result: _report_policies(result, args))
    if not engine.policies and not engine.cluster_policies:
        diagnostics.warning(f"no NetworkPolicy or cluster-wide policy in the input: lab "
                            f"{args.name} now enforces none")
    applied = count(len(engine.policies), "policy")
    if engine.cluster_policies:
        applied += f" and {count(len(engine.cluster_policies), 'cluster-wide policy')}"
    print(f"lab {args.name}: {applied} applied")
    return 0


def _report_policies(result: BuildResult, args: argparse.Namespace) -> None:
    """What ``build_cluster`` says of the policies ``lab apply`` loads, but that their
    namespaces are undeclared: the lab has its namespaces already."""
    warnings = [w for w in result.warnings if "used but not declared" not in w]
    report(msgspec.structs.replace(result, warnings=warnings), args, errors=False)


def _logs(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle
    from stockade.lab import state as lab_state

    lab = lab_state.load(args.name)
    pod = lab.pod(args.pod)
    if not pod.containers:
        print(f"pod {escape(args.pod)} has no command to run (no container has command or "
              "args)", file=sys.stderr)
        return 0
    if not lab.run_commands:
        print(f"pod {escape(args.pod)}: lab {args.name} did not run its commands; "
              f"{RUN_COMMANDS_HINT}", file=sys.stderr)
        return 0
    logs = lifecycle.read_logs(lab, args.pod)
    if args.container:
        if args.container not in logs:
            raise UsageError(f"pod {args.pod} ran no command in container {args.container!r}")
        logs = {args.container: logs[args.container]}
    for container, output in logs.items():
        if len(logs) > 1:
            print(f"--- {escape(container)}")
        # Raw into a file or pipe, as kubectl logs; escaped on a terminal (a container's
        # output could otherwise retitle it or move the cursor).
        sys.stdout.write(safe_log(output) if sys.stdout.isatty() else output)
    return 0


def _down(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle

    lifecycle.require_root()
    removed = lifecycle.down(args.name)
    print(f"lab {args.name}: removed {count(len(removed), 'namespace')}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from stockade.errors import InputError
    from stockade.lab import state as lab_state
    from stockade.lab.system import list_netns

    for name in lab_state.labs(list_netns()):
        try:
            lab = lab_state.load(name)
        except InputError:
            print(f"{name}\tincomplete (half built, or its state is unreadable): remove it "
                  f"with stockade lab down {name}")
            continue
        nodes = (f"{count(len(lab.nodes), 'node')} ({', '.join(n.netns for n in lab.nodes)})"
                 if len(lab.nodes) > 1 else f"node {lab.node_netns}")
        agent = "\tagents, API server double" if lab.agent else ""
        print(f"{name}\t{len(lab.pods)} pods\t{nodes}{agent}")
    return 0


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run(args: argparse.Namespace) -> int:
    from stockade.lab import lifecycle, measure

    name = args.name or f"run{os.getpid()}"
    raws = read_inputs(args)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        lab = lifecycle.up(raws, name, pod_cidr=args.pod_cidr, skip_invalid=args.skip_invalid,
                           run_commands=args.run_commands, nodes=args.nodes,
                           agent=args.agent,
                           report=lambda result: report(result, args, errors=False))
        try:
            _notes(lab)
            lifecycle.wait_for_commands(lab.state, 2.0)
            m = measure.measure(lab.state, lab.engine, args.port, timeout=args.timeout)
            logs = {p.key: lifecycle.read_logs(lab.state, p.key) for p in lab.state.pods
                    if p.containers and lab.state.run_commands}
        finally:
            lifecycle.down(name)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"lab {name}: up in {lab.seconds:.2f} s", file=sys.stderr)
    _print(measure.to_json(m, logs), measure.to_text(m, logs), args.output)
    return 0 if m.ok else 1


def _test(args: argparse.Namespace) -> int:
    from stockade.cli import diagnostics
    from stockade.cli.test_cmd import check_options, manifest_groups, netassert_notes, read_tests
    from stockade.engine.promises import Checker, Outcome
    from stockade.lab import lifecycle
    from stockade.lab.promises import check_in_lab
    from stockade.model.workloads import choose_endpoints
    from stockade.render import promises as render

    check_options(args)
    suites, paths = read_tests(args.paths)
    for note in netassert_notes(suites):
        diagnostics.note(note)
    groups = manifest_groups(args, suites, paths)
    lifecycle.require_root()
    outcomes: list[Outcome] = []
    mismatches: list[dict[str, object]] = []
    untestable: list[dict[str, object]] = []
    problems: list[dict[str, object]] = []
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        for n, (group_paths, group) in enumerate(groups.items()):
            name = args.name or f"test{os.getpid()}"
            name = name if len(groups) == 1 else f"{name[:8]}{n}"
            raws = read_inputs(argparse.Namespace(**{**vars(args), "paths": list(group_paths)}))
            owner = choose_endpoints(lifecycle.build(raws, skip_invalid=args.skip_invalid)
                                     .cluster).owner
            lab = lifecycle.up(raws, name, pod_cidr=args.pod_cidr,
                               skip_invalid=args.skip_invalid)
            try:
                checker = Checker(lab.engine, owner)
                result = check_in_lab(lab.state, checker,
                                      [p for s in group for p in s.promises],
                                      timeout=args.timeout)
            finally:
                lifecycle.down(name)
            print(f"lab {name}: up in {lab.seconds:.2f} s, {result.probes} probes in "
                  f"{result.seconds:.2f} s", file=sys.stderr)
            outcomes.extend(result.outcomes)
            mismatches.extend(result.mismatches)
            untestable.extend(result.untestable)
            problems.extend(result.problems)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.output == "json":
        render.write_json(outcomes, sys.stdout, {"mismatches": mismatches,
                                                 "untestable": untestable,
                                                 "problems": problems})
    else:
        lines = [f"MISMATCH {m['src']} -> {m['dst']} {m['protocol']}/{m['port']}: packets "
                 f"{m['packets']}, engine says {m['engine']}" for m in mismatches]
        lines += [f"PROBLEM {p['src']} -> {p['dst']} {p['protocol']}/{p['port']}: "
                  f"{p['outcome']} {p['detail']}" for p in problems]
        render.write_text(outcomes, sys.stdout, Style.for_stream(sys.stdout, os.environ))
        for line in lines:
            print(escape(line))
        if untestable:
            print(f"{count(len(untestable), 'probe')} not testable in the lab (-o json lists "
                  "them)")
    failed = any(o.status == "failed" for o in outcomes)
    return 1 if failed or mismatches or problems else 0
