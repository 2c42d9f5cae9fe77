"""``matrix -o dot`` is DOT that Graphviz lays out, ``-o svg`` well-formed SVG; both draw what
policies decide and summarise the rest."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is missing (install.sh installs it)")


def stockade(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stockade", *argv], capture_output=True,
                          text=True, check=False, timeout=300)


@needs_dot
@pytest.mark.parametrize("example", ["konvoy", "shop"])
def test_dot_parses_with_graphviz(example: str) -> None:
    out = stockade("matrix", str(ROOT / "examples" / example), "-o", "dot",
                   "--title", 'a "title" <with> & markup')
    assert out.returncode == 0, out.stderr
    drawn = subprocess.run(["dot", "-Tsvg"], input=out.stdout, capture_output=True,
                           text=True, check=False, timeout=120)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stderr == ""
    ET.fromstring(drawn.stdout)


def test_dot_draws_the_decided_edges() -> None:
    out = stockade("matrix", str(ROOT / "examples/konvoy"), "-o", "dot")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    ids = {line.split("[")[0].strip(): line for line in text.splitlines()
           if line.strip().startswith("n") and "label=" in line and "->" not in line}
    name = {k: v.split('POINT-SIZE="10">')[1].split("<")[0] for k, v in ids.items()}
    edges = {(name[a.strip()], name[b.split("[")[0].strip()],
              line.split('POINT-SIZE="9">')[1].split("<")[0])
             for line in text.splitlines() if "->" in line
             for a, b in [line.split("->")]}
    assert edges == {("db", "10.0.0.0/24", "TCP 5978"), ("konvoy-app", "db", "TCP 6379"),
                     ("web", "db", "TCP 6379"), ("in-cidr", "db", "TCP 6379"),
                     ("172.17.0.0/16 except 172.17.1.0/24", "db", "TCP 6379")}
    assert "unrestricted, not drawn: 50 connection(s)" in text
    everything = stockade("matrix", str(ROOT / "examples/konvoy"), "-o", "dot", "--all-edges")
    assert everything.stdout.count("->") == 5 + 50


@needs_dot
def test_svg_is_well_formed_xml() -> None:
    out = stockade("matrix", str(ROOT / "examples/shop"), "-o", "svg", "--title", "shop & co")
    assert out.returncode == 0, out.stderr
    root = ET.fromstring(out.stdout)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "shop & co" in texts and "TCP 8080,9113" in texts


def test_graph_output_refuses_per_port_options() -> None:
    out = stockade("matrix", str(ROOT / "examples/shop"), "-o", "dot", "--port", "80")
    assert out.returncode == 2
    assert "takes no --port" in out.stderr
    out = stockade("matrix", str(ROOT / "examples/shop"), "--all-edges")
    assert out.returncode == 2


def test_report_command_errors(tmp_path: Path) -> None:
    missing = stockade("report", str(tmp_path / "nothing.yaml"), "-o", str(tmp_path / "r.html"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    bad = stockade("report", str(ROOT / "examples/konvoy"), "-o",
                   str(tmp_path / "no-such-dir" / "r.html"))
    assert bad.returncode == 2 and "no such directory" in bad.stderr
    good = stockade("report", str(ROOT / "examples/konvoy"), "-o", str(tmp_path / "r.html"),
                    "--title", "konvoy")
    assert good.returncode == 0, good.stderr
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<title>konvoy</title>" in page
    assert list(tmp_path.iterdir()) == [tmp_path / "r.html"]


NODE_TRAFFIC = """\
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: default, labels: {app: app}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIP: 10.244.0.5, hostIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: kube-system}
spec: {nodeName: n1, hostNetwork: true, containers: [{name: c}]}
status: {podIP: 10.0.0.1, hostIP: 10.0.0.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: default}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""


def test_dot_draws_node_traffic(tmp_path: Path) -> None:
    """A host-network pod and a pod on its node always reach each other, as every other
    form of the matrix says, whatever the isolated pod's policies."""
    path = tmp_path / "node.yaml"
    path.write_text(NODE_TRAFFIC)
    out = stockade("matrix", str(path), "-o", "dot")
    assert out.returncode == 0, out.stderr
    ids = {line.split("[")[0].strip(): line.split('POINT-SIZE="10">')[1].split("<")[0]
           for line in out.stdout.splitlines()
           if line.strip().startswith("n") and "label=" in line and "->" not in line}
    drawn = {(ids[a.strip()], ids[b.split("[")[0].strip()], line.split('POINT-SIZE="9">')[1]
              .split("<")[0]) for line in out.stdout.splitlines() if "->" in line
             for a, b in [line.split("->")]}
    assert drawn == {("app", "agent", "all (node traffic)"),
                     ("agent", "app", "all (node traffic)")}
