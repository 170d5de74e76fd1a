"""Rewrite a config's v1beta1 `node_classes` and `node_pools` (Karpenter 0.37.x) into their v1 form.

    python -m karpenter_model.conversion INPUT OUTPUT [--to 1.0.14|1.14.1] [--force]
    convert(data, to) -> (converted data, one line per change)   # raises ConversionError

The result is what upstream's conversion webhooks return for the objects as the 0.37 API server
stores them (that is, after the v1beta1 CRD's defaults are applied), with one difference that a
webhook cannot make but a config file can: `kubelet` moves from the NodePools onto the EC2NodeClass
they reference, instead of into a compatibility annotation. Upstream sources (read for behaviour):

- kubernetes-sigs/karpenter v1.0.9 (what aws/karpenter-provider-aws v1.0.14 pins),
  pkg/apis/v1/nodepool_conversion.go, NodePool.ConvertFrom / NodePoolSpec.convertFrom /
  Disruption.convertFrom / NodeClaimTemplate.convertFrom, and nodepool_conversion_test.go;
- aws/karpenter-provider-aws v1.0.14, pkg/apis/v1/ec2nodeclass_conversion.go,
  EC2NodeClass.ConvertFrom / EC2NodeClassSpec.convertFrom, and ec2nodeclass_conversion_test.go;
- the v1 migration guide, tests/reference/karpenter-1.0.14/v1-migration.md;
- the v1beta1 defaults, from the 0.37.2 CRDs in karpenter_model/releases/data/0.37.2/crds/.

Rules (each change is one line, `path: old -> new`, or `from -> to: value` for a move, with `  # why`
where it helps; `(unset)` and `(removed)` stand for a missing key):

NodePool
  1. spec.disruption.expireAfter moves to spec.template.spec.expireAfter (also "Never"); unset is
     written as v1beta1's default, 720h (convertFrom: `Template.Spec.ExpireAfter = Disruption.ExpireAfter`).
  2. consolidationPolicy WhenUnderutilized (also when unset: the v1beta1 default) becomes
     WhenEmptyOrUnderutilized with consolidateAfter 0s, which v1 requires (Disruption.convertFrom).
     Deviation: consolidateAfter "Never" with WhenUnderutilized is kept as "Never" (0.37 reads it as
     "never consolidate"; the webhook's 0s would turn consolidation on). WhenEmpty and its
     consolidateAfter are kept. Budgets are not touched (same fields, same default).
  3. nodeClassRef: apiVersion `<group>/<version>` becomes `group: <group>`; unset group and kind are
     written as karpenter.k8s.aws and EC2NodeClass (NodeClaimTemplate.convertFrom; v1 requires both).
  4. template.spec.kubelet moves to the referenced node class's spec.kubelet (v1 has it there; the
     webhook keeps it in the compatibility.karpenter.sh/v1beta1-kubelet-conversion annotation).
  5. template.spec.resources, which v1 does not have, is dropped (the webhook drops it too).
EC2NodeClass
  6. amiFamily AL2, AL2023, Bottlerocket, Windows2019, Windows2022 without amiSelectorTerms becomes
     amiSelectorTerms [{alias: <family lowercased>@latest}], amiFamily removed; with amiSelectorTerms
     both are kept. Custom keeps amiFamily and its terms.
  7. amiFamily Ubuntu with amiSelectorTerms becomes AL2 (same UserData format), keeping the terms; without
     blockDeviceMappings, Ubuntu's old default root volume (/dev/sda1, 20Gi gp3, encrypted) is written.
  8. metadataOptions.httpPutResponseHopLimit, unset, is written as v1beta1's default 2 (v1's is 1).
karpenter.version becomes the target release, and karpenter.previous_version the config's release when the
target directly follows it (a migration step; README, "Migrating to v1"). Nothing else in the file changes.

Refused (ConversionError, every problem listed): a config already on a v1 release; Ubuntu without
amiSelectorTerms (v1 has no Ubuntu alias; the webhook would make the class unusable); an unknown or
missing amiFamily; NodePools sharing a node class with different kubelet settings (or some with and
some without); kubelet on a pool whose class is not in the config; a nodeClassRef to anything but
karpenter.k8s.aws EC2NodeClass; node annotations v1 removed (karpenter.sh/do-not-consolidate,
karpenter.sh/do-not-evict); the tag eks:eks-cluster-name, which v1 reserves; a spec that is not a
mapping or is not valid v1beta1 for the source release's CRD; and any result the target's CRD rejects.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from karpenter_model.base import ConfigError
from karpenter_model.helm_overrides import helm_value_problems
from karpenter_model.loading import read_config_data
from karpenter_model.naming import ResourceNames
from karpenter_model.releases import DEFAULT_VERSION, NODE_CLASS_GROUP, NODE_POOL_GROUP, PROFILES

__all__ = ["DEFAULT_TARGET", "TARGETS", "Conversion", "ConversionError", "convert", "convert_config", "main"]

# The v1 releases; the default is the oldest, the bridge every 0.37 install crosses (v1-migration.md).
TARGETS = tuple(version for version, profile in PROFILES.items() if profile.api_version == "v1")
DEFAULT_TARGET = TARGETS[0]
# The v1beta1 release with conversion webhooks, which a running 0.37 install must reach before v1 (v1-migration.md).
WEBHOOK_STEP = next(version for version, profile in PROFILES.items() if profile.api_version == "v1beta1" and profile.webhooks)
# The v1beta1 release lines this converter reads, as upstream's guides name them.
SOURCE_LINES = " or ".join(sorted({f"{profile.minor}.x" for profile in PROFILES.values() if profile.api_version == "v1beta1"}))

NODE_CLASS_KIND = "EC2NodeClass"
NODE_POOL_KIND = "NodePool"
# v1beta1 CRD defaults (0.37.2 crds) that v1 changed, or that v1 needs written out.
V1BETA1_EXPIRE_AFTER = "720h"
V1BETA1_CONSOLIDATION_POLICY = "WhenUnderutilized"
V1BETA1_HOP_LIMIT = 2
V1_HOP_LIMIT = 1
# v1beta1 families that have a v1 alias (ec2nodeclass_conversion.go, ConvertFrom's first case).
ALIAS_FAMILIES = ("AL2", "AL2023", "Bottlerocket", "Windows2019", "Windows2022")
V1BETA1_FAMILIES = (*ALIAS_FAMILIES, "Custom", "Ubuntu")
# What ConvertFrom writes for an Ubuntu class without blockDeviceMappings: v1beta1's Ubuntu default.
UBUNTU_ROOT_VOLUME = {
    "deviceName": "/dev/sda1",
    "rootVolume": True,
    "ebs": {"encrypted": True, "volumeType": "gp3", "volumeSize": "20Gi"},
}
REMOVED_NODE_ANNOTATIONS = {
    "karpenter.sh/do-not-consolidate": "karpenter.sh/do-not-disrupt blocks all voluntary disruption, not only consolidation",
    "karpenter.sh/do-not-evict": "it was a pod annotation; karpenter.sh/do-not-disrupt replaces it on pods",
}
V1_RESERVED_TAGS = ("eks:eks-cluster-name",)
REGISTRATION_TAINT = "karpenter.sh/unregistered"

UNSET = "(unset)"
REMOVED = "(removed)"


class ConversionError(ValueError):
    """What cannot be converted; `problems` holds one line per problem, all of them."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class Conversion:
    data: dict[str, Any]
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # not changes: what the user may still have to do


