"""Structural-schema validation of one CRD version, in the API server's order: prune unknown fields
(reported here, silently dropped by the API server), apply defaults, validate the openAPIV3Schema
(kube-openapi semantics), then the CEL rules (skipped, as the API server skips them, when a
"blocking" schema error exists), then what the Karpenter controller's Go types would fail to decode.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import re2

from . import _cel, _golang

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Violation:
    path: Path  # location in the object, e.g. ("spec", "disruption", "consolidateAfter")
    value: Any  # the offending value at that path (containers shortened)
    message: str  # the rule's own message, or the schema / decoding problem in words
    origin: Literal["schema", "cel", "controller"]  # controller: the API accepts it, Karpenter cannot decode it


# apiextensions' hasBlockingErr: after these, the API server runs no CEL rule and says so.
BLOCKED = (
    "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"
)
_INT_RANGES = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1)}
_OBJECT_META = {
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
}


def _controller(check: Callable[[Any], str | None], numbers: bool = False) -> Callable[[Any], str | None]:
    """A check of the value at one location, worded as what it is: admitted, then undecodable."""

    def run(value: Any) -> str | None:
        error = check(value) if isinstance(value, str) or numbers else None
        return f"the API accepts {value!r} but the Karpenter controller cannot decode it: {error}" if error else None

    return run


def _volume_size(value: Any) -> str | None:
    """*resource.Quantity; the CRD pattern's empty alternatives admit "Ti" and "T", which Go reads as 0."""
    if not isinstance(value, str):
        return None
    error = _golang.quantity_error(value)
    if error is None and _golang.quantity_is_zero(value):
        error = "resource.ParseQuantity reads it as 0, and a 0 GiB EBS volume cannot be launched"
    return f"the API accepts {value!r} but the Karpenter controller cannot use it: {error}" if error else None


_DURATION = _controller(_golang.go_duration_error)
_NILLABLE = _controller(_golang.nillable_duration_error)
_QUANTITY = _controller(_golang.quantity_json_error, numbers=True)
_THRESHOLD = _controller(_golang.percentage_or_quantity_error)
_KUBELET = {
    "evictionSoftGracePeriod{}": _DURATION,
    "kubeReserved{}": _QUANTITY,
    "systemReserved{}": _QUANTITY,
    "evictionHard{}": _THRESHOLD,
    "evictionSoft{}": _THRESHOLD,
}
# Schema locations whose Go type is stricter than the CRD (checked where the location exists). Label,
# requirement and taint keys and values are checked by the NodePool's RuntimeValidate (_runtime.py).
CONTROLLER_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "spec.disruption.consolidateAfter": _NILLABLE,  # NillableDuration: "Never" or time.ParseDuration
    "spec.disruption.expireAfter": _NILLABLE,  # v1beta1
    "spec.template.spec.expireAfter": _NILLABLE,  # v1
    "spec.template.spec.terminationGracePeriod": _DURATION,  # *metav1.Duration
    "spec.disruption.budgets[].duration": _DURATION,  # *metav1.Duration
    "spec.disruption.budgets[].schedule": _controller(_golang.cron_error),  # cron.ParseStandard("TZ=UTC " + s)
    "spec.limits{}": _QUANTITY,  # v1.ResourceList
    "spec.template.spec.resources.requests{}": _QUANTITY,
    "spec.template.spec.taints[].timeAdded": _controller(_golang.rfc3339_error),  # metav1.Time
    "spec.template.spec.startupTaints[].timeAdded": _controller(_golang.rfc3339_error),
    "spec.blockDeviceMappings[].ebs.volumeSize": _volume_size,  # *resource.Quantity
    **{f"spec.template.spec.kubelet.{k}": v for k, v in _KUBELET.items()},  # NodePool v1beta1
    **{f"spec.kubelet.{k}": v for k, v in _KUBELET.items()},  # EC2NodeClass v1
}


def _short(value: Any) -> Any:
    """Scalars as they are; containers only when small (a Violation names a location, not the object)."""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
        if len(text) > 200:
            return f"<object with {len(value)} fields>" if isinstance(value, dict) else f"<list of {len(value)} items>"
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


_JSON_TYPES = {str: "string", dict: "object", list: "array", bool: "boolean", int: "integer", type(None): "null"}


