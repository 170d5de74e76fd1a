"""Where each stack keeps its state, and every `moved`, `removed` and `import` block the stacks write.

Adoption (config `adoption`) moves and imports what an earlier configuration created; a migration step
re-addresses the node objects whose API version changes.
"""

from __future__ import annotations

import posixpath

from cdktf import CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformResource, TerraformStack
from cdktf_cdktf_provider_kubernetes.manifest import Manifest

from karpenter_model.base import ConfigError
from karpenter_model.config import (
    AdoptionSettings,
    CloudBackendSettings,
    KarpenterConfig,
    LocalBackendSettings,
    S3BackendSettings,
)
from karpenter_model.migration import ManifestMove
from karpenter_model.terraform_literals import literal

# Stack working directories are cdktf.out/stacks/<stack>/; local state paths are relative to them.
PROJECT_FROM_STACK_DIR = "../../.."


def configure_backend(stack: TerraformStack, name: str, config: KarpenterConfig) -> None:
    """cdktf derives other stacks' `terraform_remote_state` reads from this, so cross-stack references follow it."""
    backend = config.backend
    if isinstance(backend, LocalBackendSettings):
        LocalBackend(stack, path=posixpath.normpath(f"{PROJECT_FROM_STACK_DIR}/{backend.directory}/terraform.{name}.tfstate"))
    elif isinstance(backend, S3BackendSettings):
        S3Backend(
            stack,
            bucket=backend.bucket,
            key=f"{backend.key_prefix}/{name}.tfstate",
            region=backend.region,
            encrypt=backend.encrypt,
            kms_key_id=literal(backend.kms_key_id) if backend.kms_key_id else None,
            dynamodb_table=backend.dynamodb_table,
        )
        if backend.use_lockfile:
            # S3-native locking (Terraform >= 1.10); cdktf 0.21's S3Backend predates the argument.
            stack.add_override("terraform.backend.s3.use_lockfile", True)
    elif isinstance(backend, CloudBackendSettings):
        CloudBackend(
            stack,
            organization=backend.organization,
            hostname=backend.hostname,
            workspaces=NamedCloudWorkspace(
                f"{backend.workspace_prefix}{name}", literal(backend.project) if backend.project else None
            ),
        )


def apply_adoption(stack: TerraformStack, adoption: AdoptionSettings) -> None:
    """Generate `moved` and `import` blocks for the addresses the config names; unknown addresses are config errors."""
    if not adoption.moved and not adoption.imports:
        return
    resources = {
        f"{element.terraform_resource_type}.{element.friendly_unique_id}": element
        for element in stack.node.find_all()
        if isinstance(element, TerraformResource)
    }

    def target(key: str, address: str) -> TerraformResource:
        if address not in resources:
            raise ConfigError(f"{key}: got {address!r}: not a resource of this stack; allowed: {sorted(resources)}")
        return resources[address]

    moved_to: dict[str, str] = {}
    for old, new in sorted(adoption.moved.items()):
        key = f"adoption.moved[{old!r}]"
        if old in resources:
            # Terraform refuses a move whose source address is still declared ("Moved object still exists").
            raise ConfigError(
                f"{key}: got {old!r} as the old address, but this stack declares a resource there; allowed: an address the stack does not use"
            )
        if new in moved_to:  # the config model refuses this already; cdktf would fail with a JavaScript stack
            raise ConfigError(f"{key}: got {new!r}: {moved_to[new]!r} moves there too; allowed: one source per resource")
        moved_to[new] = old
        target(key, new).move_from_id(old)
    for address, import_id in sorted(adoption.imports.items()):
        target("adoption.imports", address).import_from(literal(import_id))


def readdress(stack: TerraformStack, manifests: dict[tuple[str, str], Manifest], moves: list[ManifestMove]) -> None:
    """Forget each node object at its old address (`removed`, `destroy = false`) and import it at its new one.

    Both blocks run inside the step's normal plan and apply; the object in the cluster is never
    deleted, so the nodes its NodePool owns keep running.
    """
    if not moves:
        return
    stack.add_override("removed", [{"from": move.old_address, "lifecycle": {"destroy": False}} for move in moves])
    for move in moves:
        manifests[(move.kind, move.name)].import_from(literal(move.import_id))
