"""IPv4-mapped IPv6 addresses (``::ffff:a.b.c.d``) are their IPv4 addresses everywhere, as
Go's ``net.ParseIP`` (and so Kubernetes, whose ``IsIPv6`` is ``To4() == nil``) reads them:
on the command line of ``query``, in pod IPs for ``matrix`` and ``compile``, and in ipBlocks
(issue 9). The lab places pods by the same reading (``lab.plan``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.lab.names import LabNames
from stockade.lab.plan import make_plan
from stockade.model.build import build_cluster
from stockade.sources.files import read_paths

ROOT = Path(__file__).resolve().parents[2]
KONVOY = str(ROOT / "examples" / "konvoy")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("mapped", "plain"), [
    ("::ffff:172.17.0.5", "bridge/in-cidr"),     # a pod's address: that pod
    ("::ffff:172.17.1.5", "bridge/in-except"),
    ("::ffff:172.17.0.77", "172.17.0.77"),       # no pod's: judged against IPv4 ipBlocks
    ("::ffff:172.17.1.77", "172.17.1.77"),
    ("0:0:0:0:0:ffff:ac11:4d", "172.17.0.77"),  # the same, written in hex
])
def test_query_reads_a_mapped_address_as_ipv4(capsys: pytest.CaptureFixture[str],
                                               mapped: str, plain: str) -> None:
    args = ("--to", "default/db", "--port", "6379/TCP", "-o", "json")
    code, out, err = run(capsys, "query", KONVOY, "--from", mapped, *args)
    expected_code, expected, _ = run(capsys, "query", KONVOY, "--from", plain, *args)
    assert (code, json.loads(out)) == (expected_code, json.loads(expected))
    assert "IPv4-mapped form of 172.17." in err
    back = run(capsys, "query", KONVOY, "--from", "default/db", "--to", mapped,
               "--port", "5978/TCP")
    assert back[:2] == run(capsys, "query", KONVOY, "--from", "default/db", "--to", plain,
                           "--port", "5978/TCP")[:2]


def test_the_mapped_form_of_an_external_address_is_not_ipv6(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", KONVOY, "--from", "::ffff:172.17.0.77", "--to",
                       "default/db", "--port", "6379/TCP")
    assert code == 0
    assert out.startswith("172.17.0.77 -> default/db TCP 6379: allowed\n")
    # Both ends read as IPv4: no "no connection goes between IPv4 and IPv6" refusal.
    code, out, _ = run(capsys, "query", KONVOY, "--from", "::ffff:172.17.0.77", "--to",
                       "172.17.0.5", "--port", "6379/TCP")
    assert code == 0


MAPPED_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: mapped, namespace: bridge, labels: {app: legacy}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: "::ffff:172.17.0.6"}
---
apiVersion: v1
kind: Pod
metadata: {name: mapped-db, namespace: default, labels: {role: db}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: "::ffff:172.17.0.7"}
"""


def test_matrix_compile_and_lab_read_a_mapped_pod_ip_as_ipv4(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "mapped.yaml").write_text(MAPPED_POD)
    inputs = (KONVOY, str(tmp_path / "mapped.yaml"))
    code, out, _ = run(capsys, "matrix", *inputs, "--port", "6379/TCP", "-o", "json")
    reachable = json.loads(out)["results"][0]["reachable"]
    assert "default/db" in reachable["bridge/mapped"]  # inside the IPv4 ipBlock
    code, out, _ = run(capsys, "query", *inputs, "--from", "172.17.0.6", "--to",
                       "default/db", "--port", "6379/TCP")
    assert out.startswith("bridge/mapped -> default/db TCP 6379: allowed")
    code, out, _ = run(capsys, "compile", *inputs)
    # The isolated pod is enforced at its IPv4 address, in the IPv4 verdict map.
    assert code == 0 and "172.17.0.7 : jump" in out and "::ffff:" not in out
    cluster = build_cluster(read_paths(list(inputs))).cluster
    plan = make_plan(cluster, LabNames("t"))
    assert next(p.ips for p in plan.pods if p.key == "bridge/mapped") == ("172.17.0.6",)