def _json_type(value: Any) -> str:
    kind = _JSON_TYPES.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    for base, name in _JSON_TYPES.items():  # subclasses (e.g. a str enum) count as their base
        if isinstance(value, base):
            return name
    return type(value).__name__


def _same_json(a: Any, b: Any) -> bool:
    return _json_type(a) == _json_type(b) and a == b


def _field_path(text: str) -> Path:
    """A rule's fieldPath (`.a.b`, `.a['b']`, `.a[0]`) as path components."""
    out: list[str | int] = []
    for match in re2.finditer(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]", text):
        name, key, index = match.groups()
        out.append(int(index) if index is not None else name if name is not None else key)
    return tuple(out)


class Node:
    """One schema location, compiled once: keywords, children, rules and controller check."""

    __slots__ = (
        "additional",
        "bounds",
        "check",
        "default",
        "enum",
        "formats",
        "int_or_string",
        "items",
        "lengths",
        "list_type",
        "map_keys",
        "nullable",
        "pattern",
        "pattern_src",
        "preserve",
        "properties",
        "required",
        "rule_fields",
        "rules",
        "type",
    )

    def __init__(self, schema: dict[str, Any], where: str, rules: list[_cel.Rule]):
        self.type = schema.get("type")
        self.int_or_string = bool(schema.get("x-kubernetes-int-or-string"))
        self.preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        self.nullable = bool(schema.get("nullable"))
        self.properties = {k: Node(v, f"{where}.{k}".lstrip("."), rules) for k, v in (schema.get("properties") or {}).items()}
        self.required = tuple(schema.get("required") or ())
        extra = schema.get("additionalProperties")
        self.additional = Node(extra, f"{where}{{}}", rules) if isinstance(extra, dict) else extra
        self.items = Node(schema["items"], f"{where}[]", rules) if isinstance(schema.get("items"), dict) else None
        self.enum = schema.get("enum")
        self.pattern_src = schema.get("pattern")
        self.pattern = None  # compiled on first use: most patterns never see a value
        self.bounds = (
            schema.get("minimum"),
            schema.get("exclusiveMinimum", False),
            schema.get("maximum"),
            schema.get("exclusiveMaximum", False),
        )
        self.lengths = {
            k: schema[k]
            for k in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")
            if k in schema
        }
        self.formats = schema.get("format")
        self.list_type = schema.get("x-kubernetes-list-type")
        self.map_keys = tuple(schema.get("x-kubernetes-list-map-keys") or ())
        self.default = schema.get("default")
        self.rules = [_cel.Rule(r, where) for r in schema.get("x-kubernetes-validations") or ()]
        rules.extend(self.rules)
        self.rule_fields = _cel.self_fields(self.rules)
        self.check = CONTROLLER_CHECKS.get(where)


class Walk:
    """State of one validation: violations so far, CEL sites, whether CEL is blocked."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.sites: list[tuple[Node, Any, Path]] = []
        self.blocking = False

    def add(self, path: Path, value: Any, message: str, origin: str = "schema", blocking: bool = False) -> None:
        self.violations.append(Violation(path, _short(value), message, origin))  # type: ignore[arg-type]
        self.blocking = self.blocking or blocking


def prune_and_default(node: Node, value: Any, path: Path, walk: Walk | None) -> Any:
    """A copy of value as the API server stores it: unknown fields dropped (and reported), non-nullable
    nulls replaced by their default or dropped, then defaults applied top-down (structural defaulting)."""
    if isinstance(value, dict) and (node.type == "object" or node.properties or node.additional is not None):
        out = {}
        for key, item in value.items():
            child = node.properties.get(key)
            if child is None and isinstance(node.additional, Node):
                if item is None and not node.additional.nullable and node.additional.default is not None:
                    item = _copy(node.additional.default)
                out[key] = prune_and_default(node.additional, item, path + (key,), walk)
            elif child is None and not node.preserve and node.additional is not True:
                if walk is not None:
                    walk.add(path + (key,), item, "unknown field")
            elif child is None:
                out[key] = _copy(item)
            elif item is None and not child.nullable:
                if child.default is not None:
                    out[key] = prune_and_default(child, _copy(child.default), path + (key,), walk)
            else:
                out[key] = prune_and_default(child, item, path + (key,), walk)
        for key, child in node.properties.items():
            if key not in out and key not in value and child.default is not None:
                out[key] = prune_and_default(child, _copy(child.default), path + (key,), walk)
        return out
    if isinstance(value, list) and node.items is not None:
        items = node.items
        return [
            prune_and_default(
                items,
                _copy(items.default) if v is None and items.default is not None and not items.nullable else v,
                path + (i,),
                walk,
            )
            for i, v in enumerate(value)
        ]
    return _copy(value)


def _type_ok(node: Node, value: Any) -> str | None:
    """kube-openapi's type check; returns the expected type when it fails."""
    if node.int_or_string:
        return None if isinstance(value, str) or _json_type(value) == "integer" else "integer or string"
    actual = _json_type(value)
    expected: str | None = node.type
    if expected is None or actual == expected or (expected == "number" and actual == "integer"):
        return None
    return expected