def convert(data: dict[str, Any], to: str = DEFAULT_TARGET) -> tuple[dict[str, Any], list[str]]:
    """The config with its node classes and pools in v1 for release `to`, and one line per change made."""
    result = convert_config(data, to)
    return result.data, result.changes


def convert_config(data: dict[str, Any], to: str = DEFAULT_TARGET) -> Conversion:
    """As convert(), plus warnings. `data` is not modified."""
    if not isinstance(data, dict):
        raise ConversionError([f"the config must be a mapping of keys to values, got {type(data).__name__}"])
    if to not in TARGETS:
        raise ConversionError([f"target release {to!r} is not supported; allowed: {', '.join(TARGETS)}"])
    source = _source_release(data)
    return _Converter(_tree_copy(data), source, to).run()


# -- the conversion ------------------------------------------------------------------------------


def _source_release(data: dict[str, Any]) -> str:
    karpenter = data.get("karpenter")
    if karpenter is not None and not isinstance(karpenter, dict):
        raise ConversionError([f"karpenter: must be a mapping, got {type(karpenter).__name__}"])
    version = (karpenter or {}).get("version", DEFAULT_VERSION)
    if not isinstance(version, str) or version not in PROFILES:
        known = ", ".join(sorted(PROFILES))
        raise ConversionError([f"karpenter.version: {version!r} is not a release this app knows; allowed: {known}"])
    if PROFILES[version].api_version == "v1":
        raise ConversionError(
            [
                f"karpenter.version: {version} already stores the v1 API; its node_classes and node_pools are v1 already, nothing to convert"
            ]
        )
    return version


