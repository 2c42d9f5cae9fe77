"""The connection graph in Graphviz's DOT language: groups clustered by namespace, address
ranges in a cluster of their own, edges labelled with their connection sets.

By default only the edges a policy decides are drawn; unrestricted traffic (neither end
isolated, so every port) is summarised in the graph's label, since it would drown the rest.
Every user string goes through an HTML-like label, escaped (control characters as in text
output, then markup). Pure: text out, no I/O.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import IO

from stockade.render.connections import NOT_COMPUTED, ConnectionGraph
from stockade.render.escape import escape

ALL_COLOUR, SOME_COLOUR = "#1f7a4d", "#b7791f"


def _label(*lines: tuple[str, int]) -> str:
    """An HTML-like label: each (text, point size) on its own line, escaped."""
    parts = [f'<FONT POINT-SIZE="{size}">{html.escape(escape(text))}</FONT>'
             for text, size in lines]
    return "<" + "<BR/>".join(parts) + ">"


def _isolation(graph: ConnectionGraph, i: int) -> str:
    node = graph.nodes[i]
    sides = [d for d, on in (("ingress", node.isolated_ingress),
                             ("egress", node.isolated_egress)) if on]
    return f"isolated: {', '.join(sides)}" if sides else ""


def edges(graph: ConnectionGraph, all_edges: bool = False) -> Iterator[tuple[int, int, str]]:
    """``(src, dst, text)`` of the connections to draw: allowed ones (not ``none``), decided
    by policy unless ``all_edges``."""
    n = len(graph.nodes)
    for src in range(n):
        for dst in range(n):
            code = int(graph.cells[src, dst])
            if code == NOT_COMPUTED:
                continue
            text = graph.texts[code]
            if text == "none" or (src == dst and len(graph.nodes[src].members) < 2):
                continue
            if all_edges or graph.decided(src, dst):
                yield src, dst, text


def unrestricted(graph: ConnectionGraph) -> tuple[int, int]:
    """(connections, nodes involved) that no policy decides (they allow every port)."""
    count, involved = 0, set()
    for src, dst, _ in edges(graph, all_edges=True):
        if not graph.decided(src, dst):
            count += 1
            involved |= {src, dst}
    return count, len(involved)


def summary(graph: ConnectionGraph) -> str:
    count, nodes = unrestricted(graph)
    if not count:
        return ""
    return (f"unrestricted, not drawn: {count} connection(s) on all ports among {nodes} "
            "node(s) that no policy isolates on that side (--all-edges draws them)")


def write_dot(graph: ConnectionGraph, out: IO[str], *, title: str = "",
              all_edges: bool = False) -> None:
    out.write("digraph stockade {\n")
    out.write('  graph [rankdir=LR, fontname="Helvetica", fontsize=11, labelloc=t, '
              'nodesep=0.25, ranksep=0.9];\n')
    out.write('  node [shape=box, style="rounded,filled", fillcolor="#ffffff", '
              'fontname="Helvetica", fontsize=10];\n')
    out.write('  edge [fontname="Helvetica", fontsize=9, arrowsize=0.7];\n')
    note = "" if all_edges else summary(graph)
    lines = [(t, 14) for t in (title,) if t] + [(t, 10) for t in (note,) if t]
    if lines:
        out.write(f"  label={_label(*lines)};\n")
    clusters: dict[str, list[int]] = {}
    for i, node in enumerate(graph.nodes):
        clusters.setdefault(node.namespace, []).append(i)
    for c, (namespace, members) in enumerate(clusters.items()):
        title_text = f"namespace {namespace}" if namespace else "outside the cluster"
        out.write(f"  subgraph cluster_{c} {{\n    label={_label((title_text, 11))};\n"
                  '    style="rounded"; color="#9aa5b1";\n')
        for i in members:
            node = graph.nodes[i]
            shown = node.name if node.is_address else node.name.partition("/")[2]
            extra = [(t, 8) for t in (_isolation(graph, i),) if t]
            if node.host_network:
                extra.append(("host network", 8))
            if len(node.members) > 1:
                extra.append((f"{len(node.members)} pods", 8))
            shape = ', shape=ellipse, fillcolor="#eef2f7"' if node.is_address else ""
            pen = ", penwidth=2" if node.isolated_ingress or node.isolated_egress else ""
            out.write(f"    n{i} [label={_label((shown, 10), *extra)}{shape}{pen}];\n")
        out.write("  }\n")
    for src, dst, text in edges(graph, all_edges):
        colour = ALL_COLOUR if text == "all" else SOME_COLOUR
        style = "" if graph.decided(src, dst) else ", style=dashed"
        out.write(f'  n{src} -> n{dst} [label={_label((text, 9))}, color="{colour}", '
                  f'fontcolor="{colour}"{style}];\n')
    for src, dst in node_traffic_edges(graph):
        out.write(f'  n{src} -> n{dst} [label={_label(("all (node traffic)", 9))}, '
                  f'color="{ALL_COLOUR}", fontcolor="{ALL_COLOUR}", style=dotted];\n')
    out.write("}\n")


def node_traffic_edges(graph: ConnectionGraph) -> list[tuple[int, int]]:
    """Groups between which node traffic (a host-network pod and a pod on its node) flows
    where the groups' own cell does not already say ``all``: it is always allowed, as the
    other forms of the matrix list it."""
    group = {pod: i for i, node in enumerate(graph.nodes) for pod in node.members}
    pairs: set[tuple[int, int]] = set()
    for host, peers in graph.node_traffic.items():
        for peer in peers:
            a, b = group[host], group[peer]
            pairs |= {(a, b), (b, a)}
    return sorted((src, dst) for src, dst in pairs
                  if src != dst and graph.text(src, dst) != "all")
