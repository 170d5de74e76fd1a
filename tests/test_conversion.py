"""karpenter_model.conversion: a config's v1beta1 node classes and pools rewritten into v1, as upstream's
conversion webhooks would (kubernetes-sigs/karpenter v1.0.9 nodepool_conversion.go, aws/karpenter-provider-aws
v1.0.14 ec2nodeclass_conversion.go), every change listed, and what cannot be converted refused."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_model import conversion
from karpenter_model.conversion import ConversionError, convert, convert_config, main
from karpenter_model.crd_validation import validator
from karpenter_model.releases import PROFILES
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
CASES = Path(__file__).resolve().parent / "conversion_cases"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml")) + sorted((EXAMPLES / "migration").glob("*.yaml"))
ROLE = "aws-2026-eks-karpenter-node"
REF = {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def is_v1beta1(data: dict[str, Any]) -> bool:
    return PROFILES[(data.get("karpenter") or {}).get("version", "0.37.2")].api_version == "v1beta1"


def v1_problems(data: dict[str, Any], release: str = "1.0.14") -> list[str]:
    """What the release's CRD (schema and CEL rules) says about every class and pool of a converted config."""
    found = []
    for key, kind, api in (
        ("node_classes", "EC2NodeClass", "karpenter.k8s.aws/v1"),
        ("node_pools", "NodePool", "karpenter.sh/v1"),
    ):
        for item in data[key]:
            spec = dict(item["spec"])
            if kind == "EC2NodeClass" and "instanceProfile" not in spec:
                spec.setdefault("role", ROLE)  # what the app fills in
            obj = {"apiVersion": api, "kind": kind, "metadata": {"name": item["name"]}, "spec": spec}
            found += [f"{key} {item['name']}: {v}" for v in validator(PROFILES[release], kind).validate(obj)]
    return found


def node_class(**spec: Any) -> dict[str, Any]:
    """A v1beta1 EC2NodeClass spec; a keyword set to None removes that key."""
    base: dict[str, Any] = {
        "amiFamily": "AL2",
        "role": ROLE,
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "aws-2026-eks"}}],
        "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "aws-2026-eks"}}],
    }
    base.update(spec)
    return {k: v for k, v in base.items() if v is not None}


def node_pool(
    disruption: dict[str, Any] | None = None, ref: dict[str, Any] | None = None, **template_spec: Any
) -> dict[str, Any]:
    spec = {
        "template": {
            "spec": {
                "nodeClassRef": ref if ref is not None else {"name": "default"},
                "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}],
                **template_spec,
            }
        }
    }
    if disruption is not None:
        spec["disruption"] = disruption
    return spec


def config(
    classes: dict[str, dict[str, Any]] | None = None, pools: dict[str, dict[str, Any]] | None = None, **top: Any
) -> dict[str, Any]:
    data = {"cluster_name": "aws-2026-eks", "region": "us-east-1", **top}
    data["node_classes"] = [{"name": n, "spec": s} for n, s in (classes or {"default": node_class()}).items()]
    data["node_pools"] = [{"name": n, "spec": s} for n, s in (pools or {"default": node_pool()}).items()]
    return data


def converted(data: dict[str, Any], to: str = "1.0.14") -> tuple[dict[str, Any], list[str]]:
    """convert(), and the result passes the target's CRD: every rule case is checked for validity too."""
    out, changes = convert(data, to)
    assert v1_problems(out, to) == []
    return out, changes


