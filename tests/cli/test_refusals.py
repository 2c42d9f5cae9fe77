"""How a refusal of invalid input ends: every error, then a count, and the hint to
--skip-invalid only where that flag would analyse the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.cli.main import main

OLD_POLICY = ("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: old, "
              "namespace: default}\nspec: {podSelector: {}}\n---\napiVersion: v1\nkind: Pod\n"
              "metadata: {name: p, namespace: default}\nspec: {containers: [{name: c}]}\n")


def test_an_unserved_api_version_is_refused_with_the_hint(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(OLD_POLICY)
    assert main(["matrix", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (
        f'error: {path}:1: NetworkPolicy default/old: apiVersion: Unsupported value: '
        '"extensions/v1beta1": supported values: "networking.k8s.io/v1"')
    assert err.endswith("stockade: 1 error; nothing analysed (--skip-invalid analyses the "
                        "valid objects only)\n")
    assert main(["matrix", str(path), "--skip-invalid"]) == 0
    assert "warning: skipping invalid object" in capsys.readouterr().err