_Entry = tuple[str, str, dict[str, Any]]  # (where, e.g. node_pools[0]; name; spec)


class _Converter:
    def __init__(self, data: dict[str, Any], source: str, to: str):
        self.data, self.source, self.to = data, source, to
        self.changes: list[str] = []
        self.warnings: list[str] = []
        self.problems: list[str] = []
        self.bad: set[str] = set()  # entries (node_classes[0], ...) with a problem of their own

    def run(self) -> Conversion:
        classes = self._entries("node_classes")
        pools = self._entries("node_pools")
        self._version()
        invalid = self._check_input(classes, pools)  # before anything changes
        self._check_helm_values()
        for where, _, spec in classes:
            self._node_class(where, spec)
        kubelets = [self._node_pool(where, spec) for where, _, spec in pools]
        self._move_kubelets(classes, pools, kubelets)
        for where, lines in invalid.items():  # an entry with a problem of its own says it better
            if where not in self.bad:
                self.problems += lines
        self.changes = self._ordered(self.changes)
        if not self.problems:
            self._check_output(classes, pools)
        if self.problems:
            raise ConversionError(self.problems)
        if not PROFILES[self.source].webhooks:
            self.warnings.append(
                f"Karpenter {self.source} runs no conversion webhooks: a cluster running it must first move to "
                f"{WEBHOOK_STEP}, the v1beta1 release that runs them, before this config is applied (v1-migration.md, steps 1-6)"
            )
        if self.to != DEFAULT_TARGET:
            self.warnings.append(
                f"a cluster running {PROFILES[self.source].minor} must pass through {DEFAULT_TARGET} before {self.to} (v1-migration.md); "
                f"convert with --to {DEFAULT_TARGET} for that step, or use this config for a new install or a cluster already on "
                f"{PROFILES[DEFAULT_TARGET].minor}.x"
            )
        return Conversion(self.data, self.changes, self.warnings)

    # -- helpers

    def _change(self, path: str, old: Any, new: Any, why: str = "") -> None:
        line = f"{path}: {_show(old)} -> {_show(new)}"
        self.changes.append(f"{line}  # {why}" if why else line)

    def _move(self, source: str, target: str, value: Any, why: str = "") -> None:
        line = f"{source} -> {target}: {_show(value)}"
        self.changes.append(f"{line}  # {why}" if why else line)

    def _problem(self, where: str, message: str) -> None:
        self.problems.append(message)
        self.bad.add(where)

    @staticmethod
    def _ordered(changes: list[str]) -> list[str]:
        """As in the file: karpenter.version, then each node class, then each node pool; in order made within one."""
        rank = {"karpenter": 0, "node_classes": 1, "node_pools": 2}

        def key(line: str) -> tuple[int, int]:
            match = re.match(r"(\w+)(?:\[(\d+)\])?", line)
            return (rank.get(match.group(1), 3), int(match.group(2) or 0)) if match else (3, 0)

        return sorted(changes, key=key)

    def _entries(self, key: str) -> list[_Entry]:
        items = self.data.get(key)
        if items is None:
            return []
        if not isinstance(items, list):
            self._problem(key, f"{key}: must be a list of {{name, spec}}, got {type(items).__name__}")
            return []
        entries = []
        for index, item in enumerate(items):
            where = f"{key}[{index}]"
            if not isinstance(item, dict):
                self._problem(where, f"{where}: must be a mapping with name and spec, got {type(item).__name__}: {_short(item)}")
                continue
            name, spec = item.get("name"), item.get("spec")
            if not isinstance(name, str) or not name:
                self._problem(where, f"{where}.name: must be a non-empty string, got {_short(name)}")
            if not isinstance(spec, dict):
                self._problem(
                    where,
                    f"{where}.spec: must be a mapping (a v1beta1 {_kind(key)} spec), got {type(spec).__name__}: {_short(spec)}",
                )
                continue
            entries.append((where, name if isinstance(name, str) else "", spec))
        return entries

    def _version(self) -> None:
        karpenter = self.data.get("karpenter")
        if karpenter is None:
            karpenter = self.data["karpenter"] = {}
        old = karpenter.get("version")
        _put(karpenter, "version", self.to, first=True)
        self._change("karpenter.version", old if old is not None else f"(unset: {DEFAULT_VERSION})", self.to)
        previous = karpenter.get("previous_version")
        if self.source in PROFILES[self.to].follows:
            _put(karpenter, "previous_version", self.source, after="version")
            self._change(
                "karpenter.previous_version", previous if previous is not None else "(unset)", self.source, "a migration step"
            )
        elif previous is not None:
            del karpenter["previous_version"]
            self._change("karpenter.previous_version", previous, "(removed)", f"{self.to} does not directly follow {self.source}")
        acknowledged = karpenter.get("acknowledge_unsupported_kubernetes")
        if (
            isinstance(acknowledged, str)
            and re.fullmatch(r"1\.\d+", acknowledged)
            and PROFILES[self.to].supports(int(acknowledged[2:]))
        ):
            del karpenter["acknowledge_unsupported_kubernetes"]
            self._change(
                "karpenter.acknowledge_unsupported_kubernetes",
                acknowledged,
                "(removed)",
                f"{self.to} supports Kubernetes {acknowledged}",
            )

    # -- EC2NodeClass

    def _node_class(self, where: str, spec: dict[str, Any]) -> None:
        path = f"{where}.spec"
        family = spec.get("amiFamily")
        terms = spec.get("amiSelectorTerms")
        has_terms = isinstance(terms, list) and len(terms) > 0
        if family is None:
            self._problem(where, f"{path}.amiFamily: required in v1beta1 and missing; allowed: {', '.join(V1BETA1_FAMILIES)}")
        elif family in ALIAS_FAMILIES and not has_terms:
            alias = [{"alias": f"{family.lower()}@latest"}]
            spec.pop("amiSelectorTerms", None)  # an empty list
            _rename(spec, "amiFamily", "amiSelectorTerms", alias)
            self._change(f"{path}.amiFamily", family, REMOVED, "the alias names the family")
            self._change(
                f"{path}.amiSelectorTerms",
                terms if terms is not None else UNSET,
                alias,
                f"v1 selects {family}'s latest EKS AMI by alias",
            )
        elif family in ALIAS_FAMILIES or family == "Custom":
            if family == "Custom" and REGISTRATION_TAINT not in str(spec.get("userData", "")):
                self.warnings.append(
                    f"{path}.userData: with amiFamily Custom, v1 needs the node to register with the taint "
                    f"{REGISTRATION_TAINT}:NoExecute; add it to your UserData (v1-migration.md, New Registration Taint)"
                )
        elif family == "Ubuntu":
            if not has_terms:
                self._problem(
                    where,
                    f"{path}.amiFamily: Ubuntu without amiSelectorTerms cannot be converted: v1 dropped the Ubuntu family and has no "
                    "Ubuntu alias (the webhook would mark the class incompatible and its NodePools NotReady); add amiSelectorTerms "
                    "that select your Ubuntu AMIs (id, name or tags) and convert again, or move to an alias family such as AL2023",
                )
            else:
                spec["amiFamily"] = "AL2"
                self._change(f"{path}.amiFamily", "Ubuntu", "AL2", "v1 has no Ubuntu family; AL2 has the same UserData format")
                if spec.get("blockDeviceMappings") is None:
                    _put(spec, "blockDeviceMappings", [_tree_copy(UBUNTU_ROOT_VOLUME)], after="amiSelectorTerms")
                    self._change(
                        f"{path}.blockDeviceMappings",
                        UNSET,
                        [UBUNTU_ROOT_VOLUME],
                        "Ubuntu's v1beta1 default root volume; AL2's differs",
                    )
                self.warnings.append(
                    f"{path}.amiFamily: Ubuntu now boots with AL2 UserData; upstream does not guarantee this stays compatible, "
                    "amiFamily Custom with your own UserData is the long-term choice"
                )
        else:
            self._problem(
                where, f"{path}.amiFamily: {family!r} is not a v1beta1 AMI family; allowed: {', '.join(V1BETA1_FAMILIES)}"
            )

        options = spec.get("metadataOptions")
        if options is None:
            _put(spec, "metadataOptions", {"httpPutResponseHopLimit": V1BETA1_HOP_LIMIT})
            self._change(f"{path}.metadataOptions.httpPutResponseHopLimit", UNSET, V1BETA1_HOP_LIMIT, _HOP_WHY)
        elif isinstance(options, dict) and "httpPutResponseHopLimit" not in options:
            _put(options, "httpPutResponseHopLimit", V1BETA1_HOP_LIMIT, after="httpProtocolIPv6")
            self._change(f"{path}.metadataOptions.httpPutResponseHopLimit", UNSET, V1BETA1_HOP_LIMIT, _HOP_WHY)

        tags = spec.get("tags")
        for key in V1_RESERVED_TAGS:
            if isinstance(tags, dict) and key in tags:
                self._problem(
                    where, f"{path}.tags[{key!r}]: v1 reserves this tag (Karpenter sets it to the cluster name); remove it"
                )

    # -- NodePool

    def _node_pool(self, where: str, spec: dict[str, Any]) -> tuple[str | None, Any]:
        """Converts the pool in place; returns (referenced class name, kubelet removed from the pool or None)."""
        path = f"{where}.spec"
        template = spec.get("template")
        tspec = template.get("spec") if isinstance(template, dict) else None
        if not isinstance(tspec, dict):
            self._problem(
                where, f"{path}.template.spec: must be a mapping (nodeClassRef, requirements, ...), got {_short(tspec)}"
            )
            return None, None
        tpath = f"{path}.template.spec"

        # 3. nodeClassRef
        ref = tspec.get("nodeClassRef")
        ref_name = None
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            self._problem(where, f"{tpath}.nodeClassRef: must be a mapping with a name, got {_short(ref)}")
        else:
            ref_name = ref["name"]
            api_version = ref.get("apiVersion")
            group = api_version.split("/")[0] if isinstance(api_version, str) and api_version else NODE_CLASS_GROUP
            kind = ref.get("kind") or NODE_CLASS_KIND
            if (group, kind) != (NODE_CLASS_GROUP, NODE_CLASS_KIND):
                self._problem(
                    where,
                    f"{tpath}.nodeClassRef: refers to {kind} of {group}; this app's node classes are {NODE_CLASS_KIND} of {NODE_CLASS_GROUP}",
                )
            else:
                new_ref = {"group": group, "kind": kind, "name": ref_name}
                new_ref.update({k: v for k, v in ref.items() if k not in ("apiVersion", "group", "kind", "name")})
                if api_version is not None:
                    self._change(f"{tpath}.nodeClassRef.apiVersion", api_version, REMOVED, "v1 names the group only")
                self._change(f"{tpath}.nodeClassRef.group", UNSET, group)
                if ref.get("kind") != kind:
                    self._change(f"{tpath}.nodeClassRef.kind", ref.get("kind", UNSET), kind, "v1 requires it")
                tspec["nodeClassRef"] = new_ref

        # 5. resources
        if "resources" in tspec:
            self._change(f"{tpath}.resources", tspec.pop("resources"), REMOVED, "not a v1 field; the webhook drops it too")

        # removed node annotations
        metadata = template.get("metadata") if isinstance(template, dict) else None
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        for key, why in REMOVED_NODE_ANNOTATIONS.items():
            if isinstance(annotations, dict) and key in annotations:
                self._problem(
                    where,
                    f"{path}.template.metadata.annotations[{key!r}]: v1 removed this annotation and its replacement, "
                    f"karpenter.sh/do-not-disrupt, is not equivalent ({why}); remove it, or write do-not-disrupt if that is what you mean",
                )

        # 1, 2: disruption
        disruption = spec.get("disruption")
        if disruption is None:
            disruption = {}
            _put(spec, "disruption", disruption)
        if not isinstance(disruption, dict):
            self._problem(where, f"{path}.disruption: must be a mapping, got {_short(disruption)}")
        else:
            self._disruption(where, path, tpath, tspec, disruption)

        # 4. kubelet (moved once every pool is known)
        kubelet = tspec.pop("kubelet", None)
        return ref_name, kubelet

    def _disruption(self, where: str, path: str, tpath: str, tspec: dict[str, Any], disruption: dict[str, Any]) -> None:
        dpath = f"{path}.disruption"
        if "expireAfter" in disruption:
            expire = disruption.pop("expireAfter")
            _put(tspec, "expireAfter", expire, after="nodeClassRef")
            self._move(f"{dpath}.expireAfter", f"{tpath}.expireAfter", expire)
        else:
            _put(tspec, "expireAfter", V1BETA1_EXPIRE_AFTER, after="nodeClassRef")
            self._change(
                f"{tpath}.expireAfter", UNSET, V1BETA1_EXPIRE_AFTER, "v1beta1's default of disruption.expireAfter, written out"
            )

        policy = disruption.get("consolidationPolicy")
        after = disruption.get("consolidateAfter")
        effective = V1BETA1_CONSOLIDATION_POLICY if policy is None else policy
        if effective == "WhenUnderutilized":
            if after is not None and after != "Never":
                self._problem(
                    where,
                    f"{dpath}.consolidateAfter: {after!r} with WhenUnderutilized is not valid v1beta1 (only 'Never' is); fix the input",
                )
                return
            _put(disruption, "consolidationPolicy", "WhenEmptyOrUnderutilized", first=True)
            why = "" if policy is not None else "v1beta1's default was WhenUnderutilized"
            self._change(f"{dpath}.consolidationPolicy", policy if policy is not None else UNSET, "WhenEmptyOrUnderutilized", why)
            if after is None:
                _put(disruption, "consolidateAfter", "0s", after="consolidationPolicy")
                self._change(f"{dpath}.consolidateAfter", UNSET, "0s", "v1 requires it; 0s is WhenUnderutilized's behaviour")
            else:  # "Never": kept (the webhook would write 0s; 0.37 reads Never as: do not consolidate)
                self.warnings.append(
                    f"{dpath}.consolidateAfter: 'Never' kept, so consolidation stays off as in {PROFILES[self.source].minor} "
                    "(upstream's webhook writes 0s, which would turn it on)"
                )
        elif effective == "WhenEmpty":
            if after is None:
                self._problem(
                    where,
                    f"{dpath}.consolidateAfter: required with consolidationPolicy WhenEmpty in v1beta1 and missing; fix the input",
                )
        else:
            self._problem(
                where, f"{dpath}.consolidationPolicy: {policy!r} is not a v1beta1 policy; allowed: WhenEmpty, WhenUnderutilized"
            )

    def _move_kubelets(self, classes: list[_Entry], pools: list[_Entry], kubelets: list[tuple[str | None, Any]]) -> None:
        by_name: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for where, name, spec in classes:
            by_name.setdefault(name, []).append((where, spec))
        users: dict[str, list[tuple[str, str, Any]]] = {}
        for (where, name, _), (ref, kubelet) in zip(pools, kubelets, strict=True):
            kubelet = kubelet if kubelet != {} else None
            if ref is None:
                continue
            if ref not in by_name or len(by_name[ref]) != 1:
                if kubelet is not None:
                    what = "names no node class" if ref not in by_name else "names more than one node class"
                    self._problem(
                        where,
                        f"{where}.spec.template.spec.kubelet: cannot move to a node class: nodeClassRef.name {ref!r} {what} in this config",
                    )
                continue
            users.setdefault(ref, []).append((where, name, kubelet))
        for ref, using in users.items():
            ((class_where, class_spec),) = by_name[ref]
            settings = [k for _, _, k in using]
            if all(k is None for k in settings):
                continue
            if any(k != settings[0] for k in settings):
                shown = "; ".join(f"{w} ({n}): {_show(k) if k is not None else 'none'}" for w, n, k in using)
                self._problem(
                    class_where,
                    f"{class_where} ({ref}): its NodePools set different kubelet settings, and v1 keeps kubelet on the EC2NodeClass: {shown}. "
                    "Give each distinct kubelet its own node class (same spec, new name), point the pools at them and convert again "
                    "(v1-migration.md, Kubelet Configuration Migration); this drifts the nodes of the repointed pools",
                )
                continue
            if "kubelet" in class_spec:
                continue  # not v1beta1; the input check reports it
            _put(class_spec, "kubelet", settings[0])
            for where, _, _ in using:
                self._move(f"{where}.spec.template.spec.kubelet", f"{class_where}.spec.kubelet", settings[0])
        for (where, _, _), (_, kubelet) in zip(pools, kubelets, strict=True):
            if kubelet == {}:
                self._change(f"{where}.spec.template.spec.kubelet", {}, REMOVED, "empty")

    # -- CRD checks

    def _check_input(self, classes: list[_Entry], pools: list[_Entry]) -> dict[str, list[str]]:
        """What the source release's CRD refuses in each spec, by entry: only valid v1beta1 is converted."""
        role = self._role_placeholder()
        invalid: dict[str, list[str]] = {}
        for kind, entries in ((NODE_CLASS_KIND, classes), (NODE_POOL_KIND, pools)):
            for where, name, spec in entries:
                obj = _object(kind, "v1beta1", name, spec, role)
                lines = [
                    f"{line} (not valid v1beta1 for Karpenter {self.source}; fix the input)"
                    for line in _violations(self.source, kind, obj, where)
                ]
                if lines:
                    invalid[where] = lines
        return invalid

    def _check_output(self, classes: list[_Entry], pools: list[_Entry]) -> None:
        role = self._role_placeholder()
        for kind, entries in ((NODE_CLASS_KIND, classes), (NODE_POOL_KIND, pools)):
            for where, name, spec in entries:
                obj = _object(kind, "v1", name, spec, role)
                for line in _violations(self.to, kind, obj, where):
                    self.problems.append(f"{line} (after conversion: Karpenter {self.to}'s CRD refuses it)")

    def _check_helm_values(self) -> None:
        """Extra chart values must suit the target release's chart (1.14.1's has no `webhook`, for one); nothing is dropped silently."""
        values = (self.data.get("karpenter") or {}).get("helm_values")
        if isinstance(values, dict):
            for path, value, why in helm_value_problems(PROFILES[self.to], values):
                self.problems.append(f"karpenter.helm_values.{path}: got {_show(value)}: {why} (Karpenter {self.to}'s chart)")

    def _role_placeholder(self) -> str:
        """Only for the CRD checks: the app fills in a class's missing role, which the CRD requires (or instanceProfile)."""
        prefix = self.data.get("name_prefix") or self.data.get("cluster_name")
        return ResourceNames(prefix if isinstance(prefix, str) and prefix else "cluster").node_role


