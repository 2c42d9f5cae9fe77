"""``query`` with cluster-wide policies on examples/cluster-policies: ``--to-host`` for
domainNames peers (alone, or with the address the name resolved to), its usage errors,
and the JSON fields of the tiers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main

EXAMPLE = "examples/cluster-policies"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])


def test_to_host_alone_is_judged_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", EXAMPLE, "--from", "billing/invoice-0", "--to-host",
                       "api.payments.example", "--port", "443/TCP")
    assert code == 0
    assert out.splitlines() == [
        "billing/invoice-0 -> api.payments.example TCP 443: allowed",
        '  egress  billing/invoice-0: allowed by admin ClusterNetworkPolicy/billing-egress '
        'priority 40 egress[0] "payment-provider": Accept (to[0], protocols[0])',
        "  ingress api.payments.example: not a pod: no policy applies"]


def test_to_host_with_the_address_it_resolved_to(capsys: pytest.CaptureFixture[str]) -> None:
    # Another name: the domainNames rule does not match, the Deny of the internet does.
    code, out, _ = run(capsys, "query", EXAMPLE, "--from", "billing/invoice-0", "--to-host",
                       "evil.example", "--to", "203.0.113.7", "--port", "443/TCP", "-o",
                       "json")
    assert code == 1
    egress = json.loads(out)["egress"]
    assert (egress["tier"], egress["decided_by"]["policy"], egress["decided_by"]["path"],
            egress["decided_by"]["action"]) == (
        "Admin", "ClusterNetworkPolicy/billing-egress", "egress[2]", "Deny")
    assert egress["remarks"] == []  # the name was given: nothing left unapplied


def test_an_address_alone_notes_the_unapplied_domain_names(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", EXAMPLE, "--from", "billing/invoice-0", "--to",
                       "203.0.113.7", "--port", "443/TCP", "-o", "json")
    assert code == 1
    assert json.loads(out)["egress"]["remarks"] == [
        "ClusterNetworkPolicy/billing-egress egress[0]: domainNames api.payments.example not "
        "applied: which addresses a name resolves to is not in the input (ask with --to-host "
        "NAME)"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--to-host", "not a name"], "--to-host not a name: not a domain name"),
    (["--to-host", "localhost"], "--to-host localhost: not a domain name"),
    (["--to-host", "a.example", "--to", "store/web-0"],
     "--to store/web-0 with --to-host: give the IP address a.example resolved to"),
    ([], "--to (or --to-host) is required"),
])
def test_to_host_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str],
                              message: str) -> None:
    code, _, err = run(capsys, "query", EXAMPLE, "--from", "billing/invoice-0", "--port",
                       "443/TCP", *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_tier_fields_only_where_cluster_policies_select(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", "examples/konvoy", "--from", "default/db", "--to",
                       "default/konvoy-app", "--port", "6379/TCP", "-o", "json")
    assert "tier" not in json.loads(out)["egress"]
    code, out, _ = run(capsys, "query", EXAMPLE, "--from", "observability/prometheus-0",
                       "--to", "store/db-0", "--port", "9187/TCP", "-o", "json")
    assert code == 0
    ingress = json.loads(out)["ingress"]
    assert ingress["tier"] == "Admin"
    assert ingress["decided_by"] == {
        "policy": "ClusterNetworkPolicy/prometheus-scrapes-tenants", "tier": "Admin",
        "priority": 30, "rule": 0, "path": "ingress[0]", "name": "from-prometheus-to-metrics",
        "action": "Accept", "peer": 0, "port": 0, "fail_closed": False}
    assert ingress["passed"] == []
