"""What a migration step (`karpenter.previous_version` set) changes besides the release itself.

Two things must outlive the step's deploy, because the infra stack is applied before the chart
stack moves the controller: the previous release's controller policies and node role policies
stay attached next to the new ones (upstream's v1 migration attaches the v1 policy before the
controller changes and removes the old one afterwards), and node objects whose API version
changes are re-addressed, never replaced: `kubernetes_manifest` replaces an object whose
`apiVersion` changes, and replacing a NodePool deletes it and drains every node it owns.

A steady-state deploy has no step (`migration_step` returns None) and reads nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.iam import PolicyDocument, PolicyValues, managed_policies, node_role_policy_arns
from karpenter_model.naming import manifest_import_id, manifest_name
from karpenter_model.releases import ControllerPolicyName, ReleaseProfile


@dataclass(frozen=True)
class ManifestMove:
    """One node object changing address: forgotten at `old_address` (not destroyed), imported at `new_address`."""

    kind: str
    name: str
    old_address: str
    new_address: str
    import_id: str


@dataclass(frozen=True)
class MigrationStep:
    """One deploy of a migration: `previous` runs until the chart stack moves the controller to `current`."""

    previous: ReleaseProfile
    current: ReleaseProfile

    def manifest_moves(self, objects: Iterable[tuple[str, str]]) -> list[ManifestMove]:
        """For `(kind, name)` node objects: a move each when the step changes their API version; none otherwise."""
        previous, current = self.previous.api_version, self.current.api_version
        if previous == current:
            return []
        return [
            ManifestMove(
                kind,
                name,
                old_address=f"kubernetes_manifest.{manifest_name(kind, name, previous)}",
                new_address=f"kubernetes_manifest.{manifest_name(kind, name, current)}",
                import_id=manifest_import_id(kind, name, current),
            )
            for kind, name in objects
        ]

    def kept_controller_policies(
        self, values: PolicyValues, measured: PolicyValues
    ) -> dict[ControllerPolicyName, PolicyDocument]:
        """The previous release's controller policies that must stay attached while its controller may still run.

        A policy the new release also has, with the same document, needs nothing. One the new release
        has with another document (0.37.8's and 1.0.14's `karpenter_controller`) is updated in place, so
        the previous document is kept as a policy of its own, `<address>_previous`. One the new release
        does not have (1.0.14's, when moving to 1.14.1) simply stays where it is. `measured` are the
        literal values the references will take (policy sizes, and so the split, depend on them).
        """
        current = {name.address: document for name, document in managed_policies(self.current, measured, measured).items()}
        previous_sized = managed_policies(self.previous, measured, measured)
        kept: dict[ControllerPolicyName, PolicyDocument] = {}
        for name, document in managed_policies(self.previous, values, measured).items():
            if name.address not in current:
                kept[name] = document
            elif current[name.address] != previous_sized[name]:
                kept[ControllerPolicyName(f"{name.address}_previous", f"{name.suffix}-previous")] = document
        return kept

    def kept_node_role_policy_arns(self, *, partition: str) -> list[str]:
        """The previous release's node role policies, which stay attached next to the new ones (1.14.1 swaps ECR ReadOnly for PullOnly)."""
        return node_role_policy_arns(self.previous, partition=partition)


def migration_step(config: KarpenterConfig) -> MigrationStep | None:
    """The step this deploy takes (`karpenter.previous_version` set), or None for a steady-state deploy."""
    previous = config.previous_release
    return MigrationStep(previous, config.release) if previous else None
