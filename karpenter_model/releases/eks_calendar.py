"""The Amazon EKS calendar: when standard and extended support end for each Kubernetes minor.

Source: Amazon EKS User Guide, "Understand the Kubernetes version lifecycle on EKS"
(docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html; awsdocs/amazon-eks-user-guide,
latest/ug/versioning/kubernetes-versions.adoc), the release calendar table, read on 2026-12-04, which
lists 1.28 to 1.35 (1.36's row was not published there yet). "Automatic updates can happen at any time
after the end of extended support date. You won't receive any notification before the update." Only
the control plane moves, to the next minor; managed node groups stay on their version. Extended support
is billed from the day standard support ends; a cluster with extended support turned off is upgraded
at the end of standard support instead.

Both the infra plan (a `check` block) and `make check` warn from the day standard support ends, and
from 60 days before extended support ends, naming the date, what EKS will do, and the release to
move to. A minor missing from the table is not warned about: add its row when EKS publishes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from karpenter_model.releases import ReleaseProfile, release_for_kubernetes

SOURCE = "Amazon EKS User Guide, kubernetes-versions, release calendar"
WARN_BEFORE_END_OF_EXTENDED = timedelta(days=60)


@dataclass(frozen=True)
class EksSupport:
    minor: int  # Kubernetes 1.<minor>
    end_of_standard: date
    end_of_extended: date

    @property
    def warn_from(self) -> date:
        """The first day the plan and `make check` warn."""
        return min(self.end_of_standard, self.end_of_extended - WARN_BEFORE_END_OF_EXTENDED)


CALENDAR = {
    support.minor: support
    for support in (
        EksSupport(28, end_of_standard=date(2024, 11, 26), end_of_extended=date(2025, 11, 26)),
        EksSupport(29, end_of_standard=date(2025, 3, 23), end_of_extended=date(2026, 3, 23)),
        EksSupport(30, end_of_standard=date(2025, 7, 23), end_of_extended=date(2026, 7, 23)),
        EksSupport(31, end_of_standard=date(2025, 11, 26), end_of_extended=date(2026, 11, 26)),
        EksSupport(32, end_of_standard=date(2026, 3, 23), end_of_extended=date(2027, 3, 23)),
        EksSupport(33, end_of_standard=date(2026, 7, 29), end_of_extended=date(2027, 7, 29)),
        EksSupport(34, end_of_standard=date(2026, 12, 2), end_of_extended=date(2027, 12, 2)),
        EksSupport(35, end_of_standard=date(2027, 3, 27), end_of_extended=date(2028, 3, 27)),
    )
}


def support_warning(release: ReleaseProfile, minor: int) -> str | None:
    """What the plan and `make check` say about a cluster on Kubernetes 1.<minor> once `warn_from` has passed."""
    support = CALENDAR.get(minor)
    if support is None:
        return None
    following = minor + 1
    if release.supports(following):
        advice = f"Karpenter {release.version} supports 1.{following}: upgrade the cluster and its nodes before then"
    elif (newer := release_for_kubernetes().get(following)) is not None:
        advice = (
            f"Karpenter {release.version} does not support 1.{following}: move to Karpenter {newer} before then "
            "(README, Migrating to v1), then upgrade the cluster"
        )
    else:
        advice = f"no Karpenter release this app knows supports 1.{following}"
    return (
        f"Kubernetes 1.{minor} on EKS: standard support ended on {support.end_of_standard.isoformat()}; extended "
        f"support (billed extra) ends on {support.end_of_extended.isoformat()}, and from then EKS upgrades the control "
        f"plane to 1.{following} by itself, without notice; nodes stay on their version. {advice} (source: {SOURCE})."
    )


def warning_on(release: ReleaseProfile, minor: int, today: date) -> str | None:
    """`support_warning` if it is due on `today`, else None."""
    support = CALENDAR.get(minor)
    return support_warning(release, minor) if support and today >= support.warn_from else None
