"""Differential corpus: upstream verdicts on NodePool / EC2NodeClass specs vs. our CRD validator.

Every case in `tests/crd_cases/*.yaml` is a complete spec with a verdict taken from upstream, never from this
project's code: the rules in the release's own CRD files, upstream's Go validation tests (kubernetes-sigs/karpenter,
aws/karpenter-provider-aws) and, for specs the API server admits but Karpenter cannot use, the Go types and
runtime checks (time.ParseDuration, robfig/cron ParseStandard, resource.ParseQuantity, IsQualifiedName,
RuntimeValidate). Each YAML file's header names the repositories, tags and commits it was read from.

A case runs once per release it lists. Valid cases must produce no violation. Invalid cases must produce at least
one; `stage: api` needs a violation whose origin is the CRD ("schema" or "cel"), `stage: controller` says the API
server admits the object, so every violation must come from the controller checks; `message`, when given, must be
a substring of one violation's message.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_model.crd_validation import validator
from karpenter_model.releases import PROFILES

CASES_DIR = Path(__file__).resolve().parent / "crd_cases"
RELEASES = ("0.37.2", "0.37.8", "1.0.14", "1.14.1")
GROUPS = {"NodePool": "karpenter.sh", "EC2NodeClass": "karpenter.k8s.aws"}
CASE_KEYS = {"id", "releases", "kind", "name", "spec", "valid", "stage", "message", "source"}
API_ORIGINS = ("schema", "cel")


def api_version(release: str) -> str:
    """0.37.x installs and serves v1beta1 for our manifests; 1.x uses v1."""
    return "v1beta1" if release.startswith("0.") else "v1"


def load_cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text()) or []:
            cases.append({**case, "_file": path.name})
    return cases


CASES = load_cases()


def manifest(case: dict[str, Any], release: str) -> dict[str, Any]:
    kind = case["kind"]
    return {
        "apiVersion": f"{GROUPS[kind]}/{api_version(release)}",
        "kind": kind,
        "metadata": {"name": case.get("name", "default")},
        # The YAML files share sub-trees through anchors: give the validator its own copy.
        "spec": copy.deepcopy(case["spec"]),
    }


@pytest.fixture(scope="module")
def validator_for() -> Callable[[str, str], Any]:
    return lambda release, kind: validator(PROFILES[release], kind)


def describe(case: dict[str, Any], release: str, violations: list[Any]) -> str:
    lines = [f"{case['_file']}::{case['id']} @ {release}", f"  upstream: {case['source']}"]
    lines += [f"  - [{getattr(v, 'origin', '?')}] {getattr(v, 'path', '?')}: {getattr(v, 'message', v)}" for v in violations] or [
        "  (no violations)"
    ]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("case", "release"),
    [pytest.param(case, release, id=f"{case['id']}@{release}") for case in CASES for release in case["releases"]],
)
def test_upstream_verdict(case: dict[str, Any], release: str, validator_for: Callable[[str, str], Any]) -> None:
    obj = manifest(case, release)
    violations = list(validator_for(release, case["kind"]).validate(obj))
    report = describe(case, release, violations)
    if case["valid"]:
        assert violations == [], f"upstream accepts this spec, the validator does not:\n{report}"
        return
    assert violations, f"upstream rejects this spec ({case['stage']}), the validator accepts it:\n{report}"
    if case["stage"] == "controller":
        wrong = [v for v in violations if v.origin != "controller"]
        assert not wrong, f"the API server admits this spec, only the controller rejects it:\n{report}"
    else:
        assert any(v.origin in API_ORIGINS for v in violations), f"the CRD itself rejects this spec:\n{report}"
    if "message" in case:
        assert any(case["message"] in v.message for v in violations), f"no violation mentions {case['message']!r}:\n{report}"


# ---------------------------------------------------------------- the corpus itself


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 150, len(CASES)
    v1_cases = [c for c in CASES if any(api_version(r) == "v1" for r in c["releases"])]
    assert len(v1_cases) >= 30, len(v1_cases)


def test_case_ids_are_unique() -> None:
    duplicates = [case_id for case_id, n in Counter(c["id"] for c in CASES).items() if n > 1]
    assert not duplicates, duplicates


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_is_well_formed(case: dict[str, Any]) -> None:
    unknown = set(case) - CASE_KEYS - {"_file"}
    assert not unknown, f"unknown keys {unknown}"
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", case["id"]), case["id"]
    assert case["kind"] in GROUPS, case["kind"]
    assert isinstance(case["releases"], list) and case["releases"], case["releases"]
    assert set(case["releases"]) <= set(RELEASES), case["releases"]
    assert len(set(case["releases"])) == len(case["releases"]), case["releases"]
    assert isinstance(case["spec"], dict), "spec must be a complete mapping"
    assert isinstance(case.get("name", "default"), str)
    assert isinstance(case["valid"], bool)
    assert isinstance(case["source"], str) and case["source"].strip(), "every case cites its upstream source"
    if case["valid"]:
        assert "stage" not in case and "message" not in case, "stage/message only describe rejections"
    else:
        assert case.get("stage") in ("api", "controller"), case.get("stage")
    if "message" in case:
        assert isinstance(case["message"], str) and case["message"], case["message"]
        assert case["stage"] == "api", "messages are the CRD's own; controller wording is not pinned"


def test_corpus_covers_kinds_versions_and_stages() -> None:
    seen: Counter[tuple[str, ...]] = Counter()
    for case in CASES:
        for release in case["releases"]:
            outcome = "valid" if case["valid"] else case["stage"]
            seen[(case["kind"], api_version(release), outcome)] += 1
            seen[("release", release)] += 1
    for kind in GROUPS:
        for version in ("v1beta1", "v1"):
            for outcome in ("valid", "api"):
                assert seen[(kind, version, outcome)], (kind, version, outcome)
    for version in ("v1beta1", "v1"):
        assert sum(seen[(kind, version, "controller")] for kind in GROUPS), version
    for release in RELEASES:
        assert seen[("release", release)], release


def test_case_files_state_their_provenance() -> None:
    for path in sorted(CASES_DIR.glob("*.yaml")):
        header = "".join(line for line in path.read_text().splitlines(keepends=True)[:40] if line.startswith("#"))
        assert "github.com/" in header, f"{path.name}: header must name the upstream repositories"
        assert re.search(r"\b[0-9a-f]{40}\b", header), f"{path.name}: header must pin upstream commits"