_HOP_WHY = f"v1beta1's default, written out; v1's default is {V1_HOP_LIMIT}, which stops pods without hostNetwork reaching IMDS"


def _kind(key: str) -> str:
    return NODE_CLASS_KIND if key == "node_classes" else NODE_POOL_KIND


def _object(kind: str, api: str, name: str, spec: dict[str, Any], role: str) -> dict[str, Any]:
    group = NODE_CLASS_GROUP if kind == NODE_CLASS_KIND else NODE_POOL_GROUP
    body = _tree_copy(spec)
    if kind == NODE_CLASS_KIND and "role" not in body and "instanceProfile" not in body:
        body["role"] = role
    return {"apiVersion": f"{group}/{api}", "kind": kind, "metadata": {"name": name or "unnamed"}, "spec": body}


def _violations(release: str, kind: str, obj: dict[str, Any], where: str) -> list[str]:
    from karpenter_model.crd_validation import validator  # compiled once per release and kind

    lines = []
    for violation in validator(PROFILES[release], kind).validate(obj):
        parts = list(violation.path)
        if parts[:2] == ["metadata", "name"]:
            parts = ["name"]
        path = where + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" if str(p).replace("-", "_").isidentifier() else f"[{p!r}]" for p in parts
        )
        shown = f": got {_short(violation.value)}" if violation.value is not None else ""
        lines.append(f"{path}{shown}: {violation.message}")
    return lines