def refused(data: dict[str, Any], to: str = "1.0.14") -> list[str]:
    with pytest.raises(ConversionError) as caught:
        convert(data, to)
    assert caught.value.problems and str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def pool_of(out: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return out["node_pools"][index]["spec"]


def class_of(out: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return out["node_classes"][index]["spec"]


# -- the bundled examples --------------------------------------------------------------------------


EXPECTED_EXAMPLE_CHANGES = [
    "karpenter.version: (unset: 0.37.2) -> 1.0.14",
    "node_classes[0].spec.amiFamily: AL2 -> (removed)  # the alias names the family",
    "node_classes[0].spec.amiSelectorTerms: (unset) -> [{alias: al2@latest}]  # v1 selects AL2's latest EKS AMI by alias",
    "node_pools[0].spec.template.spec.nodeClassRef.group: (unset) -> karpenter.k8s.aws",
    "node_pools[0].spec.template.spec.nodeClassRef.kind: (unset) -> EC2NodeClass  # v1 requires it",
    "node_pools[0].spec.template.spec.expireAfter: (unset) -> 720h  # v1beta1's default of disruption.expireAfter, written out",
    "node_pools[0].spec.disruption.consolidationPolicy: WhenUnderutilized -> WhenEmptyOrUnderutilized",
    "node_pools[0].spec.disruption.consolidateAfter: (unset) -> 0s  # v1 requires it; 0s is WhenUnderutilized's behaviour",
]


def test_seed_example_converts_to_valid_1_0_14_with_the_expected_changes():
    data = load(EXAMPLES / "aws-2026-eks.yaml")
    out, changes = convert(data, "1.0.14")
    assert v1_problems(out, "1.0.14") == []
    assert changes == EXPECTED_EXAMPLE_CHANGES
    # nothing outside karpenter.version, node_classes and node_pools changes, and the key order is kept
    assert list(out) == list(data)
    assert {k: v for k, v in out.items() if k not in ("karpenter", "node_classes", "node_pools")} == {
        k: v for k, v in data.items() if k not in ("karpenter", "node_classes", "node_pools")
    }
    assert out["karpenter"] == {"version": "1.0.14", **data["karpenter"]}


def test_seed_example_converts_to_the_intent_of_the_hand_written_1_0_14_example():
    """Where they overlap. The hand-written example differs on purpose in two places: it adds kubelet
    settings the seed never had, and it uses consolidateAfter 30s (what karpenter.tf meant, which v1beta1
    could not express); the converter keeps 0.37's behaviour, 0s."""
    out, _ = convert(load(EXAMPLES / "aws-2026-eks.yaml"), "1.0.14")
    target = load(EXAMPLES / "aws-2026-eks-1.0.14.yaml")
    assert out["karpenter"] == target["karpenter"]
    for key in ("node_classes", "node_pools"):
        assert [i["name"] for i in out[key]] == [i["name"] for i in target[key]]
    got_class, want_class = class_of(out), class_of(target)
    assert got_class == {k: v for k, v in want_class.items() if k != "kubelet"}
    assert list(got_class) == [k for k in want_class if k != "kubelet"]
    got_pool, want_pool = pool_of(out), copy.deepcopy(pool_of(target))
    assert want_pool["disruption"].pop("consolidateAfter") == "30s"
    assert got_pool["disruption"].pop("consolidateAfter") == "0s"
    assert got_pool == want_pool
    assert list(got_pool["template"]["spec"]) == list(want_pool["template"]["spec"])  # nodeClassRef, expireAfter, requirements


def test_seed_example_also_converts_for_1_14_1():
    out, changes = convert(load(EXAMPLES / "aws-2026-eks.yaml"), "1.14.1")
    assert v1_problems(out, "1.14.1") == []
    assert changes[0] == "karpenter.version: (unset: 0.37.2) -> 1.14.1"
    assert changes[1:] == EXPECTED_EXAMPLE_CHANGES[1:]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_example_converts_or_is_refused_as_already_v1(path):
    """v1beta1 examples convert for both targets; v1 ones are refused (never rewritten)."""
    data = load(path)
    if is_v1beta1(data):
        for to in conversion.TARGETS:
            out, changes = convert(data, to)
            assert v1_problems(out, to) == []
            assert out["karpenter"]["version"] == to and changes
            with pytest.raises(ConversionError, match="already stores the v1 API"):
                convert(out, to)  # a converted config is v1: a second run refuses it
    else:
        problems = refused(data)
        assert problems == [
            f"karpenter.version: {data['karpenter']['version']} already stores the v1 API; "
            "its node_classes and node_pools are v1 already, nothing to convert"
        ]


def test_examples_cover_both_apis():
    kinds = {is_v1beta1(load(p)) for p in EXAMPLE_FILES}
    assert kinds == {True, False}


@pytest.mark.parametrize("path", [p for p in EXAMPLE_FILES if is_v1beta1(load(p))], ids=lambda p: p.name)
def test_converted_examples_load_with_the_apps_own_loader(path, tmp_path):
    from karpenter_model.base import ConfigError
    from karpenter_model.loading import load_config

    try:
        load_config(EXAMPLES / "aws-2026-eks-1.0.14.yaml")
    except ConfigError as exc:
        pytest.skip(f"the app's loader does not read v1 configs yet: {str(exc).splitlines()[0]}")
    out = tmp_path / "converted.yaml"
    assert main([str(path), str(out)]) == 0
    loaded = load_config(out)
    assert loaded.karpenter.version == "1.0.14"


def test_golden_case(tmp_path, capsys):
    """A config touching most rules (tests/conversion_cases/README.md): the file and the change list, exactly."""
    out = tmp_path / "many-rules.yaml"
    assert main([str(CASES / "many-rules.yaml"), str(out)]) == 0
    printed = capsys.readouterr()
    assert out.read_text() == (CASES / "many-rules.1.0.14.yaml").read_text()
    assert printed.out == (CASES / "many-rules.changes.txt").read_text()
    assert v1_problems(load(out)) == []
    assert printed.err == (
        "warning: node_classes[1].spec.amiFamily: Ubuntu now boots with AL2 UserData; upstream does not guarantee "
        "this stays compatible, amiFamily Custom with your own UserData is the long-term choice\n"
    )


# -- NodePool rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("expire", ["336h", "Never", "720h"])
def test_expire_after_moves_into_the_template(expire):
    out, changes = converted(
        config(pools={"default": node_pool({"consolidationPolicy": "WhenUnderutilized", "expireAfter": expire})})
    )
    pool = pool_of(out)
    assert pool["template"]["spec"]["expireAfter"] == expire
    assert "expireAfter" not in pool["disruption"]
    assert list(pool["template"]["spec"]) == ["nodeClassRef", "expireAfter", "requirements"]
    assert f"node_pools[0].spec.disruption.expireAfter -> node_pools[0].spec.template.spec.expireAfter: {expire}" in changes


def test_unset_expire_after_is_written_as_the_v1beta1_default():
    out, changes = converted(config(pools={"default": node_pool({"consolidationPolicy": "WhenUnderutilized"})}))
    assert pool_of(out)["template"]["spec"]["expireAfter"] == "720h"
    assert any(c.startswith("node_pools[0].spec.template.spec.expireAfter: (unset) -> 720h") for c in changes)


def test_when_underutilized_becomes_when_empty_or_underutilized_after_0s():
    out, changes = converted(
        config(pools={"default": node_pool({"consolidationPolicy": "WhenUnderutilized", "budgets": [{"nodes": "5"}]})})
    )
    assert pool_of(out)["disruption"] == {
        "consolidationPolicy": "WhenEmptyOrUnderutilized",
        "consolidateAfter": "0s",
        "budgets": [{"nodes": "5"}],
    }
    assert "node_pools[0].spec.disruption.consolidationPolicy: WhenUnderutilized -> WhenEmptyOrUnderutilized" in changes
    assert any(c.startswith("node_pools[0].spec.disruption.consolidateAfter: (unset) -> 0s") for c in changes)


def test_unset_policy_is_the_v1beta1_default_when_underutilized():
    out, changes = converted(config(pools={"default": node_pool({"budgets": [{"nodes": "5"}]})}))
    assert list(pool_of(out)["disruption"].items()) == [
        ("consolidationPolicy", "WhenEmptyOrUnderutilized"),
        ("consolidateAfter", "0s"),
        ("budgets", [{"nodes": "5"}]),
    ]
    assert any(
        c.startswith("node_pools[0].spec.disruption.consolidationPolicy: (unset) -> WhenEmptyOrUnderutilized") for c in changes
    )


def test_no_disruption_block_at_all():
    out, changes = converted(config(pools={"default": node_pool(None)}))
    assert pool_of(out)["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "0s"}
    assert pool_of(out)["template"]["spec"]["expireAfter"] == "720h"
    assert len([c for c in changes if c.startswith("node_pools[0]")]) == 5  # group, kind, expireAfter, policy, consolidateAfter


def test_when_underutilized_with_never_keeps_never():
    """0.37 reads consolidateAfter Never as "do not consolidate"; the webhook's 0s would turn consolidation on."""
    result = convert_config(
        config(pools={"default": node_pool({"consolidationPolicy": "WhenUnderutilized", "consolidateAfter": "Never"})})
    )
    assert pool_of(result.data)["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "Never"}
    assert not any("consolidateAfter" in c for c in result.changes)
    assert any("consolidateAfter: 'Never' kept" in w for w in result.warnings)
    assert v1_problems(result.data) == []


@pytest.mark.parametrize("after", ["30s", "Never"])
def test_when_empty_and_its_consolidate_after_are_kept(after):
    disruption = {"consolidationPolicy": "WhenEmpty", "consolidateAfter": after}
    out, changes = converted(config(pools={"default": node_pool(dict(disruption))}))
    assert pool_of(out)["disruption"] == disruption
    assert not any("consolidat" in c for c in changes)


def test_budgets_are_untouched():
    budgets = [
        {"nodes": "0", "schedule": "0 9 * * mon-fri", "duration": "8h"},
        {"nodes": "20%"},
        {"nodes": "3", "schedule": "@daily", "duration": "10m"},
    ]
    out, changes = converted(
        config(pools={"default": node_pool({"consolidationPolicy": "WhenUnderutilized", "budgets": copy.deepcopy(budgets)})})
    )
    assert pool_of(out)["disruption"]["budgets"] == budgets
    assert not any("budgets" in c for c in changes)


def test_node_class_ref_with_only_a_name_gets_group_and_kind():
    out, changes = converted(config())
    assert pool_of(out)["template"]["spec"]["nodeClassRef"] == REF
    assert list(pool_of(out)["template"]["spec"]["nodeClassRef"]) == ["group", "kind", "name"]
    assert "node_pools[0].spec.template.spec.nodeClassRef.group: (unset) -> karpenter.k8s.aws" in changes
    assert any(c.startswith("node_pools[0].spec.template.spec.nodeClassRef.kind: (unset) -> EC2NodeClass") for c in changes)


def test_node_class_ref_api_version_becomes_group():
    ref = {"apiVersion": "karpenter.k8s.aws/v1beta1", "kind": "EC2NodeClass", "name": "default"}
    out, changes = converted(config(pools={"default": node_pool(ref=ref)}))
    assert pool_of(out)["template"]["spec"]["nodeClassRef"] == REF
    ref_changes = [c for c in changes if ".nodeClassRef." in c]
    assert ref_changes == [
        "node_pools[0].spec.template.spec.nodeClassRef.apiVersion: karpenter.k8s.aws/v1beta1 -> (removed)  # v1 names the group only",
        "node_pools[0].spec.template.spec.nodeClassRef.group: (unset) -> karpenter.k8s.aws",
    ]


def test_kubelet_moves_to_the_referenced_node_class():
    kubelet = {"maxPods": 20, "systemReserved": {"cpu": "100m"}, "evictionHard": {"memory.available": "5%"}}
    data = config(
        classes={"default": node_class(), "other": node_class(amiFamily="AL2023")},
        pools={"default": node_pool(kubelet=copy.deepcopy(kubelet)), "other": node_pool(ref={"name": "other"})},
    )
    out, changes = converted(data)
    assert class_of(out, 0)["kubelet"] == kubelet and list(class_of(out, 0))[-1] == "kubelet"
    assert "kubelet" not in class_of(out, 1)
    assert "kubelet" not in pool_of(out, 0)["template"]["spec"]
    assert (
        "node_pools[0].spec.template.spec.kubelet -> node_classes[0].spec.kubelet: "
        "{maxPods: 20, systemReserved: {cpu: 100m}, evictionHard: {memory.available: 5%}}" in changes
    )


def test_kubelet_shared_by_pools_with_the_same_settings_moves_once():
    kubelet = {"maxPods": 30}
    data = config(pools={"a": node_pool(kubelet=dict(kubelet)), "b": node_pool(kubelet=dict(kubelet))})
    out, changes = converted(data)
    assert class_of(out)["kubelet"] == kubelet
    assert [c for c in changes if "kubelet" in c] == [
        "node_pools[0].spec.template.spec.kubelet -> node_classes[0].spec.kubelet: {maxPods: 30}",
        "node_pools[1].spec.template.spec.kubelet -> node_classes[0].spec.kubelet: {maxPods: 30}",
    ]


def test_template_resources_is_dropped():
    """v1beta1's NodePool CRD allows it only empty (maxProperties 0); v1 has no such field."""
    out, changes = converted(config(pools={"default": node_pool(resources={})}))
    assert "resources" not in pool_of(out)["template"]["spec"]
    assert any(c.startswith("node_pools[0].spec.template.spec.resources: {} -> (removed)") for c in changes)


def test_other_pool_fields_are_untouched():
    pool = node_pool(
        {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "1m", "expireAfter": "24h"},
        taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}],
        startupTaints=[{"key": "init", "effect": "NoExecute"}],
    )
    pool["weight"] = 50
    pool["limits"] = {"cpu": "10", "memory": "20Gi"}
    pool["template"]["metadata"] = {"labels": {"team": "x"}, "annotations": {"example.com/a": "b"}}
    original = copy.deepcopy(pool)
    out, _ = converted(config(pools={"default": pool}))
    got = pool_of(out)
    for key in ("weight", "limits"):
        assert got[key] == original[key]
    assert got["template"]["metadata"] == original["template"]["metadata"]
    for key in ("taints", "startupTaints", "requirements"):
        assert got["template"]["spec"][key] == original["template"]["spec"][key]


# -- EC2NodeClass rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "alias"),
    [
        ("AL2", "al2@latest"),
        ("AL2023", "al2023@latest"),
        ("Bottlerocket", "bottlerocket@latest"),
        ("Windows2019", "windows2019@latest"),
        ("Windows2022", "windows2022@latest"),
    ],
)
def test_each_ami_family_becomes_its_alias(family, alias):
    out, changes = converted(config(classes={"default": node_class(amiFamily=family)}))
    spec = class_of(out)
    assert spec["amiSelectorTerms"] == [{"alias": alias}]
    assert "amiFamily" not in spec
    assert next(iter(spec)) == "amiSelectorTerms"  # where amiFamily was
    assert f"node_classes[0].spec.amiFamily: {family} -> (removed)  # the alias names the family" in changes


def test_an_empty_ami_selector_terms_list_is_refused_as_0_37_refuses_it():
    """v1beta1's rule `!self.all(x, has(x.id) && ...)` is false for an empty list, so the 0.37 API server refuses []."""
    assert refused(config(classes={"default": node_class(amiFamily="AL2023", amiSelectorTerms=[])})) == [
        "node_classes[0].spec.amiSelectorTerms: got []: 'id' is mutually exclusive, cannot be set with a combination of other "
        "fields in amiSelectorTerms (not valid v1beta1 for Karpenter 0.37.2; fix the input)"
    ]


@pytest.mark.parametrize("family", ["AL2", "AL2023", "Bottlerocket"])
def test_a_family_with_ami_selector_terms_keeps_both(family):
    terms = [{"id": "ami-0123456789abcdef0"}]
    out, changes = converted(config(classes={"default": node_class(amiFamily=family, amiSelectorTerms=list(terms))}))
    assert class_of(out)["amiFamily"] == family and class_of(out)["amiSelectorTerms"] == terms
    assert not any("ami" in c for c in changes if c.startswith("node_classes"))


def test_custom_keeps_its_family_and_terms_and_warns_about_the_registration_taint():
    terms = [{"tags": {"team": "platform"}}]
    spec = node_class(amiFamily="Custom", amiSelectorTerms=terms, userData="#!/bin/bash\n/etc/eks/bootstrap.sh demo\n")
    result = convert_config(config(classes={"default": spec}))
    assert class_of(result.data)["amiFamily"] == "Custom" and class_of(result.data)["amiSelectorTerms"] == terms
    assert not any("ami" in c for c in result.changes if c.startswith("node_classes"))
    assert any("karpenter.sh/unregistered:NoExecute" in w for w in result.warnings)
    assert v1_problems(result.data) == []
    spec["userData"] += "# registerWithTaints: karpenter.sh/unregistered NoExecute\n"
    assert not any("unregistered" in w for w in convert_config(config(classes={"default": spec})).warnings)


def test_ubuntu_with_ami_selector_terms_becomes_al2_with_ubuntus_root_volume():
    terms = [{"id": "ami-0123456789abcdef0"}]
    result = convert_config(config(classes={"default": node_class(amiFamily="Ubuntu", amiSelectorTerms=terms)}))
    spec = class_of(result.data)
    assert spec["amiFamily"] == "AL2" and spec["amiSelectorTerms"] == terms
    assert spec["blockDeviceMappings"] == [
        {"deviceName": "/dev/sda1", "rootVolume": True, "ebs": {"encrypted": True, "volumeType": "gp3", "volumeSize": "20Gi"}}
    ]
    assert (
        "node_classes[0].spec.amiFamily: Ubuntu -> AL2  # v1 has no Ubuntu family; AL2 has the same UserData format"
        in result.changes
    )
    assert any(c.startswith("node_classes[0].spec.blockDeviceMappings: (unset) -> ") for c in result.changes)
    assert any("Ubuntu now boots with AL2 UserData" in w for w in result.warnings)
    assert v1_problems(result.data) == []


def test_ubuntu_keeps_its_own_block_device_mappings():
    mappings = [{"deviceName": "/dev/sdb1", "rootVolume": True, "ebs": {"volumeSize": "40Gi", "volumeType": "gp2"}}]
    spec = node_class(
        amiFamily="Ubuntu", amiSelectorTerms=[{"id": "ami-0123456789abcdef0"}], blockDeviceMappings=copy.deepcopy(mappings)
    )
    out, changes = converted(config(classes={"default": spec}))
    assert class_of(out)["blockDeviceMappings"] == mappings
    assert not any("blockDeviceMappings" in c for c in changes)


def test_unset_hop_limit_is_written_as_the_v1beta1_default():
    out, changes = converted(config())
    assert class_of(out)["metadataOptions"] == {"httpPutResponseHopLimit": 2}
    assert any(
        c.startswith("node_classes[0].spec.metadataOptions.httpPutResponseHopLimit: (unset) -> 2  # v1beta1's default")
        for c in changes
    )
    options = {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled", "httpTokens": "required"}
    out, _ = converted(config(classes={"default": node_class(metadataOptions=dict(options))}))
    assert list(class_of(out)["metadataOptions"].items()) == [
        ("httpEndpoint", "enabled"),
        ("httpProtocolIPv6", "disabled"),
        ("httpPutResponseHopLimit", 2),
        ("httpTokens", "required"),
    ]


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_an_explicit_hop_limit_is_kept(limit):
    out, changes = converted(config(classes={"default": node_class(metadataOptions={"httpPutResponseHopLimit": limit})}))
    assert class_of(out)["metadataOptions"] == {"httpPutResponseHopLimit": limit}
    assert not any("metadataOptions" in c for c in changes)


def test_other_class_fields_are_untouched():
    extra = {
        "tags": {"team": "platform"},
        "userData": "echo hi",
        "detailedMonitoring": True,
        "associatePublicIPAddress": False,
        "instanceStorePolicy": "RAID0",
        "context": "cr-123",
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "50Gi", "volumeType": "gp3"}}],
    }
    out, _ = converted(config(classes={"default": node_class(**copy.deepcopy(extra))}))
    assert {k: class_of(out)[k] for k in extra} == extra


