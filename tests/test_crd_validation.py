"""karpenter_model/crd_validation: objects checked as each release's API server would (schema,
defaults, CEL rules from the CRD files), plus what the Karpenter controller cannot decode.

The Go parser tables below were produced by running the Go originals (time.ParseDuration,
apimachinery resource.ParseQuantity, robfig/cron/v3 ParseStandard with Karpenter's "TZ=UTC " prefix).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from karpenter_model.crd_validation import UNEVALUATED, CrdValidator, Violation, _cel, _golang, load_crd, validator
from karpenter_model.releases import PROFILES

RELEASES = ["0.37.2", "0.37.8", "1.0.14", "1.14.1"]
KINDS = ["NodePool", "EC2NodeClass"]
STORED = {"0.37.2": "v1beta1", "0.37.8": "v1beta1", "1.0.14": "v1", "1.14.1": "v1"}
GROUPS = {"NodePool": "karpenter.sh", "EC2NodeClass": "karpenter.k8s.aws"}


# --- builders ------------------------------------------------------------------------------------


def node_pool(release: str = "0.37.2", name: str = "default", **spec: Any) -> dict[str, Any]:
    """A minimal valid NodePool in the version the release stores; keyword args replace spec fields."""
    version = STORED[release]
    ref = (
        {"name": "default"} if version == "v1beta1" else {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}
    )
    body = {
        "template": {
            "spec": {
                "nodeClassRef": ref,
                "requirements": [
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand", "spot"]},
                    {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["t3", "t3a"]},
                ],
            }
        }
    }
    body.update(spec)
    return {"apiVersion": f"karpenter.sh/{version}", "kind": "NodePool", "metadata": {"name": name}, "spec": body}


def node_class(release: str = "0.37.2", name: str = "default", **spec: Any) -> dict[str, Any]:
    version = STORED[release]
    body: dict[str, Any] = {
        "role": "cluster-karpenter-node",
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "cluster"}}],
        "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "cluster"}}],
    }
    body.update({"amiFamily": "AL2"} if version == "v1beta1" else {"amiSelectorTerms": [{"alias": "al2023@latest"}]})
    body.update(spec)
    return {"apiVersion": f"karpenter.k8s.aws/{version}", "kind": "EC2NodeClass", "metadata": {"name": name}, "spec": body}


def template_spec(pool: dict[str, Any]) -> dict[str, Any]:
    return pool["spec"]["template"]["spec"]


def errors(obj: dict[str, Any], release: str = "0.37.2") -> list[Violation]:
    return validator(PROFILES[release], obj["kind"]).validate(obj)


def messages(obj: dict[str, Any], release: str = "0.37.2", origin: str | None = None) -> list[str]:
    return [v.message for v in errors(obj, release) if origin is None or v.origin == origin]


def at(obj: dict[str, Any], path: tuple[str | int, ...], release: str = "0.37.2") -> list[Violation]:
    return [v for v in errors(obj, release) if v.path == path]


# --- every rule of every release compiles ----------------------------------------------------------


def all_versions() -> list[tuple[str, str, str]]:
    out = []
    for release in RELEASES:
        for kind in KINDS:
            crd = load_crd(PROFILES[release], kind)
            out += [(release, kind, v["name"]) for v in crd["spec"]["versions"]]
    return out


@pytest.mark.parametrize(("release", "kind", "version"), all_versions())
def test_every_rule_of_every_served_version_compiles(release: str, kind: str, version: str) -> None:
    crd = load_crd(PROFILES[release], kind)
    checker = CrdValidator(crd, version)
    assert checker.rules, "every NodePool/EC2NodeClass version carries CEL rules"
    assert [(r.source, r.unsupported) for r in checker.rules if r.unsupported or r.program is None] == []
    assert checker.unevaluated == []


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("kind", KINDS)
def test_validator_picks_the_stored_version_and_minimal_objects_pass(release: str, kind: str) -> None:
    checker = validator(PROFILES[release], kind)
    assert checker.api_version == f"{GROUPS[kind]}/{STORED[release]}"
    assert validator(PROFILES[release], kind) is checker  # cached
    obj = node_pool(release) if kind == "NodePool" else node_class(release)
    assert checker.validate(obj) == []


def test_nothing_is_left_unevaluated() -> None:
    for release in RELEASES:
        for kind in KINDS:
            validator(PROFILES[release], kind)
    assert UNEVALUATED == []


def test_a_kind_the_release_does_not_ship_is_an_error() -> None:
    with pytest.raises(ValueError, match="no CRD for kind"):
        validator(PROFILES["0.37.2"], "NodeOverlay")
    assert validator(PROFILES["1.14.1"], "NodeOverlay").api_version == "karpenter.sh/v1alpha1"


# --- CEL engine: Kubernetes library semantics -------------------------------------------------------


def cel(expression: str, value: Any) -> Any:
    return _cel.engine.compile(_cel.rewrite(expression)).execute(_cel.new_context(value))


def test_find_is_re2_and_returns_empty_string_without_match() -> None:
    assert cel("self.find('^[^@]+')", "al2023@latest") == "al2023"
    assert cel("self.find('[0-9]+')", "abc") == ""
    assert cel('self.find("^([^/]+)")', "karpenter.k8s.aws/instance-family") == "karpenter.k8s.aws"
    assert cel(r"self.find('\\d+')", "a٣1") == "1"  # RE2's \d is ASCII only (Python's re would match '٣1')


def test_matches_is_an_unanchored_re2_search_and_size_counts_code_points() -> None:
    assert cel("self.matches('b')", "abc") is True
    assert cel("self.matches('^[a-zA-Z0-9]+@.+$')", "al2@") is False
    assert cel("'text matches(x) size()'.size()", None) == 22  # literals are never rewritten
    assert cel("self.size()", "héllo") == 5
    assert cel("size(self)", ["a", "b"]) == 2


def test_split_follows_go_splitn() -> None:
    assert cel("self.split('@')", "a@b@c") == ["a", "b", "c"]
    assert cel("self.split('@', 2)", "a@b@c") == ["a", "b@c"]
    assert cel("self.split('@', 0)", "a@b") == []


def test_all_is_false_when_any_element_is_false_even_if_another_errors() -> None:
    rule = _cel.Rule({"rule": "self.all(x, x.operator == 'In' ? x.values.size() != 0 : true)", "message": "m"})
    requirements = [{"key": "a", "operator": "In"}, {"key": "b", "operator": "In", "values": []}]
    assert rule.evaluate(_cel.new_context(requirements), requirements) == "m"
    only_error = requirements[:1]
    assert rule.evaluate(_cel.new_context(only_error), only_error) == "no such key: values evaluating rule: m"


def test_transition_rules_are_skipped_on_create() -> None:
    checker = validator(PROFILES["1.14.1"], "NodePool")
    transition = [r for r in checker.rules if r.uses_old_self]
    assert transition and all(not r.optional_old_self for r in transition)
    assert errors(node_pool("1.14.1", replicas=2), "1.14.1") == []


# --- v1beta1 disruption rules (0.37.x) ----------------------------------------------------------


CONSOLIDATE_AFTER = "consolidateAfter cannot be combined with consolidationPolicy=WhenUnderutilized"


def test_when_underutilized_with_consolidate_after_is_rejected_with_the_crd_message() -> None:
    pool = node_pool(disruption={"consolidationPolicy": "WhenUnderutilized", "consolidateAfter": "30s"})
    (violation,) = errors(pool)
    assert (violation.path, violation.message, violation.origin) == (("spec", "disruption"), CONSOLIDATE_AFTER, "cel")


def test_defaulted_policy_with_consolidate_after_is_rejected() -> None:
    pool = node_pool(disruption={"consolidateAfter": "30s"})
    assert messages(pool) == [CONSOLIDATE_AFTER]
    assert messages(node_pool(disruption={"consolidateAfter": "Never"})) == []


def test_when_empty_needs_consolidate_after() -> None:
    assert messages(node_pool(disruption={"consolidationPolicy": "WhenEmpty"})) == [
        "consolidateAfter must be specified with consolidationPolicy=WhenEmpty"
    ]
    assert messages(node_pool(disruption={"consolidationPolicy": "WhenEmpty", "consolidateAfter": "30s"})) == []


def test_v1_policy_name_is_not_a_v1beta1_value() -> None:
    (violation, blocked) = errors(node_pool(disruption={"consolidationPolicy": "WhenEmptyOrUnderutilized"}))
    assert (
        violation.message == 'Unsupported value: "WhenEmptyOrUnderutilized": supported values: "WhenEmpty", "WhenUnderutilized"'
    )
    assert blocked.message.startswith("some validation rules were not checked")


def test_defaults_as_the_api_server_stores_them() -> None:
    stored = validator(PROFILES["0.37.2"], "NodePool").with_defaults(node_pool())
    assert stored["spec"]["disruption"] == {
        "consolidationPolicy": "WhenUnderutilized",
        "expireAfter": "720h",
        "budgets": [{"nodes": "10%"}],
    }
    stored = validator(PROFILES["1.0.14"], "NodePool").with_defaults(node_pool("1.0.14", disruption={"consolidateAfter": "5m"}))
    assert stored["spec"]["disruption"] == {
        "consolidateAfter": "5m",
        "consolidationPolicy": "WhenEmptyOrUnderutilized",
        "budgets": [{"nodes": "10%"}],
    }
    assert stored["spec"]["template"]["spec"]["expireAfter"] == "720h"
    assert stored["metadata"] == {"name": "default"}


def test_a_defaulted_object_keeps_its_own_default_over_its_fields_defaults() -> None:
    """1.0.14 v1beta1 EC2NodeClass: metadataOptions defaults to hop limit 1, its field to 2."""
    crd = load_crd(PROFILES["1.0.14"], "EC2NodeClass")
    checker = CrdValidator(crd, "v1beta1")
    obj = node_class("0.37.2")
    assert checker.with_defaults(obj)["spec"]["metadataOptions"]["httpPutResponseHopLimit"] == 1
    obj["spec"]["metadataOptions"] = {"httpTokens": "required"}
    assert checker.with_defaults(obj)["spec"]["metadataOptions"]["httpPutResponseHopLimit"] == 2


# --- kubelet eviction thresholds -------------------------------------------------------------------


@pytest.mark.parametrize("field", ["evictionHard", "evictionSoft"])
@pytest.mark.parametrize("value", ["110%", "5%3", "110GB"])
def test_bad_eviction_thresholds_are_rejected(field: str, value: str) -> None:
    pool = node_pool()
    kubelet = template_spec(pool)["kubelet"] = {field: {"memory.available": value}}
    if field == "evictionSoft":
        kubelet["evictionSoftGracePeriod"] = {"memory.available": "1m"}
    (violation,) = errors(pool)
    assert violation.path == ("spec", "template", "spec", "kubelet", field, "memory.available")
    assert violation.origin == "schema" and violation.message.startswith("should match '^((\\d{1,2}")


def test_good_eviction_thresholds_pass_and_pairs_are_checked() -> None:
    pool = node_pool()
    template_spec(pool)["kubelet"] = {
        "evictionHard": {"memory.available": "5%", "nodefs.available": "100Mi"},
        "evictionSoft": {"memory.available": "500Mi"},
        "evictionSoftGracePeriod": {"memory.available": "1m30s"},
    }
    assert errors(pool) == []
    del template_spec(pool)["kubelet"]["evictionSoftGracePeriod"]
    assert messages(pool) == [
        "no such key: evictionSoftGracePeriod evaluating rule: "
        "evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod"
    ]


def test_empty_eviction_threshold_passes_the_api_but_not_the_controller() -> None:
    """The CRD pattern has an empty alternative (`%||`), so "" is accepted; Go cannot parse it."""
    pool = node_pool()
    template_spec(pool)["kubelet"] = {"evictionHard": {"memory.available": ""}}
    (violation,) = errors(pool)
    assert violation.origin == "controller" and "the API accepts ''" in violation.message


def test_v1_ec2nodeclass_kubelet_is_checked_the_same_way() -> None:
    obj = node_class("1.0.14", kubelet={"evictionHard": {"memory.available": "110%"}, "maxPods": 3_000_000_000})
    found = {(v.path[-1], v.origin) for v in errors(obj, "1.0.14")}
    assert found == {("memory.available", "schema"), ("maxPods", "controller")}


# --- names, resources, versions ------------------------------------------------------------------


def test_dotted_node_pool_name_is_valid_and_bad_names_are_not() -> None:
    assert errors(node_pool(name="team.batch")) == []
    (violation,) = errors(node_pool(name="Team_Batch"))
    assert violation.path == ("metadata", "name") and "RFC 1123 subdomain" in violation.message
    long = errors(node_pool(name="a" * 64))
    assert [(v.origin, "karpenter.sh/nodepool" in v.message) for v in long] == [("controller", True)]


@pytest.mark.parametrize("release", RELEASES)
def test_node_class_name_is_a_label_value_from_1_1(release: str) -> None:
    """From 1.1 NodeClaims carry their EC2NodeClass's name as the karpenter.k8s.aws/ec2nodeclass label (1.14.1 here)."""
    found = [(v.origin, v.path) for v in errors(node_class(release, name="a" * 64), release)]
    assert found == ([("controller", ("metadata", "name"))] if release == "1.14.1" else [])
    assert errors(node_class(release, name="team.batch"), release) == []


