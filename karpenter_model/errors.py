"""Pydantic's validation errors, rephrased as one line per problem in the file's own terms."""

from __future__ import annotations

import difflib
import re
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from karpenter_model import limits
from karpenter_model.base import CrossFieldError, CrossFieldErrors, bounded_repr

# How the file names a place: `node_pools[0].spec.limits['cpu']` (keys of free-form maps in brackets).
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# pydantic names its internal union/constraint steps in `loc`; they are not config keys.
_INTERNAL_LOC = re.compile(r"^(function-|constrained-|union\[|literal\[|str$|int$|bool$|list\[|dict\[|nullable\[)")

# What a pattern allows, in words; a pattern without an entry is shown as it is.
_PATTERN_HINTS = {
    limits.EKS_CLUSTER_NAME: "letters, digits, '-' and '_', starting with a letter or digit",
    limits.EKS_NODEGROUP_NAME: "letters, digits, '-' and '_', starting with a letter or digit",
    limits.NAME_PREFIX: "letters, digits, '-' and '_', starting with a letter or digit",
    limits.DNS_LABEL: "a lowercase RFC 1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit",
    limits.AWS_REGION: "an AWS region such as us-east-1",
    limits.SUBNET_ID: "a subnet ID such as subnet-0123456789abcdef0",
    limits.SECURITY_GROUP_ID: "a security group ID such as sg-0123456789abcdef0",
    limits.IAM_OIDC_THUMBPRINT: "a SHA-1 thumbprint of 40 hexadecimal digits",
    limits.URL: "an http:// or https:// URL",
    limits.EC2_INSTANCE_TYPE: "an EC2 instance type written family.size, such as t3.medium",
    limits.S3_BUCKET_NAME: "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit",
    limits.S3_KEY_PREFIX: "S3 key segments of letters, digits and ! _ . * ' ( ) -, separated by '/'",
    limits.TERRAFORM_ADDRESS: 'a Terraform resource address such as aws_iam_role.karpenter_node, aws_x.y[0] or aws_x.y["key"]',
    limits.IAM_ROLE_NAME: "an IAM role name: ASCII letters, digits and _ + = , . @ -",
    limits.EVENTBRIDGE_RULE_NAME: "an EventBridge rule name: letters, digits, '.', '-' and '_'",
    limits.DYNAMODB_TABLE_NAME: "a DynamoDB table name: 3-255 letters, digits, '_', '.' and '-'",
    limits.TFC_NAME: "letters, digits, '-' and '_'",
    limits.TFC_NAME_PREFIX: "letters, digits, '-' and '_'",
    limits.HOSTNAME: "a lowercase host name such as app.terraform.io",
    limits.RELATIVE_DIR: "a relative directory of letters, digits, '.', '_' and '-', separated by '/'",
    limits.LABEL_KEY: "a Kubernetes label key: an optional DNS-subdomain prefix and '/', then letters, digits, "
    "'-', '_' and '.', starting and ending with a letter or digit",
    limits.LABEL_VALUE: "a Kubernetes label value: letters, digits, '-', '_' and '.', starting and ending "
    "with a letter or digit, or empty",
    limits.QUANTITY: "a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi",
    limits.KUBERNETES_VERSION: "a Kubernetes version such as 1.31",
    limits.IAM_POLICY_ARN: "an IAM managed policy ARN such as arn:aws:iam::123456789012:policy/boundary",
    limits.IAM_ACTION: "an IAM action written service:Action, such as ssm:GetParameter (wildcards * and ?), or *",
    limits.IAM_STATEMENT_ID: "a statement ID of ASCII letters and digits",
    limits.IAM_RESOURCE: "a resource ARN (arn:...) or *",
    limits.KMS_KEY_ARN: "a KMS key ARN such as arn:aws:kms:us-east-1:111122223333:key/<key ID>",
    limits.SNS_TOPIC_ARN: "an SNS topic ARN such as arn:aws:sns:us-east-1:111122223333:alerts",
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


def _walk(root: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[str, type[BaseModel] | None, bool, Any, tuple[Any, ...]]:
    """Follow pydantic's `loc` through the config model: (path as the file spells it, the model whose
    key the last step is, whether the error is about a map key rather than its value, the type there,
    the steps into the loaded data: keys and indexes, with "[key]" last for a map key)."""
    annotation: Any = root
    path, parent, is_key = "", None, False
    steps: list[Any] = []
    for part in loc:
        annotation = _strip(annotation)
        if part == "[key]":
            is_key = True
            steps.append("[key]")
            continue
        if isinstance(part, str) and _INTERNAL_LOC.match(part):
            continue
        member = next((m for m in _union_members(annotation) if part in _tags(m)), None)
        if member is not None:  # a discriminated union's tag: not a key of the file
            annotation = member
            continue
        steps.append(part)
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
            path += f"[{bounded_repr(part)}]"
            annotation = args[1] if origin is dict and len(args) == 2 else None
        else:
            path += f".{part}" if path else part
            annotation = None
    return path or "(top level)", parent, is_key, _strip(annotation), tuple(steps)


def short_repr(value: object, limit: int = limits.MAX_SHOWN_VALUE) -> str:
    """`repr(value)` cut to `limit` characters, never formatting more of a huge value than that."""
    return bounded_repr(value, limit)


def _quoted(values: Any) -> str:
    items = [repr(v) for v in values]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


# What YAML 1.1 made of a plain (unquoted) scalar that is not a string; see `loading`.
YAML_KINDS = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "null (no value)",
    "tag:yaml.org,2002:timestamp": "a date",
}
# Where a value came from: steps into the data (see `_walk`) -> (the text as written, its YAML tag).
ScalarSources = dict[tuple[Any, ...], tuple[str, str]]


def _as_written(value: Any, steps: tuple[Any, ...], sources: ScalarSources | None) -> tuple[str, str | None]:
    """How to show a bad value: as the file wrote it, with what YAML made of it, when YAML read an
    unquoted scalar as something other than a string (`yes`, `2024-01-01`, `0755`, an empty value)."""
    source = (sources or {}).get(steps) if not isinstance(value, str) else None
    if source is None:
        return short_repr(value), None
    text, tag = source
    kind = YAML_KINDS.get(tag, "a non-string")
    shown = (text if len(text) <= 60 else text[:57] + "...") if text else "an empty value"
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and text != repr(value)
    return f"{shown} (YAML reads it as {kind}{f', {short_repr(value)}' if number else ''})", text


def _problems(root: type[BaseModel], item: Any, sources: ScalarSources | None = None) -> list[str]:
    """One line per problem: the path, the bad value, and what is allowed there."""
    path, parent, is_key, annotation, steps = _walk(root, item["loc"])
    kind, ctx, value = item["type"], item.get("ctx") or {}, item["input"]
    message = item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    error = ctx.get("error")
    if isinstance(error, CrossFieldErrors):
        return [str(e) for e in error.errors]
    if isinstance(error, CrossFieldError):
        return [message]
    if kind == "extra_forbidden":
        key = str(item["loc"][-1])
        allowed = sorted(f.alias or name for name, f in parent.model_fields.items()) if parent is not None else []
        close = difflib.get_close_matches(key[:100], allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listed = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return [f"{path}: unknown key {short_repr(key)}{hint}{listed}"]
    if kind == "missing":
        return [f"{path}: required key is missing"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        discriminator = str(ctx.get("discriminator", "type")).strip("'")
        tags = [t for m in _union_members(annotation) for t in _tags(m, discriminator)]
        choices = _quoted(tags) if tags else ctx.get("expected_tags", "")
        if kind == "union_tag_not_found":
            return [f"{path}.{discriminator}: required key is missing; allowed: {choices}"]
        return [f"{path}.{discriminator}: got {short_repr(ctx.get('tag'))}: allowed: {choices}"]
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERN_HINTS:
        message = f"expected {_PATTERN_HINTS[ctx['pattern']]}"
    shown, text = _as_written(value, steps, sources)
    quoting_helps = kind == "string_type" or (kind == "literal_error" and repr(text) in str(ctx.get("expected", "")))
    if text is not None and quoting_helps and text == "":
        message += "; write the value after the colon"
    elif text is not None and quoting_helps:
        message += f"; quote it: {_double_quoted(text)}"  # a string is what is wanted, and the quotes keep it one
    elif not kind.endswith("_type"):
        shown = short_repr(value)  # the value is of the right kind, just not allowed: show it as such
    if is_key and text is not None and path.endswith("]"):
        path = f"{path[: path.rfind('[')]}[{text}]"  # the key as written (`on`), not what YAML made of it (`True`, shown as 1)
    if is_key:
        return [f"{path}: got key {shown}: {message}"]
    if kind in ("value_error", "assertion_error") and isinstance(value, dict):
        return [f"{path}: {message}"]  # a check across the keys of this mapping; its message names them
    return [f"{path}: got {shown}: {message}"]


def _double_quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bounded_line(line: str, limit: int = 1000) -> str:
    return line if len(line) <= limit else line[: limit - 3] + "..."


def format_validation_error(
    root: type[BaseModel], error: ValidationError, source: str, sources: ScalarSources | None = None
) -> str:
    """The header line and one indented line per problem (at most MAX_SHOWN_PROBLEMS of them)."""
    problems = [line for item in error.errors(include_url=False) for line in _problems(root, item, sources)]
    count = len(problems)
    lines = [f"{source}: invalid configuration ({count} problem{'s' if count != 1 else ''})"]
    lines += [f"  {_bounded_line(line)}" for line in problems[: limits.MAX_SHOWN_PROBLEMS]]
    if count > limits.MAX_SHOWN_PROBLEMS:
        lines.append(f"  ... and {count - limits.MAX_SHOWN_PROBLEMS} more")
    return "\n".join(lines)