def test_a_class_may_use_an_instance_profile_instead_of_a_role():
    out, _ = converted(config(classes={"default": node_class(role=None, instanceProfile="my-profile")}))
    assert class_of(out)["instanceProfile"] == "my-profile" and "role" not in class_of(out)


def test_a_missing_role_stays_missing_the_app_fills_it_in():
    out, changes = converted(config(classes={"default": node_class(role=None)}))
    assert "role" not in class_of(out) and not any("role" in c for c in changes)


# -- refusals --------------------------------------------------------------------------------------


def test_refuses_ubuntu_without_ami_selector_terms():
    (problem,) = refused(config(classes={"default": node_class(amiFamily="Ubuntu")}))
    assert problem.startswith("node_classes[0].spec.amiFamily: Ubuntu without amiSelectorTerms cannot be converted: v1 dropped")
    assert "add amiSelectorTerms" in problem


def test_refuses_conflicting_kubelets_on_one_class():
    data = config(pools={"a": node_pool(kubelet={"maxPods": 10}), "b": node_pool(kubelet={"maxPods": 20})})
    (problem,) = refused(data)
    assert problem.startswith(
        "node_classes[0] (default): its NodePools set different kubelet settings, and v1 keeps kubelet on the EC2NodeClass: "
    )
    assert "node_pools[0] (a): {maxPods: 10}; node_pools[1] (b): {maxPods: 20}" in problem
    assert "Give each distinct kubelet its own node class" in problem


