"""The base of every config model, and the errors a configuration problem is reported with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    # strict: YAML gives real types, so `replicas: "2"` or `access_entry: yes-string` is a mistake, not a conversion.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CrossFieldError(ValueError):
    """A problem spanning several keys; it names the key to change, its value and what is allowed."""

    def __init__(self, path: str, value: object, problem: str) -> None:
        super().__init__(f"{path}: got {value!r}: {problem}")


class ConfigError(Exception):
    """A configuration problem, already phrased for the person who wrote the file."""
