"""``stockade snapshot`` and ``--cluster`` through the CLI, against the API server double.

The double stands in for a real API server, which cannot run here. The round trip is the
point: a snapshot file read back must give the same objects, and the same model, as the
live read it was taken from.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from k8s_double import ApiServerDouble, Deny
from kubeconfig_files import Kubeconfigs

from stockade.cli.common import add_input_arguments, load
from stockade.cli.main import main
from stockade.model.build import RawObject, build_cluster
from stockade.model.types import Origin
from stockade.sources.cluster import ClusterSource
from stockade.sources.cluster_snapshot import SNAPSHOT_ANNOTATION, render_snapshot, summarise
from stockade.sources.files import read_paths


def same_origin(raws: list[RawObject]) -> list[RawObject]:
    return [RawObject(r.data, Origin("x")) for r in raws]


@pytest.mark.parametrize("namespace", [None, "prod"])
def test_snapshot_round_trip_equals_the_direct_read(
        alpha: ApiServerDouble, two_contexts: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], namespace: str | None) -> None:
    config = two_contexts
    out = tmp_path / "cluster.yaml"
    argv = ["snapshot", "--cluster", "--kubeconfig", str(config), "-o", str(out)]
    argv += ["-n", namespace] if namespace else ["-A"]
    assert main(argv) == 0
    direct = ClusterSource.from_kubeconfig(kubeconfig=str(config)).read(namespace=namespace)

    back = read_paths([str(out)])
    assert [r.data for r in back] == [r.data for r in direct]
    from_file = build_cluster(same_origin(back))
    from_cluster = build_cluster(same_origin(direct))
    assert from_file.cluster == from_cluster.cluster
    assert from_file.findings == from_cluster.findings == []
    # Read back, each object points at its own line of the snapshot.
    lines = out.read_text().splitlines()
    for raw in back:
        assert raw.origin.file == str(out)
        assert lines[raw.origin.line - 1].startswith("apiVersion:")
    assert lines[0].startswith(f"# stockade snapshot of context alpha ({alpha.url}), ")
    err = capsys.readouterr().err
    assert err.startswith(f"stockade: wrote {summarise(direct)} from context alpha")


def test_snapshot_keeps_timestamps_as_strings(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs,
        tmp_path: Path) -> None:
    out = tmp_path / "s.yaml"
    assert main(["snapshot", "--kubeconfig", str(kubeconfigs.two_contexts(alpha, beta)),
                 "-o", str(out)]) == 0
    web = next(r for r in read_paths([str(out)]) if r.data["metadata"]["name"] == "web")
    assert web.data["metadata"]["deletionTimestamp"] == "2024-05-02T10:00:00Z"
    assert "managedFields" not in out.read_text()


def test_snapshot_to_stdout_with_context(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = kubeconfigs.two_contexts(alpha, beta)
    assert main(["snapshot", "--kubeconfig", str(config), "--context", "beta"]) == 0
    text = capsys.readouterr().out
    assert "name: canary" in text and "name: db-0" not in text
    assert text.splitlines().count("---") == 2  # two documents: a Namespace and a Pod


def test_snapshot_records_warnings_in_its_header(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs,
        capsys: pytest.CaptureFixture[str]) -> None:
    alpha.denies.append(Deny("get", "namespaces"))
    config = kubeconfigs.two_contexts(alpha, beta)
    assert main(["snapshot", "--kubeconfig", str(config), "-n", "dev"]) == 0
    captured = capsys.readouterr()
    assert '# warning: context alpha: cannot get namespaces "dev"' in captured.out
    assert captured.err.startswith('warning: context alpha: cannot get namespaces "dev"')


def test_snapshot_errors_exit_2_without_traceback(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs,
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = kubeconfigs.two_contexts(alpha, beta)
    out = tmp_path / "never.yaml"
    assert main(["snapshot", "--kubeconfig", str(config), "--context", "gamma",
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"stockade: error: kubeconfig {config}: --context 'gamma' not found "
                   "(contexts: alpha, beta)\n")
    alpha.denies.append(Deny("list", "pods", ""))
    assert main(["snapshot", "--kubeconfig", str(config), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stockade: error: context alpha: cannot list pods at the cluster")
    assert "Traceback" not in err
    assert not out.exists()  # nothing half-written
    assert list(tmp_path.glob(".never.yaml.*")) == []


def test_snapshot_rejects_namespace_and_all_namespaces(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["snapshot", "-n", "x", "-A"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_cluster_flag_of_the_analysing_commands(
        alpha: ApiServerDouble, beta: ApiServerDouble, kubeconfigs: Kubeconfigs,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``--cluster`` as check/matrix/query parse it, through ``cli.common.load``."""
    parser = argparse.ArgumentParser()
    add_input_arguments(parser)
    config = kubeconfigs.two_contexts(alpha, beta)
    args = parser.parse_args(["--cluster", "--kubeconfig", str(config), "--context", "beta",
                              "-n", "staging"])
    result = load(args)
    assert [p.name for p in result.cluster.pods] == ["canary"]
    assert [n.name for n in result.cluster.namespaces] == ["staging"]
    assert result.cluster.namespaces[0].labels["env"] == "staging"
    assert [s.path for s in beta.seen][:3] == ["/api/v1/namespaces/staging", "/api/v1/nodes",
                                               "/apis/networking.k8s.io/v1/namespaces/staging"
                                               "/networkpolicies"]


