"""The EC2NodeClass and NodePool objects of the config, and their check against the release's own CRDs.

What is validated is exactly what the chart stack writes: the user's spec, in the API version the
release stores, plus the two things this app fills in (the node class's role and the pool's
class reference). Problems come back as one line each, in the config file's terms.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from karpenter_model.base import CrossFieldError
from karpenter_model.crd_validation import CrdValidator, Violation, validator
from karpenter_model.releases import NODE_CLASS_GROUP, PROFILES, ReleaseProfile

NODE_CLASS = "EC2NodeClass"
NODE_POOL = "NodePool"


def node_class_object(release: ReleaseProfile, name: str, spec: dict[str, Any], node_role: str) -> dict[str, Any]:
    """`spec.role` defaults to the infra stack's node role: the one role the controller may pass to EC2."""
    filled = spec if "role" in spec or "instanceProfile" in spec else {**spec, "role": node_role}
    return {"apiVersion": release.node_class_api, "kind": NODE_CLASS, "metadata": {"name": name}, "spec": filled}


def node_pool_object(release: ReleaseProfile, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The class reference gets the kind and API group (v1) or apiVersion (v1beta1) of the release's EC2NodeClass."""
    template = spec.get("template")
    template_spec = template.get("spec") if isinstance(template, dict) else None
    reference = template_spec.get("nodeClassRef") if isinstance(template_spec, dict) else None
    if isinstance(reference, dict):
        filled = {"group": NODE_CLASS_GROUP} if release.api_version == "v1" else {"apiVersion": release.node_class_api}
        reference = {
            **reference,
            "kind": reference.get("kind", NODE_CLASS),
            **{k: reference.get(k, v) for k, v in filled.items()},
        }
        spec = {**spec, "template": {**template, "spec": {**template_spec, "nodeClassRef": reference}}}  # type: ignore[dict-item]
    return {"apiVersion": release.node_pool_api, "kind": NODE_POOL, "metadata": {"name": name}, "spec": spec}


@dataclass(frozen=True)
class Entry:
    """One `node_classes[i]` or `node_pools[i]` of the config, as the object it becomes."""

    where: str  # node_classes[0]
    kind: str
    obj: dict[str, Any]


# What the CRDs' patterns allow, in words, appended to the API server's "should match '<pattern>'".
PATTERN_HINTS = {
    r"^(([0-9]+(s|m|h))+)|(Never)$": "a duration such as 30s, 15m, 1h30m or 720h (no days: 30d is 720h), or Never",
    r"^(([0-9]+(s|m|h))+|Never)$": "a duration such as 30s, 15m, 1h30m or 720h (no days: 30d is 720h), or Never",
    r"^([0-9]+(s|m|h))+$": "a duration such as 30s, 15m, 1h30m or 720h (no days: 30d is 720h)",
    r"^((100|[0-9]{1,2})%|[0-9]+)$": "a node count such as 5, or a percentage from 0% to 100%",
    r"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$": "hours and minutes such as 8h, 30m or 1h30m",
    r"^(@(annually|yearly|monthly|weekly|daily|midnight|hourly))|((.+)\s(.+)\s(.+)\s(.+)\s(.+))$": "a cron schedule of five "
    "fields such as '0 9 * * 1-5', or a macro such as @daily",
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$": (
        "a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi"
    ),
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(\/))?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$": (
        "a Kubernetes label key: an optional DNS-subdomain prefix and '/', then letters, digits, '-', '_' and '.', "
        "starting and ending with a letter or digit"
    ),
    r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$": "a Kubernetes label value: letters, digits, '-', '_' and '.', "
    "starting and ending with a letter or digit, or empty",
    r"^((?:[1-9][0-9]{0,3}|[1-4][0-9]{4}|[5][0-8][0-9]{3}|59000)Gi|(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|[6][0-3][0-9]{3}|64000)G|"
    r"([1-9]||[1-5][0-7]|58)Ti|([1-9]||[1-5][0-9]|6[0-3]|64)T)$": "a size with a unit such as 20Gi, 100G or 1Ti (1Gi to 64T)",
}
_NOT_CHECKED_NOTE = "some validation rules were not checked"
UNKNOWN_FIELD = "unknown field"


def _unknown_field(release: ReleaseProfile, entry: Entry, violation: Violation) -> Violation:
    """A typo gets the closest field the schema has; a field of the other API version says which releases have it."""
    *parent, name = violation.path
    known = validator(release, entry.kind).fields_at(tuple(parent)) or []
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; allowed here: {', '.join(known)}" if known else ""
    for api_version in sorted({p.api_version for p in PROFILES.values()} - {release.api_version}):
        having = [
            p.version
            for p in PROFILES.values()
            if p.api_version == api_version and name in (validator(p, entry.kind).fields_at(tuple(parent)) or [])
        ]
        if having:
            hint = f"; it exists in the {api_version} API (Karpenter {' and '.join(having)}), not in {release.api_version}"
    return Violation(violation.path, violation.value, UNKNOWN_FIELD + hint, violation.origin)


