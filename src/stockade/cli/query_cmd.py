"""``stockade query``: may SRC open a connection to DST on PORT/PROTO, and why (not)?"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from stockade.cli import diagnostics
from stockade.cli.common import (
    add_endpoint_arguments,
    add_input_arguments,
    bulk_allocation,
    choose,
    load,
    parse_port,
)
from stockade.cli.options import check_endpoint, check_input_options, check_service_ref
from stockade.engine import Engine
from stockade.engine.services import (
    check_resolvable,
    find_service,
    parse_service_ref,
    query_service,
    service_port,
)
from stockade.engine.traffic import Endpoint, Traffic
from stockade.errors import InputError, UsageError
from stockade.model.netparse import parse_ip
from stockade.model.types import Cluster
from stockade.render import query as render
from stockade.render import services as render_services
from stockade.render.style import Style


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "query", help="can SRC reach DST on a port? which policies and rules decide",
        description="Answer whether SRC may open a connection to DST on PORT/PROTO, per "
        "direction: whether each end is isolated and by which policies, which rule allows "
        "it, or the nearest misses. With --to svc/NS/NAME:PORT, answer for every backend of "
        "the Service on its targetPort. Exit 0 allowed (to every backend), 1 denied (or "
        "only partially allowed), 2 bad input.",
    )
    add_input_arguments(parser, helm=True)
    add_endpoint_arguments(parser)
    parser.add_argument("--from", dest="source", required=True, metavar="SRC",
                        help="ns/pod, ns/Kind/name (a workload), or an IP address (a pod's, "
                        "or outside the cluster)")
    parser.add_argument("--to", dest="destination", metavar="DST",
                        help="ns/pod, ns/Kind/name, an IP address, or svc/NS/NAME:PORT (a "
                        "Service port by number or name; then no --port)")
    parser.add_argument("--to-host", metavar="NAME",
                        help="a domain name the connection is made to, for domainNames peers "
                        "of cluster-wide policies; with --to IP, the address NAME resolved "
                        "to")
    parser.add_argument("--port", metavar="PORT/PROTO",
                        help="destination port and protocol, e.g. 6379/TCP (TCP if omitted)")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def _endpoint(engine: Engine, cluster: Cluster, text: str,
              owner: Mapping[str, str]) -> Endpoint:
    """The endpoint named, with a hint when a plain name is a workload's. A workload whose
    pods are in the input stands for them: answered for one when they all behave alike."""
    members = [p for p in engine.pods if owner.get(p.key) == text]
    if members:
        classes = {engine.class_of(p).index for p in members}
        if len(classes) > 1:
            raise InputError(
                f"the {len(members)} pods of {text} are not alike for the policies (their "
                f"labels, ports or IPs differ): name one of them: "
                f"{', '.join(p.key for p in members[:8])}{', ...' if len(members) > 8 else ''}")
        diagnostics.note(f"{text} answered for its pod {members[0].key} (all "
                         f"{len(members)} of its pods behave alike)")
        return Endpoint(members[0])
    try:
        endpoint = engine.endpoint(text)
    except InputError as exc:
        namespace, _, name = text.partition("/")
        workloads = [w.key for w in cluster.workloads
                     if w.namespace == namespace and w.name == name]
        if workloads:
            raise InputError(f"{exc}; workloads are named ns/Kind/name: "
                             f"{', '.join(workloads)}") from None
        raise
    if endpoint.ip is not None and parse_ip(text) != endpoint.ip:
        print(f"note: {text} is the IPv4-mapped form of {endpoint.ip}: read as {endpoint.ip}, "
              "as Go's net.ParseIP reads it", file=sys.stderr)
    return endpoint


HOST_NAME = re.compile(r"([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)*"
                       r"[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?")


def _to_host(args: argparse.Namespace, engine: Engine, cluster: Cluster,
             owner: Mapping[str, str]) -> Endpoint:
    """``--to-host NAME`` (and ``--to IP``, the address it resolved to)."""
    name = args.to_host
    if not HOST_NAME.fullmatch(name) or "." not in name.rstrip("."):
        raise UsageError(f"--to-host {name}: not a domain name (e.g. api.example.com)")
    if args.destination is None:
        return Endpoint(host=name)
    if parse_ip(args.destination) is None:
        raise UsageError(f"--to {args.destination} with --to-host: give the IP address "
                         f"{name} resolved to, or leave out --to")
    return replace(_endpoint(engine, cluster, args.destination, owner), host=name)


def run(args: argparse.Namespace) -> int:
    check_input_options(args)
    if args.destination is None and args.to_host is None:
        raise UsageError("--to (or --to-host) is required")
    if parse_service_ref(args.source) is not None:
        raise UsageError(f"--from {args.source}: a Service is only a destination (clients "
                         "connect to it; its backends answer)")
    ref = parse_service_ref(args.destination) if args.destination else None
    if ref is not None and args.to_host:
        raise UsageError("--to-host names the destination: give no Service with it")
    if ref is None and not args.port:
        raise UsageError("--port is required (unless --to names a Service: svc/NS/NAME:PORT)")
    if ref is not None and args.port:
        raise UsageError(f"--port {args.port}: with --to {args.destination} the port is the "
                         "Service's (svc/NS/NAME:PORT); leave out --port")
    check_endpoint("--from", args.source)
    if ref is None:
        if args.destination is not None:  # --to-host alone names no endpoint
            check_endpoint("--to", args.destination)
    else:
        check_service_ref("--to", args.destination)
    port, protocol = parse_port(args.port) if ref is None else (0, None)
    result = load(args)
    named = {args.source, *([args.destination] if args.destination else [])}
    cluster, endpoints = choose(args, result.cluster, keep=named)
    with bulk_allocation():
        engine = Engine(cluster)
    owner = endpoints.owner
    source = _endpoint(engine, cluster, args.source, owner)
    out = sys.stdout
    if ref is not None:
        service = find_service(cluster.services, ref)
        check_resolvable(service)
        answer = query_service(engine, source, service, service_port(service, ref))
        if args.output == "json":
            render_services.write_service_json(answer, out)
        else:
            render_services.write_service_text(answer, out, Style.for_stream(out, os.environ))
        return 0 if answer.allowed else 1
    assert protocol is not None  # parsed above when --to is no Service
    if args.to_host:
        destination = _to_host(args, engine, cluster, owner)
    else:
        destination = _endpoint(engine, cluster, args.destination, owner)
    if (source.ip is not None and destination.ip is not None
            and source.ip.version != destination.ip.version):
        raise UsageError(f"{args.source} is IPv{source.ip.version} and {args.destination} is "
                         f"IPv{destination.ip.version}: no connection goes between them")
    traffic = Traffic(source, destination, protocol, port)
    verdict = engine.evaluate(traffic)
    if args.output == "json":
        render.write_json(verdict, out)
    else:
        render.write_text(verdict, out, Style.for_stream(out, os.environ))
    return 0 if verdict.allowed else 1
