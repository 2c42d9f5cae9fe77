"""``stockade diff`` with cluster-wide policies: random edits of them (and of everything
else) give exactly the difference of the two matrices pair by pair, whichever rows and
columns the comparison chose to work out; edited cluster policies are listed by
``Kind/name``; and the causes name the tier rule that decides now, or decided before."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import strategies as gen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_diff_properties import EDITS, _compare, _pairs, _result, edited

from stockade.cli.main import main

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
Manifests = list[dict[str, Any]]
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cluster-policies"
CLUSTER_KINDS = ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")


@st.composite
def cluster_edited(draw: st.DrawFn, manifests: Manifests) -> Manifests:
    """A few edits of the cluster-wide policies (a new spec, one added, one removed, a
    priority changed), then perhaps edits of anything else."""
    out = copy.deepcopy(manifests)
    for n in range(draw(st.integers(1, 2))):
        policies = [m for m in out if m["kind"] in CLUSTER_KINDS]
        edit = draw(st.sampled_from(("modify", "add", "remove", "priority")))
        if edit == "add" or not policies:
            kind = draw(st.sampled_from(("ClusterNetworkPolicy", "AdminNetworkPolicy")))
            out.append(draw(gen.cluster_policies(f"added{n}", kind=kind)))
            continue
        target = draw(st.sampled_from(policies))
        if edit == "remove":
            out.remove(target)
        elif edit == "modify":
            fresh = draw(gen.cluster_policies(target["metadata"]["name"], kind=target["kind"]))
            target["spec"] = fresh["spec"]
        elif "priority" in target["spec"]:
            target["spec"]["priority"] = draw(st.integers(0, 1000))
    if draw(st.booleans()):
        out = draw(edited(out, EDITS))
    return out


@FAST
@given(st.data())
def test_diff_with_cluster_policies_is_the_difference_of_the_two_matrices(
        data: st.DataObject) -> None:
    old = data.draw(gen.clusters(max_cluster_policies=3))
    new = data.draw(cluster_edited(old))
    cmp = _compare(old, new)
    before, after = _pairs(cmp.old), _pairs(cmp.new)
    expected = {pair: (before[pair], after[pair]) for pair in before.keys() & after.keys()
                if before[pair] != after[pair]}
    result = _result(cmp)
    assert {(c.source, c.destination): (c.before, c.after)
            for c in result.connections} == expected
    old_keys = {p.key for p in cmp.old.cluster_policies}
    new_keys = {p.key for p in cmp.new.cluster_policies}
    assert {p.key for p in cmp.policies.added} >= new_keys - old_keys
    assert {p.key for p in cmp.policies.removed} >= old_keys - new_keys


def _copy_of_the_example(where: Path) -> Path:
    for path in EXAMPLE.rglob("*.yaml"):
        copy_path = where / path.relative_to(EXAMPLE)
        copy_path.parent.mkdir(parents=True, exist_ok=True)
        copy_path.write_text(path.read_text())
    return where


def test_a_pass_instead_of_a_deny(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = EXAMPLE
    new = _copy_of_the_example(tmp_path / "new")
    admin = new / "admin-tier.yaml"
    admin.write_text(admin.read_text().replace(
        "  - name: nobody-else\n    action: Deny", "  - name: nobody-else\n    action: Pass"))
    assert main(["diff", str(example), str(new), "-o", "json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["policies"]["modified"] == ["ClusterNetworkPolicy/protect-observability"]
    changed = {(c["from"], c["to"]) for c in answer["connections"]}
    assert ("store/web-0", "observability/prometheus-0") in changed
    assert all(c["to"] == "observability/prometheus-0" and c["after"] == "all"
               for c in answer["connections"])
    [cause] = next(c["because"] for c in answer["connections"]
                   if c["from"] == "store/web-0")
    assert (cause["what"], cause["tier"], cause["policy"], cause["rule"], cause["peer"],
            cause["field"], cause["line"]) == (
        "no longer denies", "Admin", "ClusterNetworkPolicy/protect-observability",
        "ingress[1]", 0, "spec.ingress[1]", 55)
    assert cause["text"] == ("admin ClusterNetworkPolicy/protect-observability ingress[1] no "
                             "longer denies TCP 9090 (before: from[0], any port)")


def test_a_new_admin_deny_is_the_cause(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    new = _copy_of_the_example(tmp_path / "new")
    deny = new / "deny.yaml"
    deny.write_text("""\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-billing-to-store}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: store}}}
  ingress:
  - action: Deny
    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: billing}}}]
""")
    assert main(["diff", str(EXAMPLE), str(new)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("policies added: ClusterNetworkPolicy/no-billing-to-store\n")
    assert ("because admin ClusterNetworkPolicy/no-billing-to-store ingress[0] now denies TCP "
            "8080 (from[0], any port)\n            added, " + str(deny) + ":9") in out
