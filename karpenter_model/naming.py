"""The AWS names this app creates, and the length limits AWS puts on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from karpenter_model.config import NameOverrides


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
        self._rule_overrides = overrides.interruption_rules if overrides else {}

    def interruption_rule(self, kind: str) -> str:
        """`kind` is a key of INTERRUPTION_RULES (`state_change`); names use hyphens (`...-state-change`)."""
        return self._rule_overrides.get(kind) or f"{self.interruption_queue}-{kind.replace('_', '-')}"


# AWS's length limits on the names derived from the prefix; the suffixes are ResourceNames' own.
_SUFFIXES = ResourceNames("")
NAME_LIMITS = {
    "controller role": (_SUFFIXES.controller_role, 64),
    "node role": (_SUFFIXES.node_role, 64),
    "system node role": (_SUFFIXES.system_node_role, 64),
    "interruption queue": (_SUFFIXES.interruption_queue, 80),
    "interruption rule": (_SUFFIXES.interruption_rule("health_event"), 64),  # the longest of the four
    "system node group": (_SUFFIXES.system_node_group, 63),
}
