"""Lint on the repository's examples: quiet where they are right, and exactly the real
mistakes where they are not (the konvoy policy is the documentation's, with its flaws)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.lint import BY_ID, lint
from stockade.model.build import build_cluster
from stockade.sources.files import read_paths

ROOT = Path(__file__).resolve().parents[2]


def _lint(*paths: Path) -> tuple[list[tuple[str, str, str]], int]:
    result = build_cluster(read_paths([str(path) for path in paths]))
    assert not result.findings
    report = lint(result.cluster, enabled=set(BY_ID) - {"namespace-without-default-deny"})
    return [(f.check, f.object_ref, f.path) for f in report.findings], report.silenced


def test_konvoy_has_two_real_mistakes() -> None:
    found, _ = _lint(ROOT / "examples" / "konvoy")
    assert found == [
        ("egress-blocks-dns", "NetworkPolicy default/network-konvoy-policy", "spec.egress"),
        ("ipblock-covers-pods", "NetworkPolicy default/network-konvoy-policy",
         "spec.ingress[0].from[0].ipBlock"),
    ]


@pytest.mark.parametrize(("example", "silenced"), [("shop", 1), ("hostaliases", 0)])
def test_examples_lint_clean(example: str, silenced: int) -> None:
    assert _lint(ROOT / "examples" / example) == ([], silenced)


def test_cluster_policy_examples_lint_clean() -> None:
    # Every check, the one off by default too: the Admin tier's DNS from every pod and the
    # public storefront are meant, and say so with the annotation.
    everything = set(BY_ID)
    for paths in ([ROOT / "examples" / "cluster-policies"],
                  [ROOT / "examples" / "cluster-policies" / "world",
                   ROOT / "examples" / "admin-network-policies"]):
        result = build_cluster(read_paths([str(p) for p in paths]))
        assert not result.findings
        report = lint(result.cluster, enabled=everything)
        assert [(f.check, f.object_ref, f.path) for f in report.findings] == []
        assert report.silenced == 2


@pytest.mark.parametrize("scenario", sorted((ROOT / "tests" / "lab" / "scenarios").glob(
    "*.yaml")), ids=lambda p: p.name)
def test_lab_scenarios_lint_without_errors(scenario: Path) -> None:
    found, _ = _lint(scenario)
    assert not [f for f in found if BY_ID[f[0]].severity.value == "error"]
