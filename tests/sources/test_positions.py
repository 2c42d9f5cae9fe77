"""The source map: lines of fields inside objects, in YAML streams, List items and JSON."""

from __future__ import annotations

import json

from stockade.model.types import Origin
from stockade.sources.positions import SourceMap

STREAM = """\
# two objects
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  containers: [{name: c}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
spec:
  podSelector: {}
  egress:
  - to:
    - podSelector: {}
  - to:
    - ipBlock: {cidr: 10.0.0.0/8}
    - namespaceSelector:
        matchLabels: {a: b}
"""

LIST = """\
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: p}
  spec:
    podSelector: {}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: q}
  spec:
    podSelector: {}
    ingress:
    - {}
"""


def _line(text: str, origin_line: int, kind: str, name: str, path: str) -> int:
    return SourceMap({"f": text}).lines([(Origin("f", origin_line), kind, name, path)])[0]


def test_fields_of_a_document_in_a_stream() -> None:
    def at(path: str) -> int:
        return _line(STREAM, 8, "NetworkPolicy", "p", path)

    assert at("") == 8
    assert at("spec.podSelector") == 13
    assert at("spec.egress") == 14
    assert at("spec.egress[1]") == 17
    assert at("spec.egress[1].to[1]") == 19
    assert at("spec.egress[1].to[1].namespaceSelector") == 19
    assert at("spec.egress[1].to[0].ipBlock.cidr") == 18
    assert at("spec.egress[5].to[0]") == 14  # the deepest part that exists
    assert _line(STREAM, 2, "Pod", "a", "spec.containers[0]") == 6


def test_items_of_a_list() -> None:
    assert _line(LIST, 9, "NetworkPolicy", "q", "spec.ingress[0]") == 15
    assert _line(LIST, 4, "NetworkPolicy", "p", "spec.podSelector") == 8


def test_json() -> None:
    doc = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "p"}, "spec": {"podSelector": {}, "ingress": [{}]}}
    text = json.dumps(doc, indent=2)
    expected = text.splitlines().index('    "ingress": [') + 1
    assert _line(text, 1, "NetworkPolicy", "p", "spec.ingress") == expected


def test_unknown_files_and_objects() -> None:
    smap = SourceMap({"f": STREAM, "bad": "a: [\n"})
    queries = [(Origin("nowhere", 3), "Pod", "a", "spec"),
               (Origin("f", 2), "Pod", "missing", "spec"),
               (Origin("bad", 1), "Pod", "a", "spec")]
    assert smap.lines(queries) == [0, 0, 0]
