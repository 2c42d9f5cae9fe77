"""How stockade words counts for people: ``1 policy``, ``2 policies``, ``1 NetworkPolicy``.

Used by every layer (validation summaries, notes, warnings, command output), so it sits at
the top of the package beside ``errors`` and depends on nothing.
"""

from __future__ import annotations

_SIBILANT = ("s", "x", "z", "ch", "sh")


def plural(noun: str) -> str:
    """The English plural of a noun or a Kubernetes kind (``NetworkPolicy`` ->
    ``NetworkPolicies``, ``Namespace`` -> ``Namespaces``, ``address`` -> ``addresses``)."""
    if noun.endswith("y") and noun[-2:-1].lower() not in tuple("aeiou"):
        return noun[:-1] + "ies"
    if noun.endswith(_SIBILANT):
        return noun + "es"
    return noun + "s"


def count(number: int, noun: str, plural_form: str | None = None) -> str:
    """``1 policy``, ``0 policies``, ``2,500 pods``."""
    word = noun if number == 1 else (plural_form or plural(noun))
    return f"{number:,} {word}"
