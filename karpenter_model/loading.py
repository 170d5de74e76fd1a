"""Reading a config file: YAML to a validated `KarpenterConfig`, or one `ConfigError` saying what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from karpenter_model.base import ConfigError
from karpenter_model.config import KarpenterConfig
from karpenter_model.errors import short_repr, format_validation_error


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; a repeated key is a typo-like mistake, so it is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node.start_mark.line)
            except TypeError:  # unhashable key: SafeLoader reports it
                continue
            if first != key_node.start_mark.line:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"found duplicate key {key!r} (first at line {first + 1}); each key may appear only once in a mapping",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(path: Path, text: str, exc: yaml.YAMLError) -> str:
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return f"{path}: not valid YAML: {exc}"
    mark, lines = exc.problem_mark, text.splitlines()
    message = f"{path}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {exc.problem}"
    shown = exc.context_mark or mark
    if exc.context:
        where = f" at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}" if exc.context_mark else ""
        message += f" ({exc.context}{where})"
    if "\\t" in (exc.problem or ""):
        message += "; indent with spaces, YAML does not allow tabs"
    if shown.line < len(lines):
        message += f"; line {shown.line + 1} is {lines[shown.line]!r}"
    return message


def load_config(path: str | Path) -> KarpenterConfig:
    """Read and validate a YAML config file; every failure becomes a ConfigError naming the problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; expected a YAML file such as examples/aws-2026-eks.yaml") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory; expected a YAML file such as examples/aws-2026-eks.yaml") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot read config file: permission denied; make it readable for this user") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}; save the file as UTF-8"
        ) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_problem(path, text, exc)) from None
    if data is None:
        raise ConfigError(f"{path}: the file is empty; the top level must be a mapping of keys to values (see examples/aws-2026-eks.yaml)")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys to values, got a {type(data).__name__}: {short_repr(data)}"
        )
    try:
        return KarpenterConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(KarpenterConfig, exc, str(path))) from None