def test_refuses_a_kubelet_on_one_pool_but_not_another_of_the_same_class():
    """Moving it would give the pool without kubelet settings the other pool's."""
    (problem,) = refused(config(pools={"a": node_pool(kubelet={"maxPods": 10}), "b": node_pool()}))
    assert "node_pools[0] (a): {maxPods: 10}; node_pools[1] (b): none" in problem


def test_refuses_a_kubelet_whose_class_is_not_in_the_config():
    (problem,) = refused(config(pools={"default": node_pool(ref={"name": "elsewhere"}, kubelet={"maxPods": 10})}))
    assert problem == (
        "node_pools[0].spec.template.spec.kubelet: cannot move to a node class: nodeClassRef.name 'elsewhere' names no node class in this config"
    )


@pytest.mark.parametrize("family", ["Ubuntu2204", "al2", "Windows2025", "AL2023 "])
def test_refuses_an_unknown_ami_family(family):
    problems = refused(config(classes={"default": node_class(amiFamily=family)}))
    assert problems == [
        f"node_classes[0].spec.amiFamily: {family!r} is not a v1beta1 AMI family; allowed: "
        "AL2, AL2023, Bottlerocket, Windows2019, Windows2022, Custom, Ubuntu"
    ]


def test_refuses_a_missing_ami_family():
    (problem,) = refused(config(classes={"default": node_class(amiFamily=None)}))
    assert problem.startswith("node_classes[0].spec.amiFamily: required in v1beta1 and missing")


