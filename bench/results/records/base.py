"""The base of every record: a dataclass whose JSON keeps its keys, in order.

``Record.from_json`` reads the keys it knows into fields (nested records
decoded by their type hints) and keeps the others in ``json_extra``; the
order read is kept in ``json_keys``, so ``to_json`` writes back exactly what
was read. A record built in code has ``json_keys`` None (every field, in
declaration order) or the keys its builder names; a field assigned later that
was not among them is added at the end.
"""

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, Union

from bench.plan.matrix import Cell

Json = dict[str, Any]


def _meta_field(default: Any) -> Any:
    return field(default=default, kw_only=True, repr=False, compare=False)


@dataclass
class Record:
    """A dataclass whose JSON keeps the keys it was read or built with, in order."""

    # The keys present, in order; None: every field, in declaration order.
    json_keys: tuple[str, ...] | None = _meta_field(None)
    # Keys read that are not fields (an older or newer harness's), written back as read.
    json_extra: Json = field(default_factory=dict, kw_only=True, repr=False, compare=False)
    # The key order of each Cell read (older runs have no "rate"), by field name.
    json_shapes: dict[str, Any] = field(
        default_factory=dict, kw_only=True, repr=False, compare=False
    )

    META: ClassVar[frozenset[str]] = frozenset({"json_keys", "json_extra", "json_shapes"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "_built", True)

    def __setattr__(self, name: str, value: Any) -> None:
        # A field assigned after the record was built, and after its keys were
        # fixed, becomes a key at the end (as a key added to a dict would).
        keys = self.__dict__.get("json_keys")
        if (
            keys is not None
            and self.__dict__.get("_built")
            and name not in keys
            and name in _field_names(type(self))
        ):
            object.__setattr__(self, "json_keys", (*keys, name))
        object.__setattr__(self, name, value)

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """The record of ``data``; nested records decoded, unknown keys kept."""
        names = _field_names(cls)
        decoders = _decoders(cls)
        values: dict[str, Any] = {}
        extra: Json = {}
        shapes: dict[str, Any] = {}
        for key, value in data.items():
            if key not in names:
                extra[key] = value
                continue
            decode = decoders.get(key)
            if decode is None:
                values[key] = value
            else:
                values[key], shape = decode(value)
                if shape is not None:
                    shapes[key] = shape
        return cls(**values, json_keys=tuple(data), json_extra=extra, json_shapes=shapes)

    def keys(self) -> tuple[str, ...]:
        """The keys this record writes, in order."""
        if self.json_keys is not None:
            return self.json_keys
        return (*_field_order(type(self)), *self.json_extra)

    def has(self, key: str) -> bool:
        """Whether ``key`` is present (a field can be None and present, or absent)."""
        return key in self.keys()

    def without(self, *drop: str) -> Self:
        """A copy that lacks the keys ``drop`` (an archive drops sampled series)."""
        copy = dataclasses.replace(self)
        object.__setattr__(copy, "json_keys", tuple(k for k in self.keys() if k not in drop))
        copy.json_extra = {k: v for k, v in self.json_extra.items() if k not in drop}
        copy.json_shapes = dict(self.json_shapes)
        return copy

    def to_json(self) -> Json:
        """The JSON of this record: its keys in order, nested records written out."""
        names = _field_names(type(self))
        out: Json = {}
        for key in self.keys():
            if key in names:
                out[key] = _encode(getattr(self, key), self.json_shapes.get(key))
            else:
                out[key] = self.json_extra[key]
        return out


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls)) - Record.META


@functools.cache
def _field_order(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in Record.META)


def _encode(value: Any, shape: Any = None) -> Any:
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, Cell):
        return value.to_json(shape)
    if isinstance(value, list) and value and isinstance(value[0], Record | Cell):
        shapes = shape or [None] * len(value)
        return [_encode(item, item_shape) for item, item_shape in zip(value, shapes, strict=True)]
    if isinstance(value, dict) and value and isinstance(next(iter(value.values())), Record):
        return {key: item.to_json() for key, item in value.items()}
    return value


def _decode_cell(value: Any) -> tuple[Any, Any]:
    return (Cell.from_json(value), tuple(value)) if isinstance(value, dict) else (value, None)


def _decoder(hint: Any) -> Any:
    """How one field's JSON becomes its value (and the shape to keep), or None: as is."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        return _decoder(inner[0]) if len(inner) == 1 else None
    if hint is Cell:
        return _decode_cell
    if isinstance(hint, type) and issubclass(hint, Record):
        return lambda value: (hint.from_json(value) if isinstance(value, dict) else value, None)
    if origin is list and args and args[0] is Cell:

        def cells(value: Any) -> tuple[Any, Any]:
            decoded = [_decode_cell(item) for item in value]
            return [cell for cell, _ in decoded], [shape for _, shape in decoded]

        return cells
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], Record):
        item = args[0]
        return lambda value: ([item.from_json(v) for v in value], None)
    if (
        origin is dict
        and len(args) == 2
        and isinstance(args[1], type)
        and issubclass(args[1], Record)
    ):
        item = args[1]
        return lambda value: ({k: item.from_json(v) for k, v in value.items()}, None)
    return None


@functools.cache
def _decoders(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    found = {name: _decoder(hints[name]) for name in _field_order(cls)}
    return {name: decode for name, decode in found.items() if decode is not None}
