"""The same object (kind, namespace, name) defined twice: as ``kubectl apply -f dir/``
leaves it, the later definition wins, with a warning naming both places, in every command;
``check`` lists it as a warning, not as an error the API server never produces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.model.build import build_cluster
from stockade.sources.files import parse_text

FIRST = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: old}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
status: {podIP: 10.0.0.1}
"""
SECOND = FIRST.replace("app: old", "app: new").replace("10.0.0.1", "10.0.0.2")
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-new, namespace: shop}
spec:
  podSelector: {}
  ingress: [{from: [{podSelector: {matchLabels: {app: new}}}]}]
"""
WARNING = ("warning: Pod shop/web is defined more than once ({a}:1, then {b}:1): the later "
           "definition wins, as with kubectl apply")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_later_definition_wins_with_a_warning() -> None:
    raws = parse_text(FIRST, "a.yaml") + parse_text(SECOND, "b.yaml")
    result = build_cluster(raws)
    assert result.findings == []
    (pod,) = result.cluster.pods
    assert (dict(pod.metadata.labels), pod.ips, pod.origin.file) == (
        {"app": "new"}, ("10.0.0.2",), "b.yaml")
    assert result.warnings[0] == WARNING.format(a="a.yaml", b="b.yaml").removeprefix(
        "warning: ")


def test_an_invalid_later_definition_leaves_the_earlier_one() -> None:
    raws = parse_text(FIRST, "a.yaml") + parse_text(
        SECOND.replace("containerPort: 80", "containerPort: 0"), "b.yaml")
    result = build_cluster(raws)
    assert [f.error.path for f in result.findings] == [
        "spec.containers[0].ports[0].containerPort"]
    assert [p.origin.file for p in result.cluster.pods] == ["a.yaml"]
    assert result.warnings[0] == (
        "Pod shop/web is defined more than once (a.yaml:1, then b.yaml:1): the later "
        "definition is invalid, so the earlier one stays (the API server would refuse the "
        "update)")


def test_different_kinds_or_namespaces_are_not_duplicates() -> None:
    other_ns = FIRST.replace("namespace: shop", "namespace: other")
    service = ("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
               "spec: {selector: {app: new}, ports: [{port: 80}]}\n")
    result = build_cluster(parse_text(FIRST + "---\n" + other_ns + "---\n" + service, "x"))
    assert not [w for w in result.warnings if "more than once" in w]


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(FIRST + "---\n" + POLICY)
    b.write_text(SECOND)
    return str(a), str(b)


def test_check_lists_duplicates_as_warnings(capsys: pytest.CaptureFixture[str],
                                            files: tuple[str, str]) -> None:
    a, b = files
    code, out, err = run(capsys, "check", a, b)
    assert (code, out) == (0, "valid: 1 NetworkPolicy, 1 Pod\n")
    assert WARNING.format(a=a, b=b) in err.splitlines()
    code, out, _ = run(capsys, "check", a, b, "-o", "json")
    doc = json.loads(out)
    assert (code, doc["valid"], doc["errors"]) == (0, True, [])
    assert WARNING.format(a=a, b=b).removeprefix("warning: ") in doc["warnings"]


@pytest.mark.parametrize("argv", [
    ["matrix", "--pods", "-o", "json"],
    ["query", "--from", "shop/web", "--to", "shop/web", "--port", "80"],
    ["compile", "-o", "json"],
])
def test_every_command_takes_the_later_definition(
        capsys: pytest.CaptureFixture[str], files: tuple[str, str], argv: list[str]) -> None:
    a, b = files
    code, out, err = run(capsys, argv[0], a, b, *argv[1:])
    assert code == 0, err
    assert WARNING.format(a=a, b=b) in err.splitlines()
    if argv[0] == "compile":
        assert "10.0.0.2" in out and "10.0.0.1" not in out


def test_hosts_takes_the_later_definition(capsysbinary: pytest.CaptureFixture[bytes],
                                          files: tuple[str, str], tmp_path: Path) -> None:
    both = tmp_path / "both.yaml"
    both.write_text(FIRST + "---\n" + SECOND)
    assert main(["hosts", str(both)]) == 0
    out, err = capsysbinary.readouterr()
    assert b"10.0.0.2\tweb\n" in out and b"10.0.0.1" not in out
    assert b"is defined more than once" in err


def test_a_directory_is_read_in_kubectls_order(tmp_path: Path) -> None:
    """``kubectl apply -R -f dir/`` walks each directory's entries in name order
    (``filepath.Walk``), a subdirectory's files at the subdirectory's place: ``app/`` comes
    before ``app-b.yaml`` and ``app.yaml``, so ``app.yaml``'s definition is the later."""
    from stockade.sources.files import expand_paths

    (tmp_path / "app").mkdir()
    for rel in ("app/x.yaml", "app-b.yaml", "app.yaml", "10.yaml", "9.yaml"):
        (tmp_path / rel).write_text(FIRST)
    assert [Path(p).relative_to(tmp_path).as_posix() for p in expand_paths([str(tmp_path)])] \
        == ["10.yaml", "9.yaml", "app/x.yaml", "app-b.yaml", "app.yaml"]