def test_namespace_is_forbidden_on_cluster_scoped_kinds() -> None:
    pool = node_pool()
    pool["metadata"]["namespace"] = "karpenter"
    assert messages(pool) == ["Forbidden: not allowed on this type"]


def test_empty_template_resources_is_accepted_in_v1beta1() -> None:
    pool = node_pool()
    template_spec(pool)["resources"] = {}
    assert errors(pool) == []
    template_spec(pool)["resources"] = {"requests": {"cpu": "1"}}
    assert "Too many: 1: must have at most 0 items" in messages(pool)


def test_alias_is_v1_only() -> None:
    v1 = node_class("1.0.14")
    assert v1["spec"]["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
    assert errors(v1, "1.0.14") == []
    beta = node_class("0.37.2", amiSelectorTerms=[{"alias": "al2023@latest"}])
    found = [(v.path, v.message, v.origin) for v in errors(beta)]
    assert (("spec", "amiSelectorTerms", 0, "alias"), "unknown field", "schema") in found
    assert (("spec", "amiSelectorTerms"), "expected at least one, got none, ['tags', 'id', 'name']", "cel") in found


def test_alias_rules_of_1_0_14() -> None:
    obj = node_class("1.0.14", amiSelectorTerms=[{"alias": "windows2022@v20240101"}])
    assert messages(obj, "1.0.14") == ["windows families may only specify version 'latest'"]
    obj = node_class("1.0.14", amiSelectorTerms=[{"alias": "al2023@latest"}], amiFamily="AL2")
    assert messages(obj, "1.0.14") == ["if set, amiFamily must be 'AL2023' or 'Custom' when using an AL2023 alias"]


def test_unknown_fields_are_reported_not_dropped_silently() -> None:
    pool = node_pool(disruptoin={"consolidateAfter": "30s"})
    template_spec(pool)["kubelt"] = {}
    found = {(v.path, v.message, v.origin) for v in errors(pool)}
    assert found == {
        (("spec", "disruptoin"), "unknown field", "schema"),
        (("spec", "template", "spec", "kubelt"), "unknown field", "schema"),
    }


def test_wrong_api_version_and_bounds() -> None:
    pool = node_pool(weight=101)
    assert messages(pool) == ["should be less than or equal to 100"]
    pool["apiVersion"] = "karpenter.sh/v1"
    assert "must be karpenter.sh/v1beta1" in messages(pool)


def test_patterns_are_unanchored_searches_as_written() -> None:
    """`^(([0-9]+(s|m|h))+)|(Never)$`: `|` binds loosest, so "1hfoo" and "xNever" pass the API."""
    for value in ("1hfoo", "xNever"):
        pool = node_pool(disruption={"consolidationPolicy": "WhenEmpty", "consolidateAfter": value})
        (violation,) = errors(pool)
        assert violation.origin == "controller" and violation.path == ("spec", "disruption", "consolidateAfter")
    pool = node_pool(disruption={"consolidationPolicy": "WhenEmpty", "consolidateAfter": "soon"})
    assert [v.origin for v in errors(pool)] == ["schema"]
    assert [v.origin for v in errors(node_pool("1.14.1", disruption={"consolidateAfter": "1hfoo"}), "1.14.1")] == ["schema"]


# --- controller decoding ---------------------------------------------------------------------------


def budget_pool(**budget: Any) -> dict[str, Any]:
    return node_pool(
        disruption={"consolidationPolicy": "WhenEmpty", "consolidateAfter": "30s", "budgets": [{"nodes": "10%", **budget}]}
    )


def test_budget_schedules_must_parse_as_standard_cron() -> None:
    assert errors(budget_pool(schedule="0 9 * * mon-fri", duration="8h")) == []
    assert errors(budget_pool(schedule="@daily", duration="10m")) == []
    (violation,) = errors(budget_pool(schedule="0 0 9 * * *", duration="8h"))
    assert violation.origin == "controller" and violation.path == ("spec", "disruption", "budgets", 0, "schedule")
    assert "the API accepts" in violation.message and "expected exactly 5 fields, found 6" in violation.message
    assert [v.origin for v in errors(budget_pool(schedule="61 * * * *", duration="1h"))] == ["controller"]


def test_go_durations_are_checked_where_go_decodes_them() -> None:
    pool = node_pool()
    template_spec(pool)["kubelet"] = {
        "evictionSoft": {"memory.available": "5%"},
        "evictionSoftGracePeriod": {"memory.available": "1 minute"},
    }
    (violation,) = errors(pool)
    assert violation.origin == "controller" and 'unknown unit " minute"' in violation.message
    template_spec(pool)["kubelet"]["evictionSoftGracePeriod"]["memory.available"] = "300ms"
    assert errors(pool) == []


def test_zero_volume_size_passes_the_api_but_not_the_controller() -> None:
    for size in ("Ti", "T"):
        obj = node_class(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeSize": size}}])
        (violation,) = errors(obj)
        assert violation.origin == "controller" and "reads it as 0" in violation.message
    ok = node_class(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "20Gi"}}])
    assert errors(ok) == []


