"""Derive stockade's compact CRD schemas from upstream network-policy-api CRDs.

The API server validates a custom resource against its CRD's OpenAPI schema and CEL rules;
stockade does the same from ``src/stockade/model/crds/*.py``, which hold only the
validation keywords of those schemas (types, bounds, enums, patterns, required fields, list
types and CEL rules with their messages), no descriptions. This script writes them from a
checkout (or bare clone) of kubernetes-sigs/network-policy-api:

    python scripts/derive_crd_schemas.py /work/.mirror/kubernetes-sigs+network-policy-api/repo

The experimental channel is used (a superset of standard: nodes, domainNames, named ports).
v1alpha1 (AdminNetworkPolicy, BaselineAdminNetworkPolicy) comes from tag v0.1.8, its last
release; v1alpha2 (ClusterNetworkPolicy) from v0.2.0.
"""

from __future__ import annotations

import pprint
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

SOURCES = {
    "admin_network_policy": (
        "v0.1.8", "policy.networking.k8s.io_adminnetworkpolicies.yaml"),
    "baseline_admin_network_policy": (
        "v0.1.8", "policy.networking.k8s.io_baselineadminnetworkpolicies.yaml"),
    "cluster_network_policy": (
        "v0.2.0", "policy.networking.k8s.io_clusternetworkpolicies.yaml"),
}
HEADER = '''"""The validation keywords of upstream's {kind} CRD (generated, do not edit).

Source: kubernetes-sigs/network-policy-api {tag}, config/crd/experimental/{name}
Regenerate with ``python scripts/derive_crd_schemas.py <network-policy-api checkout>``.
"""
# ruff: noqa: E501

from typing import Any

KIND = {kind!r}
GROUP = {group!r}
VERSION = {version!r}
SCHEMA: dict[str, Any] = {schema}
'''
KEYWORDS = ("type", "enum", "minimum", "maximum", "minItems", "maxItems", "minLength",
            "maxLength", "minProperties", "maxProperties", "pattern", "required", "default",
            "x-kubernetes-list-type", "nullable")
OUT = Path(__file__).resolve().parents[1] / "src" / "stockade" / "model" / "crds"


def compact(node: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: node[k] for k in KEYWORDS if k in node}
    rules = node.get("x-kubernetes-validations")
    if rules:
        out["rules"] = [[r["rule"], r["message"]] for r in rules]
    props = node.get("properties")
    if props:
        out["properties"] = {k: compact(v) for k, v in sorted(props.items())}
    if "items" in node:
        out["items"] = compact(node["items"])
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = compact(extra)
    return out


def main(repo: str) -> None:
    for module, (tag, name) in SOURCES.items():
        text = subprocess.run(
            ["git", "-C", repo, "show", f"{tag}:config/crd/experimental/{name}"],
            check=True, capture_output=True, text=True,
        ).stdout
        crd = yaml.safe_load(text)
        version = crd["spec"]["versions"][0]
        schema = compact(version["schema"]["openAPIV3Schema"])
        schema["properties"].pop("status", None)  # status is the implementation's
        text = HEADER.format(
            kind=crd["spec"]["names"]["kind"], tag=tag, name=name,
            group=crd["spec"]["group"], version=version["name"],
            schema=pprint.pformat(schema, indent=1, width=100, sort_dicts=False),
        )
        path = OUT / f"{module}.py"
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1])
