"""OIDC provider for the cluster issuer: tls_certificate thumbprint by default, or thumbprints from config."""

from __future__ import annotations

from tests.conftest import make_config, resource

ISSUER = "${data.aws_eks_cluster.cluster.identity[0].oidc[0].issuer}"


def test_provider_trusts_sts_for_the_cluster_issuer(infra):
    provider = resource(infra, "aws_iam_openid_connect_provider.eks")
    assert provider["url"] == ISSUER
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert provider["thumbprint_list"] == ["${data.tls_certificate.eks.certificates[0].sha1_fingerprint}"]
    assert resource(infra, "data.tls_certificate.eks")["url"] == ISSUER
    assert "tls" in infra["terraform"]["required_providers"]


def test_configured_thumbprints_replace_the_tls_lookup(synth_config):
    thumbprint = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
    stack = synth_config(make_config(oidc={"thumbprints": [thumbprint]}))["infra"]
    assert resource(stack, "aws_iam_openid_connect_provider.eks")["thumbprint_list"] == [thumbprint]
    assert "tls_certificate" not in stack.get("data", {})
    assert "tls" not in stack["terraform"]["required_providers"]
    assert "tls" not in stack["provider"]


def test_existing_cluster_is_looked_up_by_name_and_version_checked(infra):
    cluster = resource(infra, "data.aws_eks_cluster.cluster")
    assert cluster["name"] == "aws-2026-eks"
    # What they decide: tests/test_kubernetes_support.py and tests/test_infra_guard.py, with terraform.
    check, security_group = cluster["lifecycle"]["postcondition"]
    assert "self.version" in check["condition"]
    assert "1.23 to 1.30" in check["error_message"]
    assert "cluster_security_group_id" in security_group["condition"]