def validate_node(node: Node, value: Any, path: Path, walk: Walk) -> None:
    """The openAPIV3Schema checks at one location, then its children; records CEL sites."""
    if value is None:
        if not node.nullable and (node.type or node.int_or_string):
            walk.add(path, value, f'must be of type {node.type or "integer or string"}: "null"', blocking=True)
        return
    before = len(walk.violations)
    expected = _type_ok(node, value)
    if expected is not None:
        walk.add(path, value, f'must be of type {expected}: "{_json_type(value)}"', blocking=True)
        return
    if node.enum is not None and not any(_same_json(value, e) for e in node.enum):
        supported = ", ".join(json.dumps(e) for e in node.enum)
        walk.add(path, value, f"Unsupported value: {json.dumps(value)}: supported values: {supported}", blocking=True)
    if node.rules:  # the API server evaluates a location's rules before its children's
        walk.sites.append((node, value, path))
    if isinstance(value, str):
        _validate_string(node, value, path, walk)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _validate_number(node, value, path, walk)
    elif isinstance(value, list):
        _validate_list(node, value, path, walk)
    elif isinstance(value, dict):
        _validate_object(node, value, path, walk)
    if node.check is not None and len(walk.violations) == before:
        error = node.check(value)
        if error:
            walk.add(path, value, error, "controller")


def _validate_string(node: Node, value: str, path: Path, walk: Walk) -> None:
    lengths = node.lengths
    if "maxLength" in lengths and len(value) > lengths["maxLength"]:
        walk.add(path, value, f"Too long: may not be more than {lengths['maxLength']} characters", blocking=True)
    if "minLength" in lengths and len(value) < lengths["minLength"]:
        walk.add(path, value, f"should be at least {lengths['minLength']} chars long")
    if node.pattern_src is not None:
        if node.pattern is None:
            node.pattern = re2.compile(node.pattern_src, _cel._RE2_OPTIONS)
        if _cel.re2_search(node.pattern, value) is None:  # OpenAPI patterns are unanchored searches
            walk.add(path, value, f"should match '{node.pattern_src}'")
    if node.formats == "date-time" and not _golang.openapi_datetime_ok(value):
        walk.add(path, value, f'must be of type date-time: "{value}"', blocking=True)


def _validate_number(node: Node, value: float, path: Path, walk: Walk) -> None:
    before = len(walk.violations)
    low, low_exclusive, high, high_exclusive = node.bounds
    if high is not None and (value >= high if high_exclusive else value > high):
        walk.add(path, value, f"should be less than {'' if high_exclusive else 'or equal to '}{high}")
    if low is not None and (value <= low if low_exclusive else value < low):
        walk.add(path, value, f"should be greater than {'' if low_exclusive else 'or equal to '}{low}")
    limits = _INT_RANGES.get(node.formats or "")
    if limits and len(walk.violations) == before and not limits[0] <= value <= limits[1]:
        # kube-openapi does not range-check `format`; Go's json decoder does.
        walk.add(
            path,
            value,
            f"the API accepts {value} but the Karpenter controller cannot decode it: json: cannot "
            f"unmarshal number {value} into a Go value of type {node.formats}",
            "controller",
        )


def _validate_list(node: Node, value: list[Any], path: Path, walk: Walk) -> None:
    lengths = node.lengths
    if "maxItems" in lengths and len(value) > lengths["maxItems"]:
        walk.add(path, _short(value), f"Too many: {len(value)}: must have at most {lengths['maxItems']} items", blocking=True)
    if "minItems" in lengths and len(value) < lengths["minItems"]:
        walk.add(path, _short(value), f"should have at least {lengths['minItems']} items")
    if node.list_type in ("set", "map"):
        seen: list[Any] = []
        for i, item in enumerate(value):
            key = [item.get(k) for k in node.map_keys] if node.list_type == "map" and isinstance(item, dict) else item
            if any(_same_json(key, s) for s in seen):
                walk.add(path + (i,), key, f"Duplicate value: {json.dumps(key, default=str)}")
            seen.append(key)
    if node.items is not None:
        for i, item in enumerate(value):
            validate_node(node.items, item, path + (i,), walk)


