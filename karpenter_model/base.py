"""The base of every config model, and the errors a configuration problem is reported with."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from karpenter_model.limits import MAX_SHOWN_VALUE


class Strict(BaseModel):
    # strict: YAML gives real types, so `replicas: "2"` or `access_entry: yes-string` is a mistake, not a conversion.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def bounded_repr(value: object, limit: int = MAX_SHOWN_VALUE) -> str:
    """`repr(value)`, cut to `limit` characters (ending in '...') without ever formatting more than that.

    A value from a config file can be huge (a long string, a list of a million items, an alias
    bomb of shared references); `repr` of it would take the time and memory the limits on
    loading exist to bound. Containers are walked lazily and the walk stops at the limit.
    """
    pieces: list[str] = []
    length = 0
    for piece in _repr_pieces(value, limit + 1, depth=0):
        pieces.append(piece)
        length += len(piece)
        if length > limit:
            break
    text = "".join(pieces)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _repr_pieces(value: Any, budget: int, depth: int) -> Iterator[str]:
    if depth > 20:  # deeper than any value the loader accepts; never recurse without bound
        yield "..."
        return
    if isinstance(value, str):
        yield repr(value) if len(value) <= budget else repr(value[:budget])[:-1]
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * budget:
        yield f"<an integer of {value.bit_length()} bits>"  # repr of a huge int is slow (and refused past 4,300 digits)
    elif isinstance(value, Mapping):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            if index:
                yield ", "
            yield from _repr_pieces(key, budget, depth + 1)
            yield ": "
            yield from _repr_pieces(item, budget, depth + 1)
        yield "}"
    elif isinstance(value, (list, tuple)):
        yield "[" if isinstance(value, list) else "("
        for index, item in enumerate(value):
            if index:
                yield ", "
            yield from _repr_pieces(item, budget, depth + 1)
        yield "]" if isinstance(value, list) else ("," if len(value) == 1 else "") + ")"
    elif isinstance(value, (bytes, bytearray)):
        yield repr(value[:budget])
    else:
        yield repr(value)


class CrossFieldError(ValueError):
    """A problem spanning several keys; it names the key to change, its value and what is allowed."""

    def __init__(self, path: str, value: object, problem: str) -> None:
        self.path, self.value, self.problem = path, value, problem
        super().__init__(f"{path}: got {bounded_repr(value)}: {problem}")


class CrossFieldErrors(ValueError):
    """Several cross-field problems found in one pass, reported together (one line each), so one edit fixes them all."""

    def __init__(self, errors: list[CrossFieldError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


def raise_all(problems: list[CrossFieldError]) -> None:
    """Raise every problem found at once (nothing if the list is empty)."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise CrossFieldErrors(problems)


class ConfigError(Exception):
    """A configuration problem, already phrased for the person who wrote the file."""
