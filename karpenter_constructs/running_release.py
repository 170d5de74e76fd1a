"""Which Karpenter release runs, read at plan time, and the guards that refuse an undocumented step.

Every stack reads it before it changes anything. The infra stack, which deploys first and changes
the controller's IAM policies, reads the tags this app puts on the controller role: the release and
the identity it was last deployed for (`RunningControllerRole`). The crds and chart stacks read the
`app.kubernetes.io/version` label the chart puts on the controller's Deployment (the chart's
AppVersion; `RunningRelease`), as a precondition on their Helm release: `cdktf deploy '*'` applies
the crds stack first, and CRDs of a release two steps ahead (1.14.1's serve no v1beta1) would break
the controller still running.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from cdktf import Fn, TerraformCount, TerraformLocal
from cdktf_cdktf_provider_aws.data_aws_iam_role import DataAwsIamRole
from cdktf_cdktf_provider_aws.data_aws_iam_roles import DataAwsIamRoles
from cdktf_cdktf_provider_kubernetes.data_kubernetes_resources import DataKubernetesResources
from constructs import Construct

from karpenter_constructs.base import named
from karpenter_model.config import CONTROLLER_IDENTITIES
from karpenter_model.migration import MigrationStep
from karpenter_model.naming import IDENTITY_TAG, RELEASE_TAG
from karpenter_model.releases import PROFILES, ReleaseProfile, next_step
from karpenter_model.terraform_literals import literal

# The chart's full name for a release named "karpenter" (its `karpenter.fullname` helper): the Deployment's name.
CONTROLLER_DEPLOYMENT = "karpenter"
VERSION_LABEL = "app.kubernetes.io/version"
# What the running version reads as when there is no controller, or one whose release cannot be told.
NOT_INSTALLED = "none"
UNLABELLED = "unlabelled"
DEPLOYMENTS = "data.kubernetes_resources.running_karpenter.objects"
# The controller role as it is before this deploy: a list of 0 (fresh install) or 1 roles, and what its tags say.
RUNNING_ROLE = "data.aws_iam_role.karpenter_controller_running"
RUNNING_RELEASE = "local.running_controller_release"
RUNNING_IDENTITY = "local.running_controller_identity"
UNTAGGED = "untagged"
STEP_HINT = "README, Migrating to v1"
IDENTITY_HINT = 'README, "Controller identity: IRSA or EKS Pod Identity"'


def running_version(deployments: str) -> str:
    """Terraform: the release of the one Deployment in `deployments` (a list of objects), or NOT_INSTALLED / UNLABELLED."""
    deployment = f"one({deployments})"
    return f'try({deployment}.metadata.labels["{VERSION_LABEL}"], {deployment} == null ? "{NOT_INSTALLED}" : "{UNLABELLED}")'


def _refusals(
    release: ReleaseProfile, previous: ReleaseProfile | None, runs: Callable[[str], str], nothing_runs: str
) -> dict[str, str]:
    """For each running release this deploy must not touch, why, and what to do instead.

    `runs(version)` says where the running release was read ("Karpenter 0.37.8 runs in the cluster");
    `nothing_runs` says what was found on a fresh install, for a `previous_version` that names a release.
    """
    target = release.version
    refusals = {}
    if previous is not None:
        refusals[NOT_INSTALLED] = (
            f"karpenter.previous_version is {previous.version}, but {nothing_runs}; for a fresh install, leave it unset"
        )
    for running in PROFILES:
        if running in (target, previous and previous.version):
            continue
        if running in release.follows:
            refusals[running] = (
                f"{runs(running)}, and moving it to {target} is a migration step: "
                f"set karpenter.previous_version to {running} for this deploy ({STEP_HINT})"
            )
            continue
        following = next_step(running)
        refusals[running] = f"{runs(running)}, and upstream's upgrade guides do not go from it to {target}; " + (
            f"the next step is karpenter.version {following} with karpenter.previous_version {running} ({STEP_HINT})"
            if following
            else f"no documented step leaves {running}"
        )
    return refusals


def _guard(refusing: str, allowed: list[str], refusals: dict[str, str], running: str, unknown: str) -> dict[str, str]:
    """A precondition: `running` (a Terraform expression) is one of `allowed`; otherwise its refusal, or `unknown`'s."""
    return {
        "condition": f"${{contains({json.dumps(allowed)}, {running})}}",
        "errorMessage": f"Refusing {refusing}: ${{lookup({json.dumps(refusals)}, {running}, {unknown})}}.",
    }


def _unknown_release(release: ReleaseProfile, where: str, running: str) -> str:
    """Terraform: the refusal of a running release this app has no profile for."""
    return f'format("Karpenter %s {where}; this app knows no documented step from it to {release.version}", {running})'


def upgrade_guard(release: ReleaseProfile, previous: ReleaseProfile | None, namespace: str, running: str) -> dict[str, str]:
    """A precondition: the cluster runs nothing (a fresh install), this release (a re-deploy) or the step's previous one.

    `running` is the Terraform expression of the running release (`running_version`).
    """
    refusals = {
        UNLABELLED: f"the Deployment {namespace}/{CONTROLLER_DEPLOYMENT} has no {VERSION_LABEL} label, so which "
        "release runs cannot be told; install it with the karpenter chart before taking a step",
        **_refusals(
            release,
            previous,
            runs=lambda version: f"Karpenter {version} runs in the cluster",
            nothing_runs=f"no Karpenter controller runs in the cluster (no Deployment {namespace}/{CONTROLLER_DEPLOYMENT})",
        ),
    }
    allowed = [release.version, previous.version] if previous else [release.version, NOT_INSTALLED]
    return _guard(
        f"Karpenter {release.version}", allowed, refusals, running, _unknown_release(release, "runs in the cluster", running)
    )