def test_label_requirement_and_taint_keys_must_be_qualified_names() -> None:
    pool = node_pool()
    long_name = "example.com/" + "a" * 64
    template_spec(pool)["requirements"].append({"key": long_name, "operator": "Exists"})
    template_spec(pool)["taints"] = [{"key": long_name, "effect": "NoSchedule"}]
    pool["spec"]["template"]["metadata"] = {"labels": {"bad key": "x", "team": "a"}}
    found = {(v.path[-2] if isinstance(v.path[-1], str) and v.path[-1] == "key" else v.path[-1], v.origin) for v in errors(pool)}
    assert found == {(2, "controller"), (0, "controller"), ("bad key", "controller")}
    assert all("name part" in v.message for v in errors(pool))


def test_limits_quantities_and_int32_range() -> None:
    assert errors(node_pool(limits={"cpu": 100, "memory": "200Gi"})) == []
    assert [v.origin for v in errors(node_pool(limits={"cpu": "1.2.3"}))] == ["schema"]
    pool = node_pool()
    template_spec(pool)["kubelet"] = {"maxPods": 2**31}
    (violation,) = errors(pool)
    assert violation.origin == "controller" and "int32" in violation.message


def test_blocking_schema_errors_stop_cel_like_the_api_server() -> None:
    pool = node_pool(disruption={"consolidateAfter": "30s"}, weight="heavy")
    found = [(v.origin, v.message) for v in errors(pool)]
    assert found[0] == ("schema", 'must be of type integer: "string"')
    assert found[1][1].startswith("some validation rules were not checked")
    assert CONSOLIDATE_AFTER not in [m for _, m in found]


