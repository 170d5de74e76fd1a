"""The AWS names this app creates, and the length limits AWS puts on them (from limits.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from karpenter_model import limits
from karpenter_model.releases import INTERRUPTION_RULE_NAMES, NODE_CLASS_GROUP, NODE_POOL_GROUP, ReleaseProfile

# Tags on the controller role: the release and the identity it was last deployed for. The next deploy's infra
# plan reads them before it changes any policy (karpenter_constructs.running_release).
OWN_TAG_PREFIX = "karpenter-cdktf/"
RELEASE_TAG = OWN_TAG_PREFIX + "release"
IDENTITY_TAG = OWN_TAG_PREFIX + "identity"

# Every rule any release has (`names.interruption_rules` may name any of them).
INTERRUPTION_RULE_KINDS = tuple(name.key for name in INTERRUPTION_RULE_NAMES.values())


class ResourceNames:
    """The AWS names this app creates: derived from one prefix (the cluster name by default), unless overridden.

    The overrides are config `names.*` (adopting resources an earlier configuration created).
    """

    def __init__(
        self,
        prefix: str,
        *,
        system_node_role: str | None = None,
        system_node_group: str | None = None,
        interruption_rules: Mapping[str, str] | None = None,
    ) -> None:
        self.prefix = prefix
        self.controller_role = f"{prefix}-karpenter-controller"
        self.node_role = f"{prefix}-karpenter-node"
        self.system_node_role = system_node_role or f"{prefix}-system-node"
        self.system_node_group = system_node_group or f"{prefix}-system"
        self.interruption_queue = f"{prefix}-karpenter-interruption"
        # Not in `final_names`: they fit whenever the rule names (64 characters, derived from the queue's and
        # longer) fit, as SQS allows 80 characters, KMS aliases 256 and IAM policies 128.
        self.interruption_dead_letter_queue = f"{self.interruption_queue}-dlq"
        self.interruption_key_alias = f"alias/{self.interruption_queue}"
        self.oidc_provider = f"{prefix}-eks-oidc"
        self.overridden = {
            key
            for key, value in (("names.system_node_role", system_node_role), ("names.system_node_group", system_node_group))
            if value
        } | {f"names.interruption_rules['{kind}']" for kind in interruption_rules or {}}
        self._rule_overrides = dict(interruption_rules or {})

    def controller_policy(self, suffix: str) -> str:
        """A controller policy's name: the prefix and the policy's suffix (`ControllerPolicyName.suffix`)."""
        return self.prefix + suffix

    def interruption_rule(self, kind: str) -> str:
        """`kind` is an interruption rule's key (`state_change`); names use hyphens (`...-state-change`)."""
        return self._rule_overrides.get(kind) or f"{self.interruption_queue}-{kind.replace('_', '-')}"


# Objects in this API keep the addresses they had before addresses carried the API (adopted states use them).
UNVERSIONED_ADDRESS_API = "v1beta1"
NODE_KINDS = {"EC2NodeClass": ("ec2nodeclass", NODE_CLASS_GROUP), "NodePool": ("nodepool", NODE_POOL_GROUP)}


def manifest_name(kind: str, name: str, api_version: str) -> str:
    """`nodepool_team_batch` (v1beta1) or `v1_nodepool_team_batch` (v1): the Terraform name of NodePool `team.batch`.

    Terraform names have no dots and Kubernetes names no underscores, so the mapping is one to one,
    and a `v1_` prefix cannot be produced by a v1beta1 name, which starts with the kind.
    """
    base = f"{NODE_KINDS[kind][0]}_{name.replace('.', '_')}"
    return base if api_version == UNVERSIONED_ADDRESS_API else f"{api_version}_{base}"


def manifest_import_id(kind: str, name: str, api_version: str) -> str:
    """The kubernetes provider's import ID of a cluster-scoped object (no namespace part)."""
    return f"apiVersion={NODE_KINDS[kind][1]}/{api_version},kind={kind},name={name}"


class FinalName(NamedTuple):
    what: str  # "controller role"
    name: str  # the name AWS gets
    limit: int  # AWS's length limit for it
    override: str | None  # the `names.` key that set it, or None when derived from the prefix


def final_names(names: ResourceNames, release: ReleaseProfile) -> list[FinalName]:
    """Every name the release's stacks create, as AWS will see it (overrides applied), with its length limit."""

    def override(key: str) -> str | None:
        return key if key in names.overridden else None

    found = [
        FinalName("controller role", names.controller_role, limits.IAM_ROLE_NAME_MAX, None),
        *(
            # A policy split to fit IAM's size limit adds "-2": leave room for it.
            FinalName("controller policy", names.controller_policy(policy.suffix) + "-2", limits.IAM_POLICY_NAME_MAX, None)
            for policy in release.controller_policies
        ),
        FinalName("node role", names.node_role, limits.IAM_ROLE_NAME_MAX, None),
        FinalName("system node role", names.system_node_role, limits.IAM_ROLE_NAME_MAX, override("names.system_node_role")),
        FinalName("interruption queue", names.interruption_queue, limits.SQS_QUEUE_NAME_MAX, None),
        FinalName(
            "system node group", names.system_node_group, limits.EKS_NODEGROUP_NAME_MAX, override("names.system_node_group")
        ),
    ]
    found += [
        FinalName(
            f"{kind.replace('_', '-')} interruption rule",
            names.interruption_rule(kind),
            limits.EVENTBRIDGE_RULE_NAME_MAX,
            override(f"names.interruption_rules['{kind}']"),
        )
        for kind in (rule.key for rule in release.interruption_rules)
    ]
    return found
