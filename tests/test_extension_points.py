"""The extension points (examples/aws-2026-eks-1.14.1-platform.yaml): each changes only what it names.

The platform example is the 1.14.1 example plus a permissions boundary, an extra controller
statement, extra chart values and extra tags, so the two examples' stacks differ by exactly those.
The chart's value names are upstream's (`charts/karpenter/values.yaml` of each release).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from karpenter_model.helm_overrides import WIRED_VALUES, merged
from karpenter_model.loading import load_config
from karpenter_model.releases import PROFILES
from tests.conftest import EXAMPLES

BOUNDARY = "arn:aws:iam::123456789012:policy/platform/role-boundary"


@pytest.fixture(scope="module")
def stacks(synth_config) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the 1.14.1 example's stacks, the platform example's stacks)."""
    return (
        synth_config(load_config(EXAMPLES["aws-2026-eks-1.14.1"])),
        synth_config(load_config(EXAMPLES["aws-2026-eks-1.14.1-platform"])),
    )


def chart_values(stacks: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = json.loads(stacks["chart"]["resource"]["helm_release"]["karpenter"]["values"][0])
    return values


# Annotation keys are ours, in maps the chart leaves empty: the map is the chart's value.
ANNOTATIONS = {
    ("serviceAccount", "annotations", "eks.amazonaws.com/role-arn"),
    ("podAnnotations", "karpenter-cdktf/controller-identity"),
}


def chart_has(values: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = values
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def test_every_wired_value_is_one_the_chart_has():
    """The refused paths are upstream's: each is a value of the chart of some release (the webhook only up to 1.0)."""
    for path in WIRED_VALUES:
        chart_path = path[:-1] if path in ANNOTATIONS else path
        assert any(chart_has(p.chart_values, chart_path) for p in PROFILES.values()), f"{'.'.join(path)}: in no release's chart"


def test_extra_values_merge_last_like_helm():
    """Maps merge key by key; lists and scalars replace (Helm's coalescing of user values)."""
    base: dict[str, Any] = {"settings": {"clusterName": "c", "featureGates": {"a": False}}, "podLabels": {}, "extraVolumes": [1]}
    extra = {"settings": {"featureGates": {"b": True}}, "extraVolumes": [2], "podLabels": {"team": "x"}}
    assert merged(base, extra) == {
        "settings": {"clusterName": "c", "featureGates": {"a": False, "b": True}},
        "podLabels": {"team": "x"},
        "extraVolumes": [2],
    }
    assert base["settings"]["featureGates"] == {"a": False}, "the chart's own values must not change"


def test_extra_chart_values_change_only_what_they_set(stacks):
    plain, platform = (chart_values(s) for s in stacks)
    config = load_config(EXAMPLES["aws-2026-eks-1.14.1-platform"])
    assert platform == merged(plain, config.karpenter.helm_values)
    assert platform["settings"]["clusterEndpoint"] == plain["settings"]["clusterEndpoint"]
    assert platform["settings"]["featureGates"] == {"spotToSpotConsolidation": True}
    assert platform["podLabels"] == {"team": "platform"}


def test_the_permissions_boundary_is_on_every_role_created(stacks):
    plain, platform = (s["infra"]["resource"]["aws_iam_role"] for s in stacks)
    assert set(platform) == {"karpenter_controller", "karpenter_node", "system_node"}
    assert {name: role.get("permissions_boundary") for name, role in platform.items()} == dict.fromkeys(platform, BOUNDARY)
    assert all("permissions_boundary" not in role for role in plain.values())


def test_extra_statements_are_a_policy_of_their_own_and_upstreams_stay_as_they_are(stacks):
    plain, platform = (s["infra"]["resource"] for s in stacks)
    added = platform["aws_iam_policy"].pop("karpenter_controller_additional")
    assert added["name"] == "aws-2026-eks-karpenter-controller-additional"
    assert json.loads(added["policy"])["Statement"] == [
        {
            "Sid": "ReadPlatformAmiParameters",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter"],
            "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/platform/ami/*",
        }
    ]
    assert platform["aws_iam_role_policy_attachment"].pop("karpenter_controller_additional")["policy_arn"] == (
        "${aws_iam_policy.karpenter_controller_additional.arn}"
    )
    assert platform["aws_iam_policy"] == plain["aws_iam_policy"]
    assert platform["aws_iam_role_policy_attachment"] == plain["aws_iam_role_policy_attachment"]


def test_extra_tags_go_only_where_they_are_named(stacks):
    plain, platform = (s["infra"]["resource"] for s in stacks)
    tagged = {
        ("aws_iam_role", "karpenter_controller"): "platform-1234",
        ("aws_iam_role", "karpenter_node"): "shared-nodes",
        ("aws_iam_role", "system_node"): "platform-1234",
        ("aws_eks_node_group", "system"): "platform-1234",
    }
    for (kind, name), cost_center in tagged.items():
        assert platform[kind][name]["tags"] == {**plain[kind][name].get("tags", {}), "CostCenter": cost_center}
    untouched = {(kind, name) for kind, items in platform.items() for name in items} - set(tagged)
    assert all(platform[kind][name].get("tags") == plain[kind].get(name, {}).get("tags") for kind, name in untouched)
