"""Config values are data: a `${...}` or `%{...}` in any free-text config field reaches Terraform as a literal.

The fields are found by walking the config model itself (and, for node class and node pool specs,
the release's CRD schema), so a new field cannot be missed: each one is either refused by
validation or injected, synthesized, and found in the JSON only in Terraform's escaped form.
`terraform validate` then proves the infra stack's values are not evaluated: the payload calls
`file()` on a path that does not exist, which validate reports when the text is live.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from karpenter_model.config import KarpenterConfig
from karpenter_model.terraform_literals import literal
from tests.conftest import example_data, synth
from tests.terraform import terraform, terraform_env

THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
# Live, `file()` of a missing path fails `terraform validate`; `%{if(true)}` is a template directive. No spaces: URL fields take it too.
PAYLOAD = '${{file("/nonexistent/karpenter-{n}")}}%{{if(true)}}{n}%{{endif}}'
LIVE = re.compile(r"(?<!\$)\$\{file\(|(?<!%)%\{if")


def payload(n: int) -> str:
    return PAYLOAD.format(n=n)


# A field with a format (a URL, an ARN) may take the payload behind a valid start: each is tried.
DISGUISES = ("{}", "https://example.com/{}", "arn:aws:iam::123456789012:role/{}")


# Configurations that between them hold every section of the model, so every field has a place to go.
def bases() -> list[dict[str, Any]]:
    example = example_data()
    example["oidc"] = {"thumbprints": [THUMBPRINT]}  # the tls provider is not in the mirror; validate needs only aws
    example["aws"] = {"endpoints": {"sts": "http://127.0.0.1:5000"}}
    example["adoption"] = {"imports": {"aws_iam_role.karpenter_node": "existing-node-role"}}
    # Extra controller statements in each of IAM's forms: a list or a single string, Action or NotAction.
    listed = {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": ["*"], "Condition": {"StringLike": {"a:b": ["c"]}}}
    single = {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*", "Condition": {"StringLike": {"a:b": "c"}}}
    negated = {"Effect": "Deny", "NotAction": ["ssm:GetParameter"], "NotResource": ["*"]}
    example["iam"] = {"controller_policy_statements": [listed]}
    s3 = {**example, "backend": {"type": "s3", "bucket": "state-bucket", "region": "us-east-1", "kms_key_id": "alias/state"}}
    s3["iam"] = {"controller_policy_statements": [negated]}
    cloud = {**example, "backend": {"type": "cloud", "organization": "platform", "project": "karpenter"}}
    cloud["iam"] = {"controller_policy_statements": [single]}
    return [example, s3, cloud]


@dataclass(frozen=True)
class Location:
    """Where a string lives in the config: a path of keys, `*k` for "entry `k` of this map" (`*` alone for a new key), `[]` for "an item of this list"."""

    path: tuple[str, ...]
    is_key: bool = False

    def __str__(self) -> str:
        return ".".join("*" if part.startswith("*") else part for part in self.path) + (" (key)" if self.is_key else "")


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def string_locations(annotation: Any, path: tuple[str, ...] = ()) -> list[Location]:
    """Every place the model holds a free string (not a Literal), found from its type annotations."""
    annotation = _strip(annotation)
    origin = get_origin(annotation)
    if annotation is str:
        return [Location(path)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [
            loc
            for name, field in annotation.model_fields.items()
            for loc in string_locations(field.annotation, (*path, field.alias or name))
        ]
    if origin in (Union, UnionType):
        found: list[Location] = []
        for member in get_args(annotation):
            found += [loc for loc in string_locations(member, path) if loc not in found]
        return found
    if origin is dict:
        key, value = get_args(annotation)
        keys = [Location((*path, "*"), is_key=True)] if _strip(key) is str else []
        entry = get_args(_strip(key))[0] if get_origin(_strip(key)) is Literal else "entry"
        return keys + string_locations(value, (*path, f"*{entry}"))
    if origin in (list, tuple):
        return string_locations(get_args(annotation)[0], (*path, "[]"))
    if origin is Literal or annotation in (int, bool, float, type(None)):
        return []
    if annotation is Any:
        # Free-form documents: node class / pool specs are walked through their CRD schema below, and
        # karpenter.helm_values by test_extra_helm_values_reach_the_chart_only_as_literals.
        return []
    raise AssertionError(f"{'.'.join(path)}: the walk does not know the type {annotation!r}; teach it")


def inject(data: dict[str, Any], location: Location, text: str) -> dict[str, Any] | None:
    """A copy of `data` with `text` at `location`; None when `data` has no place there (another base has)."""
    data = copy.deepcopy(data)
    node: Any = data
    *parents, last = location.path
    for index, part in enumerate(parents):
        empty: Any = [] if location.path[index + 1] == "[]" else {}
        if part == "[]":
            if not isinstance(node, list) or not node:
                return None
            node = node[0]
        elif not isinstance(node, dict):
            return None
        elif part.startswith("*"):
            node = node.setdefault(part[1:], empty) if not node else next(iter(node.values()))
        else:
            node = node.setdefault(part, empty)  # a section the base leaves to its defaults
    if last == "[]":
        if not isinstance(node, list):
            return None
        node.append(text)
    elif not isinstance(node, dict):
        return None
    elif location.is_key:
        node[text] = next(iter(node.values()), "value")
    elif last.startswith("*"):
        node[next(iter(node), last[1:])] = text
    else:
        node[last] = text
    return data


@dataclass
class Outcome:
    n: int  # the payload's number
    location: Location
    accepted: dict[str, Any] | None  # the config holding the payload, when validation accepted it
    refusal: str | None  # why validation refused it


def try_every_location() -> list[Outcome]:
    outcomes = []
    for n, location in enumerate(string_locations(KarpenterConfig)):
        if "spec" in location.path:
            continue  # node class / pool specs: SPEC_FIELDS below (their fields come from the release's CRD schema)
        candidates = [
            data
            for base in bases()
            for disguise in DISGUISES
            if (data := inject(base, location, disguise.format(payload(n)))) is not None
        ]
        assert candidates, f"{location}: no base configuration has a place for this field; add one to bases()"
        refusal = None
        for data in candidates:
            try:
                KarpenterConfig.model_validate(data)
            except ValidationError as error:
                refusal = str(error).splitlines()[1]
                continue
            outcomes.append(Outcome(n, location, data, None))
            break
        else:
            outcomes.append(Outcome(n, location, None, refusal))
    return outcomes


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    return try_every_location()


def test_the_walk_finds_the_free_text_fields(outcomes):
    found = {str(o.location) for o in outcomes}
    assert {"tags.* (key)", "tags.*", "aws.endpoints.*", "adoption.imports.*", "backend.kms_key_id", "backend.project"} <= found


def test_extra_helm_values_reach_the_chart_only_as_literals(synth_config):
    """`karpenter.helm_values` is free-form (any value the chart has): payloads in its keys and values, at any depth."""
    data = bases()[0]
    data["karpenter"]["helm_values"] = {
        "podLabels": {payload(1): payload(2)},
        "settings": {"featureGates": {"spotToSpotConsolidation": True}, "reservedENIs": payload(3)},
        "additionalAnnotations": {"note": f"https://example.com/{payload(4)}"},
    }
    values = synth_config(KarpenterConfig.model_validate(data))["chart"]["resource"]["helm_release"]["karpenter"]["values"]
    strings = strings_in(values)
    for n in (1, 2, 3, 4):
        assert any(literal(payload(n)) in s for s in strings), n
    assert [s for s in strings if LIVE.search(s)] == []


def strings_in(value: Any) -> list[str]:
    """Every string of a synthesized stack, including those inside JSON documents held as strings (policies, Helm values)."""
    if isinstance(value, str):
        if value.startswith(("{", "[")):
            try:
                return [value, *strings_in(json.loads(value))]
            except json.JSONDecodeError:
                pass
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_in(k), *strings_in(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


# Settings read at synth only, never written to Terraform: nothing to escape, nothing to find in the JSON.
SYNTH_ONLY = {"posture.accept.[].where", "posture.accept.[].reason"}


def test_every_field_either_refuses_the_payload_or_synthesizes_it_as_a_literal(outcomes, synth_config):
    assert {str(o.location) for o in outcomes} >= SYNTH_ONLY, "a synth-only field is gone: update SYNTH_ONLY"
    accepted = [o for o in outcomes if o.accepted is not None and str(o.location) not in SYNTH_ONLY]
    assert accepted, "nothing accepted the payload: the test would prove nothing"
    for outcome in accepted:
        strings = strings_in(synth_config(KarpenterConfig.model_validate(outcome.accepted)))
        assert any(literal(payload(outcome.n)) in s for s in strings), (
            f"{outcome.location}: the value did not arrive as a literal"
        )
        live = [s for s in strings if LIVE.search(s)]
        assert live == [], f"{outcome.location}: a live expression reached the JSON"


def _value_at(outcome: Outcome) -> str:
    """The (possibly disguised) payload validation accepted for this location."""
    return next(s for s in strings_in(outcome.accepted) if payload(outcome.n) in s)


def test_terraform_does_not_evaluate_the_values(outcomes, tmp_path: Path, terraform_bin, provider_mirror):
    """All accepted payloads of the default backend in one infra stack; validate passes, and fails once they are made live."""
    data = bases()[0]
    for outcome in outcomes:
        if outcome.accepted is not None and outcome.accepted.get("backend") is None and str(outcome.location) not in SYNTH_ONLY:
            injected = inject(data, outcome.location, _value_at(outcome))
            try:
                KarpenterConfig.model_validate(injected)
                data = injected or data
            except ValidationError:
                continue  # accepted alone, but not together with another injection (e.g. a second endpoint)
    stacks = synth(KarpenterConfig.model_validate(data), tmp_path / "cdktf.out")
    assert any("karpenter-" in s for s in strings_in(stacks["infra"])), "no payload reached the infra stack"
    stack_dir = tmp_path / "cdktf.out" / "stacks" / "infra"
    env = terraform_env(provider_mirror, tmp_path)
    terraform(terraform_bin, "init", "-backend=false", "-input=false", "-no-color", cwd=stack_dir, env=env)
    report = json.loads(terraform(terraform_bin, "validate", "-json", "-no-color", cwd=stack_dir, env=env, check=False).stdout)
    assert report["valid"] is True, report["diagnostics"]

    # Negative control: the same stack with Terraform's escapes undone is evaluated, and fails.
    path = stack_dir / "cdk.tf.json"
    path.write_text(path.read_text().replace("$${", "${").replace("%%{", "%{"))
    report = json.loads(terraform(terraform_bin, "validate", "-json", "-no-color", cwd=stack_dir, env=env, check=False).stdout)
    assert report["valid"] is False
    assert any("/nonexistent/karpenter-" in json.dumps(d) for d in report["diagnostics"]), report["diagnostics"]


def test_literal_reads_back_as_the_same_text_in_terraform(tmp_path: Path, terraform_bin):
    """Terraform's own reading of escaped strings, with no provider: outputs of a config that has nothing else."""
    texts = [payload(0), "$${HOME}", "$$${x}", "%%{ if }", "a$b%c", "${", "echo ${CLUSTER:-x} %{y}"]
    (tmp_path / "main.tf.json").write_text(json.dumps({"output": {f"o{i}": {"value": literal(t)} for i, t in enumerate(texts)}}))
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"}
    terraform(terraform_bin, "init", "-input=false", "-no-color", cwd=tmp_path, env=env)
    terraform(terraform_bin, "apply", "-auto-approve", "-input=false", "-no-color", cwd=tmp_path, env=env)
    outputs = json.loads(terraform(terraform_bin, "output", "-json", cwd=tmp_path, env=env).stdout)
    assert [outputs[f"o{i}"]["value"] for i in range(len(texts))] == texts


