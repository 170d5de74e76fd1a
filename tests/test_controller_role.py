"""IRSA trust: only the configured service account, with the STS audience, through the cluster's OIDC provider."""

from __future__ import annotations

from tests.conftest import make_config, policy

ISSUER = "${local.oidc_issuer_host}"


def trust(stack):
    return policy(stack, "aws_iam_role.karpenter_controller", "assume_role_policy")


def test_trust_is_scoped_to_the_service_account_and_audience(infra):
    (statement,) = trust(infra)["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": "${aws_iam_openid_connect_provider.eks.arn}"}
    assert statement["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:sub": "system:serviceaccount:karpenter:karpenter",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }
    }


def test_trust_follows_namespace_and_service_account(synth_config):
    config = make_config(
        karpenter={"namespace": "kube-system", "create_namespace": False, "service_account": "karpenter-ctl", "replicas": 1}
    )
    (statement,) = trust(synth_config(config)["infra"])["Statement"]
    assert statement["Condition"]["StringEquals"][f"{ISSUER}:sub"] == "system:serviceaccount:kube-system:karpenter-ctl"


def test_role_name_carries_the_cluster(infra):
    assert infra["resource"]["aws_iam_role"]["karpenter_controller"]["name"] == "aws-2026-eks-karpenter-controller"