# -- mapping and value helpers --------------------------------------------------------------------


def _put(mapping: dict[str, Any], key: str, value: Any, after: str | None = None, first: bool = False) -> None:
    """Set key in place; a new key goes first, right after `after` (when present), or last."""
    if key in mapping:
        mapping[key] = value
        return
    items = list(mapping.items())
    if first:
        position = 0
    elif after is not None and after in mapping:
        position = [k for k, _ in items].index(after) + 1
    else:
        position = len(items)
    items.insert(position, (key, value))
    mapping.clear()
    mapping.update(items)


def _rename(mapping: dict[str, Any], old: str, new: str, value: Any) -> None:
    """Replace key old by new (with value) at the same position."""
    items = [(new, value) if k == old else (k, v) for k, v in mapping.items()]
    mapping.clear()
    mapping.update(items)


def _tree_copy(value: Any) -> Any:
    """A copy with no shared parts: YAML aliases become separate values, so a change never leaks (the reader
    has already bounded how many values the aliases expand to)."""
    if isinstance(value, dict):
        return {k: _tree_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tree_copy(v) for v in value]
    return value


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 20).strip()
    return yaml.safe_dump(value).removesuffix("\n...\n").strip()


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- reading and writing files ---------------------------------------------------------------------


def read_config(path: Path) -> dict[str, Any]:
    """The input config's data, through the app's own bounded reader: refused exactly as main.py refuses it."""
    try:
        data, _ = read_config_data(path)
    except ConfigError as exc:
        raise ConversionError([str(exc)]) from None
    return data


