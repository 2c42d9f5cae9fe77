"""Directories of YAML files made of sampled documents, for tests of reading them (in one
process or two): the same helpers for every such test."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from stockade.sources.files import expand_paths


def trees(documents: st.SearchStrategy[str], *, min_docs: int = 0,
          max_docs: int = 6) -> st.SearchStrategy[list[str]]:
    """Two to six files' texts, each of ``min_docs`` to ``max_docs`` documents drawn from
    ``documents`` (templates with ``{i}``, made unique per file and position)."""

    @st.composite
    def draw_tree(draw: st.DrawFn) -> list[str]:
        files = draw(st.lists(st.lists(documents, min_size=min_docs, max_size=max_docs),
                              min_size=2, max_size=6))
        return ["---\n".join(doc.format(i=f"{n}{k}") for k, doc in enumerate(docs))
                for n, docs in enumerate(files)]

    return draw_tree()


def write_tree(root: Path, texts: list[str]) -> list[str]:
    """The texts as ``00.yaml``, ``01.yaml``... in ``root`` (emptied of YAML files first),
    found as the commands find them."""
    for old in root.glob("*.yaml"):
        old.unlink()
    for n, text in enumerate(texts):
        (root / f"{n:02d}.yaml").write_text(text)
    return expand_paths([str(root)])