# -- node class and node pool specs ------------------------------------------------------------------
#
# Their fields are the release's CRD schema, not the config model: the free-text places a user writes
# (userData, tags, the pool's template annotations and labels), each given the payload. What validation
# accepts must reach the chart stack's manifests only as a literal; what it refuses is refused by name.

SPEC_FIELDS: dict[str, tuple[str, tuple[Any, ...]]] = {
    # name: (what validation must do: "accepted" or "refused", path in the config; the last step is set to the payload)
    "node class userData": ("accepted", ("node_classes", 0, "spec", "userData")),
    "node class tag value": ("accepted", ("node_classes", 0, "spec", "tags", "team")),
    "node pool annotation": ("accepted", ("node_pools", 0, "spec", "template", "metadata", "annotations", "example.com/note")),
    "node pool label value": ("refused", ("node_pools", 0, "spec", "template", "metadata", "labels", "example.com/team")),
}


def with_spec_payload(path: tuple[Any, ...], text: str) -> dict[str, Any]:
    data = example_data()
    node: Any = data
    for step in path[:-1]:
        node = node[step] if isinstance(step, int) else node.setdefault(step, {})
    node[path[-1]] = text
    return data


def spec_payload(name: str) -> str:
    return payload(100 + sorted(SPEC_FIELDS).index(name))


