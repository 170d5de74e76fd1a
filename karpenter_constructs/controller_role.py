"""The controller's IAM role (IRSA and/or EKS Pod Identity) and the release's controller policies (one or several), attached to it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_constructs.cluster import ExistingCluster
from karpenter_constructs.oidc_provider import OidcProvider
from karpenter_model.construct_inputs import ControllerRoleInputs
from karpenter_model.documents.iam import (
    ADDITIONAL_POLICY,
    PolicyDocument,
    PolicyValues,
    controller_trust_policy,
    managed_policies,
)
from karpenter_model.documents.interruption import INTERRUPTION_KMS_POLICY, decrypt_policy
from karpenter_model.migration import MigrationStep
from karpenter_model.releases import ControllerPolicyName

IDENTITY_NAMES = {("irsa",): "IRSA", ("pod_identity",): "EKS Pod Identity", ("irsa", "pod_identity"): "IRSA and EKS Pod Identity"}


class ControllerRole(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        inputs: ControllerRoleInputs,
        cluster: ExistingCluster,
        oidc: OidcProvider | None,
        queue_arn: str,
        node_role_arn: str,
        key_arn: str | None,
        step: MigrationStep | None,
        guards: Sequence[dict[str, str]] = (),
    ) -> None:
        """`key_arn`: the interruption queue's customer managed key, if any (the controller decrypts its messages).

        `guards`: preconditions checked before the role, and so before any of its policies, changes.
        """
        super().__init__(scope, id)
        self.names = inputs.names
        trust = controller_trust_policy(
            inputs.identities,
            oidc_provider_arn=oidc.arn if oidc else None,
            issuer_host=oidc.issuer_host if oidc else None,
            namespace=inputs.namespace,
            service_account=inputs.service_account,
        )
        self.role = named(
            IamRole(
                self,
                "karpenter_controller",
                name=inputs.names.controller_role,
                # Only trust and description follow `karpenter.identity`: a switch updates the role in place, same name and ARN.
                description=f"Karpenter controller for EKS cluster {inputs.cluster_name} ({IDENTITY_NAMES[inputs.identities]})",
                assume_role_policy=json.dumps(trust),
                tags=dict(inputs.tags),
                permissions_boundary=inputs.permissions_boundary,
                lifecycle=TerraformResourceLifecycle(precondition=list(guards)) if guards else None,
            )
        )
        references = PolicyValues(
            partition=cluster.partition,
            region=cluster.region,
            account_id=cluster.account_id,
            cluster_name=inputs.cluster_name,
            queue_arn=queue_arn,
            node_role_arn=node_role_arn,
        )
        # A migration step first attaches what the previous release needs apart from the new policies, and
        # only then changes the policies they share: its controller runs until the chart stack moves it.
        kept = [
            self._attached_policy(name, document)
            for name, document in (step.kept_controller_policies(references, inputs.measured) if step else {}).items()
        ]
        for name, document in managed_policies(inputs.release, references, inputs.measured).items():
            self._attached_policy(name, document, after=kept)
        if inputs.additional_policy:
            self._attached_policy(ADDITIONAL_POLICY, inputs.additional_policy)
        if key_arn:
            self._attached_policy(INTERRUPTION_KMS_POLICY, decrypt_policy(key_arn))

    def _attached_policy(
        self, name: ControllerPolicyName, document: PolicyDocument, after: Sequence[ITerraformDependable] = ()
    ) -> IamRolePolicyAttachment:
        policy = named(
            IamPolicy(
                self,
                f"{name.address}_policy",
                name=self.names.controller_policy(name.suffix),
                # No description: it forces replacement of a policy, which adopting a karpenter.tf state must avoid.
                policy=json.dumps(document),
                depends_on=list(after) or None,
            ),
            name.address,
        )
        return named(
            IamRolePolicyAttachment(self, f"{name.address}_policy_attachment", role=self.role.name, policy_arn=policy.arn),
            name.address,
        )
