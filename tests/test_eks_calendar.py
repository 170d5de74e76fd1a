"""The EKS calendar as data: the dates the EKS user guide publishes, and when the plan and `make check` warn."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from karpenter_check.aws import AwsChecks
from karpenter_model.releases import PROFILES
from karpenter_model.releases.eks_calendar import CALENDAR, support_warning, warning_on

# From the EKS user guide's release calendar (latest/ug/versioning/kubernetes-versions.adoc), and the dates
# SPEC.md states: extended support for 1.30 ended 2026-07-23, for 1.31 on 2026-11-26; 1.32 to 2027-03-23, 1.33 to 2027-07-29.
PUBLISHED_END_OF_EXTENDED = {30: date(2026, 7, 23), 31: date(2026, 11, 26), 32: date(2027, 3, 23), 33: date(2027, 7, 29)}


def test_the_calendar_holds_the_published_dates():
    for minor, end in PUBLISHED_END_OF_EXTENDED.items():
        assert CALENDAR[minor].end_of_extended == end


def test_extended_support_is_the_twelve_months_after_standard_support():
    """The guide: 14 months of standard support, then 12 months of extended support, ending on the same day of the month."""
    for support in CALENDAR.values():
        standard, extended = support.end_of_standard, support.end_of_extended
        assert (extended.year - standard.year, extended.month, extended.day) == (1, standard.month, standard.day)


def test_the_minors_are_contiguous_and_cover_every_minor_a_release_supports_from_1_28():
    minors = sorted(CALENDAR)
    assert minors == list(range(minors[0], minors[-1] + 1))
    assert {m for p in PROFILES.values() for m in range(p.kubernetes_minors[0], p.kubernetes_minors[1] + 1)} >= set(range(28, 36))


def test_a_1_32_cluster_today_is_warned_about_naming_the_date_what_eks_does_and_the_release_to_move_to():
    message = warning_on(PROFILES["0.37.2"], 32, date(2026, 12, 4))
    assert message is not None
    assert "extended support (billed extra) ends on 2027-03-23" in message
    assert "EKS upgrades the control plane to 1.33 by itself" in message
    assert "move to Karpenter 1.14.1" in message


@pytest.mark.parametrize(
    ("minor", "today", "warned"),
    [
        (33, date(2026, 7, 28), False),  # the day before standard support ends
        (33, date(2026, 7, 29), True),
        (35, date(2026, 12, 4), False),
        (40, date(2026, 12, 4), False),  # not in the calendar: nothing to say
    ],
)
def test_the_warning_starts_the_day_standard_support_ends(minor, today, warned):
    assert (warning_on(PROFILES["1.14.1"], minor, today) is not None) == warned


def test_a_release_that_supports_the_next_minor_is_told_to_upgrade_the_cluster():
    message = support_warning(PROFILES["1.14.1"], 32)
    assert message is not None and "Karpenter 1.14.1 supports 1.33: upgrade the cluster and its nodes before then" in message


@pytest.mark.parametrize(
    ("version", "today", "status"),
    [("1.32", date(2026, 12, 4), "WARN"), ("1.33", date(2026, 7, 1), "PASS"), ("1.99", date(2026, 12, 4), "SKIP")],
)
def test_make_check_has_a_row_for_it(version, today, status):
    checks = SimpleNamespace(config=SimpleNamespace(release=PROFILES["0.37.2"]), today=today)
    row = AwsChecks._eks_calendar(checks, version)  # type: ignore[arg-type]  # the row reads only these two
    assert (row.check, row.status) == ("eks support calendar", status)
    assert row.status != "FAIL"
