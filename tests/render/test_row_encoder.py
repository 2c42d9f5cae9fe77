"""``RowEncoder``: a row of the matrix's JSON is ``{"*": commonest text, text: [columns]}``,
the commonest text (ties: the one of the first column) left to ``"*"``, the other texts in
the order of their first columns, each with its columns ascending. A row listing few
columns is written by plain Python (``FEW_LISTED``), the others by vector operations: both
give these bytes, property-tested on random rows."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from stockade.render.matrix import RowEncoder

TEXTS = ["all", "none", "TCP 80", "UDP 53", 'TCP "quoted" \u00e9', "TCP 1-65535, UDP 53"]


def _defined(ids: list[int]) -> dict[str, object]:
    counts = Counter(ids)
    most = max(counts.values())
    common = next(t for t in ids if counts[t] == most)
    row: dict[str, object] = {"*": TEXTS[common]}
    for text in dict.fromkeys(t for t in ids if t != common):
        row[TEXTS[text]] = [c for c, t in enumerate(ids) if t == text]
    return row


def _common(ids: list[int]) -> int:
    counts = Counter(ids)
    most = max(counts.values())
    return next(t for t in ids if counts[t] == most)


@given(st.lists(st.integers(0, len(TEXTS) - 1), min_size=1, max_size=400),
       st.integers(0, 1000))
def test_both_paths_write_the_defined_row(ids: list[int], extra: int) -> None:
    encoder = RowEncoder(len(ids) + extra % 7)
    row = np.array(ids, dtype=np.int32)
    common = _common(ids)
    listed = np.flatnonzero(row != common)
    head = b'{"*": ' + json.dumps(TEXTS[common]).encode()
    few = encoder._few(row, listed, head, TEXTS)
    many = encoder._many(row, listed, head, TEXTS)
    assert few == many
    assert encoder.encode(row, TEXTS) == few
    parsed = json.loads(few)
    assert list(parsed.items()) == list(_defined(ids).items())


@given(st.integers(1, 200_000), st.data())
def test_wide_rows(columns: int, data: st.DataObject) -> None:
    """Rows as wide as a cluster's classes (positions of one to six digits, slots of one
    width padded with NUL bytes that the output never holds), with a commonest text that
    holds most columns (the sampled guess taken) or does not (every text counted; ties
    go to the text of the first column)."""
    texts = [*TEXTS, *(f"UDP {port}" for port in range(1000, 2000))]
    spread = data.draw(st.integers(1, len(texts)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    row = rng.integers(0, spread, size=columns, dtype=np.int32)
    if data.draw(st.booleans()):  # a majority text
        row[rng.random(columns) < data.draw(st.floats(0.5, 1.0))] = spread - 1
    ids = row.tolist()
    encoded = RowEncoder(columns).encode(row, texts)
    assert b"\0" not in encoded
    parsed = json.loads(encoded)
    assert parsed["*"] == texts[_common(ids)]
    rebuilt = {"*": parsed["*"]}
    for text in dict.fromkeys(t for t in ids if texts[t] != parsed["*"]):
        rebuilt[texts[text]] = [c for c, t in enumerate(ids) if t == text]
    assert list(parsed.items()) == list(rebuilt.items())
    assert encoded == json.dumps(rebuilt).encode()  # the bytes ``json.dumps`` writes
