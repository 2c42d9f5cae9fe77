"""Pods in phase Succeeded or Failed have finished: the kubelet has released their sandbox
and IP (which a new pod may already hold), so no packet reaches or leaves them. They are
validated like any pod but are no endpoint of the analysis, and a note says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.engine import Engine
from stockade.model.build import build_cluster
from stockade.sources.files import parse_text

FINISHED = """\
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: a, labels: {{app: {name}}}}}
spec: {{containers: [{{name: c}}]}}
status: {{phase: {phase}, podIP: 10.0.0.5}}
"""
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-10-0-0-5, namespace: a}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: job}}}]}]
"""


def stream(*docs: str) -> str:
    return "---\n".join(docs)


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_a_finished_pod_is_no_endpoint_and_its_ip_is_the_running_pods(phase: str) -> None:
    text = stream(FINISHED.format(name="job", phase=phase),
                  FINISHED.format(name="web", phase="Running"), POLICY)
    result = build_cluster(parse_text(text, "f.yaml"))
    assert [p.key for p in result.cluster.pods] == ["a/web"]
    assert [p.key for p in result.finished] == ["a/job"]
    assert result.notes == [
        "1 pod in phase Succeeded or Failed not analysed (a finished pod has no network; its "
        "IP may belong to another pod already): a/job"]
    engine = Engine(result.cluster)
    # The address is the running pod's: no longer "two pods share it, pick one".
    assert engine.endpoint("10.0.0.5").pod is not None
    assert engine.endpoint("10.0.0.5").pod.key == "a/web"  # type: ignore[union-attr]
    with pytest.raises(Exception, match="no pod 'a/job'"):
        engine.endpoint("a/job")


@pytest.mark.parametrize("phase", ["Running", "Pending", "Unknown", ""])
def test_pods_in_other_phases_are_endpoints(phase: str) -> None:
    result = build_cluster(parse_text(FINISHED.format(name="job", phase=phase or '""'),
                                      "f.yaml"))
    assert [p.key for p in result.cluster.pods] == ["a/job"]
    assert result.notes == [] and result.finished == []


def test_the_later_definition_decides_whether_the_pod_has_finished() -> None:
    running, done = (FINISHED.format(name="job", phase=p) for p in ("Running", "Succeeded"))
    assert [p.key for p in build_cluster(parse_text(stream(done, running), "f")).cluster.pods
            ] == ["a/job"]
    assert build_cluster(parse_text(stream(running, done), "f")).cluster.pods == ()


def test_a_finished_pod_is_still_validated() -> None:
    bad = FINISHED.format(name="job", phase="Succeeded").replace("10.0.0.5", "10.0.0.999")
    result = build_cluster(parse_text(bad, "f.yaml"))
    assert [f.error.path for f in result.findings] == ["status.podIP"]


def test_commands_say_so_and_check_counts_it(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pods.yaml"
    path.write_text(stream(FINISHED.format(name="job", phase="Succeeded"),
                           FINISHED.format(name="web", phase="Running"), POLICY))
    assert main(["check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == "valid: 1 NetworkPolicy, 2 Pods\n"
    assert main(["matrix", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "a/job" not in out
    assert "note: 1 pod in phase Succeeded or Failed not analysed" in err
