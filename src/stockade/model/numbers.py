"""Integers too long to convert, and integers shown in messages.

Python refuses to turn more than 4,300 decimal digits into an ``int`` (the conversion time
grows with the square of the length), so a reader that meets such a number in a manifest
keeps it as a ``LongNumber``: an ``int`` far outside every range Kubernetes accepts, which
remembers its sign and digit count. Validation then reports it like any other value out of
range, and messages show it as ``<5000-digit number>`` rather than five thousand digits.
"""

from __future__ import annotations

SHOWN_DIGITS = 24  # longer integers are abbreviated in messages
# Go's encoding/json writes a float64 of this magnitude or more with an exponent (``9e+99``),
# which no integer field decodes; below it a whole float is written as its digits.
GO_EXPONENT_FROM = 1e21


class LongNumber(int):
    """An integer literal of more than 4,300 digits, as its sign and length."""

    digits: int

    def __new__(cls, text: str) -> LongNumber:
        negative = text.lstrip().startswith("-")
        value = super().__new__(cls, -(2**64) if negative else 2**64)
        value.digits = sum(c.isdigit() for c in text)
        return value

    def __str__(self) -> str:
        return f"{'-' if self < 0 else ''}<{self.digits}-digit number>"

    def __reduce__(self) -> tuple[type[LongNumber], tuple[str]]:
        # pickled (by the process that reads ahead) as digits of the same count and sign
        return LongNumber, (f"{'-' if self < 0 else ''}{'1' * self.digits}",)

    __repr__ = __str__


def number_text(value: int) -> str:
    """An integer for a message: in full up to 24 digits, else abbreviated."""
    if isinstance(value, LongNumber):
        return str(value)
    if -(10**SHOWN_DIGITS) < value < 10**SHOWN_DIGITS:
        return str(value)
    try:
        text = str(value)
    except ValueError:  # more digits than Python converts: only a LongNumber should be
        return f"{'-' if value < 0 else ''}<{int(value.bit_length() * 0.30103) + 1}-digit number>"
    sign = "-" if text.startswith("-") else ""
    digits = text.lstrip("-")
    return f"{sign}{digits[:12]}...{digits[-4:]} ({len(digits)} digits)"


def whole_float(value: float) -> int | None:
    """The integer kubectl sends for a whole float in a manifest (``port: 80.0``, ``1e3``),
    or None when it sends none: its YAML-to-JSON conversion keeps the float, and Go's
    encoding/json writes it as digits (``80``, ``1000``) only below ``GO_EXPONENT_FROM``;
    ``9e99`` goes as ``9e+99``, which an integer field refuses as a number, not as an
    integer out of range. A fraction (``80.5``) is refused alike."""
    if not value.is_integer() or abs(value) >= GO_EXPONENT_FROM:
        return None
    if abs(value) < 2**53:  # every integer there is a float of its own
        return int(value)
    # Go writes the shortest digits that read back as the float, as Python's repr does:
    # 1.2345678901234567e20 goes as 123456789012345670000, not the float's exact value.
    from decimal import Decimal  # msgspec has imported it already

    return int(Decimal(repr(value)))


def plain_text(value: object) -> str | None:
    """``str(value)``, or ``None`` for an integer with more digits than Python converts (a
    LongNumber, or a long hexadecimal YAML integer)."""
    if isinstance(value, LongNumber):
        return None
    try:
        return str(value)
    except ValueError:
        return None