@pytest.fixture(scope="module")
def spec_outcomes(synth_config) -> dict[str, tuple[str, list[str]]]:
    """Each field: ("refused", [the message]) or ("accepted", [every string of the synthesized chart stack])."""
    from karpenter_model.base import ConfigError

    found: dict[str, tuple[str, list[str]]] = {}
    for name, (_, path) in SPEC_FIELDS.items():
        try:
            config = KarpenterConfig.model_validate(with_spec_payload(path, spec_payload(name)))
        except (ValidationError, ConfigError) as error:
            found[name] = ("refused", [str(error)])
            continue
        found[name] = ("accepted", strings_in(synth_config(config)["chart"]))
    return found


@pytest.mark.parametrize("name", sorted(SPEC_FIELDS))
def test_spec_text_reaches_the_manifests_only_as_a_literal(name: str, spec_outcomes):
    expected, _ = SPEC_FIELDS[name]
    outcome, texts = spec_outcomes[name]
    assert outcome == expected, texts[0][:500]
    if outcome == "refused":
        assert "node_pools[0].spec.template.metadata.labels['example.com/team']" in texts[0], texts[0]
    else:
        assert any(literal(spec_payload(name)) in text for text in texts), f"{name}: the value did not arrive as a literal"
        assert [text for text in texts if LIVE.search(text)] == [], f"{name}: a live expression reached the JSON"


