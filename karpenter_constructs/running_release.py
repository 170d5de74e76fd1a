"""Which Karpenter release runs in the cluster, read at plan time, and the guard that refuses an undocumented step.

The crds stack and the chart stack both carry the guard, as a precondition on their Helm
release: `cdktf deploy '*'` applies the crds stack first, and CRDs of a release two steps ahead
(1.14.1's serve no v1beta1) would break the controller still running. The running release is
the `app.kubernetes.io/version` label the chart puts on its Deployment (the chart's AppVersion).
"""

from __future__ import annotations

import json

from cdktf import TerraformLocal
from cdktf_cdktf_provider_kubernetes.data_kubernetes_resources import DataKubernetesResources
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_model.releases import PROFILES, ReleaseProfile, next_step

# The chart's full name for a release named "karpenter" (its `karpenter.fullname` helper): the Deployment's name.
CONTROLLER_DEPLOYMENT = "karpenter"
VERSION_LABEL = "app.kubernetes.io/version"
# What the running version reads as when there is no controller, or one whose release cannot be told.
NOT_INSTALLED = "none"
UNLABELLED = "unlabelled"
DEPLOYMENTS = "data.kubernetes_resources.running_karpenter.objects"


def running_version(deployments: str) -> str:
    """Terraform: the release of the one Deployment in `deployments` (a list of objects), or NOT_INSTALLED / UNLABELLED."""
    deployment = f"one({deployments})"
    return f'try({deployment}.metadata.labels["{VERSION_LABEL}"], {deployment} == null ? "{NOT_INSTALLED}" : "{UNLABELLED}")'


def _refusals(release: ReleaseProfile, previous: ReleaseProfile | None, namespace: str) -> dict[str, str]:
    """For each running release this deploy must not touch, why, and what to do instead."""
    target = release.version
    step_hint = "README, Migrating to v1"
    refusals = {
        UNLABELLED: f"the Deployment {namespace}/{CONTROLLER_DEPLOYMENT} has no {VERSION_LABEL} label, so which "
        "release runs cannot be told; install it with the karpenter chart before taking a step",
    }
    if previous is not None:
        refusals[NOT_INSTALLED] = (
            f"karpenter.previous_version is {previous.version}, but no Karpenter controller runs in the cluster "
            f"(no Deployment {namespace}/{CONTROLLER_DEPLOYMENT}); for a fresh install, leave it unset"
        )
    for running in PROFILES:
        if running in (target, previous and previous.version):
            continue
        if running in release.follows:
            refusals[running] = (
                f"Karpenter {running} runs in the cluster, and moving it to {target} is a migration step: "
                f"set karpenter.previous_version to {running} for this deploy ({step_hint})"
            )
            continue
        following = next_step(running)
        refusals[running] = (
            f"Karpenter {running} runs in the cluster, and upstream's upgrade guides do not go from it to {target}; "
            + (
                f"the next step is karpenter.version {following} with karpenter.previous_version {running} ({step_hint})"
                if following
                else f"no documented step leaves {running}"
            )
        )
    return refusals


def upgrade_guard(release: ReleaseProfile, previous: ReleaseProfile | None, namespace: str, running: str) -> dict[str, str]:
    """A precondition: the cluster runs nothing (a fresh install), this release (a re-deploy) or the step's previous one.

    `running` is the Terraform expression of the running release (`running_version`).
    """
    allowed = [release.version, previous.version] if previous else [release.version, NOT_INSTALLED]
    unknown = (
        f'format("Karpenter %s runs in the cluster; this app knows no documented step from it to {release.version}", {running})'
    )
    return {
        "condition": f"${{contains({json.dumps(allowed)}, {running})}}",
        "errorMessage": f"Refusing Karpenter {release.version}: "
        f"${{lookup({json.dumps(_refusals(release, previous, namespace))}, {running}, {unknown})}}.",
    }


def stored_versions_guard(release: ReleaseProfile, crd_name: str, crds: str) -> dict[str, str]:
    """A precondition: the CRD in the cluster (one of `crds`, a list of 0 or 1) stores nothing the release stops serving.

    The API server refuses a CRD update that drops a stored version; upstream's v1 migration
    ("Stored Version Migration") has Karpenter 1.0.6+ rewrite every object as v1 first.
    """
    served = json.dumps(list(release.served_versions[crd_name]))
    dropped = f"setsubtract(try(one({crds}).status.storedVersions, []), {served})"
    return {
        "condition": f"${{length({dropped}) == 0}}",
        "errorMessage": f'CRD {crd_name} still lists ${{join(", ", {dropped})}} in status.storedVersions, and Karpenter '
        f"{release.version}'s CRDs serve only {', '.join(release.served_versions[crd_name])}: let the running release "
        "rewrite every object first (README, Migrating to v1, before the last step).",
    }


class RunningRelease(Construct):
    """Reads the controller's Deployment; `guard` is the precondition for a Helm release of this deploy."""

    def __init__(self, scope: Construct, id: str, *, namespace: str) -> None:
        super().__init__(scope, id)
        named(
            DataKubernetesResources(
                self,
                "running_karpenter",
                api_version="apps/v1",
                kind="Deployment",
                namespace=namespace,
                field_selector=f"metadata.name={CONTROLLER_DEPLOYMENT}",
            )
        )
        named(TerraformLocal(self, "running_karpenter_version", f"${{{running_version(DEPLOYMENTS)}}}"))
        self.namespace = namespace

    def guard(self, release: ReleaseProfile, previous: ReleaseProfile | None) -> dict[str, str]:
        return upgrade_guard(release, previous, self.namespace, "local.running_karpenter_version")