@pytest.mark.parametrize("spec", ["AL2", ["amiFamily", "AL2"], None, 3])
def test_refuses_a_spec_that_is_not_a_mapping(spec):
    data = config()
    data["node_classes"][0]["spec"] = spec
    data["node_pools"][0]["spec"] = spec
    problems = refused(data)
    assert problems == [
        f"node_classes[0].spec: must be a mapping (a v1beta1 EC2NodeClass spec), got {type(spec).__name__}: {spec!r}",
        f"node_pools[0].spec: must be a mapping (a v1beta1 NodePool spec), got {type(spec).__name__}: {spec!r}",
    ]


def test_refuses_entries_and_lists_that_are_malformed():
    data = config()
    data["node_classes"].append("default")
    data["node_pools"] = {"default": {}}
    assert refused(data) == [
        "node_classes[1]: must be a mapping with name and spec, got str: 'default'",
        "node_pools: must be a list of {name, spec}, got dict",
    ]
    with pytest.raises(ConversionError, match="the config must be a mapping"):
        convert(["not", "a", "config"])  # type: ignore[arg-type]


@pytest.mark.parametrize("annotation", ["karpenter.sh/do-not-consolidate", "karpenter.sh/do-not-evict"])
def test_refuses_node_annotations_v1_removed(annotation):
    pool = node_pool()
    pool["template"]["metadata"] = {"annotations": {annotation: "true"}}
    (problem,) = refused(config(pools={"default": pool}))
    assert problem.startswith(f"node_pools[0].spec.template.metadata.annotations['{annotation}']: v1 removed this annotation")


