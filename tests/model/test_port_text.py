"""``80/TCP``, ``53/udp``, ``80``: one reading of a port written as text, shared by
``--port`` (matrix, query, lab) and promise files, so that they accept the same spellings."""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.cli.common import parse_port as cli_port
from stockade.cli.lab_cmd import parse_port as lab_port
from stockade.errors import UsageError
from stockade.model.port_text import read_port
from stockade.model.promises import parse_port as promise_port
from stockade.model.types import Protocol

TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP


@pytest.mark.parametrize(("text", "expected"), [
    ("80", (80, TCP)),
    ("80/TCP", (80, TCP)),
    ("53/udp", (53, UDP)),
    ("3868/Sctp", (3868, SCTP)),
    ("65535", (65535, TCP)),
    ("00080", (80, TCP)),            # five ASCII digits
    ("80/", (80, None)),             # a slash says a protocol follows
    ("80/ICMP", (80, None)),
    ("0", (None, TCP)),
    ("65536", (None, TCP)),
    ("000080", (None, TCP)),         # six digits: refused before converting
    ("٨٠", (None, TCP)),             # Arabic-Indic digits are no port
    ("²", (None, TCP)),
    ("+80", (None, TCP)),
    ("", (None, TCP)),
    ("http/TCP", (None, TCP)),
    ("9" * 5000 + "/UDP", (None, UDP)),
])
def test_read_port(text: str, expected: tuple[int | None, Protocol | None]) -> None:
    assert read_port(text) == expected


@given(st.one_of(st.text(max_size=12),
                 st.from_regex(r"[0-9]{0,7}(/(tcp|UDP|sctp|x)?)?", fullmatch=True)))
def test_every_reader_of_port_text_agrees(text: str) -> None:
    number, protocol = read_port(text)
    good = number is not None and protocol is not None
    assert (promise_port(text) is not None) is good
    try:
        assert cli_port(text) == (number, protocol)
    except UsageError:
        assert not good
    try:
        assert lab_port(text) == (number, protocol and protocol.value)
    except argparse.ArgumentTypeError:
        assert not good
