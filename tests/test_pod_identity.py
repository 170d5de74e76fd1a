"""EKS Pod Identity for the controller (`karpenter.identity: pod_identity`), and the switch from and back to IRSA.

What the synthesized stacks hold: the trust policy, the association, the add-on requirement, the guard
against an undeclared switch, no OIDC provider when nothing uses one, no IRSA annotation in the chart
values, for every release. What real terraform does with them against moto: tests/test_pod_identity_roundtrip.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from karpenter_constructs.pod_identity import POD_IDENTITY_AGENT_ADDON, RUNNING_ROLE
from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.helm_values import IDENTITY_POD_ANNOTATION, IRSA_ROLE_ANNOTATION, controller_values
from karpenter_model.documents.iam import (
    controller_policies,
    controller_trust_policy,
    irsa_trust_policy,
    measured_values,
    pod_identity_trust_policy,
)
from karpenter_model.releases import PROFILES
from tests.conftest import EXAMPLES, config_for_cluster, make_config, policy, resource

ROLE_ARN = "${aws_iam_role.karpenter_controller.arn}"
CLUSTER = "${data.aws_eks_cluster.cluster.name}"
ISSUER = "${local.oidc_issuer_host}"
OIDC_ARN = "${aws_iam_openid_connect_provider.eks.arn}"


def pod_identity(**karpenter: Any) -> KarpenterConfig:
    return make_config(karpenter={"replicas": 1, "identity": "pod_identity", **karpenter})


def switching(previous: str, identity: str) -> KarpenterConfig:
    return make_config(karpenter={"replicas": 1, "identity": identity, "previous_identity": previous})


def trust(stack: dict[str, Any]) -> dict[str, Any]:
    return policy(stack, "aws_iam_role.karpenter_controller", "assume_role_policy")


def helm_values(stacks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (values,) = resource(stacks["chart"], "helm_release.karpenter")["values"]
    return json.loads(values)


def addresses(stack: dict[str, Any], section: str = "resource") -> set[str]:
    return {f"{kind}.{name}" for kind, items in stack.get(section, {}).items() for name in items}


@pytest.fixture(scope="module")
def stacks(synth_config) -> dict[str, dict[str, Any]]:
    return synth_config(pod_identity())


@pytest.fixture(scope="module")
def infra(stacks) -> dict[str, Any]:
    return stacks["infra"]


# -- the trust policy --------------------------------------------------------------------------------


def test_pod_identity_trust_is_the_eks_pods_service_with_assume_role_and_tag_session():
    (statement,) = pod_identity_trust_policy()["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }


# AWS's trust policy for an EKS Pod Identity role, as the EKS User Guide gives it ("Create the IAM role":
# https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html); written out here, not built by the code under test.
AWS_POD_IDENTITY_TRUST: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    ],
}


def test_synthesized_role_trusts_only_pod_identity(infra):
    document = trust(infra)
    # AWS's document, its statement without the Sid (an optional label that grants nothing).
    (statement,) = AWS_POD_IDENTITY_TRUST["Statement"]
    assert document == {**AWS_POD_IDENTITY_TRUST, "Statement": [{k: v for k, v in statement.items() if k != "Sid"}]}
    text = json.dumps(document)
    for web_identity in ("Federated", "AssumeRoleWithWebIdentity", ":sub", ":aud", "oidc"):
        assert web_identity not in text
    assert "Condition" not in document["Statement"][0]


def test_the_role_keeps_its_name_and_says_how_it_is_assumed(infra):
    role = resource(infra, "aws_iam_role.karpenter_controller")
    assert role["name"] == "aws-2026-eks-karpenter-controller"  # the same as with IRSA: a switch updates it in place
    assert role["description"] == "Karpenter controller for EKS cluster aws-2026-eks (EKS Pod Identity)"
    # tags: the release and identity it is deployed for; lifecycle: the guards that read them before the next deploy.
    assert set(role) - {"//"} == {"name", "description", "assume_role_policy", "tags", "lifecycle"}


def test_during_a_switch_the_role_trusts_both_irsa_first(synth_config):
    document = trust(synth_config(switching("irsa", "pod_identity"))["infra"])
    irsa = irsa_trust_policy(oidc_provider_arn=OIDC_ARN, issuer_host=ISSUER, namespace="karpenter", service_account="karpenter")
    assert document["Statement"] == irsa["Statement"] + pod_identity_trust_policy()["Statement"]


def test_trust_documents_compose_per_identity():
    common = {"namespace": "ns", "service_account": "sa", "oidc_provider_arn": "arn:oidc", "issuer_host": "host"}
    assert controller_trust_policy(("pod_identity",), namespace="ns", service_account="sa") == pod_identity_trust_policy()
    assert controller_trust_policy(("irsa",), **common) == irsa_trust_policy(**common)
    both = controller_trust_policy(("irsa", "pod_identity"), **common)["Statement"]
    assert [s["Action"] for s in both] == ["sts:AssumeRoleWithWebIdentity", ["sts:AssumeRole", "sts:TagSession"]]
    with pytest.raises(ValueError, match="OIDC provider"):
        controller_trust_policy(("irsa",), namespace="ns", service_account="sa")


# -- the association and the add-on -----------------------------------------------------------------


def test_association_binds_the_role_to_the_namespace_and_service_account(infra):
    association = resource(infra, "aws_eks_pod_identity_association.karpenter_controller")
    assert {k: v for k, v in association.items() if k not in ("//", "depends_on", "lifecycle")} == {
        "cluster_name": CLUSTER,
        "namespace": "karpenter",
        "service_account": "karpenter",
        "role_arn": ROLE_ARN,
    }


def test_association_follows_namespace_and_service_account(synth_config):
    config = pod_identity(namespace="kube-system", create_namespace=False, service_account="karpenter-ctl")
    association = resource(synth_config(config)["infra"], "aws_eks_pod_identity_association.karpenter_controller")
    assert (association["namespace"], association["service_account"]) == ("kube-system", "karpenter-ctl")


def test_the_pod_identity_agent_add_on_is_required_at_plan_time(infra):
    """Read as a data source (a plan fails, before any change, on a cluster without it); never installed here."""
    agent = resource(infra, "data.aws_eks_addon.eks_pod_identity_agent")
    assert (
        (agent["cluster_name"], agent["addon_name"]) == (CLUSTER, POD_IDENTITY_AGENT_ADDON) == (CLUSTER, "eks-pod-identity-agent")
    )
    association = resource(infra, "aws_eks_pod_identity_association.karpenter_controller")
    assert association["depends_on"] == ["data.aws_eks_addon.eks_pod_identity_agent"]
    assert "aws_eks_addon" not in infra["resource"]


def test_an_undeclared_switch_from_irsa_is_refused_by_a_precondition(infra):
    """Without previous_identity, the plan reads the role as it runs and refuses if it trusts IRSA alone."""
    roles = resource(infra, "data.aws_iam_roles.karpenter_controller_running")
    assert roles["name_regex"] == r"^aws\-2026\-eks\-karpenter\-controller$"
    running = resource(infra, RUNNING_ROLE)
    assert running["name"] == "aws-2026-eks-karpenter-controller"
    assert running["count"] == "${length(tolist(data.aws_iam_roles.karpenter_controller_running.names))}"
    (check,) = resource(infra, "aws_eks_pod_identity_association.karpenter_controller")["lifecycle"]["precondition"]
    assert f"{RUNNING_ROLE}[*].assume_role_policy" in check["condition"]
    assert "karpenter.previous_identity: irsa" in check["error_message"]


def test_a_declared_switch_needs_no_guard(synth_config):
    infra = synth_config(switching("irsa", "pod_identity"))["infra"]
    association = resource(infra, "aws_eks_pod_identity_association.karpenter_controller")
    assert "lifecycle" not in association
    # The role's identity guard lets through a role that serves either identity while the switch is declared.
    identity_guard = resource(infra, "aws_iam_role.karpenter_controller")["lifecycle"]["precondition"][1]
    assert (
        identity_guard["condition"]
        == '${contains(["pod_identity", "none", "untagged", "irsa"], local.running_controller_identity)}'
    )


# -- no OIDC provider when nothing uses it -----------------------------------------------------------


def test_no_oidc_provider_tls_lookup_or_issuer_local(infra):
    assert "aws_iam_openid_connect_provider" not in infra["resource"]
    assert "tls_certificate" not in infra["data"]
    assert "tls" not in infra["terraform"]["required_providers"] and "tls" not in infra["provider"]
    assert "local" not in infra
    assert "oidc" not in json.dumps(infra["resource"])


def test_outputs_name_the_association_and_no_oidc_provider(infra):
    outputs = {name: o["value"] for name, o in infra["output"].items() if not name.startswith("cross-stack-output-")}
    assert outputs == {
        "karpenter_controller_role_arn": ROLE_ARN,
        "karpenter_interruption_queue_name": "${aws_sqs_queue.karpenter_interruption.name}",
        "karpenter_node_role_name": "${aws_iam_role.karpenter_node.name}",
        "karpenter_node_role_arn": "${aws_iam_role.karpenter_node.arn}",
        "karpenter_pod_identity_association_arn": "${aws_eks_pod_identity_association.karpenter_controller.association_arn}",
        "cluster_endpoint": "${data.aws_eks_cluster.cluster.endpoint}",
    }


def test_the_oidc_provider_stays_while_irsa_is_in_use(synth_config):
    for config in (switching("irsa", "pod_identity"), switching("pod_identity", "irsa")):
        infra = synth_config(config)["infra"]
        assert "aws_iam_openid_connect_provider.eks" in addresses(infra)
        assert "aws_eks_pod_identity_association.karpenter_controller" in addresses(infra)
        assert "oidc_provider_arn" in infra["output"]


def test_plain_irsa_has_no_pod_identity_pieces(example_stacks):
    infra = example_stacks["infra"]
    assert "aws_eks_pod_identity_association" not in infra["resource"]
    assert "aws_eks_addon" not in infra["data"]
    assert "pods.eks.amazonaws.com" not in json.dumps(infra)


# -- the chart values --------------------------------------------------------------------------------


def test_no_irsa_annotation_in_the_rendered_values(stacks):
    values = helm_values(stacks)
    assert values["serviceAccount"] == {"create": True, "name": "karpenter"}
    chart = json.dumps(stacks["chart"])
    assert IRSA_ROLE_ANNOTATION not in chart
    assert "karpenter_controller_role_arn" not in chart and "aws_iam_rolekarpenter_controllerarn" not in chart


def test_pods_are_rolled_whenever_the_identity_changes():
    """EKS injects credentials at pod creation only: every identity state has its own pod annotation value."""
    annotation = {}
    for identity, previous in (("irsa", None), ("pod_identity", "irsa"), ("pod_identity", None), ("irsa", "pod_identity")):
        config = make_config(karpenter={"replicas": 1, "identity": identity, "previous_identity": previous})
        values = controller_values(config, cluster_endpoint="e", interruption_queue="q", controller_role_arn="arn:role")
        annotation[(identity, previous)] = values.get("podAnnotations", {}).get(IDENTITY_POD_ANNOTATION)
        has_irsa_annotation = IRSA_ROLE_ANNOTATION in values["serviceAccount"].get("annotations", {})
        assert has_irsa_annotation == (identity == "irsa")
    assert annotation[("irsa", None)] is None  # plain IRSA installs keep their pod template
    assert len(set(annotation.values())) == 4
    assert annotation[("pod_identity", "irsa")] == "pod_identity, switching from irsa"


def test_irsa_values_keep_the_annotation_and_no_pod_annotation(example_stacks):
    values = helm_values(example_stacks)
    (role_arn,) = values["serviceAccount"]["annotations"].values()
    assert list(values["serviceAccount"]["annotations"]) == [IRSA_ROLE_ANNOTATION]
    assert role_arn.startswith("${data.terraform_remote_state.") and "aws_iam_rolekarpenter_controllerarn" in role_arn
    assert "podAnnotations" not in values


# -- every release ---------------------------------------------------------------------------------


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_every_release_works_with_pod_identity(example, synth_config):
    data = config_for_cluster("aws-2026-eks", example).model_dump(mode="json", exclude_unset=True)
    data["karpenter"]["identity"] = "pod_identity"
    config = KarpenterConfig.model_validate(data)
    stacks = synth_config(config)
    infra = stacks["infra"]
    assert trust(infra) == pod_identity_trust_policy()
    assert "aws_eks_pod_identity_association.karpenter_controller" in addresses(infra)
    assert "aws_iam_openid_connect_provider" not in infra["resource"]
    assert len(infra["resource"]["aws_iam_policy"]) >= 1
    assert "annotations" not in helm_values(stacks)["serviceAccount"]


@pytest.mark.parametrize("version", sorted(PROFILES))
def test_no_controller_policy_conditions_on_principal_tags(version):
    """Pod Identity's session tags (eks-cluster-name, kubernetes-namespace, ...) become principal tags; no policy reads them.

    `eks:eks-cluster-name` in the v1 policies is a request tag: Karpenter puts it on what it creates (CreateFleet,
    RunInstances, CreateLaunchTemplate, ...) and the policy checks it is this cluster. It is not a session tag
    (whose key is `eks-cluster-name`, read as `aws:PrincipalTag/eks-cluster-name`), so IRSA and Pod Identity
    satisfy the same conditions.
    """
    keys: set[str] = set()
    for document in controller_policies(PROFILES[version], measured_values(make_config())).values():
        for statement in document["Statement"]:
            for operator in statement.get("Condition", {}).values():
                keys |= set(operator)
    assert not [key for key in keys if "PrincipalTag" in key]
    assert not [key for key in keys if "eks-cluster-name" in key and key != "aws:RequestTag/eks:eks-cluster-name"]
    if PROFILES[version].api_version == "v1":
        assert "aws:RequestTag/eks:eks-cluster-name" in keys


# -- the config --------------------------------------------------------------------------------------


def test_identity_defaults_to_irsa():
    settings = make_config().karpenter
    assert (settings.identity, settings.previous_identity, settings.identities) == ("irsa", None, ("irsa",))
    assert switching("irsa", "pod_identity").karpenter.identities == ("irsa", "pod_identity")
    assert pod_identity().karpenter.identities == ("pod_identity",)