class _Dumper(yaml.SafeDumper):
    """yaml.safe_dump's dumper, also quoting strings a YAML 1.2 reader would take for numbers (an AWS account
    id such as 099720109477, a version such as 1.0.14); PyYAML, a YAML 1.1 library, would write them plain."""


def _represent_str(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    if _NUMBER_LIKE.fullmatch(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


_NUMBER_LIKE = re.compile(r"[-+]?(\.?[0-9][0-9_.]*([eE][-+]?[0-9]+)?|0[xX][0-9a-fA-F_]+|0o[0-7]+|\.(inf|Inf|INF|nan|NaN|NAN))")
_Dumper.add_representer(str, _represent_str)


def dump_config(data: dict[str, Any], header: str = "") -> str:
    """Block style, keys in their order (as yaml.safe_dump(sort_keys=False)), after a header of comment lines."""
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def _write(path: Path, text: str) -> None:
    """All or nothing: a temporary file beside the target, renamed over it."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m karpenter_model.conversion",
        description=f"Rewrite a config's v1beta1 node_classes and node_pools (Karpenter {SOURCE_LINES}) into v1, as upstream's "
        "conversion webhooks would, and list every change.",
    )
    parser.add_argument("input", type=Path, help=f"the v1beta1 config (karpenter.version {SOURCE_LINES} or unset)")
    parser.add_argument("output", type=Path, help="where to write the converted config (never the input)")
    parser.add_argument("--to", default=DEFAULT_TARGET, choices=TARGETS, help=f"target release (default {DEFAULT_TARGET})")
    parser.add_argument("--force", action="store_true", help="overwrite an existing OUTPUT")
    args = parser.parse_args(argv)

    result: Conversion | None = None
    try:
        data = read_config(args.input)
        problems = _check_output(args.input, args.output, args.force)
        if not problems:
            result = convert_config(data, args.to)
    except ConversionError as exc:
        problems = exc.problems
    if problems or result is None:
        sys.stderr.write("".join(f"error: {line}\n" for line in problems))
        return 1
    header = (
        f"# Converted from {args.input.name} to the v1 API of Karpenter {args.to} by `python -m karpenter_model.conversion`;\n"
        "# the comments of the original are not carried over.\n"
    )
    try:
        _write(args.output, dump_config(result.data, header))
    except OSError as exc:
        sys.stderr.write(f"error: {args.output}: {exc.strerror or exc}\n")
        return 1
    sys.stdout.write("".join(f"{line}\n" for line in result.changes))
    sys.stderr.write("".join(f"warning: {line}\n" for line in result.warnings))
    return 0


def _check_output(source: Path, target: Path, force: bool) -> list[str]:
    """Problems with where the converted config would go (the input, read already, exists)."""
    if target.exists() or target.is_symlink():
        if target.exists() and os.path.samefile(source, target):
            return [f"{target}: is the input; write the converted config to a new file (the input's comments would be lost)"]
        if target.is_dir():
            return [f"{target}: is a directory"]
        if not force:
            return [f"{target}: exists; pass --force to overwrite it"]
    if not target.parent.is_dir():
        return [f"{target.parent}: no such directory"]
    return []


if __name__ == "__main__":
    sys.exit(main())