class SpecProblem(CrossFieldError):
    """Everything the API server or the controller says about one place of an object, at that place in the config file."""

    def __init__(self, where: str, path: str, violations: list[Violation], pattern: str | None) -> None:
        message = "; ".join(dict.fromkeys(_explained(v, pattern) for v in violations))
        value = _shown(violations[0].value, message)
        super().__init__(where + path, value, message)
        if value is None:  # a missing field: there is no value to show
            self.args = (f"{where}{path}: {message}",)


def _config_path(check: CrdValidator, path: tuple[str | int, ...]) -> str:
    """`.spec.limits['cpu']`: fields after a dot, keys of free-form maps in brackets, as the rest of the config's errors."""
    if path[:2] == ("metadata", "name"):
        return ".name"
    text = ""
    for index, part in enumerate(path):
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier() and check.fields_at(path[:index]) is not None:
            text += f".{part}"
        else:
            text += f"[{part!r}]"
    return text


def _explained(violation: Violation, pattern: str | None) -> str:
    message = violation.message
    if message.startswith("should match '"):
        pattern = message.removeprefix("should match '").removesuffix("'")
    if pattern in PATTERN_HINTS and (message.startswith(("should match", "must be of type"))):
        message += f" (allowed: {PATTERN_HINTS[pattern]})"
    if violation.origin == "controller":
        message += " (the Kubernetes API would accept this; the Karpenter controller cannot decode it)"
    return message


def _shown(value: Any, message: str) -> Any:
    """A rule on an object is about some of its fields: show those the message names, not the whole object."""
    if isinstance(value, dict):
        named = {k: v for k, v in value.items() if isinstance(k, str) and k in message}
        return named or value
    return value


class ApiVersionMismatch(CrossFieldError):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}.spec", None, message)
        self.args = (f"{where}.spec: {message}",)


def spec_problems(release: ReleaseProfile, entries: list[Entry]) -> list[CrossFieldError]:
    """Every reason the release's API server, or its controller, would refuse one of the objects."""
    found: list[CrossFieldError] = []
    for entry in entries:
        violations = validator(release, entry.kind).validate(entry.obj)
        if not violations:
            continue
        mismatch = _mismatched_api(release, entry)
        if mismatch:
            found.append(ApiVersionMismatch(entry.where, mismatch))
            continue
        unknown = [v for v in violations if v.message == UNKNOWN_FIELD]
        if unknown:  # as the API server's strict field validation: the object is not read further
            violations = [_unknown_field(release, entry, v) for v in unknown]
        by_place: dict[tuple[str | int, ...], list[Violation]] = {}
        for violation in violations:
            if not violation.message.startswith(_NOT_CHECKED_NOTE):  # the API server's note: the rest is reported
                by_place.setdefault(violation.path, []).append(violation)
        check = validator(release, entry.kind)
        found += [
            SpecProblem(entry.where, _config_path(check, path), place, check.pattern_at(path)) for path, place in by_place.items()
        ]
    return found


def _mismatched_api(release: ReleaseProfile, entry: Entry) -> str | None:
    """When the spec is written for the other API version, one line that says so and names the releases that take it."""
    others = sorted({p.api_version for p in PROFILES.values()} - {release.api_version})
    for api_version in others:
        accepting = [p for p in PROFILES.values() if p.api_version == api_version]
        rebuilt = _as(entry, accepting[-1])
        if not validator(accepting[-1], entry.kind).validate(rebuilt):
            names = " and ".join(p.version for p in accepting)
            return (
                f"written for the {api_version} API of {entry.kind}, which Karpenter {names} "
                f"{'accepts' if len(accepting) == 1 else 'accept'}, but karpenter.version {release.version} stores "
                f"{release.api_version}; allowed: karpenter.version {names}, or the spec in {release.api_version} "
                "(python -m karpenter_model.conversion converts v1beta1 to v1)"
            )
    return None


def _as(entry: Entry, release: ReleaseProfile) -> dict[str, Any]:
    name, spec = entry.obj["metadata"]["name"], dict(entry.obj["spec"])
    if entry.kind == NODE_CLASS:
        return node_class_object(release, name, spec, spec["role"])
    reference = spec.get("template", {}).get("spec", {}).get("nodeClassRef")
    if isinstance(reference, dict):  # drop what node_pool_object filled in for the other API
        reference = {k: v for k, v in reference.items() if k in ("name", "kind")}
        spec["template"] = {**spec["template"], "spec": {**spec["template"]["spec"], "nodeClassRef": reference}}
    return node_pool_object(release, name, spec)
