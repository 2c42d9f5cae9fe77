"""Whether two objects of the model say the same, wherever each was read from."""

from __future__ import annotations

import msgspec


def same_but_origin(a: msgspec.Struct, b: msgspec.Struct) -> bool:
    """Equal in every field but ``origin`` (the file and line an object was read from)."""
    return a is b or (type(a) is type(b) and all(
        getattr(a, name) == getattr(b, name) for name in a.__struct_fields__
        if name != "origin"))
