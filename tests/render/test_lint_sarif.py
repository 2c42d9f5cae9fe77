"""``lint -o sarif``: valid SARIF 2.1.0 (checked against the official schema, a copy in
``data/`` with its licence), one rule per check ID, results located by repository-relative
file and line, levels mapped from severities, and fingerprints stable across runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stockade.cli.main import main
from stockade.lint import CHECKS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCHEMA = json.loads((HERE / "data" / "sarif-schema-2.1.0.json").read_text())


def _sarif(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["lint", *argv, "-o", "sarif"])
    return code, json.loads(capsys.readouterr().out)


def _validate(doc: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(doc)


def test_schema_rejects_what_it_should() -> None:
    # the validator is real: a log without a version, or with a bad level, fails
    with pytest.raises(jsonschema.ValidationError):
        _validate({"runs": []})
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                         "results": [{"message": {"text": "m"},
                                                      "level": "fatal"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        _validate(bad)


def test_konvoy_as_sarif(capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, doc = _sarif(capsys, "examples/konvoy")
    assert code == 1
    _validate(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [c.id for c in CHECKS]
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules)
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    assert levels["rules-ignored-by-policy-types"] == "error"
    assert levels["redundant-rule"] == "note"
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("ipblock-covers-pods", "warning"), ("egress-blocks-dns", "warning")]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    location = results[0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "examples/konvoy/policy.yaml", "uriBaseId": "%SRCROOT%"}
    assert location["physicalLocation"]["region"] == {"startLine": 16}
    assert location["logicalLocations"][0]["fullyQualifiedName"] == (
        "NetworkPolicy/default/network-konvoy-policy/spec.ingress[0].from[0].ipBlock")
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == f"file://{ROOT}/"
    related = results[0]["relatedLocations"][0]
    assert related["physicalLocation"]["region"] == {"startLine": 2}  # the object itself
    assert related["message"]["text"] == "NetworkPolicy default/network-konvoy-policy"


def test_no_findings_is_valid_sarif_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _sarif(capsys, str(ROOT / "examples" / "hostaliases"))
    assert code == 0
    _validate(doc)
    assert doc["runs"][0]["results"] == []


def test_paths_outside_the_source_root_stay_as_given(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    outside = tmp_path / "p.yaml"
    outside.write_text((ROOT / "examples" / "konvoy" / "policy.yaml").read_text()
                       + (ROOT / "examples" / "konvoy" / "pods.yaml").read_text()
                       .replace("apiVersion", "---\napiVersion", 1))
    code, doc = _sarif(capsys, str(outside), "--source-root", str(ROOT))
    _validate(doc)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in doc["runs"][0]["results"]}
    assert uris == {str(outside)}
    assert code == 1


def test_fingerprints_are_stable_and_distinct(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    _, first = _sarif(capsys, "examples/konvoy")
    _, second = _sarif(capsys, "examples/konvoy")
    prints = [r["partialFingerprints"] for r in first["runs"][0]["results"]]
    assert prints == [r["partialFingerprints"] for r in second["runs"][0]["results"]]
    assert len({json.dumps(p) for p in prints}) == len(prints)


def test_sarif_file_beside_another_output(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    target = tmp_path / "out.sarif"
    code = main(["lint", str(ROOT / "examples" / "konvoy"), "--sarif", str(target),
                 "--source-root", os.sep])
    capsys.readouterr()
    assert code == 1
    doc = json.loads(target.read_text())
    _validate(doc)
    assert len(doc["runs"][0]["results"]) == 2


def test_objects_from_stdin_have_only_a_logical_location(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    konvoy = sorted((ROOT / "examples" / "konvoy").glob("*.yaml"))
    text = "\n---\n".join(p.read_text() for p in konvoy)
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code, doc = _sarif(capsys, "-")
    _validate(doc)
    results = doc["runs"][0]["results"]
    assert code == 1
    assert len(results) == 2
    for r in results:
        assert "physicalLocation" not in r["locations"][0]
        assert r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith(
            "NetworkPolicy/default/network-konvoy-policy")


def test_cluster_wide_policy_findings_located_at_the_rule_and_the_peer(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # A ClusterNetworkPolicy (v1alpha2) and an AdminNetworkPolicy (v1alpha1): findings on a
    # rule, a peer, the subject and a network, each on the line of that field, with the
    # policy (cluster-scoped: no namespace) as the related location.
    monkeypatch.chdir(HERE)
    code, doc = _sarif(capsys, "data/lint-cluster-policies.yaml")
    assert code == 1
    _validate(doc)
    lines = (HERE / "data" / "lint-cluster-policies.yaml").read_text().splitlines()

    def line_of(text: str, after: str) -> int:
        start = lines.index(after)
        return next(n for n, line in enumerate(lines, 1) if n > start and line == text)

    cnp = line_of("kind: ClusterNetworkPolicy", "---") - 1  # apiVersion: the object's line
    anp = line_of("kind: AdminNetworkPolicy", "---") - 1
    expected = {
        ("redundant-rule", "ClusterNetworkPolicy/guard-db/spec.ingress[0]"):
            (line_of("  - name: payments", "  name: guard-db"), cnp),
        ("peer-selects-nothing",
         "ClusterNetworkPolicy/guard-db/spec.ingress[2].from[0].namespaces"):
            (line_of("    - namespaces: {matchLabels: {team: paymnts}}", "  - name: typo"), cnp),
        ("policy-selects-nothing", "AdminNetworkPolicy/old-style/spec.subject.namespaces"):
            (line_of("    namespaces: {matchLabels: {team: paymnts}}", "  name: old-style"), anp),
        ("ipblock-host-bits",
         "AdminNetworkPolicy/old-style/spec.egress[0].to[0].networks[0]"):
            (line_of("    - networks: [192.0.2.1/24]", "  name: old-style"), anp),
    }
    got = {}
    for r in doc["runs"][0]["results"]:
        [location] = r["locations"]
        assert location["physicalLocation"]["artifactLocation"] == {
            "uri": "data/lint-cluster-policies.yaml", "uriBaseId": "%SRCROOT%"}
        [related] = r["relatedLocations"]
        got[r["ruleId"], location["logicalLocations"][0]["fullyQualifiedName"]] = (
            location["physicalLocation"]["region"]["startLine"],
            related["physicalLocation"]["region"]["startLine"])
        kind, name = location["logicalLocations"][0]["fullyQualifiedName"].split("/")[:2]
        assert related["message"]["text"] == f"{kind} {name}"
    assert got == expected


@pytest.mark.parametrize("name", ["a b#c%d?.yaml", "política ñ.yaml"])
def test_file_names_are_percent_encoded_uris(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path, name: str) -> None:
    """A URI must be percent-encoded (SARIF 2.1.0, 3.10.2): unencoded, ``#`` and ``?`` end
    the path there, a space is no URI at all, and code scanning points at another file.
    Decoded, each URI (and the root's) is the path again. Found by a hostile-input hunt."""
    from urllib.parse import unquote, urlsplit

    root = tmp_path / "source root"
    (root / "sub dir").mkdir(parents=True)
    policy = root / "sub dir" / name
    policy.write_text((ROOT / "examples" / "konvoy" / "policy.yaml").read_text()
                      + (ROOT / "examples" / "konvoy" / "pods.yaml").read_text()
                      .replace("apiVersion", "---\napiVersion", 1))
    code, doc = _sarif(capsys, str(policy), "--source-root", str(root))
    _validate(doc)
    run = doc["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]}
    assert len(uris) == 1
    uri = uris.pop()
    parts = urlsplit(uri)
    assert (parts.scheme, parts.query, parts.fragment) == ("", "", "")
    assert " " not in uri and uri.isascii()
    assert unquote(uri) == f"sub dir/{name}"
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert " " not in base and unquote(urlsplit(base).path) == f"{root}/"
    assert code == 1