def test_render_snapshot_of_nothing_is_only_the_header() -> None:
    assert render_snapshot([], ["h"]) == "# h\n"
    assert summarise([]) == "no objects"


def test_summary_counts_kinds_in_order() -> None:
    raws = [RawObject({"kind": k}, Origin("x"))
            for k in ("Namespace", "NetworkPolicy", "NetworkPolicy", "Pod", "Pod", "Pod")]
    assert summarise(raws) == "1 Namespace, 2 NetworkPolicies, 3 Pods"


@pytest.mark.parametrize("command", [
    ["matrix", "-o", "json"],
    ["matrix", "--port", "5432/TCP", "-o", "json"],
    ["check"],
    ["query", "--from", "prod/api-7d9f8-abcde", "--to", "prod/db-0", "--port", "5432/TCP"],
    ["query", "--from", "default/web", "--to", "prod/db-0", "--port", "5432/TCP"],
])
def test_commands_answer_the_same_from_cluster_and_snapshot(
        two_contexts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        command: list[str]) -> None:
    snap = tmp_path / "cluster.yaml"
    assert main(["snapshot", "--kubeconfig", str(two_contexts), "-o", str(snap)]) == 0
    capsys.readouterr()
    live_code = main([*command, "--cluster", "--kubeconfig", str(two_contexts)])
    live = capsys.readouterr().out
    file_code = main([*command, str(snap)])
    from_file = capsys.readouterr().out
    assert live_code == file_code
    assert live == from_file
    assert live  # the command did answer


def test_query_verdicts_from_the_cluster_depend_on_namespace_labels(
        alpha: ApiServerDouble, two_contexts: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # db-ingress admits app=api pods from namespaces labelled env=prod: a label only the
    # live Namespace object carries.
    base = ["query", "--cluster", "--kubeconfig", str(two_contexts), "--port", "5432/TCP",
            "--to", "prod/db-0"]
    assert main([*base, "--from", "prod/api-7d9f8-abcde"]) == 0
    assert main([*base, "--from", "default/web"]) == 1
    capsys.readouterr()
    # Without permission to list namespaces their labels are unknown: the same query is
    # denied, and the user was told why it may be.
    alpha.denies.append(Deny("list", "namespaces"))
    assert main([*base, "--from", "prod/api-7d9f8-abcde"]) == 1
    err = capsys.readouterr().err
    assert "warning: context alpha: cannot list namespaces" in err
    assert "the labels of the namespaces are unknown" in err


def test_invalid_object_in_the_cluster_is_named_by_context(
        alpha: ApiServerDouble, two_contexts: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    alpha.objects.append({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "bad", "namespace": "prod"},
        "spec": {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]},
    })
    assert main(["check", "--cluster", "--kubeconfig", str(two_contexts)]) == 2
    err = capsys.readouterr().err
    assert "error: cluster alpha: NetworkPolicy prod/bad: spec.egress[0].to[0].ipBlock.cidr" \
        in err


@pytest.mark.parametrize("how", [["--format", "json"], []])
def test_a_json_snapshot_reads_back_as_the_direct_read(
        alpha: ApiServerDouble, two_contexts: Path, tmp_path: Path, how: list[str]) -> None:
    """``--format json`` (or an output named ``*.json``): one ``kubectl get -o json`` List,
    read back through the fast JSON path to the same objects and model."""
    out = tmp_path / ("cluster.json" if not how else "cluster.snap")
    assert main(["snapshot", "--kubeconfig", str(two_contexts), "-o", str(out), *how]) == 0
    direct = ClusterSource.from_kubeconfig(kubeconfig=str(two_contexts)).read()
    data = json.loads(out.read_text())
    assert data["kind"] == "List" and len(data["items"]) == len(direct)
    assert data["metadata"]["annotations"][SNAPSHOT_ANNOTATION].startswith(
        "stockade snapshot of context alpha")
    back = read_paths([str(out)])
    assert [r.data for r in back] == [r.data for r in direct]
    assert build_cluster(same_origin(back)).cluster == \
        build_cluster(same_origin(direct)).cluster


def test_strings_go_yaml_reads_otherwise_are_quoted_in_a_snapshot() -> None:
    """PyYAML's dumper leaves ``y`` or ``1e3`` plain (strings to its own YAML 1.1), which
    kubectl and stockade read as true and 1000.0: a snapshot must read back as written."""
    from stockade.sources.yaml_docs import documents

    words = ["y", "n", "N", "Y", "1e3", "0o17", "0X1F", "08", "1:30", "=", "web", "10.0.0.0/8",
             "true", "yes", "~", "", ".5", "+1"]
    data = {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "y", "labels": {w or "empty": w for w in words}}}
    text = render_snapshot([RawObject(data, Origin("c", 1))])
    assert documents(text) == [(data, 2)]
    assert "name: web" not in text and "- web" not in text  # others stay plain
    assert "empty: ''" in text and "web: web" in text