def _validate_object(node: Node, value: dict[str, Any], path: Path, walk: Walk) -> None:
    for key in node.required:
        if key not in value:
            walk.add(path + (key,), None, "Required value", blocking=True)
    lengths = node.lengths
    if "maxProperties" in lengths and len(value) > lengths["maxProperties"]:
        walk.add(
            path, _short(value), f"Too many: {len(value)}: must have at most {lengths['maxProperties']} items", blocking=True
        )
    if "minProperties" in lengths and len(value) < lengths["minProperties"]:
        walk.add(path, _short(value), f"should have at least {lengths['minProperties']} properties")
    for key, item in value.items():
        child = node.properties.get(key)
        if child is None and isinstance(node.additional, Node):
            child = node.additional
        if child is not None:
            validate_node(child, item, path + (key,), walk)


def validate_metadata(meta: Any, namespaced: bool, walk: Walk) -> dict[str, Any]:
    """ObjectMeta as the API server checks a custom resource's: name a DNS-1123 subdomain, no namespace
    on a cluster-scoped kind, label and annotation keys qualified names, label values valid."""
    if not isinstance(meta, dict):
        walk.add(("metadata",), meta, f'must be of type object: "{_json_type(meta)}"', blocking=True)
        return {}
    for key in meta:
        if key not in _OBJECT_META:
            walk.add(("metadata", key), meta[key], "unknown field")
    name, generate = meta.get("name"), meta.get("generateName")
    if not name and not generate:
        walk.add(("metadata", "name"), name, "Required value: name or generateName is required", blocking=True)
    elif name:
        error = _golang.dns1123_subdomain_error(str(name))
        if error:
            walk.add(("metadata", "name"), name, error)
    if meta.get("namespace") and not namespaced:
        walk.add(("metadata", "namespace"), meta["namespace"], "Forbidden: not allowed on this type")
    for field, value_check in (("labels", _golang.label_value_error), ("annotations", None)):
        entries = meta.get(field) or {}
        for key, value in entries.items() if isinstance(entries, dict) else ():
            error = _golang.qualified_name_error(key.lower() if field == "annotations" else key)
            if error:
                walk.add(("metadata", field, key), key, error)
            error = value_check(value) if value_check and isinstance(value, str) else None
            if error:
                walk.add(("metadata", field, key), value, error)
    return {k: meta[k] for k in ("name", "generateName") if k in meta}


def run_rules(sites: list[tuple[Node, Any, Path]], walk: Walk, memo: dict[tuple[int, str], list[tuple[int, str]]]) -> None:
    """Every CEL rule at every present location; results memoised per (location, value) because the
    rules are pure and converting a value into the engine is its main cost."""
    for node, value, path in sites:
        fields = node.rule_fields
        bound = {k: value[k] for k in fields if k in value} if fields is not None and isinstance(value, dict) else value
        key = (
            id(node),
            bound if isinstance(bound, str) else json.dumps(bound, sort_keys=True, separators=(",", ":"), default=str),
        )
        failures = memo.get(key)
        if failures is None:
            failures, context, optional_context = [], None, None
            for index, rule in enumerate(node.rules):
                if rule.program is None or rule.unsupported:
                    continue  # listed in UNEVALUATED
                if rule.uses_old_self and not rule.optional_old_self:
                    continue  # transition rule: the API server evaluates it only on update
                if rule.uses_old_self:
                    optional_context = optional_context or _cel.new_context(bound, old_self_none=True)
                    message = rule.evaluate(optional_context, bound)
                else:
                    context = context or _cel.new_context(bound)
                    message = rule.evaluate(context, bound)
                if message is not None:
                    failures.append((index, message))
            if len(memo) > 20_000:
                memo.clear()
            memo[key] = failures
        for index, message in failures:
            rule = node.rules[index]
            where = path + _field_path(rule.field_path) if rule.field_path else path
            walk.add(where, value, message, "cel")
