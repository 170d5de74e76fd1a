"""What a migration step (`karpenter.previous_version` set) changes besides the release itself.

Two things must outlive the step's deploy, because the infra stack is applied before the chart
stack moves the controller: the previous release's controller policies and node role policies
stay attached next to the new ones (upstream's v1 migration attaches the v1 policy before the
controller changes and removes the old one afterwards), and node objects whose API version
changes are re-addressed, never replaced: `kubernetes_manifest` replaces an object whose
`apiVersion` changes, and replacing a NodePool deletes it and drains every node it owns.
"""

from __future__ import annotations

from dataclasses import dataclass

from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.iam import PolicyDocument, PolicyValues, managed_policies, measured_values, node_role_policy_arns
from karpenter_model.releases import NODE_CLASS_GROUP, NODE_POOL_GROUP, ControllerPolicyName, ReleaseProfile

# Objects in this API keep the addresses they had before addresses carried the API (adopted states use them).
UNVERSIONED_ADDRESS_API = "v1beta1"
NODE_KINDS = {"EC2NodeClass": ("ec2nodeclass", NODE_CLASS_GROUP), "NodePool": ("nodepool", NODE_POOL_GROUP)}


def manifest_name(kind: str, name: str, api_version: str) -> str:
    """`nodepool_team_batch` (v1beta1) or `v1_nodepool_team_batch` (v1) for NodePool `team.batch`.

    Terraform names have no dots and Kubernetes names no underscores, so the mapping is one to one,
    and a `v1_` prefix cannot be produced by a v1beta1 name, which starts with the kind.
    """
    base = f"{NODE_KINDS[kind][0]}_{name.replace('.', '_')}"
    return base if api_version == UNVERSIONED_ADDRESS_API else f"{api_version}_{base}"


def manifest_import_id(kind: str, name: str, api_version: str) -> str:
    """The kubernetes provider's import ID of a cluster-scoped object (no namespace part)."""
    return f"apiVersion={NODE_KINDS[kind][1]}/{api_version},kind={kind},name={name}"


@dataclass(frozen=True)
class ManifestMove:
    """One node object changing address: forgotten at `old_address` (not destroyed), imported at `new_address`."""

    kind: str
    name: str
    old_address: str
    new_address: str
    import_id: str


def manifest_moves(config: KarpenterConfig) -> list[ManifestMove]:
    """Every configured node object, when the step changes the API version they are written in; none otherwise."""
    previous, current = config.previous_release, config.release
    if previous is None or previous.api_version == current.api_version:
        return []
    objects = [("EC2NodeClass", c.name) for c in config.node_classes] + [("NodePool", p.name) for p in config.node_pools]
    return [
        ManifestMove(
            kind,
            name,
            old_address=f"kubernetes_manifest.{manifest_name(kind, name, previous.api_version)}",
            new_address=f"kubernetes_manifest.{manifest_name(kind, name, current.api_version)}",
            import_id=manifest_import_id(kind, name, current.api_version),
        )
        for kind, name in objects
    ]


def kept_controller_policies(config: KarpenterConfig, values: PolicyValues) -> dict[ControllerPolicyName, PolicyDocument]:
    """The previous release's controller policies that must stay attached while its controller may still run.

    A policy the new release also has, with the same document, needs nothing. One the new release
    has with another document (0.37.8's and 1.0.14's `karpenter_controller`) is updated in place, so
    the previous document is kept as a policy of its own, `<address>_previous`. One the new release
    does not have (1.0.14's, when moving to 1.14.1) simply stays where it is.
    """
    previous = config.previous_release
    if previous is None:
        return {}
    measured = measured_values(config)
    current = {name.address: document for name, document in managed_policies(config.release, measured, measured).items()}
    previous_sized = managed_policies(previous, measured, measured)
    kept: dict[ControllerPolicyName, PolicyDocument] = {}
    for name, document in managed_policies(previous, values, measured).items():
        if name.address not in current:
            kept[name] = document
        elif current[name.address] != previous_sized[name]:
            kept[ControllerPolicyName(f"{name.address}_previous", f"{name.suffix}-previous")] = document
    return kept


def node_role_policy_arns_during_step(config: KarpenterConfig, *, partition: str) -> list[str]:
    """The release's node role policies, plus the previous release's (1.14.1 swaps ECR ReadOnly for PullOnly)."""
    releases: list[ReleaseProfile] = [config.release] + ([config.previous_release] if config.previous_release else [])
    return sorted({arn for release in releases for arn in node_role_policy_arns(release, partition=partition)})
