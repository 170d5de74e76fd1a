"""The AWS names this app creates, and the length limits AWS puts on them (from limits.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from karpenter_model import limits
from karpenter_model.releases import INTERRUPTION_RULE_NAMES, ReleaseProfile

if TYPE_CHECKING:
    from karpenter_model.config import NameOverrides

# Tags on the controller role: the release and the identity it was last deployed for. The next deploy's infra
# plan reads them before it changes any policy (karpenter_constructs.running_release).
RELEASE_TAG = "karpenter-cdktf/release"
IDENTITY_TAG = "karpenter-cdktf/identity"

# Every rule any release has (`names.interruption_rules` may name any of them).
INTERRUPTION_RULE_KINDS = tuple(name.key for name in INTERRUPTION_RULE_NAMES.values())


class ResourceNames:
    """The AWS names this app creates: derived from one prefix (the cluster name by default), unless overridden."""

    def __init__(self, prefix: str, overrides: NameOverrides | None = None) -> None:
        self.controller_role = f"{prefix}-karpenter-controller"
        self.controller_policy = f"{prefix}-karpenter-controller"
        self.node_role = f"{prefix}-karpenter-node"
        self.system_node_role = (overrides and overrides.system_node_role) or f"{prefix}-system-node"
        self.system_node_group = (overrides and overrides.system_node_group) or f"{prefix}-system"
        self.interruption_queue = f"{prefix}-karpenter-interruption"
        self.oidc_provider = f"{prefix}-eks-oidc"
        self._rule_overrides: dict[str, str] = {str(k): v for k, v in overrides.interruption_rules.items()} if overrides else {}

    def interruption_rule(self, kind: str) -> str:
        """`kind` is an interruption rule's key (`state_change`); names use hyphens (`...-state-change`)."""
        return self._rule_overrides.get(kind) or f"{self.interruption_queue}-{kind.replace('_', '-')}"


class FinalName(NamedTuple):
    what: str  # "controller role"
    name: str  # the name AWS gets
    limit: int  # AWS's length limit for it
    override: str | None  # the `names.` key that set it, or None when derived from the prefix


def final_names(prefix: str, overrides: NameOverrides | None, release: ReleaseProfile) -> list[FinalName]:
    """Every name the release's stacks create, as AWS will see it (overrides applied), with its length limit."""
    names = ResourceNames(prefix, overrides)
    rules = overrides.interruption_rules if overrides else {}
    found = [
        FinalName("controller role", names.controller_role, limits.IAM_ROLE_NAME_MAX, None),
        *(
            # A policy split to fit IAM's size limit adds "-2": leave room for it.
            FinalName("controller policy", prefix + policy.suffix + "-2", limits.IAM_POLICY_NAME_MAX, None)
            for policy in release.controller_policies
        ),
        FinalName("node role", names.node_role, limits.IAM_ROLE_NAME_MAX, None),
        FinalName(
            "system node role",
            names.system_node_role,
            limits.IAM_ROLE_NAME_MAX,
            "names.system_node_role" if overrides and overrides.system_node_role else None,
        ),
        FinalName("interruption queue", names.interruption_queue, limits.SQS_QUEUE_NAME_MAX, None),
        FinalName(
            "system node group",
            names.system_node_group,
            limits.EKS_NODEGROUP_NAME_MAX,
            "names.system_node_group" if overrides and overrides.system_node_group else None,
        ),
    ]
    found += [
        FinalName(
            f"{kind.replace('_', '-')} interruption rule",
            names.interruption_rule(kind),
            limits.EVENTBRIDGE_RULE_NAME_MAX,
            f"names.interruption_rules['{kind}']" if kind in rules else None,
        )
        for kind in (rule.key for rule in release.interruption_rules)
    ]
    return found
