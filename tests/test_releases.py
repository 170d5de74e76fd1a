"""Each release profile against upstream's own files: policies, rules, node role, CRDs, Kubernetes range, chart values.

The expected side is read here with its own small parser of upstream's CloudFormation template,
so a mistake in the app's template reader cannot hide itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_model.documents.helm_values import controller_values, crd_chart_values
from karpenter_model.documents.iam import controller_policies, node_role_policy_arns
from karpenter_model.releases import DATA, PROFILES, ReleaseProfile, release_for_kubernetes
from tests.conftest import example_data, make_config, reference

LITERAL = {
    "AWS::Partition": "aws-cn",
    "AWS::Region": "cn-north-1",
    "AWS::AccountId": "210987654321",
    "ClusterName": "blue",
    "KarpenterInterruptionQueue.Arn": "arn:aws-cn:sqs:cn-north-1:210987654321:blue-karpenter-interruption",
    "KarpenterNodeRole.Arn": "arn:aws-cn:iam::210987654321:role/blue-karpenter-node",
}


class _AnyTagLoader(yaml.SafeLoader):
    """Reads `!Sub "x"`, `!GetAtt a.b` and `!Ref a` as their plain text."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def upstream(profile: ReleaseProfile) -> dict[str, Any]:
    text = (profile.data_dir / "cloudformation.yaml").read_text()
    for placeholder, value in LITERAL.items():
        text = text.replace("${" + placeholder + "}", value)
    return yaml.load(text, Loader=_AnyTagLoader)["Resources"]  # noqa: S506 (a SafeLoader)


def upstream_of_type(profile: ReleaseProfile, kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in upstream(profile).items() if r["Type"] == kind}


def built_policies(profile: ReleaseProfile) -> dict[str, dict[str, Any]]:
    documents = controller_policies(
        profile,
        partition=LITERAL["AWS::Partition"],
        region=LITERAL["AWS::Region"],
        account_id=LITERAL["AWS::AccountId"],
        cluster_name=LITERAL["ClusterName"],
        queue_arn=LITERAL["KarpenterInterruptionQueue.Arn"],
        node_role_arn=LITERAL["KarpenterNodeRole.Arn"],
    )
    return {name.address: document for name, document in documents.items()}


def as_set(value: str | list[str]) -> set[str]:
    return {value} if isinstance(value, str) else set(value)


RELEASES = sorted(PROFILES)


@pytest.mark.parametrize("version", RELEASES)
def test_every_controller_policy_equals_the_template_statement_for_statement(version):
    profile = PROFILES[version]
    expected = [json.loads(p["PolicyDocument"]) for p in upstream_of_type(profile, "AWS::IAM::ManagedPolicy").values()]
    built = list(built_policies(profile).values())
    assert len(built) == len(expected) >= 1
    for ours, theirs in zip(built, expected, strict=True):
        assert ours == theirs
        for statement, upstream_statement in zip(ours["Statement"], theirs["Statement"], strict=True):
            assert statement["Sid"] == upstream_statement["Sid"]
            assert statement["Effect"] == upstream_statement["Effect"]
            assert as_set(statement["Action"]) == as_set(upstream_statement["Action"]), statement["Sid"]
            assert as_set(statement["Resource"]) == as_set(upstream_statement["Resource"]), statement["Sid"]
            assert statement.get("Condition") == upstream_statement.get("Condition"), statement["Sid"]
        assert "${" not in json.dumps(ours), "a placeholder was left unfilled"


def test_releases_with_one_policy_keep_karpenter_tfs_address():
    for profile in PROFILES.values():
        if len(profile.controller_policies) == 1:
            assert list(built_policies(profile)) == ["karpenter_controller"]


@pytest.mark.parametrize("version", RELEASES)
def test_interruption_rules_equal_the_template(version):
    profile = PROFILES[version]
    expected = sorted(json.dumps(p["EventPattern"], sort_keys=True) for p in upstream_of_type(profile, "AWS::Events::Rule").values())
    assert sorted(json.dumps(rule.pattern, sort_keys=True) for rule in profile.interruption_rules) == expected
    assert len({rule.key for rule in profile.interruption_rules}) == len(expected)


@pytest.mark.parametrize("version", RELEASES)
def test_node_role_policies_equal_the_template(version):
    profile = PROFILES[version]
    (role,) = upstream_of_type(profile, "AWS::IAM::Role").values()
    assert sorted(node_role_policy_arns(profile, partition="aws-cn")) == sorted(role["ManagedPolicyArns"])


@pytest.mark.parametrize("version", RELEASES)
def test_crd_names_are_those_of_the_crd_files(version):
    profile = PROFILES[version]
    files = sorted((profile.data_dir / "crds").glob("*.yaml"))
    assert sorted(yaml.safe_load(f.read_text())["metadata"]["name"] for f in files) == sorted(profile.crd_names)
    assert {"nodepools.karpenter.sh", "nodeclaims.karpenter.sh", "ec2nodeclasses.karpenter.k8s.aws"} <= set(profile.crd_names)


