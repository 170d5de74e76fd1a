"""IAM OIDC provider for the cluster's issuer: what lets a service account assume an IAM role (IRSA)."""

from __future__ import annotations

from cdktf import Fn, TerraformLocal
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_tls.data_tls_certificate import DataTlsCertificate
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.cluster import ExistingCluster
from karpenter_model.construct_inputs import OidcProviderInputs


class OidcProvider(Construct):
    def __init__(self, scope: Construct, id: str, *, inputs: OidcProviderInputs, cluster: ExistingCluster) -> None:
        super().__init__(scope, id)
        if inputs.thumbprints:
            thumbprints = list(inputs.thumbprints)
        else:
            certificate = named(DataTlsCertificate(self, "eks_certificate", url=cluster.issuer_url), "eks")
            thumbprints = [certificate.certificates.get(0).sha1_fingerprint]
        self.provider = named(
            IamOpenidConnectProvider(
                self,
                "eks",
                url=cluster.issuer_url,
                client_id_list=["sts.amazonaws.com"],
                thumbprint_list=thumbprints,
                tags={"Name": inputs.name},
            )
        )
        self.arn = self.provider.arn
        # IAM condition keys name the issuer without its scheme. A local keeps the quotes of the
        # replace() call out of the JSON policy documents that use it.
        issuer_host = TerraformLocal(self, "oidc_issuer_host", Fn.replace(self.provider.url, "https://", ""))
        issuer_host.override_logical_id("oidc_issuer_host")
        self.issuer_host = issuer_host.as_string
