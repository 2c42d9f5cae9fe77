"""``stockade check``: validate manifests as the API server would; exit 0 valid, 2 otherwise."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections import Counter
from typing import Any

from stockade.cli import diagnostics, timings
from stockade.cli.common import (
    add_input_arguments,
    bulk_allocation,
    default_namespace,
    report,
    stream_inputs,
)
from stockade.cli.options import check_input_options
from stockade.errors import DocumentError
from stockade.model.build import build_cluster, check_object
from stockade.wording import count, plural


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "check", help="validate manifests exactly as the API server would",
        description="Validate NetworkPolicies, Pods (hostAliases, container ports, hostname, "
        "subdomain, pod and host IPs), workloads' pod templates, Services, Namespaces and "
        "Nodes with the API server's rules, field paths and messages, and "
        "ClusterNetworkPolicies, AdminNetworkPolicies and BaselineAdminNetworkPolicies with "
        "their CRDs' schemas and CEL rules (see docs/validation.md)."
        " Every error of every object is "
        "reported, and every document that cannot be read. Objects defined more than once "
        "are warnings (the later definition wins, as with kubectl apply). Exit 0 when all "
        "are valid, 2 otherwise.",
    )
    add_input_arguments(parser, helm=True)
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_input_options(args)
    broken: list[DocumentError] = []
    namespace = default_namespace(args)
    with bulk_allocation():
        with timings.stage("read"):
            raws = stream_inputs(args, broken, None, functools.partial(
                check_object, default_namespace=namespace))
        with timings.stage("build"):
            result = build_cluster(raws, default_namespace=namespace)
            del raws
    cluster = result.cluster
    failed = bool(result.findings or broken)
    if args.output == "json":
        doc = {
            "valid": not failed,
            "errors": [
                {"file": b.origin.file, "line": b.origin.line, "kind": "", "namespace": "",
                 "name": "", "field": "", "type": "Unreadable document",
                 "message": b.problem}
                for b in broken
            ] + [
                {"file": f.origin.file, "line": f.origin.line, "kind": f.kind,
                 "namespace": f.namespace, "name": f.name, "field": f.error.path,
                 "type": f.error.type.value, "message": str(f.error)}
                for f in result.findings
            ],
            "warnings": result.warnings,
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 2 if failed else 0
    for problem in broken:
        diagnostics.error(str(problem))
    report(result, args, errors=True)
    if failed:
        parts = []
        if broken:
            parts.append(f"{count(len(broken), 'document')} that cannot be read")
        if result.findings:
            objects = len({(f.origin, f.kind, f.namespace, f.name) for f in result.findings})
            parts.append(f"{count(len(result.findings), 'error')} in "
                         f"{count(objects, 'object')}")
        print("; ".join(parts), file=sys.stderr)
        return 2
    counts: Counter[str] = Counter()
    counts["NetworkPolicy"] = len(cluster.policies)
    counts["Pod"] = len(cluster.pods) + len(result.finished)
    counts["Namespace"] = sum(1 for ns in cluster.namespaces if ns.declared)
    counts["Service"] = len(cluster.services)
    counts["Node"] = len(cluster.nodes)
    for w in cluster.workloads:
        counts[w.kind] += 1
    for cp in cluster.cluster_policies:
        counts[cp.kind] += 1
    summary = ", ".join(count(n, k, plural(k)) for k, n in counts.items() if n)
    print(f"valid: {summary or 'no objects of the kinds stockade reads'}")
    return 0