def test_upstream_data_is_unchanged():
    for line in (DATA / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
    listed = {line.split(maxsplit=1)[1] for line in (DATA / "SHA256SUMS").read_text().splitlines()}
    present = {str(p.relative_to(DATA)) for p in DATA.glob("*/**/*.yaml")}
    assert listed == present, "every upstream file is pinned, and only those"


def compatibility_matrix() -> dict[int, str]:
    """Kubernetes minor -> the oldest Karpenter that supports it, from every generated table upstream published.

    Each release's docs carry a window of the table; newer releases' windows win where they overlap.
    """
    matrix: dict[int, str] = {}
    for path in sorted(reference("").parent.glob("karpenter-*/compatibility.md"), key=lambda p: version_tuple(p.parent.name.split("-")[1])):
        kubernetes, karpenter = (line for line in path.read_text().splitlines() if re.match(r"\|\s*(?i:kubernetes|karpenter)\s*\|", line))
        minors = [int(cell.strip().split(".")[1]) for cell in kubernetes.split("|")[2:-1]]
        versions = [cell.strip().removeprefix("\\>=").strip() for cell in karpenter.split("|")[2:-1]]
        matrix.update(zip(minors, versions, strict=True))
    return matrix


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.replace(".x", ".0").split("."))


@pytest.mark.parametrize("version", RELEASES)
def test_kubernetes_range_agrees_with_upstreams_compatibility_matrix(version):
    profile = PROFILES[version]
    for minor, oldest in compatibility_matrix().items():
        assert profile.supports(minor) == (version_tuple(version) >= version_tuple(oldest)), f"1.{minor}"


def test_the_release_to_use_for_each_kubernetes_minor_is_the_newest_that_supports_it():
    choice = release_for_kubernetes()
    for minor, version in choice.items():
        assert PROFILES[version].supports(minor)
        newer = [v for v in PROFILES if version_tuple(v) > version_tuple(version)]
        assert not any(PROFILES[v].supports(minor) for v in newer), minor
    assert choice[30] in PROFILES


def paths(value: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The path of every mapping key, descending into mappings only (lists are whole values in Helm)."""
    if not isinstance(value, dict):
        return set()
    return {(*prefix, k) for k in value} | {p for k, v in value.items() for p in paths(v, (*prefix, k))}


def open_maps(values: dict[str, Any]) -> set[tuple[str, ...]]:
    """Paths whose upstream default is an empty map: any key below them is the user's (annotations, resources...)."""
    found = set()
    for path in paths(values):
        node: Any = values
        for part in path:
            node = node[part]
        if node == {}:
            found.add(path)
    return found


@pytest.mark.parametrize("version", RELEASES)
def test_every_value_we_set_exists_in_that_releases_charts(version):
    config = make_config(karpenter={**example_data()["karpenter"], "version": version})
    ours = controller_values(config, cluster_endpoint="https://x", interruption_queue="q", controller_role_arn="arn:aws:iam::1:role/r")
    upstream_values = yaml.safe_load((reference(version) / "chart-values.yaml").read_text())
    known, free = paths(upstream_values), open_maps(upstream_values)
    unknown = {p for p in paths(ours) if p not in known and not any(p[: len(f)] == f for f in free)}
    assert unknown == set()
    crd_values = crd_chart_values(config)
    if crd_values:
        assert paths(crd_values) <= paths(yaml.safe_load((reference(version) / "crd-chart-values.yaml").read_text()))


@pytest.mark.parametrize("version", [v for v in RELEASES if PROFILES[v].webhooks])
def test_conversion_webhook_names_the_controllers_namespace_service_and_port(version):
    config = make_config(karpenter={**example_data()["karpenter"], "version": version, "namespace": "platform-karpenter"})
    assert crd_chart_values(config)["webhook"] == {"enabled": True, "serviceName": "karpenter", "serviceNamespace": "platform-karpenter", "port": 8443}
    values = controller_values(config, cluster_endpoint="https://x", interruption_queue="q", controller_role_arn="r")
    assert values["webhook"] == {"enabled": True, "port": 8443}


def test_an_unknown_release_names_the_allowed_ones():
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        make_config(karpenter={**example_data()["karpenter"], "version": "0.36.0"})
    assert "allowed: " + ", ".join(repr(v) for v in PROFILES) in str(caught.value)


def test_profiles_are_data_only():
    """A release is its data directory plus one profile: nothing in the app names a release version."""
    root = Path(__file__).resolve().parent.parent
    pattern = re.compile("|".join(re.escape(f'"{v}"') for v in PROFILES))
    offenders = [
        str(path.relative_to(root))
        for folder in ("karpenter_model", "karpenter_constructs", "stacks")
        for path in (root / folder).rglob("*.py")
        if pattern.search(path.read_text()) and path != DATA.parent / "__init__.py"
    ]
    assert offenders == []