def test_validation_does_not_mutate_its_input() -> None:
    pool = node_pool(disruption={"consolidateAfter": "30s"}, typo=1)
    before = copy.deepcopy(pool)
    errors(pool)
    validator(PROFILES["0.37.2"], "NodePool").with_defaults(pool)
    assert pool == before


# --- Go parsers, against the Go originals -------------------------------------------------------------

GO_DURATIONS = {
    "0": True,
    "1m30s": True,
    "300ms": True,
    "1.5h": True,
    ".5s": True,
    "5.s": True,
    "-1h": True,
    "1µs": True,
    "1us": True,
    "2562047h": True,
    "1 minute": False,
    "": False,
    ".s": False,
    "1": False,
    "1d": False,
    "2562048h": False,
    "1h ": False,
    "Never": False,
}
GO_QUANTITIES = {
    "Ti": True,
    "T": True,
    "20Gi": True,
    "0": True,
    ".": True,
    "-": True,
    "1.": True,
    "1e3": True,
    "100m": True,
    "": False,
    "1i": False,
    "1.1.1": False,
    "1Kii": False,
    "110GB": False,
    "5%3": False,
    " 1": False,
    "1e": False,
    "0.1i": False,
    "99999999999999999999": True,
}
GO_CRON = {
    "0 0 * * *": True,
    "@daily": True,
    "@every 1h": True,
    "*/5 * * * *": True,
    "5/10 * * * *": True,
    "0 0 1 JAN mon": True,
    "1,,2 * * * *": True,
    "? ? ? ? ?": True,
    "0 0 * * * *": False,
    "@dailyX": False,
    "@every 1 h": False,
    "60 * * * *": False,
    "0 24 * * *": False,
    "0 0 0 * *": False,
    "0 0 * * 7": False,
    "5-1 * * * *": False,
    "*/0 * * * *": False,
    "TZ=UTC 0 0 * * *": False,
    "": False,
    "-1 * * * *": False,
}


