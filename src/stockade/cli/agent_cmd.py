"""``stockade agent``: enforce the policies on this node of a live cluster (a DaemonSet's
process), or remove its table (``--uninstall``). Thin: the work is in ``stockade.agent``.
Every option is checked before anything starts."""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import threading
from types import FrameType

from stockade.errors import UsageError

DEFAULT_METRICS = ":9753"
MIN_RESYNC = 1.0


def parse_address(text: str) -> tuple[str, int] | None:
    """``HOST:PORT``, ``:PORT`` (every address) or ``[V6]:PORT``; ``off`` for none."""
    if text == "off":
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST:PORT, :PORT or [V6]:PORT "
                                         "(or off)")
    host = host.removeprefix("[").removesuffix("]")
    if host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: {host!r} is not an IP address") \
                from None
    return host, int(port)


def parse_duration(text: str) -> float:
    """Seconds: ``90``, ``90s``, ``10m``, ``1h``; ``0`` turns the resync off."""
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        value = float(number) * units[unit]
    except ValueError:
        value = -1.0
    if not (value == 0 or MIN_RESYNC <= value <= 7 * 24 * 3600):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a duration such as 10m, 90s "
                                         f"or 1h (at least {MIN_RESYNC:g} s), or 0 for none")
    return value


def parse_cidr(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a CIDR such as 10.244.1.0/24") \
            from None


def _table(text: str) -> str:
    from stockade.nft.names import check_table_name

    try:
        return check_table_name(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agent = subparsers.add_parser(
        "agent", help="enforce NetworkPolicy and cluster-wide policies on this node (run as "
        "a DaemonSet)",
        description="Watch the cluster's Pods, Namespaces, Nodes, NetworkPolicies and "
        "cluster-wide policies (ClusterNetworkPolicy, AdminNetworkPolicy, "
        "BaselineAdminNetworkPolicy, when their CRDs are installed) through the Kubernetes "
        "API and keep one nftables table in this network "
        "namespace enforcing the policies for this node's pods: egress of the pods on this "
        "node, ingress of the pods on this node. Needs CAP_NET_ADMIN. See the README's agent "
        "section and deploy/agent.yaml.")
    agent.add_argument("--node", default=os.environ.get("NODE_NAME"), metavar="NAME",
                       help="this node's name, as in the pods' spec.nodeName (default: "
                       "$NODE_NAME, which deploy/agent.yaml sets from the downward API)")
    agent.add_argument("--kubeconfig", metavar="FILE",
                       help="kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, then "
                       "the in-cluster service account)")
    agent.add_argument("--context", metavar="NAME", help="kubeconfig context to use")
    agent.add_argument("--table", type=_table, default="stockade", metavar="NAME",
                       help="the nftables table (inet family) the agent owns (default "
                       "stockade)")
    agent.add_argument("--metrics-address", type=parse_address, default=DEFAULT_METRICS,
                       metavar="HOST:PORT", help="where /healthz, /readyz and /metrics are "
                       f"served (default {DEFAULT_METRICS}; off for none)")
    agent.add_argument("--resync", type=parse_duration, default=600.0, metavar="DURATION",
                       help="how often the loaded table is compared with the intended one "
                       "and repaired (default 10m; 0: never)")
    agent.add_argument("--hold-unknown", action="store_true",
                       help="drop traffic of this node's pod CIDR addresses that the agent "
                       "does not know yet (a new pod before its policies are loaded); see "
                       "the README for the trade-off")
    agent.add_argument("--pod-cidr", action="append", type=parse_cidr, default=[],
                       metavar="CIDR", help="this node's pod CIDR for --hold-unknown "
                       "(repeatable; default: the Node's spec.podCIDRs)")
    agent.add_argument("--remove-on-exit", action="store_true",
                       help="remove the table when the agent stops (by default it stays, "
                       "so that policies stay enforced across an upgrade)")
    agent.add_argument("--uninstall", action="store_true",
                       help="remove the table and exit (no API access needed)")
    agent.add_argument("--log-format", choices=("text", "json"), default="text",
                       help="text lines (default) or JSON lines")
    agent.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                       default="info", help="least important level logged (default info)")
    agent.add_argument("--watch-timeout", type=int, default=300, metavar="SECONDS",
                       help=argparse.SUPPRESS)
    agent.set_defaults(func=_agent)


def _agent(args: argparse.Namespace) -> int:
    from stockade.nft.apply import NftRunner

    if args.uninstall:
        removed = NftRunner().delete_table(args.table)
        print(f"table inet {args.table} {'removed' if removed else 'was not loaded'}")
        return 0
    if not args.node:
        raise UsageError("agent: give --node NAME (or set NODE_NAME): the node whose pods "
                         "this agent enforces", program="stockade agent")
    if args.pod_cidr and not args.hold_unknown:
        raise UsageError("agent: --pod-cidr is for --hold-unknown", program="stockade agent")
    if not 10 <= args.watch_timeout <= 3600:
        raise UsageError("agent: --watch-timeout must be 10 to 3600 seconds",
                         program="stockade agent")
    from stockade.agent.log import Log
    from stockade.agent.loop import Agent, AgentOptions
    from stockade.sources.cluster_config import load_cluster_config

    config = load_cluster_config(kubeconfig=args.kubeconfig, context=args.context)
    options = AgentOptions(node=args.node, table=args.table,
                           metrics_address=args.metrics_address,
                           resync_seconds=args.resync, hold_unknown=args.hold_unknown,
                           pod_cidrs=tuple(args.pod_cidr), remove_on_exit=args.remove_on_exit,
                           watch_seconds=args.watch_timeout)
    log = Log(json_lines=args.log_format == "json", level=args.log_level)
    stop = threading.Event()

    def quit_(signum: int, _frame: FrameType | None) -> None:
        log.info("signal received; stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, quit_)
    signal.signal(signal.SIGINT, quit_)
    Agent(options, config, log=log).run(stop)
    return 0
