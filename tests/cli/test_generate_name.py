"""Objects with only ``metadata.generateName``: ``kubectl create`` accepts them and the API
server names each one (the prefix and five characters); stockade names them alike, so that
two such pods stay two endpoints that can be told apart and queried."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def pod(labels: str, *, name: str = "", generate: str = "web-") -> str:
    meta = f"name: {name}" if name else f"generateName: {generate}"
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{{meta}, namespace: default, labels: "
            f"{{{labels}}}}}\nspec: {{containers: [{{name: c, image: x}}]}}\n---\n")


DENY_B = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {generateName: "
          "deny-, namespace: default}\nspec: {podSelector: {matchLabels: {app: b}}}\n")


def test_pods_with_one_generate_name_are_two_endpoints(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    path = tmp_path / "pods.yaml"
    path.write_text(pod("app: a") + pod("app: b") + pod("app: c", name="web-bbbbc") + DENY_B)
    code, out, err = run(capsys, "matrix", str(path), "--pods", "-o", "json")
    assert code == 0
    # web-bbbbc is taken by a named pod: the second generated name skips it.
    assert [g["name"] for g in json.loads(out)["groups"]] == [
        "default/web-bbbbb", "default/web-bbbbd", "default/web-bbbbc"]
    assert ("note: 3 objects with only metadata.generateName, named as the API server would "
            f"name them, with suffixes stockade chose: Pod default/web-bbbbb ({path}:1), Pod "
            f"default/web-bbbbd ({path}:6), NetworkPolicy default/deny-bbbbb ({path}:16)\n"
            in err)
    code, out, _ = run(capsys, "query", str(path), "--from", "default/web-bbbbb",
                       "--to", "default/web-bbbbd", "--port", "80")
    assert code == 1
    assert "ingress default/web-bbbbd: isolated by default/deny-bbbbb" in out
    assert run(capsys, "query", str(path), "--from", "default/web-bbbbd",
               "--to", "default/web-bbbbb", "--port", "80")[0] == 0


def test_a_long_generate_name_is_cut_as_the_api_server_cuts_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "pods.yaml"
    path.write_text(pod("app: a", generate="a" * 70))
    code, out, _ = run(capsys, "matrix", str(path), "--pods", "-o", "json")
    assert code == 0
    assert json.loads(out)["groups"][0]["name"] == "default/" + "a" * 58 + "bbbbb"


def test_an_invalid_object_with_only_generate_name_is_named_by_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "pods.yaml"
    path.write_text(pod("app: A_") .replace("A_", "'-a'"))
    code, _, err = run(capsys, "check", str(path))
    assert code == 2
    assert err.startswith(f"error: {path}:1: Pod default/web-*: metadata.labels: Invalid "
                          'value: "-a"')


def test_hosts_still_asks_for_the_pods_name(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    """The hostname the kubelet writes is the name the API server chose: only the user knows
    it."""
    path = tmp_path / "pod.yaml"
    path.write_text(pod("app: a"))
    code, _, err = run(capsys, "hosts", str(path))
    assert code == 2
    assert "the Pod has no metadata.name (the API server would generate one)" in err