@pytest.mark.parametrize(("text", "ok"), GO_DURATIONS.items())
def test_go_duration(text: str, ok: bool) -> None:
    assert (_golang.go_duration_error(text) is None) is ok


@pytest.mark.parametrize(("text", "ok"), GO_QUANTITIES.items())
def test_go_quantity(text: str, ok: bool) -> None:
    assert (_golang.quantity_error(text) is None) is ok


@pytest.mark.parametrize(("text", "ok"), GO_CRON.items())
def test_go_cron(text: str, ok: bool) -> None:
    assert (_golang.cron_error(text) is None) is ok


# --- speed ----------------------------------------------------------------------------------------


def test_many_objects_stay_cheap() -> None:
    """Rules compile once per CRD; 200 pools + 200 classes take well under a second (budget 5 s for slow CI)."""
    pools = [node_pool(name=f"pool-{i}", weight=1 + i % 100) for i in range(200)]
    classes = [node_class(name=f"class-{i}", tags={"team": f"t{i}"}) for i in range(200)]
    start = time.perf_counter()
    assert not any(errors(p) for p in pools) and not any(errors(c) for c in classes)
    assert time.perf_counter() - start < 5


# --- RuntimeValidate: NodePools the API admits but the controller will not use ----------------------


def runtime_messages(obj: dict[str, Any], release: str) -> list[str]:
    return [v.message for v in errors(obj, release) if v.origin == "controller" and "RuntimeValidate" in v.message]