def test_terraform_reads_the_manifests_spec_text_back_as_written(spec_outcomes, tmp_path: Path, terraform_bin):
    """Terraform's own reading: each synthesized manifest string holding a payload, as an output of a configuration
    with nothing else (the kubernetes provider is not in the mirror), applied: the value is the text the user wrote."""
    found = {}
    for name in sorted(SPEC_FIELDS):
        outcome, texts = spec_outcomes[name]
        if outcome == "accepted":
            (found[name],) = {text for text in texts if literal(spec_payload(name)) in text and not text.startswith(("{", "["))}
    assert len(found) >= 2, found
    outputs = {f"o{i}": {"value": text} for i, text in enumerate(found.values())}
    (tmp_path / "main.tf.json").write_text(json.dumps({"output": outputs}))
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"}
    terraform(terraform_bin, "init", "-input=false", "-no-color", cwd=tmp_path, env=env)
    terraform(terraform_bin, "apply", "-auto-approve", "-input=false", "-no-color", cwd=tmp_path, env=env)
    values = json.loads(terraform(terraform_bin, "output", "-json", cwd=tmp_path, env=env).stdout)
    for i, name in enumerate(found):
        assert spec_payload(name) in values[f"o{i}"]["value"], (name, values[f"o{i}"]["value"])
