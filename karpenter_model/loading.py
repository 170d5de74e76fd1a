"""Reading a config file: YAML to a validated `KarpenterConfig`, or one `ConfigError` saying what is wrong.

Whatever the input, reading it is bounded (limits.py): at most MAX_CONFIG_BYTES + 1 bytes are
read from any file (a 10 GB file, /dev/zero or a FIFO alike); the YAML is composed by a composer
that counts nodes, aliases and nesting and stops at MAX_YAML_NODES (with every alias counted as
the nodes it repeats, so alias and merge-key bombs stop here), MAX_YAML_ALIASES and
MAX_YAML_DEPTH, before any Python object is built; and error messages never format more than a
short prefix of a value.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from karpenter_model.base import ConfigError
from karpenter_model.config import KarpenterConfig
from karpenter_model.errors import YAML_KINDS, ScalarSources, format_validation_error, short_repr
from karpenter_model.limits import MAX_CONFIG_BYTES, MAX_INTEGER_CHARS, MAX_YAML_ALIASES, MAX_YAML_DEPTH, MAX_YAML_NODES

EXAMPLE = "examples/aws-2026-eks.yaml"

try:  # libyaml's scanner and parser: about ten times faster than PyYAML's; composition stays ours.
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser as _ParserBase
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, _ParserBase):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            _ParserBase.__init__(self)


class _BoundedComposer(Composer):
    """PyYAML's composer, counting as it goes: nodes (an alias counts as every node it repeats),
    aliases, and nesting depth. Refusing here, before construction, means no bomb is ever expanded
    and no recursion runs deeper than MAX_YAML_DEPTH."""

    def __init__(self) -> None:
        super().__init__()
        self._nodes = 0
        self._aliases = 0
        self._depth = 0
        self._sizes: dict[str, int] = {}  # anchor -> nodes under it, aliases expanded

    def _count(self, nodes: int, mark: Any) -> None:  # a yaml.Mark, or libyaml's
        self._nodes += nodes
        if self._nodes > MAX_YAML_NODES:
            raise ComposerError(
                None,
                None,
                f"the document has more than {MAX_YAML_NODES:,} values once its aliases are expanded; a config file "
                "needs a few hundred (aliases that repeat aliases multiply: this is how alias bombs work)",
                mark,
            )

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]  # the parser's, mixed in by _Loader
        mark: Any = event.start_mark
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise ComposerError(None, None, f"more than {MAX_YAML_ALIASES} aliases (*name); a config file needs a few", mark)
            if event.anchor is not None and event.anchor in self.anchors:
                size = self._sizes.get(event.anchor)
                if size is None:
                    raise ComposerError(
                        None,
                        None,
                        f"alias *{short_repr(event.anchor)[1:-1]} is inside its own anchor (a recursive structure)",
                        mark,
                    )
                self._count(size, mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise ComposerError(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep; a config file needs about 10", mark)
        before = self._nodes
        self._count(1, mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._sizes[anchor] = self._nodes - before
        return node


class _Constructor(SafeConstructor):
    def construct_yaml_int(self, node: ScalarNode) -> int:
        if len(node.value) > MAX_INTEGER_CHARS:
            raise ConstructorError(
                None,
                None,
                f"an integer of {len(node.value)} characters; no setting takes a number that large (quote it if it is text)",
                node.start_mark,
            )
        value: int = super().construct_yaml_int(node)
        return value


_Constructor.yaml_constructors = {**SafeConstructor.yaml_constructors, "tag:yaml.org,2002:int": _Constructor.construct_yaml_int}


class _Loader(_BoundedComposer, _Parser, _Constructor, Resolver):
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _BoundedComposer.__init__(self)
        _Constructor.__init__(self)
        Resolver.__init__(self)

    def load(self) -> tuple[Any, ScalarSources]:
        """The document's data, and where each non-string plain scalar came from (for error messages)."""
        node = self.get_single_node()
        if node is None:
            return None, {}
        self._check_duplicate_keys(node)
        sources: ScalarSources = {}
        self._record_sources(node, (), sources)
        return self.construct_document(node), sources

    def _check_duplicate_keys(self, root: Node) -> None:
        """A repeated key in one mapping is an error (PyYAML keeps the last one silently), wherever it is
        written; keys brought in by a merge (`<<`) may be overridden, as YAML intends. Runs before merges
        are applied, once per node."""
        seen_nodes: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen_nodes or isinstance(node, ScalarNode):
                continue
            seen_nodes.add(id(node))
            if isinstance(node, SequenceNode):
                stack.extend(node.value)
                continue
            first: dict[Any, yaml.Mark] = {}
            for key_node, value_node in node.value:
                stack.append(value_node)
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                stack.append(key_node)
                key = self.construct_object(key_node, deep=True)
                try:
                    earlier = first.setdefault(key, key_node.start_mark)
                except TypeError:  # unhashable key: the constructor reports it
                    continue
                if earlier is not key_node.start_mark:
                    raise ConstructorError(
                        None,
                        None,
                        f"found duplicate key {short_repr(key)} (first at line {earlier.line + 1}, column {earlier.column + 1}); "
                        "each key may appear only once in a mapping",
                        key_node.start_mark,
                    )

    def _record_sources(self, node: Node, steps: tuple[Any, ...], sources: ScalarSources) -> None:
        """Map the path of every plain scalar YAML 1.1 read as a non-string to its text as written."""
        if isinstance(node, ScalarNode):
            if not node.style and node.tag in YAML_KINDS:  # plain: None (PyYAML) or "" (libyaml)
                sources[steps] = (node.value, node.tag)
        elif isinstance(node, SequenceNode):
            for index, child in enumerate(node.value):
                self._record_sources(child, (*steps, index), sources)
        elif isinstance(node, MappingNode):
            self.flatten_mapping(node)  # as the constructor will: merged keys are found where they land
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue
                if isinstance(key_node, ScalarNode):
                    self._record_sources(key_node, (*steps, key, "[key]"), sources)
                self._record_sources(value_node, (*steps, key), sources)


