"""The model's values (frozen ``msgspec.Struct`` records, and the lab's own frozen
dataclasses) as JSON data and back, for a lab's state.

A lab keeps the decoded objects it runs, not the input as written: fields stockade does not
read are gone, and a value the input shares through YAML aliases is written once per use,
so each object's size is checked as it is written (an API server refuses any object over
3 MiB; so does the lab). Fields at their default are left out. Pure.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")
OBJECT_LIMIT = 3 * 1024 * 1024  # bytes of one object once written, as an API server allows


class TooLarge(ValueError):
    """An object that would take more than ``OBJECT_LIMIT`` bytes to write."""


_NO_DEFAULT = object()


def _is_record(value: object) -> bool:
    """A record class or instance: a dataclass or a ``msgspec.Struct``."""
    cls = value if isinstance(value, type) else type(value)
    return dataclasses.is_dataclass(cls) or issubclass(cls, msgspec.Struct)


def _fields(record: Any) -> list[tuple[str, object]]:
    """A record's (class's or instance's) constructor fields, each with its default
    (``_NO_DEFAULT`` when it has none)."""
    if dataclasses.is_dataclass(record):
        return [(f.name, _NO_DEFAULT if f.default is dataclasses.MISSING else f.default)
                for f in dataclasses.fields(record) if f.init]
    return [(f.name, _NO_DEFAULT if f.default is msgspec.NODEFAULT else f.default)
            for f in msgspec.structs.fields(record)]


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, amount: int) -> None:
        self.left -= amount
        if self.left < 0:
            raise TooLarge(f"larger than {OBJECT_LIMIT // (1024 * 1024)} MiB once written out")


def encode(value: object, limit: int = OBJECT_LIMIT) -> Any:
    """JSON data for ``value``; ``TooLarge`` past ``limit`` bytes."""
    return _encode(value, _Budget(limit))


def _encode(value: object, budget: _Budget) -> Any:
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, bool | int | float):
        budget.spend(8)
        return value
    if isinstance(value, str):
        budget.spend(len(value) + 3)
        return value
    if isinstance(value, tuple | list):
        budget.spend(2)
        return [_encode(item, budget) for item in value]
    if _is_record(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for name, default in _fields(value):
            item = getattr(value, name)
            if default is not _NO_DEFAULT and item == default:
                continue
            budget.spend(len(name) + 4)
            out[name] = _encode(item, budget)
        return out
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(kind: type[T], data: Any) -> T:
    """The ``kind`` value ``data`` was encoded from."""
    return typing.cast(T, _decode(kind, data))


def _decode(hint: Any, data: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            if ((isinstance(option, type) and _is_record(option))
                    or typing.get_origin(option) is tuple):
                return _decode(option, data)
            if isinstance(data, option):
                return data
        raise ValueError(f"{data!r} does not fit {hint}")
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in data)
        return tuple(_decode(a, item) for a, item in zip(args, data, strict=True))
    if isinstance(hint, type) and _is_record(hint):
        hints = typing.get_type_hints(hint)
        kwargs = {name: _decode(hints[name], data[name])
                  for name, _ in _fields(hint) if name in data}
        return hint(**kwargs)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(data)
    return data
