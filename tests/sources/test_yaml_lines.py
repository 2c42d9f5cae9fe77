"""Lines of fields inside YAML documents: the lines a diff's causes and a test file's errors
point at, in plain streams, in ``kind: List`` items and when the path ends early."""

from __future__ import annotations

from pathlib import Path

from stockade.sources.files import parse_text
from stockade.sources.yaml_lines import FieldLines, Locator, split_path

STREAM = """\
# two policies
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a}
spec:
  podSelector: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b}
spec:
  podSelector:
    matchLabels: {app: db}
  ingress:
  - from:
    - podSelector: {}
    - namespaceSelector: {}
    ports:
    - port: 5432
"""

LIST = """\
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: a}
  spec:
    podSelector: {}
    ingress:
    - {}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: b}
  spec:
    podSelector: {}
    egress:
    - to: []
"""


def test_split_path() -> None:
    assert split_path("spec.ingress[0].from[12]") == ["spec", "ingress", 0, "from", 12]
    assert split_path("[3].targetPort") == [3, "targetPort"]


def test_fields_of_the_objects_of_a_stream() -> None:
    lines = FieldLines(STREAM)
    a, b = (raw.origin.line for raw in parse_text(STREAM, "s.yaml"))
    assert (a, b) == (2, 8)
    assert lines.line(b, "spec.ingress[0]") == 15
    assert lines.line(b, "spec.ingress[0].from[1]") == 17
    assert lines.line(b, "spec.ingress[0].ports[0]") == 19
    assert lines.line(b, "spec.podSelector") == 12
    assert lines.line(a, "spec.podSelector") == 6
    # A path that ends early points at the deepest part that exists.
    assert lines.line(a, "spec.ingress[0]") == 5
    assert lines.line(b, "spec.ingress[3].from") == 14
    assert lines.line(99, "spec") == 99  # no object starts there: its own line


def test_fields_of_list_items() -> None:
    lines = FieldLines(LIST)
    a, b = (raw.origin.line for raw in parse_text(LIST, "l.yaml"))
    assert (a, b) == (4, 11)
    assert lines.line(a, "spec.ingress[0]") == 10
    assert lines.line(b, "spec.egress[0]") == 17


def test_locator_reads_files_and_keeps_object_lines_otherwise(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(STREAM)
    locator = Locator({"REV:p.yaml": STREAM.replace("5432", "80")})
    assert locator.line(str(path), 8, "spec.ingress[0].ports[0]") == 19
    assert locator.line("REV:p.yaml", 8, "spec.ingress[0]") == 15
    assert locator.line("<stdin>", 8, "spec.ingress[0]") == 8
    assert locator.line(str(tmp_path / "gone.yaml"), 8, "spec.ingress[0]") == 8
    assert FieldLines("kind: [\n").roots == []