def test_refuses_the_tag_v1_reserves():
    (problem,) = refused(config(classes={"default": node_class(tags={"eks:eks-cluster-name": "x"})}))
    assert (
        problem
        == "node_classes[0].spec.tags['eks:eks-cluster-name']: v1 reserves this tag (Karpenter sets it to the cluster name); remove it"
    )


def test_refuses_a_node_class_ref_to_another_kind():
    ref = {"apiVersion": "example.com/v1", "kind": "OtherNodeClass", "name": "default"}
    (problem,) = refused(config(pools={"default": node_pool(ref=ref)}))
    assert problem == (
        "node_pools[0].spec.template.spec.nodeClassRef: refers to OtherNodeClass of example.com; "
        "this app's node classes are EC2NodeClass of karpenter.k8s.aws"
    )


def test_refuses_input_that_is_not_valid_v1beta1():
    """The source release's CRD is the judge of the input: a v1-shaped spec under a 0.37 version is refused."""
    data = config(
        classes={"default": node_class(amiFamily="AL2", kubelet={"maxPods": 10})},
        pools={"default": node_pool({"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "0s"})},
    )
    problems = refused(data)
    assert (
        "node_classes[0].spec.kubelet: got {'maxPods': 10}: unknown field (not valid v1beta1 for Karpenter 0.37.2; fix the input)"
        in problems
    )
    assert (
        "node_pools[0].spec.disruption.consolidationPolicy: 'WhenEmptyOrUnderutilized' is not a v1beta1 policy; allowed: WhenEmpty, WhenUnderutilized"
        in problems
    )


def test_refuses_consolidate_after_with_when_underutilized():
    (problem,) = refused(
        config(pools={"default": node_pool({"consolidationPolicy": "WhenUnderutilized", "consolidateAfter": "30s"})})
    )
    assert (
        problem
        == "node_pools[0].spec.disruption.consolidateAfter: '30s' with WhenUnderutilized is not valid v1beta1 (only 'Never' is); fix the input"
    )


def test_every_problem_is_listed_at_once():
    data = config(
        classes={"default": node_class(amiFamily="Ubuntu"), "bad": node_class(amiFamily="Gentoo")},
        pools={"a": node_pool(kubelet={"maxPods": 1}), "b": node_pool(kubelet={"maxPods": 2})},
    )
    problems = refused(data)
    assert [p.split(":")[0] for p in problems] == [
        "node_classes[0].spec.amiFamily",
        "node_classes[1].spec.amiFamily",
        "node_classes[0] (default)",
    ]


@pytest.mark.parametrize("version", ["1.0.14", "1.14.1"])
def test_refuses_a_v1_config(version):
    problems = refused(config(karpenter={"version": version}))
    assert problems == [
        f"karpenter.version: {version} already stores the v1 API; its node_classes and node_pools are v1 already, nothing to convert"
    ]


def test_refuses_unknown_versions_and_targets():
    assert refused(config(karpenter={"version": "0.36.0"}))[0].startswith(
        "karpenter.version: '0.36.0' is not a release this app knows"
    )
    assert refused(config(), to="1.1.0") == ["target release '1.1.0' is not supported; allowed: 1.0.14, 1.14.1"]
    assert refused(config(), to="0.37.8")[0].startswith("target release '0.37.8' is not supported")


# -- properties of the result ----------------------------------------------------------------------


def test_input_is_not_modified():
    data = load(EXAMPLES / "aws-2026-eks.yaml")
    before = copy.deepcopy(data)
    convert(data)
    assert data == before


def test_yaml_aliases_become_independent_values():
    text = """
cluster_name: aws-2026-eks
region: us-east-1
karpenter: {version: "0.37.8"}
node_classes:
  - name: default
    spec: {amiFamily: AL2, role: r, subnetSelectorTerms: [{id: subnet-1}], securityGroupSelectorTerms: [{id: sg-1}]}
node_pools:
  - name: a
    spec: &pool
      template: {spec: {nodeClassRef: {name: default}, requirements: []}}
      disruption: {consolidationPolicy: WhenUnderutilized, expireAfter: 24h}
  - name: b
    spec: *pool
"""
    out, _ = converted(yaml.safe_load(text))
    assert pool_of(out, 0) == pool_of(out, 1) and pool_of(out, 0) is not pool_of(out, 1)
    assert pool_of(out, 1)["template"]["spec"]["expireAfter"] == "24h"
    assert "&" not in conversion.dump_config(out) and "*id" not in conversion.dump_config(out)


def test_written_yaml_reads_back_the_same_and_quotes_number_like_strings():
    data = config(
        classes={"default": node_class(amiFamily="Ubuntu", amiSelectorTerms=[{"name": "ubuntu/*", "owner": "099720109477"}])}
    )
    out, _ = convert(data)
    text = conversion.dump_config(out)
    assert yaml.safe_load(text) == out
    assert "owner: '099720109477'" in text and "version: '1.0.14'" in text


def test_the_v1beta1_defaults_used_are_the_0_37_crds():
    """The constants the converter writes out are what the 0.37 API server stored when the key was unset."""
    for release in [v for v, p in PROFILES.items() if p.api_version == "v1beta1"]:
        pool = validator(PROFILES[release], "NodePool").with_defaults(
            {
                "apiVersion": "karpenter.sh/v1beta1",
                "kind": "NodePool",
                "spec": {"template": {"spec": {"nodeClassRef": {"name": "x"}, "requirements": []}}},
            }
        )
        assert pool["spec"]["disruption"]["expireAfter"] == conversion.V1BETA1_EXPIRE_AFTER
        assert pool["spec"]["disruption"]["consolidationPolicy"] == conversion.V1BETA1_CONSOLIDATION_POLICY
        node_class_obj = validator(PROFILES[release], "EC2NodeClass").with_defaults(
            {"apiVersion": "karpenter.k8s.aws/v1beta1", "kind": "EC2NodeClass", "spec": node_class()}
        )
        assert node_class_obj["spec"]["metadataOptions"]["httpPutResponseHopLimit"] == conversion.V1BETA1_HOP_LIMIT
        for family in conversion.V1BETA1_FAMILIES:  # every v1beta1 family is handled, none is forgotten
            assert not validator(PROFILES[release], "EC2NodeClass").validate(
                {
                    "apiVersion": "karpenter.k8s.aws/v1beta1",
                    "kind": "EC2NodeClass",
                    "metadata": {"name": "x"},
                    "spec": node_class(amiFamily=family, amiSelectorTerms=[{"id": "ami-1"}]),
                }
            )
    for release in conversion.TARGETS:
        assert PROFILES[release].api_version == "v1"
        node_class_obj = validator(PROFILES[release], "EC2NodeClass").with_defaults(
            {
                "apiVersion": "karpenter.k8s.aws/v1",
                "kind": "EC2NodeClass",
                "spec": {**node_class(amiFamily=None), "amiSelectorTerms": [{"alias": "al2@latest"}]},
            }
        )
        assert node_class_obj["spec"]["metadataOptions"]["httpPutResponseHopLimit"] == conversion.V1_HOP_LIMIT


# -- the command -----------------------------------------------------------------------------------


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "karpenter_model.conversion", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_writes_the_file_and_prints_the_changes(tmp_path, subprocesses):
    """`python -m karpenter_model.conversion` as a process (the other CLI tests call its main() here)."""
    out = tmp_path / "v1.yaml"
    done = run(str(EXAMPLES / "aws-2026-eks.yaml"), str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == EXPECTED_EXAMPLE_CHANGES
    assert done.stderr.startswith("warning: Karpenter 0.37.2 runs no conversion webhooks")
    text = out.read_text()
    assert text.startswith("# Converted from aws-2026-eks.yaml to the v1 API of Karpenter 1.0.14")
    assert yaml.safe_load(text) == convert(load(EXAMPLES / "aws-2026-eks.yaml"))[0]


def test_cli_target_1_14_1(tmp_path, capsys):
    out = tmp_path / "v1.yaml"
    assert main([str(EXAMPLES / "aws-2026-eks-0.37.8.yaml"), str(out), "--to", "1.14.1"]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines()[0] == "karpenter.version: 0.37.8 -> 1.14.1"
    assert "must pass through 1.0.14 before 1.14.1" in printed.err
    assert load(out)["karpenter"]["version"] == "1.14.1" and v1_problems(load(out), "1.14.1") == []


def test_cli_refuses_to_overwrite_unless_forced(tmp_path, capsys):
    out = tmp_path / "v1.yaml"
    out.write_text("keep me\n")
    assert main([str(EXAMPLES / "aws-2026-eks.yaml"), str(out)]) == 1
    printed = capsys.readouterr()
    assert printed.err == f"error: {out}: exists; pass --force to overwrite it\n" and printed.out == ""
    assert out.read_text() == "keep me\n"
    assert main([str(EXAMPLES / "aws-2026-eks.yaml"), str(out), "--force"]) == 0
    assert load(out)["karpenter"]["version"] == "1.0.14"


def test_cli_never_overwrites_its_input(tmp_path, capsys):
    source = tmp_path / "config.yaml"
    source.write_text((EXAMPLES / "aws-2026-eks.yaml").read_text())
    before = source.read_text()
    for extra in ([], ["--force"]):
        assert main([str(source), str(tmp_path / "." / "config.yaml"), *extra]) == 1
        assert "is the input" in capsys.readouterr().err
    assert source.read_text() == before


def test_cli_refusal_writes_nothing_and_lists_every_problem(tmp_path, capsys):
    data = config(
        classes={"default": node_class(amiFamily="Ubuntu")}, pools={"a": node_pool(kubelet={"maxPods": 1}), "b": node_pool()}
    )
    source, out = tmp_path / "in.yaml", tmp_path / "out.yaml"
    source.write_text(yaml.safe_dump(data))
    assert main([str(source), str(out)]) == 1
    printed = capsys.readouterr()
    assert printed.out == ""
    lines = printed.err.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)
    assert "Ubuntu without amiSelectorTerms" in lines[0] and "different kubelet settings" in lines[1]
    assert not out.exists() and list(tmp_path.iterdir()) == [source]


def test_cli_refuses_a_v1_config(tmp_path, capsys):
    assert main([str(EXAMPLES / "aws-2026-eks-1.0.14.yaml"), str(tmp_path / "out.yaml")]) == 1
    assert capsys.readouterr().err == (
        "error: karpenter.version: 1.0.14 already stores the v1 API; its node_classes and node_pools are v1 already, nothing to convert\n"
    )
    assert not (tmp_path / "out.yaml").exists()


def test_cli_bad_input_files(tmp_path, capsys):
    missing = tmp_path / "missing.yaml"
    assert main([str(missing), str(tmp_path / "out.yaml")]) == 1
    assert capsys.readouterr().err.startswith(f"error: {missing}: config file not found; expected a YAML file")
    duplicated = tmp_path / "dup.yaml"
    duplicated.write_text("cluster_name: a\ncluster_name: b\n")
    assert main([str(duplicated), str(tmp_path / "out.yaml")]) == 1
    assert "found duplicate key 'cluster_name' (first at line 1, column 1)" in capsys.readouterr().err
    not_mapping = tmp_path / "list.yaml"
    not_mapping.write_text("- a\n")
    assert main([str(not_mapping), str(tmp_path / "out.yaml")]) == 1
    assert "the top level must be a mapping" in capsys.readouterr().err
    assert main([str(EXAMPLES / "aws-2026-eks.yaml"), str(tmp_path / "no-dir" / "out.yaml")]) == 1
    assert "no such directory" in capsys.readouterr().err
    assert not any(p.name.startswith("out") for p in tmp_path.iterdir())


def test_cli_usage_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main([str(EXAMPLES / "aws-2026-eks.yaml"), str(tmp_path / "out.yaml"), "--to", "2.0.0"])
    assert exited.value.code == 2 and "invalid choice: '2.0.0'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert not (tmp_path / "out.yaml").exists()


def test_extra_chart_values_the_target_chart_lacks_are_refused_not_dropped():
    """0.37's chart has `webhook`; 1.14.1's has none: the converter names it rather than write a config synth refuses."""
    data = load(EXAMPLES / "aws-2026-eks.yaml")
    data["karpenter"]["helm_values"] = {"webhook": {"enabled": True}, "podLabels": {"team": "platform"}}
    with pytest.raises(ConversionError) as caught:
        convert(data, "1.14.1")
    assert "karpenter.helm_values.webhook: got {enabled: true}: not a value of the karpenter chart 1.14.1" in str(caught.value)
    assert "podLabels" not in str(caught.value).split("allowed:")[0]
    converted, _ = convert(
        {**data, "karpenter": {**data["karpenter"], "helm_values": {"podLabels": {"team": "platform"}}}}, "1.14.1"
    )
    assert converted["karpenter"]["helm_values"] == {"podLabels": {"team": "platform"}}