def infra_release_guard(release: ReleaseProfile, previous: ReleaseProfile | None, role_name: str, running: str) -> dict[str, str]:
    """A precondition on the controller role: the release its tag records is this one, or the step's previous one.

    The infra stack deploys first and changes the controller policies, so this is where a forgotten or
    wrong `previous_version`, or a skipped step, must stop: before the running controller loses a
    permission. `running` is `RUNNING_RELEASE`. A role without the tag (adopted from karpenter.tf, or
    deployed before the tag existed) cannot tell, and passes: the deploy records the release, and the
    plan warns (`untagged_role_warning`).
    """
    where = f"runs (the {RELEASE_TAG} tag of the controller role {role_name})"
    refusals = _refusals(
        release,
        previous,
        runs=lambda version: f"Karpenter {version} {where}",
        nothing_runs=f"the controller role {role_name} does not exist, so no Karpenter release was deployed",
    )
    allowed = [release.version, UNTAGGED] + ([previous.version] if previous else [NOT_INSTALLED])
    return _guard(f"Karpenter {release.version}", allowed, refusals, running, _unknown_release(release, where, running))


def infra_identity_guard(
    identity: str, previous_identity: str | None, previous_version: str | None, role_name: str, running: str
) -> dict[str, str]:
    """A precondition on the controller role: an identity switch is declared, and is the deploy's only change.

    `running` is `RUNNING_IDENTITY`. Switching needs `previous_identity` (the role trusts both until the chart
    stack replaces the pods); during a version step it would be two changes in one deploy.
    """
    allowed = [identity, NOT_INSTALLED, UNTAGGED] + ([previous_identity] if previous_identity else [])
    refusals: dict[str, str] = {}
    for other in CONTROLLER_IDENTITIES:
        if other in allowed:
            continue
        where = f"The controller role {role_name} serves {other} today (its {IDENTITY_TAG} tag)"
        refusals[other] = (
            f"{where}, and this deploy also changes karpenter.version (previous_version {previous_version}): one change per "
            f"deploy. Deploy this step with karpenter.identity: {other} first, then switch in a deploy of its own with "
            f"karpenter.previous_identity: {other} ({IDENTITY_HINT})"
            if previous_version
            else f"{where}: switching to {identity} needs karpenter.previous_identity: {other} for this deploy, so that the "
            f"running controller keeps its credentials until its pods are replaced ({IDENTITY_HINT})"
        )
    unknown = f'format("the {IDENTITY_TAG} tag of the controller role is %s", {running})'
    return _guard(f"karpenter.identity {identity}", allowed, refusals, running, unknown)


def role_tag(roles: str, tag: str) -> str:
    """Terraform: the tag `tag` of the one role in `roles` (a list of 0 or 1), or NOT_INSTALLED / UNTAGGED."""
    role = f"one({roles})"
    return f'try({role}.tags["{tag}"], {role} == null ? "{NOT_INSTALLED}" : "{UNTAGGED}")'


def untagged_role_warning(role_name: str, version: str) -> dict[str, object]:
    """A `check` block: the plan says when the controller role carries no release tag, so the guard could not check."""
    return {
        "assert": [
            {
                "condition": f'${{{RUNNING_RELEASE} != "{UNTAGGED}"}}',
                "error_message": f"The controller role {role_name} has no {RELEASE_TAG} tag (a role adopted from karpenter.tf, "
                "or deployed before this app tagged it), so this plan cannot check which Karpenter release runs. This "
                f"deploy records {version}: if another release runs, stop, and deploy the configuration of that release "
                "first (README, EKS already upgraded your cluster).",
            }
        ]
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

    def guard(self, release: ReleaseProfile, step: MigrationStep | None) -> dict[str, str]:
        return upgrade_guard(release, step.previous if step else None, self.namespace, "local.running_karpenter_version")


class RunningControllerRole(Construct):
    """Reads the controller role as it is before this deploy, and the release and identity its tags record.

    `aws_iam_roles` finds nothing rather than failing on a fresh install; the role is then read only if it exists.
    """

    def __init__(self, scope: Construct, id: str, *, role_name: str) -> None:
        super().__init__(scope, id)
        existing = named(
            DataAwsIamRoles(self, "existing_controller_role", name_regex=literal(exact_name_regex(role_name))),
            "karpenter_controller_running",
        )
        named(
            DataAwsIamRole(
                self, "running_controller_role", name=literal(role_name), count=TerraformCount.of(Fn.length_of(existing.names))
            ),
            RUNNING_ROLE.split(".")[-1],
        )
        for local, tag in ((RUNNING_RELEASE, RELEASE_TAG), (RUNNING_IDENTITY, IDENTITY_TAG)):
            named(TerraformLocal(self, local.removeprefix("local."), f"${{{role_tag(f'{RUNNING_ROLE}[*]', tag)}}}"))


def exact_name_regex(name: str) -> str:
    """An RE2 pattern matching exactly `name` (IAM names: letters, digits and `+=,.@_-`)."""
    return "^" + re.escape(name) + "$"
