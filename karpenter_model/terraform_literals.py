"""Config values are data: every string from config reaches Terraform as a literal, never as an expression.

Terraform reads `${...}` and `%{...}` in any string of its JSON syntax as an interpolation or a
directive, so a tag holding `${file("/etc/passwd")}` would be evaluated on the operator's machine,
and shell in `userData` (`${HOME}`) would break the plan. Its own escapes, `$${` and `%%{`, make
them literal; a `$` before them stays literal too (`$${x}` in config becomes `$$${x}`, which
Terraform reads back as `$${x}`). Only expressions this project builds on purpose are left live.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

T = TypeVar("T")


def literal(text: str) -> str:
    """`text` as a Terraform string that evaluates to exactly `text`."""
    return text.replace("${", "$${").replace("%{", "%%{")


def literal_tree(value: T) -> T:
    """`literal` applied to every string (keys included) of a JSON-like value from config; the shape is kept."""
    return cast(T, _literal_tree(value))


def _literal_tree(value: Any) -> Any:
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, dict):
        return {_literal_tree(k): _literal_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal_tree(item) for item in value]
    return value
