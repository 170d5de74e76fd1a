"""Validate Karpenter NodePool / EC2NodeClass objects at synth time as the release's API server
would, from the release's own CRD files, and flag what the Karpenter controller cannot decode.

    validator(PROFILES["0.37.2"], "NodePool").validate(obj) -> list[Violation]

What "as the API server would" covers (see the submodules for the details of each step):
- pruning of unknown fields, which the API server does silently (a typo vanishes); here each one is
  a schema Violation "unknown field";
- structural defaulting (nested and defaulted-object defaults), then openAPIV3Schema validation with
  kube-openapi semantics (unanchored RE2 patterns, int-or-string, list-type set/map, formats);
- ObjectMeta checks (name a DNS-1123 subdomain, no namespace on these cluster-scoped kinds);
- every `x-kubernetes-validations` rule at the locations present, after defaulting, with the rule's
  own message; skipped when a blocking schema error exists, as the API server does. Transition rules
  (using `oldSelf`) only run on update, so they are skipped here (create), unless `optionalOldSelf`;
- origin="controller": values the API accepts but the controller's Go types cannot decode (cron
  schedules, Go durations, quantities, int32 ranges, RFC 3339 times; _validator.CONTROLLER_CHECKS),
  and, for NodePools, the release's RuntimeValidate (label, requirement and taint keys as qualified
  names, restricted label domains, duplicate taints, ...; _runtime.py with the profile's
  `node_pool_rules`), after which the controller ignores the NodePool.

Not modelled: the API server's CEL cost budget (these rules are far below it), admission webhooks,
and conversion between served versions (validate in the version the release stores).

UNEVALUATED lists every rule of a constructed validator that the CEL engine cannot evaluate (none for
the four releases shipped); such rules are never silently treated as passing.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from karpenter_model.releases import ReleaseProfile, read_yaml
from karpenter_model.releases.node_pool_rules import NodePoolRules

from . import _cel, _runtime
from ._golang import label_value_error
from ._validator import BLOCKED, Node, Violation, Walk, _copy, prune_and_default, run_rules, validate_metadata, validate_node

__all__ = ["UNEVALUATED", "CrdValidator", "Violation", "validator"]

# (kind, version, location, rule, why) for every rule a constructed validator cannot evaluate.
UNEVALUATED: list[tuple[str, str, str, str, str]] = []


class CrdValidator:
    """One served version of one CRD: schema and CEL rules compiled once, reused for every object."""

    def __init__(self, crd: dict[str, Any], version: str, release: ReleaseProfile | None = None):
        """A release adds what its controller checks beyond the API: NodePool RuntimeValidate, names used as labels."""
        spec = crd["spec"]
        (served,) = [v for v in spec["versions"] if v["name"] == version]
        self.kind: str = spec["names"]["kind"]
        self.version = version
        self.api_version = f"{spec['group']}/{version}"
        self.namespaced = spec.get("scope") == "Namespaced"
        root = dict(served["schema"]["openAPIV3Schema"])
        props = {k: v for k, v in (root.get("properties") or {}).items() if k not in ("metadata", "status")}
        self.rules: list[_cel.Rule] = []
        self._root = Node({**root, "properties": props}, "", self.rules)
        self._memo: dict[tuple[int, str], list[tuple[int, str]]] = {}
        self._node_pool_rules = release.node_pool_rules if release is not None and self.kind == "NodePool" else None
        # Karpenter labels NodeClaims with the NodePool's name, and in some releases with the EC2NodeClass's.
        node_class_label = release is not None and release.node_class_name_is_label
        self._name_is_a_label = self.kind == "NodePool" or (self.kind == "EC2NodeClass" and node_class_label)
        self.unevaluated = [(self.kind, version, r.location, r.source, r.unsupported) for r in self.rules if r.unsupported]
        UNEVALUATED.extend(self.unevaluated)

    def _stored(self, obj: dict[str, Any], walk: Walk | None) -> dict[str, Any]:
        body = {k: v for k, v in obj.items() if k not in ("metadata", "status")}  # status is reset on create
        stored: dict[str, Any] = prune_and_default(self._root, body, (), walk)
        return stored

    def _node_at(self, path: tuple[str | int, ...]) -> Node | None:
        node: Node | None = self._root
        for part in path:
            if node is None:
                return None
            if isinstance(part, int):
                node = node.items
            elif part in node.properties:
                node = node.properties[part]
            else:
                node = node.additional if isinstance(node.additional, Node) else None
        return node

    def fields_at(self, path: tuple[str | int, ...]) -> list[str] | None:
        """The field names the schema declares for the object at `path`, or None where it declares none (a map, a scalar)."""
        node = self._node_at(path)
        return list(node.properties) if node is not None and node.properties else None

    def pattern_at(self, path: tuple[str | int, ...]) -> str | None:
        """The pattern the schema puts on the value at `path`, if any."""
        node = self._node_at(path)
        return node.pattern_src if node is not None else None

    def with_defaults(self, obj: dict[str, Any]) -> dict[str, Any]:
        """obj as the API server stores it on create: unknown fields pruned, status dropped, defaults applied."""
        stored = self._stored(obj, None)
        if "metadata" not in obj:
            return stored
        head: dict[str, Any] = {k: stored.pop(k) for k in ("apiVersion", "kind") if k in stored}
        return {**head, "metadata": _copy(obj["metadata"]), **stored}

    def validate(self, obj: dict[str, Any]) -> list[Violation]:
        """Every reason the API server would refuse obj on create, plus what the controller cannot decode."""
        walk = Walk()
        if not isinstance(obj, dict):
            walk.add((), obj, "must be of type object", blocking=True)
            return walk.violations
        if obj.get("apiVersion") != self.api_version:
            walk.add(("apiVersion",), obj.get("apiVersion"), f"must be {self.api_version}", blocking=True)
        if obj.get("kind") != self.kind:
            walk.add(("kind",), obj.get("kind"), f"must be {self.kind}", blocking=True)
        meta = validate_metadata(obj.get("metadata"), self.namespaced, walk)
        if self._name_is_a_label:
            self._name_is_label_value(meta.get("name"), walk)
        stored = self._stored(obj, walk)
        validate_node(self._root, stored, (), walk)
        if walk.sites:
            if walk.blocking:
                walk.add((), None, BLOCKED, "cel")
            else:
                if self._root.rules:  # a root rule sees apiVersion, kind, metadata.name/generateName
                    walk.sites = [(n, {**v, "metadata": meta} if n is self._root else v, p) for n, v, p in walk.sites]
                run_rules(walk.sites, walk, self._memo)
        if self._node_pool_rules is not None and isinstance(stored.get("spec"), dict):
            self._runtime_validate(self._node_pool_rules, stored["spec"], walk)
        return walk.violations

    @staticmethod
    def _runtime_validate(rules: NodePoolRules, spec: dict[str, Any], walk: Walk) -> None:
        """The controller's NodePool.RuntimeValidate, except where the API already rejects that part."""
        taken = [v.path for v in walk.violations if len(v.path) > 3]
        for path, value, error in _runtime.runtime_validate(rules, spec):
            if any(p[: len(path)] == path or path[: len(p)] == p for p in taken):
                continue
            walk.add(
                path,
                value,
                f"the API accepts this NodePool but the Karpenter controller refuses it at run time (RuntimeValidate): {error}",
                "controller",
            )

    def _name_is_label_value(self, name: Any, walk: Walk) -> None:
        """NodeClaims carry the NodePool's name (and, where the release says so, the EC2NodeClass's) as a label value."""
        error = label_value_error(name) if isinstance(name, str) else None
        if error and not any(v.path == ("metadata", "name") for v in walk.violations):
            label = "karpenter.sh/nodepool" if self.kind == "NodePool" else "karpenter.k8s.aws/ec2nodeclass"
            walk.add(
                ("metadata", "name"),
                name,
                f"the API accepts {name!r} but the Karpenter controller cannot use it "
                f"as the {label} label value of its NodeClaims: {error}",
                "controller",
            )


_KIND_LINE = re.compile(r"^\s+kind:\s*(\w+)\s*$", re.M)


@cache
def _crd_file(release: ReleaseProfile, kind: str) -> Path:
    """The release's CRD file for kind (found by `spec.names.kind`, without parsing every file)."""
    for path in sorted((release.data_dir / "crds").glob("*.yaml")):
        head = path.read_text()[:4000]
        names = head.find("names:")
        match = _KIND_LINE.search(head, names) if names >= 0 else None
        if match and match.group(1) == kind:
            return path
    raise ValueError(f"Karpenter {release.version} ships no CRD for kind {kind!r}")


def load_crd(release: ReleaseProfile, kind: str) -> dict[str, Any]:
    """The release's CRD for kind, parsed."""
    crd: dict[str, Any] = read_yaml(_crd_file(release, kind))
    return crd


@cache
def validator(release: ReleaseProfile, kind: str) -> CrdValidator:
    """The validator for kind in the version the release stores (v1beta1 for 0.37.x, v1 for 1.x)."""
    crd = load_crd(release, kind)
    (storage,) = [v["name"] for v in crd["spec"]["versions"] if v.get("storage")]
    return CrdValidator(crd, storage, release)
