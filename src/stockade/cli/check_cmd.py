"""``stockade check``: validate manifests as the API server would; exit 0 valid, 2 otherwise."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from stockade.cli.common import add_input_arguments, default_namespace, read_inputs, report
from stockade.model.build import build_cluster


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "check", help="validate manifests exactly as the API server would",
        description="Validate NetworkPolicies, Pods (hostAliases, ports) and Namespaces with "
        "the API server's rules, field paths and messages. Every error of every object is "
        "reported. Exit 0 when all are valid, 2 otherwise.",
    )
    add_input_arguments(parser, helm=True)
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = build_cluster(read_inputs(args), default_namespace=default_namespace(args))
    cluster = result.cluster
    if args.output == "json":
        doc = {
            "valid": not result.findings,
            "errors": [
                {"file": f.origin.file, "line": f.origin.line, "kind": f.kind,
                 "namespace": f.namespace, "name": f.name, "field": f.error.path,
                 "type": f.error.type.value, "message": str(f.error)}
                for f in result.findings
            ],
            "warnings": result.warnings,
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 2 if result.findings else 0
    report(result, args, invalid_prefix="error: ")
    if result.findings:
        objects = len({(f.origin, f.kind, f.namespace, f.name) for f in result.findings})
        print(f"{len(result.findings)} error(s) in {objects} object(s)", file=sys.stderr)
        return 2
    counts: Counter[str] = Counter()
    counts["NetworkPolicy"] = len(cluster.policies)
    counts["Pod"] = len(cluster.pods)
    counts["Namespace"] = sum(1 for ns in cluster.namespaces if ns.declared)
    counts["Service"] = len(cluster.services)
    counts["Node"] = len(cluster.nodes)
    for w in cluster.workloads:
        counts[w.kind] += 1
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    print(f"valid: {summary or 'no objects'}")
    return 0
