"""karpenter_model.posture: each finding raised where it should be, silent where it should be, and accepted.

The seed's node classes (shared/seeds/004: a hard-coded AMI id on all three, `httpTokens: optional`
on `kubelet-custom`, volumes without encryption) are among the cases, under a v1beta1 and a v1 release.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

from karpenter_model.posture import (
    FINDING_IDS,
    RULES,
    Acceptance,
    Finding,
    allowed_capacity_types,
    apply_acceptances,
    covers,
    findings,
    rules_table,
)
from karpenter_model.releases import DATA, EC2_DEFAULT_HOP_LIMIT, PROFILES, lowest_default_hop_limit
from tests.conftest import example_data

V1BETA1, V1 = PROFILES["0.37.2"], PROFILES["1.0.14"]
SELECTORS = {
    "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "pilotgab-prod"}}],
    "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "pilotgab-prod"}}],
}
GOOD_CLASS: dict[str, Any] = {
    "amiFamily": "AL2023",
    **SELECTORS,
    "blockDeviceMappings": [
        {
            "deviceName": "/dev/xvda",
            "ebs": {
                "volumeSize": "50Gi",
                "volumeType": "gp3",
                "encrypted": True,
                "kmsKeyID": "arn:aws:kms:us-east-1:111122223333:key/k",
            },
        }
    ],
    "metadataOptions": {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 1, "httpTokens": "required"},
}
GOOD_POOL: dict[str, Any] = {
    "template": {
        "spec": {
            "nodeClassRef": {"name": "default"},
            "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]}],
        }
    },
    "limits": {"cpu": "100", "memory": "200Gi"},
}

# The seed's three EC2NodeClasses (004, "EC2NodeClasses" and "Critical Issues"), as its checklist describes them.
SEED_NODE_CLASSES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "node_classes[0]",
        "penumbra-nodes",
        {
            "amiFamily": "AL2",
            **SELECTORS,
            "amiSelectorTerms": [{"id": "ami-04bcf82576ac8eb1c"}],
            "userData": "#!/bin/bash\necho penumbra\n",
            "blockDeviceMappings": [
                {"deviceName": "/dev/xvda", "ebs": {"volumeSize": "100Gi", "volumeType": "gp3", "deleteOnTermination": True}}
            ],
        },
    ),
    (
        "node_classes[1]",
        "default",
        {
            "amiFamily": "AL2",
            **SELECTORS,
            "amiSelectorTerms": [{"id": "ami-04bcf82576ac8eb1c"}],
            "blockDeviceMappings": [
                {"deviceName": "/dev/xvda", "ebs": {"volumeSize": "250Gi", "volumeType": "gp3", "deleteOnTermination": True}}
            ],
            "metadataOptions": {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 2, "httpTokens": "required"},
        },
    ),
    (
        "node_classes[2]",
        "kubelet-custom",
        {
            "amiFamily": "AL2",
            **SELECTORS,
            "amiSelectorTerms": [{"id": "ami-04bcf82576ac8eb1c"}],
            "blockDeviceMappings": [
                {"deviceName": "/dev/xvda", "ebs": {"volumeSize": "150Gi", "volumeType": "gp3", "deleteOnTermination": True}}
            ],
            "metadataOptions": {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 2, "httpTokens": "optional"},
        },
    ),
]


def pool(name: str = "default", **changes: Any) -> tuple[str, str, dict[str, Any]]:
    spec = copy.deepcopy(GOOD_POOL)
    spec.update(changes)
    return ("node_pools[0]", name, spec)


def node_class(**changes: Any) -> tuple[str, str, dict[str, Any]]:
    spec = copy.deepcopy(GOOD_CLASS)
    spec.update(changes)
    for key, value in list(spec.items()):
        if value is None:
            del spec[key]
    return ("node_classes[0]", "default", spec)


def ids(found: list[Finding]) -> list[tuple[str, str]]:
    return [(f.id, f.where) for f in found]


# -- the table -------------------------------------------------------------------------------------


def test_every_rule_is_in_the_module_table_with_its_severity():
    import karpenter_model.posture as posture

    doc = posture.__doc__ or ""
    for rule in RULES:
        assert re.search(rf"^\| `{re.escape(rule.id)}` \| {rule.severity}\b", doc, re.MULTILINE), rule.id
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id), "ids are kebab-case"
    assert len(FINDING_IDS) == len(set(FINDING_IDS)) == 7
    assert rules_table().count("\n") == len(RULES) + 1


def test_a_clean_config_has_no_findings():
    for release in (V1BETA1, V1):
        assert findings(release, [node_class()], [pool()], require_kms_key=True) == []


def test_the_bundled_example_only_warns_about_its_hop_limit():
    data = example_data()
    classes = [(f"node_classes[{i}]", c["name"], c["spec"]) for i, c in enumerate(data["node_classes"])]
    pools = [(f"node_pools[{i}]", p["name"], p["spec"]) for i, p in enumerate(data["node_pools"])]
    assert ids(findings(V1BETA1, classes, pools, require_kms_key=False)) == [
        ("hop-limit-too-high", "node_classes[0].spec.metadataOptions.httpPutResponseHopLimit")
    ]


# -- the seed --------------------------------------------------------------------------------------


@pytest.mark.parametrize("release", [V1BETA1, V1], ids=lambda r: r.version)
def test_the_seeds_node_classes(release):
    found = findings(release, SEED_NODE_CLASSES, [pool()], require_kms_key=True)
    assert ids(found) == [
        ("ebs-unencrypted", "node_classes[0].spec.blockDeviceMappings[0].ebs.encrypted"),
        ("ami-pinned-by-id", "node_classes[0].spec.amiSelectorTerms[0].id"),
        ("hop-limit-too-high", "node_classes[1].spec.metadataOptions.httpPutResponseHopLimit"),
        ("ebs-unencrypted", "node_classes[1].spec.blockDeviceMappings[0].ebs.encrypted"),
        ("ami-pinned-by-id", "node_classes[1].spec.amiSelectorTerms[0].id"),
        ("imdsv1-allowed", "node_classes[2].spec.metadataOptions.httpTokens"),
        ("hop-limit-too-high", "node_classes[2].spec.metadataOptions.httpPutResponseHopLimit"),
        ("ebs-unencrypted", "node_classes[2].spec.blockDeviceMappings[0].ebs.encrypted"),
        ("ami-pinned-by-id", "node_classes[2].spec.amiSelectorTerms[0].id"),
    ]
    errors = {f.id for f in found if f.severity == "error"}
    assert errors == {"imdsv1-allowed", "ebs-unencrypted"}
    imds = next(f for f in found if f.id == "imdsv1-allowed")
    assert "kubelet-custom" in imds.message and "httpTokens: required" in imds.fix
    ami = next(f for f in found if f.id == "ami-pinned-by-id")
    assert "ami-04bcf82576ac8eb1c" in ami.message
    if release.api_version == "v1":
        assert "alias: al2@v20241011" in ami.fix
    else:  # the seed's own advice (alias: al2@latest) is refused by v1beta1: the fix must not repeat it
        assert "alias:" not in ami.fix and "a v1 field" in ami.fix
        assert "amazon-eks-node-1.30-v*" in ami.fix and "owner: amazon" in ami.fix


def test_the_seeds_fixes_clear_every_finding():
    fixed = []
    for where, name, spec in SEED_NODE_CLASSES:
        spec = copy.deepcopy(spec)
        spec.pop("amiSelectorTerms")
        spec["metadataOptions"] = {"httpTokens": "required", "httpPutResponseHopLimit": 1}
        for mapping in spec["blockDeviceMappings"]:
            mapping["ebs"].update(encrypted=True, kmsKeyID="arn:aws:kms:us-east-1:290793900072:key/k")
        fixed.append((where, name, spec))
    assert findings(V1BETA1, fixed, [pool()], require_kms_key=True) == []


# -- each rule, raised and not -----------------------------------------------------------------------


def test_imds_defaults_come_from_the_crd():
    # metadataOptions left out, or httpTokens left out: the CRD default is `required`.
    assert findings(V1BETA1, [node_class(metadataOptions=None)], [pool()], require_kms_key=False) == []
    assert findings(V1BETA1, [node_class(metadataOptions={"httpEndpoint": "enabled"})], [pool()], require_kms_key=False) == []
    for version in PROFILES:
        crd = yaml.safe_load((DATA / version / "crds" / "karpenter.k8s.aws_ec2nodeclasses.yaml").read_text())
        for served in crd["spec"]["versions"]:
            options = served["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["metadataOptions"]
            assert options["default"]["httpTokens"] == "required"
            assert options["properties"]["httpTokens"]["default"] == "required"


@pytest.mark.parametrize("version", sorted(PROFILES))
def test_hop_limit_is_the_releases_crd_default(version):
    # The brief guessed 2 for v1beta1; every shipped CRD (0.37.2 included) says 1 for v1, the lowest of its versions.
    release = PROFILES[version]
    assert release.recommended_hop_limit == 1
    at_default = node_class(metadataOptions={"httpPutResponseHopLimit": 1})
    assert findings(release, [at_default], [pool()], require_kms_key=False) == []
    two = findings(release, [node_class(metadataOptions={"httpPutResponseHopLimit": 2})], [pool()], require_kms_key=False)
    assert [(f.id, f.severity) for f in two] == [("hop-limit-too-high", "warning")]
    assert "accept the finding" in two[0].fix and "httpPutResponseHopLimit: 1" in two[0].fix


def test_hop_limit_of_a_crd_without_a_default_is_ec2s_default():
    crd = yaml.safe_load((DATA / "1.14.1" / "crds" / "karpenter.k8s.aws_ec2nodeclasses.yaml").read_text())
    for served in crd["spec"]["versions"]:
        served["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["metadataOptions"].pop("default")
    # The EC2 API reference, InstanceMetadataOptionsRequest: HttpPutResponseHopLimit defaults to 1.
    assert lowest_default_hop_limit(crd) == EC2_DEFAULT_HOP_LIMIT == 1


def test_encryption():
    unencrypted = {"deviceName": "/dev/xvda", "ebs": {"volumeSize": "20Gi", "encrypted": False}}
    no_flag = {"deviceName": "/dev/xvdb", "ebs": {"volumeSize": "20Gi", "kmsKeyID": "arn:aws:kms:us-east-1:1:key/k"}}
    ok = {"deviceName": "/dev/xvdc", "ebs": {"volumeSize": "20Gi", "encrypted": True}}
    found = findings(V1BETA1, [node_class(blockDeviceMappings=[unencrypted, no_flag, ok])], [pool()], require_kms_key=False)
    assert ids(found) == [
        ("ebs-unencrypted", "node_classes[0].spec.blockDeviceMappings[0].ebs.encrypted"),
        ("ebs-unencrypted", "node_classes[0].spec.blockDeviceMappings[1].ebs.encrypted"),
    ]
    assert "encrypted: false" in found[0].message and "no encrypted: true" in found[1].message
    # A mapping without ebs (nothing to encrypt here) is not a finding.
    assert (
        findings(V1BETA1, [node_class(blockDeviceMappings=[{"deviceName": "/dev/xvdz"}])], [pool()], require_kms_key=True) == []
    )


def test_left_out_mappings_use_upstreams_encrypted_defaults_except_custom():
    for family in ("AL2", "AL2023", "Bottlerocket", "Windows2022"):
        assert findings(V1BETA1, [node_class(amiFamily=family, blockDeviceMappings=None)], [pool()], require_kms_key=False) == []
    custom = findings(
        V1BETA1,
        [node_class(amiFamily="Custom", blockDeviceMappings=None, amiSelectorTerms=[{"tags": {"team": "x"}}])],
        [pool()],
        require_kms_key=False,
    )
    assert ids(custom) == [("ebs-unencrypted", "node_classes[0].spec.blockDeviceMappings")]
    assert "AMI's own mappings" in custom[0].message
    # v1: an alias names the family, which is not Custom.
    aliased = node_class(amiFamily=None, blockDeviceMappings=None, amiSelectorTerms=[{"alias": "al2023@latest"}])
    assert findings(V1, [aliased], [pool()], require_kms_key=False) == []


def test_kms_key_only_when_required():
    no_key = [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "20Gi", "encrypted": True}}]
    assert findings(V1BETA1, [node_class(blockDeviceMappings=no_key)], [pool()], require_kms_key=False) == []
    required = findings(V1BETA1, [node_class(blockDeviceMappings=no_key)], [pool()], require_kms_key=True)
    assert [(f.id, f.severity, f.where) for f in required] == [
        ("ebs-no-kms-key", "error", "node_classes[0].spec.blockDeviceMappings[0].ebs.kmsKeyID")
    ]
    # Upstream's default volumes have no key either.
    left_out = findings(V1BETA1, [node_class(blockDeviceMappings=None)], [pool()], require_kms_key=True)
    assert ids(left_out) == [("ebs-no-kms-key", "node_classes[0].spec.blockDeviceMappings")]
    # An unencrypted volume is reported once, as unencrypted.
    plain = [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "20Gi"}}]
    assert [f.id for f in findings(V1BETA1, [node_class(blockDeviceMappings=plain)], [pool()], require_kms_key=True)] == [
        "ebs-unencrypted"
    ]


def test_ami_by_id_suggests_the_releases_selector_form():
    by_id = [{"id": "ami-0123456789abcdef0"}]
    v1beta1 = findings(V1BETA1, [node_class(amiSelectorTerms=by_id)], [pool()], require_kms_key=False)
    assert [(f.id, f.severity) for f in v1beta1] == [("ami-pinned-by-id", "warning")]
    assert "amazon-eks-node-al2023-x86_64-standard-1.30-v*" in v1beta1[0].fix and "alias:" not in v1beta1[0].fix
    v1 = findings(V1, [node_class(amiSelectorTerms=by_id)], [pool()], require_kms_key=False)
    assert "alias: al2023@v20241011" in v1[0].fix
    assert (
        "bottlerocket@<version>"
        in findings(V1, [node_class(amiFamily="Bottlerocket", amiSelectorTerms=by_id)], [pool()], require_kms_key=False)[0].fix
    )
    for fine in ([{"tags": {"team": "x"}}], [{"name": "my-ami-*", "owner": "self"}]):
        assert findings(V1BETA1, [node_class(amiSelectorTerms=fine)], [pool()], require_kms_key=False) == []
    assert findings(V1, [node_class(amiSelectorTerms=[{"alias": "al2023@v20241011"}])], [pool()], require_kms_key=False) == []


def test_nodepool_without_limits():
    limits: dict[str, str] | None
    for limits in (None, {}):
        _, name, spec = pool("batch")
        if limits is None:
            del spec["limits"]
        else:
            spec["limits"] = limits
        found = findings(V1BETA1, [node_class()], [pool(), ("node_pools[1]", name, spec)], require_kms_key=False)
        assert [(f.id, f.severity, f.where) for f in found] == [
            ("nodepool-without-limits", "warning", "node_pools[1].spec.limits")
        ]
        assert "'batch'" in found[0].message


def requirement(operator: str, *values: str) -> dict[str, Any]:
    item: dict[str, Any] = {"key": "karpenter.sh/capacity-type", "operator": operator}
    if values:
        item["values"] = list(values)
    return item


def with_requirements(*requirements: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    spec = copy.deepcopy(GOOD_POOL)
    spec["template"]["spec"]["requirements"] = list(requirements)
    if labels:
        spec["template"]["metadata"] = {"labels": labels}
    return spec


def test_capacity_types_a_pool_allows():
    assert allowed_capacity_types(with_requirements()) == {"on-demand"}  # no requirement: the default
    assert allowed_capacity_types(with_requirements(requirement("In", "spot"))) == {"spot"}
    assert allowed_capacity_types(with_requirements(requirement("NotIn", "on-demand", "reserved"))) == {"spot"}
    assert allowed_capacity_types(with_requirements(requirement("Exists"))) >= {"spot", "on-demand"}
    assert allowed_capacity_types(
        with_requirements(requirement("In", "spot", "on-demand"), requirement("NotIn", "on-demand"))
    ) == {"spot"}
    assert allowed_capacity_types(with_requirements(labels={"karpenter.sh/capacity-type": "spot"})) == {"spot"}


def test_spot_only_pools():
    spot = ("node_pools[0]", "spot-fleet", with_requirements(requirement("In", "spot")))
    spot_too = ("node_pools[1]", "batch", with_requirements(requirement("NotIn", "on-demand", "reserved")))
    found = findings(V1BETA1, [node_class()], [spot, spot_too], require_kms_key=False)
    assert [(f.id, f.severity, f.where) for f in found] == [("spot-only-without-on-demand-fallback", "warning", "node_pools")]
    assert "'spot-fleet', 'batch'" in found[0].message
    # The seed's pools: a spot fleet beside an on-demand fleet is fine, as is a pool allowing both.
    on_demand = ("node_pools[1]", "on-demand-fleet", with_requirements(requirement("In", "on-demand")))
    assert findings(V1BETA1, [node_class()], [spot, on_demand], require_kms_key=False) == []
    both = ("node_pools[1]", "mixed", with_requirements(requirement("In", "spot", "on-demand")))
    assert findings(V1BETA1, [node_class()], [spot, both], require_kms_key=False) == []
    defaulted = ("node_pools[1]", "plain", with_requirements())
    assert findings(V1BETA1, [node_class()], [spot, defaulted], require_kms_key=False) == []


# -- acceptances -----------------------------------------------------------------------------------


def test_each_finding_can_be_accepted_and_stale_acceptances_are_returned():
    found = findings(V1BETA1, SEED_NODE_CLASSES, [pool()], require_kms_key=True)
    accepted = [
        {"id": "imdsv1-allowed", "where": "node_classes[2]", "reason": "legacy agent reads IMDSv1 until Q3"},
        {
            "id": "hop-limit-too-high",
            "where": "node_classes[1].spec.metadataOptions.httpPutResponseHopLimit",
            "reason": "pods need IMDS",
        },
        {"id": "ami-pinned-by-id", "where": "node_classes", "reason": "golden AMI programme"},
        {"id": "ebs-unencrypted", "where": "node_classes[0]", "reason": "account encrypts by default"},
        {"id": "imdsv1-allowed", "where": "node_classes[0]", "reason": "was fixed long ago"},  # stale
        {"id": "imds-v1-allowed", "where": "node_classes[2]", "reason": "typo"},  # stale: no such id
    ]
    remaining, unused = apply_acceptances(found, accepted)
    assert ids(remaining) == [
        ("ebs-unencrypted", "node_classes[1].spec.blockDeviceMappings[0].ebs.encrypted"),
        ("hop-limit-too-high", "node_classes[2].spec.metadataOptions.httpPutResponseHopLimit"),
        ("ebs-unencrypted", "node_classes[2].spec.blockDeviceMappings[0].ebs.encrypted"),
    ]
    assert [(a.id, a.where) for a in unused] == [("imdsv1-allowed", "node_classes[0]"), ("imds-v1-allowed", "node_classes[2]")]


@pytest.mark.parametrize("rule_id", FINDING_IDS)
def test_every_rule_is_raised_and_accepted(rule_id):
    cases: dict[str, tuple[list[Any], list[Any], bool]] = {
        "imdsv1-allowed": ([node_class(metadataOptions={"httpTokens": "optional"})], [pool()], False),
        "ebs-unencrypted": ([node_class(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {}}])], [pool()], False),
        "ebs-no-kms-key": (
            [node_class(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": True}}])],
            [pool()],
            True,
        ),
        "ami-pinned-by-id": ([node_class(amiSelectorTerms=[{"id": "ami-0123456789abcdef0"}])], [pool()], False),
        "hop-limit-too-high": ([node_class(metadataOptions={"httpPutResponseHopLimit": 3})], [pool()], False),
        "nodepool-without-limits": ([node_class()], [pool(limits={})], False),
        "spot-only-without-on-demand-fallback": (
            [node_class()],
            [("node_pools[0]", "s", with_requirements(requirement("In", "spot")))],
            False,
        ),
    }
    classes, pools, require_kms_key = cases[rule_id]
    found = findings(V1, classes, pools, require_kms_key=require_kms_key)
    assert [f.id for f in found] == [rule_id]
    finding = found[0]
    assert finding.fix and finding.message and rule_id in str(finding)
    remaining, unused = apply_acceptances(found, [Acceptance(rule_id, finding.where, "reviewed")])
    assert remaining == [] and unused == []
    # Another id at the same place, or the same id elsewhere, accepts nothing.
    remaining, unused = apply_acceptances(found, [{"id": "other", "where": finding.where, "reason": "x"}])
    assert remaining == found and len(unused) == 1


def test_acceptances_from_config_models_by_attribute():
    class Accepted:  # what a pydantic model of `posture.accept[]` looks like to apply_acceptances
        def __init__(self, id: str, where: str, reason: str) -> None:
            self.id, self.where, self.reason = id, where, reason

    found = findings(V1BETA1, [node_class(metadataOptions={"httpTokens": "optional"})], [pool()], require_kms_key=False)
    remaining, unused = apply_acceptances(found, [Accepted("imdsv1-allowed", "node_classes[0].spec", "ok")])
    assert remaining == [] and unused == []


def test_where_covers_only_whole_path_steps():
    assert covers("node_classes[1]", "node_classes[1].spec.metadataOptions.httpTokens")
    assert covers("node_classes[1]", "node_classes[1]")
    assert covers("node_classes", "node_classes[1].spec")
    assert not covers("node_classes[1]", "node_classes[10].spec")
    assert not covers("node_pools", "node_pools_extra")
    assert not covers("node_classes[1].spec.meta", "node_classes[1].spec.metadataOptions")


# -- wired into the config: errors stop synth, warnings print, acceptances are checked -----------------


def _example_with(**changes: Any) -> dict[str, Any]:
    import copy

    from tests.conftest import example_data

    data = copy.deepcopy(example_data())
    for path, value in changes.items():
        node: Any = data
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return data


def test_an_error_finding_stops_the_config_naming_the_place_the_id_and_the_fix():
    from pydantic import ValidationError

    from karpenter_model.config import KarpenterConfig
    from karpenter_model.errors import format_validation_error

    data = _example_with(**{"node_classes.0.spec.metadataOptions": {"httpTokens": "optional"}})
    with pytest.raises(ValidationError) as caught:
        KarpenterConfig.model_validate(data)
    message = format_validation_error(KarpenterConfig, caught.value, "config.yaml")
    assert "node_classes[0].spec.metadataOptions.httpTokens:" in message
    assert "[imdsv1-allowed]" in message and "httpTokens: required" in message


def test_an_accepted_finding_passes_and_a_stale_acceptance_warns():
    from karpenter_model.config import KarpenterConfig

    data = _example_with(**{"node_classes.0.spec.metadataOptions": {"httpTokens": "optional", "httpPutResponseHopLimit": 2}})
    data["posture"]["accept"].append(
        {"id": "imdsv1-allowed", "where": "node_classes[0]", "reason": "a legacy agent reads IMDSv1"}
    )
    assert KarpenterConfig.model_validate(data).warnings() == []
    data["posture"]["accept"].append({"id": "ebs-unencrypted", "where": "node_classes[0]", "reason": "left over"})
    (warning,) = KarpenterConfig.model_validate(data).warnings()
    assert warning.startswith("posture.accept: ebs-unencrypted at node_classes[0] covers no finding")


def test_warnings_print_and_the_kms_requirement_is_the_teams():
    from karpenter_model.config import KarpenterConfig

    data = _example_with(posture={"require_kms_key": True, "accept": []})
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"\[ebs-no-kms-key\]"):
        KarpenterConfig.model_validate(data)
    data["posture"]["require_kms_key"] = False
    (warning,) = KarpenterConfig.model_validate(data).warnings()
    assert "[hop-limit-too-high]" in warning


def test_an_acceptance_must_name_a_known_finding_and_give_a_reason():
    from pydantic import ValidationError

    from karpenter_model.config import KarpenterConfig

    for entry, message in (
        ({"id": "imdsv1", "where": "node_classes[0]", "reason": "x"}, "allowed: 'imdsv1-allowed'"),
        ({"id": "imdsv1-allowed", "where": "node_classes[0]", "reason": ""}, "at least 1 character"),
    ):
        with pytest.raises(ValidationError, match=message):
            KarpenterConfig.model_validate(_example_with(posture={"accept": [entry]}))
