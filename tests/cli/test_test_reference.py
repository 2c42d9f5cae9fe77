"""``stockade test`` on promise files written the way users write them, against the
independent evaluator ``benchmarks/reference.py``: random promises (ns/pod, IP addresses
of pods and of the outside, and every selector form: namespace by name, namespaceSelector,
podSelector, with or without ports) about random small clusters with cluster-wide
policies; each promise's status, its count of checks and of failures must be what the
reference's pair-by-pair answers give."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import strategies as gen
import yaml
from benchmarks.reference import (
    RefAddress,
    ReferenceCluster,
    RefPod,
    selector_matches,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockade.cli.main import main
from stockade.sources.cluster_snapshot import SnapshotDumper

FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
Manifests = list[dict[str, Any]]
OUTSIDE = ("192.0.2.77", "10.0.0.9")  # an address of nobody (or of a pod, by chance)
NAMESPACE_POOL = {**gen.NS_LABELS, "kubernetes.io/metadata.name": gen.NAMESPACES}


@st.composite
def endpoints(draw: st.DrawFn, manifests: Manifests) -> Any:
    pods = [m for m in manifests if m["kind"] == "Pod"]
    shape = draw(st.sampled_from(("pod", "pod", "ip", "namespace", "nsSelector", "both")))
    if shape == "pod":
        pod = draw(st.sampled_from(pods))
        return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
    if shape == "ip":
        addresses = [p["status"]["podIP"] for p in pods if "status" in p]
        return draw(st.sampled_from((*OUTSIDE, *addresses)))
    target: dict[str, Any] = {}
    if shape == "namespace":
        target["namespace"] = draw(st.sampled_from(gen.NAMESPACES))
    else:
        target["namespaceSelector"] = draw(gen.selectors(NAMESPACE_POOL))
    if shape == "both" or draw(st.booleans()):
        target["podSelector"] = draw(gen.selectors(gen.POD_LABELS))
    return target


@st.composite
def promises(draw: st.DrawFn, manifests: Manifests) -> list[dict[str, Any]]:
    out = []
    numbers = gen.boundary_ports(manifests)
    for i in range(draw(st.integers(1, 4))):
        promise: dict[str, Any] = {"name": f"promise {i}",
                                   "from": draw(endpoints(manifests)),
                                   "to": draw(endpoints(manifests)),
                                   "allowed": draw(st.booleans())}
        addressed = any(isinstance(promise[f], str) and "/" not in promise[f]
                        for f in ("from", "to"))
        if addressed or draw(st.booleans()):
            promise["ports"] = [f"{port}/{proto}" for port, proto in draw(st.lists(
                st.tuples(st.sampled_from(numbers), st.sampled_from(gen.PROTOCOLS)),
                min_size=1, max_size=3, unique=True))]
        out.append(promise)
    return out


def _selected(ref: ReferenceCluster, target: Any) -> list[str]:
    """The endpoints (pod keys or an address) a promise's end names, per the reference."""
    if isinstance(target, str):
        return [target]
    out = []
    for key, pod in ref.pods.items():
        if "namespace" in target:
            in_ns = pod.namespace == target["namespace"]
        else:
            in_ns = selector_matches(target["namespaceSelector"],
                                     ref.namespace_labels(pod.namespace))
        if in_ns and selector_matches(target.get("podSelector", {}), pod.labels):
            out.append(key)
    return out


def _same(a: RefPod | RefAddress, b: RefPod | RefAddress) -> bool:
    return a is b or (isinstance(a, RefAddress) and isinstance(b, RefAddress) and a.ip == b.ip)


def _expected(ref: ReferenceCluster, promise: dict[str, Any]) -> tuple[str, int, int]:
    """(status, checks, failures) of a promise, per the reference."""
    sources, destinations = _selected(ref, promise["from"]), _selected(ref, promise["to"])
    if not sources or not destinations:
        return "failed", 0, 0
    pairs = [(s, d) for s in sources for d in destinations
             if not _same(ref.endpoint(s), ref.endpoint(d))]
    if not pairs:
        return "failed", 0, 0
    answers: list[bool] = []
    for s, d in pairs:
        if "ports" in promise:
            for entry in promise["ports"]:
                port, proto = entry.split("/")
                answers.append(ref.allowed(s, d, proto, int(port)))
        else:
            answers.append(ref.connections(s, d) != "none")
    failures = sum(1 for a in answers if a != promise["allowed"])
    return ("passed" if not failures else "failed"), len(answers), failures


@FAST
@given(st.data())
def test_promises_are_what_the_reference_says(data: st.DataObject) -> None:
    manifests = data.draw(gen.clusters(max_cluster_policies=2))
    expect = data.draw(promises(manifests))
    document = {"apiVersion": "stockade.dev/v1alpha1", "kind": "ConnectivityTest",
                "metadata": {"name": "drawn"},
                "spec": {"manifests": ["cluster.yaml"], "expect": expect}}
    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "cluster.yaml").write_text(yaml.dump_all(manifests, Dumper=SnapshotDumper))
        tests = Path(tmp) / "promises.yaml"
        tests.write_text(yaml.dump(document, Dumper=SnapshotDumper, sort_keys=False))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["test", str(tests), "-o", "json"])
    assert code in (0, 1), err.getvalue()
    answer = json.loads(out.getvalue())
    ref = ReferenceCluster.from_dicts(copy.deepcopy(manifests))
    found = [(r["status"], r["checks"], r["failures"]) for r in answer["results"]]
    wanted = [_expected(ref, p) for p in expect]
    assert found == wanted
    assert code == (1 if any(status == "failed" for status, _, _ in wanted) else 0)
