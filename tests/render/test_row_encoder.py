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


@given(st.lists(st.integers(0, len(TEXTS) - 1), min_size=1, max_size=400),
       st.integers(0, 1000))
def test_both_paths_write_the_defined_row(ids: list[int], extra: int) -> None:
    encoder = RowEncoder(len(ids) + extra % 7)
    row = np.array(ids, dtype=np.int32)
    counts = np.bincount(row)
    most = int(counts.max())
    common = next(t for t in ids if counts[t] == most)
    head = b'{"*": ' + json.dumps(TEXTS[common]).encode()
    few = encoder._few(row, common, head, TEXTS)
    many = encoder._many(row, counts, common, head, TEXTS)
    assert few == many
    assert encoder.encode(row, TEXTS) == few
    parsed = json.loads(few)
    assert list(parsed.items()) == list(_defined(ids).items())