def parse_yaml(text: str) -> tuple[Any, ScalarSources]:
    """YAML text to data, bounded as the module says; YAML errors are raised as `yaml.YAMLError`."""
    loader = _Loader(text)
    try:
        return loader.load()
    finally:
        loader.dispose()


def read_bounded(path: Path, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """At most `limit` bytes of `path`, whatever it is; a ConfigError for anything longer or unreadable."""
    too_long = ConfigError(
        f"{path}: the file is larger than {limit:,} bytes; a config file is a few kilobytes "
        f"(see {EXAMPLE}); is KARPENTER_CONFIG pointing at the right file?"
    )
    try:
        with open(path, "rb") as stream:
            info = os.fstat(stream.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise too_long
            chunks, size = [], 0
            while size <= limit:  # pipes and devices return short reads
                chunk = stream.read(limit + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; expected a YAML file such as {EXAMPLE}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory; expected a YAML file such as {EXAMPLE}") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot read config file: permission denied; make it readable for this user") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    if size > limit:
        raise too_long
    return b"".join(chunks)


def _yaml_problem(path: Path, text: str, exc: yaml.YAMLError) -> str:
    message = _describe_yaml_error(path, text, exc)
    return message if len(message) <= 1000 else message[:997] + "..."  # a tag or anchor name can be as long as the file


def _describe_yaml_error(path: Path, text: str, exc: yaml.YAMLError) -> str:
    lines = text.splitlines()
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        what = f"character {chr(exc.character)!r} (U+{exc.character:04X})" if isinstance(exc.character, int) else "a byte"
        return f"{path}:{line}:{column}: not valid YAML: {what} is not allowed; YAML allows printable characters, tab and line breaks"
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return f"{path}: not valid YAML: {short_repr(str(exc), 300)}"
    mark = exc.problem_mark
    message = f"{path}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {exc.problem}"
    shown = exc.context_mark or mark
    if exc.context:
        where = f" at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}" if exc.context_mark else ""
        message += f" ({exc.context}{where})"
    problem_line = lines[mark.line] if mark.line < len(lines) else ""
    indent = problem_line[: len(problem_line) - len(problem_line.lstrip(" \t"))]
    if "\t" in indent or "tab" in (exc.problem or "") or "'\\t'" in (exc.problem or ""):
        message += "; indent with spaces, YAML does not allow tabs"
        shown = mark
    if shown.line < len(lines):
        message += f"; line {shown.line + 1} is {short_repr(lines[shown.line], 200)}"
    return message


def read_config_data(path: str | Path) -> tuple[dict[str, Any], ScalarSources]:
    """A config file's top-level mapping, read within every bound above, unvalidated, and where each non-string
    plain scalar came from. The one reader of config files: main.py (through load_config), the v1beta1 -> v1
    converter and `make check` read alike, so a file one refuses the others refuse with the same message."""
    path = Path(path)
    raw = read_bounded(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}; save the file as UTF-8"
        ) from None
    try:
        data, sources = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_problem(path, text, exc)) from None
    if data is None:
        raise ConfigError(f"{path}: the file is empty; the top level must be a mapping of keys to values (see {EXAMPLE})")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys to values, got a {type(data).__name__}: {short_repr(data)}"
        )
    return data, sources


def load_config(path: str | Path) -> KarpenterConfig:
    """Read and validate a YAML config file; every failure becomes a ConfigError naming the problem."""
    data, sources = read_config_data(path)
    try:
        return KarpenterConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(KarpenterConfig, exc, str(path), sources)) from None
