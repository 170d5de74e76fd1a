"""Pydantic's validation errors, rephrased as one line per problem in the file's own terms."""

from __future__ import annotations

import difflib
import re
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from karpenter_model import karpenter_api
from karpenter_model.base import CrossFieldError

# How the file names a place: `node_pools[0].spec.limits['cpu']` (keys of free-form maps in brackets).
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# pydantic names its internal union/constraint steps in `loc`; they are not config keys.
_INTERNAL_LOC = re.compile(r"^(function-|constrained-|union\[|literal\[|str$|int$|bool$|list\[|dict\[|nullable\[)")

# What a pattern allows, in words; a pattern without an entry is shown as it is.
_PATTERN_HINTS = {
    r"^[0-9A-Za-z][A-Za-z0-9\-_]*$": "letters, digits, '-' and '_', starting with a letter or digit",
    r"^[A-Za-z0-9][A-Za-z0-9\-_]*$": "letters, digits, '-' and '_', starting with a letter or digit",
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$": "a lowercase RFC 1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit",
    r"^[a-z]{2}(-[a-z]+)+-[0-9]+$": "an AWS region such as us-east-1",
    r"^subnet-[0-9a-f]+$": "a subnet ID such as subnet-0123456789abcdef0",
    r"^sg-[0-9a-f]+$": "a security group ID such as sg-0123456789abcdef0",
    r"^[0-9a-fA-F]{40}$": "a SHA-1 thumbprint of 40 hexadecimal digits",
    r"^https?://[^\s/$.?#][^\s]*$": "an http:// or https:// URL",
    r"^[a-z0-9-]+\.[a-z0-9]+$": "an EC2 instance type written family.size, such as t3.medium",
    r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$": "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'",
    r"^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*(\[\"[^\"]+\"\])?$": "a Terraform resource address such as aws_iam_role.karpenter_node",
    karpenter_api.QUANTITY: "a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi",
    karpenter_api.DURATION: "a duration such as 30s, 15m, 1h30m or 720h (no days: 30d is 720h), or Never",
    karpenter_api.BUDGET_NODES: "a node count such as 5, or a percentage from 0% to 100%",
    karpenter_api.BUDGET_SCHEDULE: "a cron schedule of five fields such as '0 9 * * 1-5', or a macro such as @daily",
    karpenter_api.BUDGET_DURATION: "hours and minutes such as 8h, 30m or 1h30m",
    karpenter_api.LABEL_KEY: "a Kubernetes label key: an optional DNS-subdomain prefix and '/', then letters, digits, "
    "'-', '_' and '.', starting and ending with a letter or digit",
    karpenter_api.LABEL_VALUE: "a Kubernetes label value: letters, digits, '-', '_' and '.', starting and ending "
    "with a letter or digit, or empty",
    karpenter_api.VOLUME_SIZE: "a size with a unit such as 20Gi, 100G or 1Ti (1Gi to 64T)",
}


def _strip(annotation: Any) -> Any:
    """`Annotated[X, ...]` and `X | None` -> `X`; other unions stay."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _union_members(annotation: Any) -> list[type[BaseModel]]:
    if get_origin(annotation) not in (Union, UnionType):
        return []
    return [m for m in map(_strip, get_args(annotation)) if isinstance(m, type) and issubclass(m, BaseModel)]


def _tags(member: type[BaseModel], discriminator: str | None = None) -> tuple[object, ...]:
    """The literal values a union member can be selected by (only its `discriminator` field's, if named)."""
    return tuple(
        value
        for name, field in member.model_fields.items()
        if discriminator in (None, name) and get_origin(_strip(field.annotation)) is Literal
        for value in get_args(_strip(field.annotation))
    )


def _walk(root: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[str, type[BaseModel] | None, bool, Any]:
    """Follow pydantic's `loc` through the config model: (path as the file spells it, the model whose
    key the last step is, whether the error is about a map key rather than its value, the type there)."""
    annotation: Any = root
    path, parent, is_key = "", None, False
    for part in loc:
        annotation = _strip(annotation)
        if part == "[key]":
            is_key = True
            continue
        if isinstance(part, str) and _INTERNAL_LOC.match(part):
            continue
        member = next((m for m in _union_members(annotation) if part in _tags(m)), None)
        if member is not None:  # a discriminated union's tag: not a key of the file
            annotation = member
            continue
        origin, args = get_origin(annotation), get_args(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            parent = annotation
            path += f".{part}" if path else part
            field = annotation.model_fields.get(part)
            annotation = field.annotation if field else None
            continue
        parent = None
        if isinstance(part, int):
            path += f"[{part}]"
            annotation = args[0] if origin in (list, tuple) and args else None
        elif origin is dict or not _IDENTIFIER.fullmatch(part):
            path += f"[{part!r}]"
            annotation = args[1] if origin is dict and len(args) == 2 else None
        else:
            path += f".{part}" if path else part
            annotation = None
    return path or "(top level)", parent, is_key, _strip(annotation)


def short_repr(value: object, limit: int = 100) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _quoted(values: Any) -> str:
    items = [repr(v) for v in values]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _problem(root: type[BaseModel], item: Any) -> str:
    """One line: the path, the bad value, and what is allowed there."""
    path, parent, is_key, annotation = _walk(root, item["loc"])
    kind, ctx, value = item["type"], item.get("ctx") or {}, item["input"]
    message = item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if isinstance(ctx.get("error"), CrossFieldError):
        return message
    if kind == "extra_forbidden":
        key = item["loc"][-1]
        allowed = sorted(parent.model_fields) if parent is not None else []
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listed = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"{path}: unknown key {key!r}{hint}{listed}"
    if kind == "missing":
        return f"{path}: required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        discriminator = str(ctx.get("discriminator", "type")).strip("'")
        tags = [t for m in _union_members(annotation) for t in _tags(m, discriminator)]
        allowed = _quoted(tags) if tags else ctx.get("expected_tags", "")
        if kind == "union_tag_not_found":
            return f"{path}.{discriminator}: required key is missing; allowed: {allowed}"
        return f"{path}.{discriminator}: got {ctx.get('tag')!r}: allowed: {allowed}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERN_HINTS:
        message = f"expected {_PATTERN_HINTS[ctx['pattern']]}"
    if is_key:
        return f"{path}: got key {short_repr(value)}: {message}"
    if kind in ("value_error", "assertion_error") and isinstance(value, dict):
        return f"{path}: {message}"  # a check across the keys of this mapping; its message names them
    return f"{path}: got {short_repr(value)}: {message}"


def format_validation_error(root: type[BaseModel], error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration ({error.error_count()} problem{'s' if error.error_count() != 1 else ''})"]
    lines += [f"  {_problem(root, item)}" for item in error.errors(include_url=False)]
    return "\n".join(lines)