def test_runtime_validate_rejects_duplicate_taints_across_taints_and_startup_taints() -> None:
    pool = node_pool()
    template_spec(pool)["taints"] = [{"key": "a", "effect": "NoSchedule"}]
    template_spec(pool)["startupTaints"] = [{"key": "a", "effect": "NoSchedule"}]
    (message,) = runtime_messages(pool, "0.37.2")
    assert "duplicate taint Key/Effect pair a=NoSchedule" in message
    assert [v.origin for v in errors(pool)] == ["controller"]


def test_runtime_validate_checks_requirement_values_the_crd_cannot() -> None:
    """The CRD puts pattern/maxLength on the values *array*, where kube-openapi ignores them."""
    pool = node_pool()
    template_spec(pool)["requirements"] = [{"key": "example.com/team", "operator": "In", "values": ["a b"]}]
    assert [v.origin for v in errors(pool)] == ["controller"]


@pytest.mark.parametrize(("release", "refused"), [("0.37.2", True), ("1.0.14", True), ("1.14.1", False)])
def test_restricted_label_domains_follow_the_release(release: str, refused: bool) -> None:
    pool = node_pool(release)
    pool["spec"]["template"]["metadata"] = {"labels": {"beta.kubernetes.io/arch": "amd64"}}
    assert bool(runtime_messages(pool, release)) is refused
    assert [v for v in errors(pool, release) if v.origin != "controller"] == []


def test_well_known_capacity_type_values_in_1_14() -> None:
    pool = node_pool("1.14.1")
    template_spec(pool)["requirements"] = [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["xspot"]}]
    assert runtime_messages(pool, "1.14.1")
    template_spec(pool)["requirements"][0]["values"] = ["on-demand", "xspot"]
    assert errors(pool, "1.14.1") == []


def test_taint_time_added_is_a_date_time_and_rfc3339() -> None:
    pool = node_pool()
    taint = {"key": "a", "effect": "NoSchedule", "timeAdded": "2024-01-01T00:00:00Z"}
    template_spec(pool)["taints"] = [taint]
    assert errors(pool) == []
    taint["timeAdded"] = "2024-01-01"
    assert [v.origin for v in errors(pool) if v.path[-1:] == ("timeAdded",)] == ["schema"]
    taint["timeAdded"] = "2024-01-01t00:00:00z"  # kube-openapi lower-cases; Go's RFC 3339 parser does not
    assert [v.origin for v in errors(pool)] == ["controller"]


# --- generic machinery on a synthetic CRD ---------------------------------------------------------------

WIDGET: dict[str, Any] = {
    "type": "object",
    "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('w')", "message": "names start with w"}],
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "minProperties": 1,
            "x-kubernetes-validations": [
                {
                    "rule": "self.low <= self.high",
                    "fieldPath": ".low",
                    "messageExpression": "'low ' + string(self.low) + ' exceeds high ' + string(self.high)",
                },
                {"rule": "oldSelf.hasValue()", "optionalOldSelf": True, "message": "evaluated on create with no oldSelf"},
                {"rule": "self.high == oldSelf.high", "message": "a transition rule"},
            ],
            "properties": {
                "low": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
                "high": {"type": "number", "maximum": 10, "exclusiveMaximum": True},
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "port": {"type": "integer", "default": 80}},
                    },
                },
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "note": {"type": "string", "nullable": True},
                "size": {
                    "x-kubernetes-int-or-string": True,
                    "anyOf": [{"type": "integer"}, {"type": "string"}],
                    "pattern": "^[0-9]+Gi$",
                },
            },
        },
    },
}


def widget_validator() -> CrdValidator:
    version = {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": WIDGET}}
    crd = {"spec": {"group": "example.com", "names": {"kind": "Widget"}, "scope": "Cluster", "versions": [version]}}
    return CrdValidator(crd, "v1")


def widget(name: str = "w1", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}


def test_synthetic_crd_message_expression_field_path_and_optional_old_self() -> None:
    checker = widget_validator()
    found = [(v.path, v.message, v.origin) for v in checker.validate(widget(low=5, high=3))]
    assert found == [
        (("spec", "low"), "low 5 exceeds high 3", "cel"),
        (("spec",), "evaluated on create with no oldSelf", "cel"),
    ]
    first, *_ = checker.validate(widget("x1", low=1, high=3))  # a root rule sees metadata.name, and runs first
    assert first.message == "names start with w"


def test_synthetic_crd_schema_keywords() -> None:
    checker = widget_validator()
    found = {
        (v.path, v.message)
        for v in checker.validate(widget(low=0, high=10, tags=["a", "a"], note=None, extra={"any": {"thing": 1}}, size=3))
    }
    assert found == {
        (("spec", "low"), "should be greater than 0"),
        (("spec", "high"), "should be less than 10"),
        (("spec", "tags", 1), 'Duplicate value: "a"'),
        (("spec",), "evaluated on create with no oldSelf"),
    }
    assert {v.message for v in checker.validate(widget(low=1, high=2, size="3Mi"))} == {
        "should match '^[0-9]+Gi$'",
        "evaluated on create with no oldSelf",
    }
    bad_map = widget(low=1, high=2, ports=[{"name": "http"}, {"name": "http", "port": 81}])
    assert ('Duplicate value: ["http"]', ("spec", "ports", 1)) in {(v.message, v.path) for v in checker.validate(bad_map)}
    assert checker.with_defaults(bad_map)["spec"]["ports"][0] == {"name": "http", "port": 80}
    messages = {(v.message, v.origin) for v in checker.validate(widget())}
    assert ("should have at least 1 properties", "schema") in messages  # not a blocking error: CEL still runs
    assert ("no such key: low evaluating rule: self.low <= self.high", "cel") in messages
