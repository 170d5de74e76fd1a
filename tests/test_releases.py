"""Each release profile against upstream's own files: policies, rules, node role, CRDs, Kubernetes range, chart values.

The expected side is read here with its own small parser of upstream's CloudFormation template,
so a mistake in the app's template reader cannot hide itself.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from karpenter_model.config import KarpenterConfig
from karpenter_model.documents.helm_values import controller_values, crd_chart_values
from karpenter_model.documents.iam import (
    PolicyValues,
    controller_policies,
    managed_policies,
    measured_values,
    node_role_policy_arns,
    policy_size,
)
from karpenter_model.limits import IAM_MANAGED_POLICY_MAX_CHARACTERS
from karpenter_model.releases import (
    DATA,
    NODE_CLASS_GROUP,
    NODE_POOL_GROUP,
    PROFILES,
    ReleaseProfile,
    release_for_kubernetes,
)
from tests.conftest import EXAMPLES, reference

LITERAL = {
    "AWS::Partition": "aws-cn",
    "AWS::Region": "cn-north-1",
    "AWS::AccountId": "210987654321",
    "ClusterName": "blue",
    "KarpenterInterruptionQueue.Arn": "arn:aws-cn:sqs:cn-north-1:210987654321:blue-karpenter-interruption",
    "KarpenterNodeRole.Arn": "arn:aws-cn:iam::210987654321:role/blue-karpenter-node",
}


LITERAL_VALUES = PolicyValues(
    partition=LITERAL["AWS::Partition"],
    region=LITERAL["AWS::Region"],
    account_id=LITERAL["AWS::AccountId"],
    cluster_name=LITERAL["ClusterName"],
    queue_arn=LITERAL["KarpenterInterruptionQueue.Arn"],
    node_role_arn=LITERAL["KarpenterNodeRole.Arn"],
)


class _AnyTagLoader(yaml.SafeLoader):
    """Reads `!Sub "x"`, `!GetAtt a.b` and `!Ref a` as their plain text."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def upstream(profile: ReleaseProfile) -> dict[str, Any]:
    text = (profile.data_dir / "cloudformation.yaml").read_text()
    for placeholder, value in LITERAL.items():
        text = text.replace("${" + placeholder + "}", value)
    return yaml.load(text, Loader=_AnyTagLoader)["Resources"]  # noqa: S506 (a SafeLoader)


def upstream_of_type(profile: ReleaseProfile, kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in upstream(profile).items() if r["Type"] == kind}


def built_policies(profile: ReleaseProfile) -> dict[str, dict[str, Any]]:
    documents = controller_policies(profile, LITERAL_VALUES)
    return {name.address: document for name, document in documents.items()}


def as_set(value: str | list[str]) -> set[str]:
    return {value} if isinstance(value, str) else set(value)


RELEASES = sorted(PROFILES)


@pytest.mark.parametrize("version", RELEASES)
def test_every_controller_policy_equals_the_template_statement_for_statement(version):
    profile = PROFILES[version]
    expected = [json.loads(p["PolicyDocument"]) for p in upstream_of_type(profile, "AWS::IAM::ManagedPolicy").values()]
    built = list(built_policies(profile).values())
    assert len(built) == len(expected) >= 1
    for ours, theirs in zip(built, expected, strict=True):
        assert ours == theirs
        for statement, upstream_statement in zip(ours["Statement"], theirs["Statement"], strict=True):
            assert statement["Sid"] == upstream_statement["Sid"]
            assert statement["Effect"] == upstream_statement["Effect"]
            assert as_set(statement["Action"]) == as_set(upstream_statement["Action"]), statement["Sid"]
            assert as_set(statement["Resource"]) == as_set(upstream_statement["Resource"]), statement["Sid"]
            assert statement.get("Condition") == upstream_statement.get("Condition"), statement["Sid"]
        assert "${" not in json.dumps(ours), "a placeholder was left unfilled"


def longest_values(cluster_name: str) -> PolicyValues:
    """The longest values a policy can be filled with: partition aws-us-gov, the longest names AWS allows."""
    partition, region, account = "aws-us-gov", "us-gov-west-1", "123456789012"
    return PolicyValues(
        partition=partition,
        region=region,
        account_id=account,
        cluster_name=cluster_name,
        queue_arn=f"arn:{partition}:sqs:{region}:{account}:{'q' * 80}",
        node_role_arn=f"arn:{partition}:iam::{account}:role/{'r' * 64}",
    )


@pytest.mark.parametrize("version", RELEASES)
@pytest.mark.parametrize("length", [1, 12, 25, 40, 64, 100])
def test_every_managed_policy_fits_iams_size_limit_whatever_the_cluster_name(version, length):
    """Cluster names run to 100 characters (EKS); upstream's one-policy releases outgrow 6,144 well before that."""
    profile, values = PROFILES[version], longest_values("c" * length)
    fitted = managed_policies(profile, values, values)
    assert all(policy_size(document) <= IAM_MANAGED_POLICY_MAX_CHARACTERS for document in fitted.values())
    statements = [s for document in fitted.values() for s in document["Statement"]]
    assert statements == [s for document in controller_policies(profile, values).values() for s in document["Statement"]]


def test_a_policy_is_only_split_when_it_must_be():
    profile = PROFILES["1.0.14"]
    short, long = longest_values("blue"), longest_values("c" * 100)
    assert [n.address for n in managed_policies(profile, short, short)] == ["karpenter_controller"]
    assert (
        policy_size(controller_policies(profile, long)[next(iter(profile.controller_policies))])
        > IAM_MANAGED_POLICY_MAX_CHARACTERS
    )
    assert [n.address for n in managed_policies(profile, long, long)] == ["karpenter_controller", "karpenter_controller_2"]


def test_policy_size_is_measured_with_the_values_terraform_will_fill_in(synth_config):
    data = example_of("1.0.14")
    data = json.loads(json.dumps(data).replace("aws-2026-eks", "c" * 60))
    data["name_prefix"] = "blue"
    data["node_classes"][0]["spec"]["role"] = "blue-karpenter-node"
    config = KarpenterConfig.model_validate(data)
    measured = measured_values(config)
    assert measured.queue_arn == f"arn:aws:sqs:us-east-1:123456789012:{config.resource_names.interruption_queue}"
    policies = synth_config(config)["infra"]["resource"]["aws_iam_policy"]
    assert sorted(policies) == ["karpenter_controller", "karpenter_controller_2"]
    assert [p["name"] for p in policies.values()] == ["blue-karpenter-controller", "blue-karpenter-controller-2"]


def test_releases_with_one_policy_keep_karpenter_tfs_address():
    for profile in PROFILES.values():
        if len(profile.controller_policies) == 1:
            assert list(built_policies(profile)) == ["karpenter_controller"]


@pytest.mark.parametrize("version", RELEASES)
def test_interruption_rules_equal_the_template(version):
    profile = PROFILES[version]
    expected = sorted(
        json.dumps(p["EventPattern"], sort_keys=True) for p in upstream_of_type(profile, "AWS::Events::Rule").values()
    )
    assert sorted(json.dumps(rule.pattern, sort_keys=True) for rule in profile.interruption_rules) == expected
    assert len({rule.key for rule in profile.interruption_rules}) == len(expected)


@pytest.mark.parametrize("version", RELEASES)
def test_node_role_policies_equal_the_template(version):
    profile = PROFILES[version]
    (role,) = upstream_of_type(profile, "AWS::IAM::Role").values()
    assert sorted(node_role_policy_arns(profile, partition="aws-cn")) == sorted(role["ManagedPolicyArns"])


@pytest.mark.parametrize("version", RELEASES)
def test_crd_names_are_those_of_the_crd_files(version):
    profile = PROFILES[version]
    files = sorted((profile.data_dir / "crds").glob("*.yaml"))
    assert sorted(yaml.safe_load(f.read_text())["metadata"]["name"] for f in files) == sorted(profile.crd_names)
    assert {"nodepools.karpenter.sh", "nodeclaims.karpenter.sh", "ec2nodeclasses.karpenter.k8s.aws"} <= set(profile.crd_names)


def test_upstream_data_is_unchanged():
    for line in (DATA / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
    listed = {line.split(maxsplit=1)[1] for line in (DATA / "SHA256SUMS").read_text().splitlines()}
    present = {str(p.relative_to(DATA)) for p in DATA.glob("*/**/*.yaml")}
    assert listed == present, "every upstream file is pinned, and only those"


def matrix(version: str) -> dict[int, str]:
    """Kubernetes minor -> the oldest Karpenter that supports it, from the table in that release's docs."""
    path = reference(version) / "compatibility.md"
    kubernetes, karpenter = (
        line for line in path.read_text().splitlines() if re.match(r"\|\s*(?i:kubernetes|karpenter)\s*\|", line)
    )
    minors = [int(cell.strip().split(".")[1]) for cell in kubernetes.split("|")[2:-1]]
    versions = [cell.strip().removeprefix("\\>=").strip() for cell in karpenter.split("|")[2:-1]]
    return dict(zip(minors, versions, strict=True))


def example_of(version: str) -> dict[str, Any]:
    """The bundled example configuration of a release (examples/ has one per release)."""
    for path in EXAMPLES.values():
        data = yaml.safe_load(path.read_text())
        if data["karpenter"].get("version", "0.37.2") == version:
            return data
    raise AssertionError(f"no example for Karpenter {version} in examples/")


def config_of(release: str, **karpenter: Any) -> KarpenterConfig:
    """The release's example, with `karpenter` settings changed."""
    data = example_of(release)
    return KarpenterConfig.model_validate({**data, "karpenter": {**data["karpenter"], **karpenter}})


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.replace(".x", ".0").split("."))


def documented(version: str) -> set[int]:
    """The minors upstream claims for `version`: its own docs' table (its minor line's, if it has none) and the newest table.

    Each table is a window of seven minors; a minor outside every window that names the release is not claimed.
    """
    documented_releases = sorted((p.parent.name.split("-")[1] for p in REFERENCE_DIRS), key=version_tuple)
    own = (
        version
        if version in documented_releases
        else max((v for v in documented_releases if v.rsplit(".", 1)[0] == version.rsplit(".", 1)[0]), key=version_tuple)
    )
    tables = {**matrix(own), **matrix(documented_releases[-1])}
    return {minor for minor, oldest in tables.items() if version_tuple(version) >= version_tuple(oldest)}


REFERENCE_DIRS = sorted(reference("").parent.glob("karpenter-*/compatibility.md"))


@pytest.mark.parametrize("version", RELEASES)
def test_kubernetes_range_agrees_with_upstreams_compatibility_matrix(version):
    claimed = documented(version)
    assert PROFILES[version].kubernetes_minors == (min(claimed), max(claimed))
    assert claimed == set(range(min(claimed), max(claimed) + 1)), "upstream's claim has a gap"


def test_the_release_to_use_for_each_kubernetes_minor_is_the_newest_that_supports_it():
    choice = release_for_kubernetes()
    for minor, version in choice.items():
        assert PROFILES[version].supports(minor)
        newer = [v for v in PROFILES if version_tuple(v) > version_tuple(version)]
        assert not any(PROFILES[v].supports(minor) for v in newer), minor
    assert choice[30] in PROFILES


def paths(value: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The path of every mapping key, descending into mappings only (lists are whole values in Helm)."""
    if not isinstance(value, dict):
        return set()
    return {(*prefix, k) for k in value} | {p for k, v in value.items() for p in paths(v, (*prefix, k))}


def open_maps(values: dict[str, Any]) -> set[tuple[str, ...]]:
    """Paths whose upstream default is an empty map: any key below them is the user's (annotations, resources...)."""
    found = set()
    for path in paths(values):
        node: Any = values
        for part in path:
            node = node[part]
        if node == {}:
            found.add(path)
    return found


@pytest.mark.parametrize("version", RELEASES)
def test_every_value_we_set_exists_in_that_releases_charts(version):
    config = config_of(version)
    ours = controller_values(
        config, cluster_endpoint="https://x", interruption_queue="q", controller_role_arn="arn:aws:iam::1:role/r"
    )
    upstream_values = yaml.safe_load((reference(version) / "chart-values.yaml").read_text())
    known, free = paths(upstream_values), open_maps(upstream_values)
    unknown = {p for p in paths(ours) if p not in known and not any(p[: len(f)] == f for f in free)}
    assert unknown == set()
    crd_values = crd_chart_values(config)
    if crd_values:
        assert paths(crd_values) <= paths(yaml.safe_load((reference(version) / "crd-chart-values.yaml").read_text()))


@pytest.mark.parametrize("version", [v for v in RELEASES if PROFILES[v].webhooks])
def test_conversion_webhook_names_the_controllers_namespace_service_and_port(version):
    config = config_of(version, namespace="platform-karpenter")
    assert crd_chart_values(config)["webhook"] == {
        "enabled": True,
        "serviceName": "karpenter",
        "serviceNamespace": "platform-karpenter",
        "port": 8443,
    }
    values = controller_values(config, cluster_endpoint="https://x", interruption_queue="q", controller_role_arn="r")
    assert values["webhook"] == {"enabled": True, "port": 8443}


def test_charts_are_where_upstream_installs_them_from():
    """Upstream's install commands: v1-migration.md installs both charts of 0.37.x and 1.0.x, each upgrade guide its karpenter-crd."""
    migration = (reference("1.0.14") / "v1-migration.md").read_text()
    for profile in PROFILES.values():
        guide = reference(profile.version) / "upgrade-guide.md"
        guides = migration + (guide.read_text() if guide.is_file() else "")
        assert f" {profile.chart_repository}/{profile.controller_chart} --version" in migration
        assert f" {profile.chart_repository}/{profile.crd_chart} --version" in guides


@pytest.mark.parametrize("version", RELEASES)
def test_node_pools_report_conditions_from_v1(version):
    """v1beta1's NodePool status has `resources` only; v1's adds `conditions` (the cluster checks judge readiness by them)."""
    profile = PROFILES[version]
    assert profile.node_pool_reports_conditions is (profile.api_version == "v1")


def test_an_unknown_release_names_the_allowed_ones():
    with pytest.raises(ValidationError) as caught:
        config_of("0.37.2", version="0.36.0")
    assert "allowed: " + ", ".join(repr(v) for v in PROFILES) in str(caught.value)


# -- release facts stay in the profiles ---------------------------------------------------------------

# Where release facts must not appear (besides main.py); karpenter_model/releases/ is where they live.
GUARDED_PACKAGES = ("karpenter_model", "karpenter_constructs", "stacks", "karpenter_check")
VERSION = re.compile(r"v?\d+\.\d+(?:\.\d+)?")
# A version inside text: not part of a longer dotted or alphanumeric word; `.x` (a release line) is part of it.
# The word before it, and an optional comparison operator, name what it is the version of.
VERSION_IN_TEXT = re.compile(
    r"(?:\b(?P<product>[A-Za-z][\w-]*)\s*(?:[<>=!~]=?\s*)?)?(?<![\w.])v?(?P<version>\d+(?:\.\d+)+)(?:\.x)?(?!\w)"
)
OTHER_PRODUCTS = {"terraform", "kubernetes", "k8s", "eks", "yaml", "node", "python", "cdktf", "helm", "go"}
RELEASE_LINES = set(PROFILES) | {profile.minor for profile in PROFILES.values()}
PROFILE_STRINGS = {NODE_POOL_GROUP, NODE_CLASS_GROUP} | {profile.chart_repository for profile in PROFILES.values()}
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _version_in_text(text: str) -> str | None:
    """A Karpenter release or release line named in text (see release_facts), or None."""
    for found in VERSION_IN_TEXT.finditer(text):
        product, version = (found["product"] or "").lower(), found["version"]
        if product in OTHER_PRODUCTS:
            continue
        if version in RELEASE_LINES or re.fullmatch(r"[01]\.\d+\.\d+", version) or product == "karpenter":
            return version
    return None


def _versionish(node: ast.expr) -> bool:
    """An expression that holds or computes a version: a version string, an int tuple such as (1, 1),
    a `.split(".")`, or a name, attribute or function whose name says version."""
    for part in ast.walk(node):
        name = part.id if isinstance(part, ast.Name) else part.attr if isinstance(part, ast.Attribute) else ""
        if (
            (isinstance(part, ast.Constant) and isinstance(part.value, str) and VERSION.fullmatch(part.value))
            or (
                isinstance(part, (ast.Tuple, ast.List))
                and len(part.elts) > 1
                and all(isinstance(e, ast.Constant) and type(e.value) is int for e in part.elts)
            )
            or (
                isinstance(part, ast.Call)
                and isinstance(part.func, ast.Attribute)
                and part.func.attr == "split"
                and any(isinstance(a, ast.Constant) and a.value == "." for a in part.args)
            )
            or "version" in name.lower()
        ):
            return True
    return False


def release_facts(source: str) -> list[str]:
    """`<line>: <what>` for every release fact in a module's source, which belongs in a profile instead.

    The rule, for every module outside karpenter_model/releases/:
    - a string that is a version, whole: `v?N.N` or `v?N.N.N` ("0.37", "1.1", "v1.0.14", and also a
      Kubernetes minor such as "1.32": the supported minors are release data too);
    - a string that names a Karpenter release in text: one of the profiles' releases or release lines
      ("as in 0.37", "1.0.x"), any three-part 0.x or 1.x release ("1.9.4"), or any version right
      after the word Karpenter ("Karpenter 1.1");
    - a dict literal keyed by such version strings (a table per release);
    - an ordering comparison (<, <=, >, >=) of a version: a version string, an int tuple such as
      (1, 1), anything computed with `.split(".")`, or a name or call whose name says version
      (`version >= "1.1"`, `tuple(int(p) for p in v.split("."))[:2] >= (1, 1)`, `_version_key(a) < b`);
    - a string equal to a fact the releases module holds: the API groups, the chart repository.
    Exempt: docstrings (they explain with examples); a version right after the name of another product
    ("Terraform >= 1.10", "YAML 1.1", "Kubernetes 1.31"); versions inside a longer word, such as an AMI
    name ("amazon-eks-node-1.30-v*") or an image tag ("pause:3.7"); equality with a Kubernetes API
    version ("v1beta1" is not a version here: it has no dot).
    """
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and any(
            isinstance(key, ast.Constant) and isinstance(key.value, str) and VERSION.fullmatch(key.value) for key in node.keys
        ):
            found.append((node.lineno, "a table keyed by release"))
        elif isinstance(node, ast.Compare) and any(isinstance(op, ORDERING) for op in node.ops):
            if any(_versionish(operand) for operand in (node.left, *node.comparators)):
                found.append((node.lineno, f"a version comparison: {ast.unparse(node)}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if VERSION.fullmatch(node.value):
                found.append((node.lineno, f"a version literal {node.value!r}"))
            elif node.value in PROFILE_STRINGS:
                found.append((node.lineno, f"{node.value!r}, which karpenter_model.releases holds"))
            elif (version := _version_in_text(node.value)) is not None:
                found.append((node.lineno, f"release {version} named in {node.value[:60]!r}"))
    return [f"{line}: {what}" for line, what in sorted(found)]


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ('if config.karpenter.version >= "1.1":\n    pass\n', ["1: a version comparison", "1: a version literal '1.1'"]),
        ('newer = tuple(int(p) for p in release.split(".")[:2]) >= (1, 1)\n', ["1: a version comparison"]),
        ("if _version_key(a) < _version_key(b):\n    pass\n", ["1: a version comparison"]),
        ("if release.version < other.version:\n    pass\n", ["1: a version comparison"]),
        ('TABLE = {"0.37": 1, "1.0": 2, "1.14": 3}\n', ["1: a table keyed by release"] + ["1: a version literal"] * 3),
        ('X = "0.37.2"\nY = "v1.0.14"\nZ = "1.32"\n', ["1: a version literal", "2: a version literal", "3: a version literal"]),
        ('m = f"stays off as in 0.37 ({x})"\n', ["1: release 0.37 named in"]),
        ('m = "a cluster already on 1.0.x"\n', ["1: release 1.0 named in"]),
        ('m = "patches (1.9.4, 1.14.4)"\n', ["1: release 1.9.4 named in"]),
        ('m = "Karpenter 1.1 labels claims"\n', ["1: release 1.1 named in"]),
        ('REPO = "oci://public.ecr.aws/karpenter"\nGROUP = "karpenter.sh"\n', ["1: 'oci://", "2: 'karpenter.sh'"]),
        ('"""Docstring: from 0.37.2 to 1.0.14, `version >= "1.1"`."""\n', []),
        ('def f():\n    """Karpenter 1.1 and 0.37.x."""\n', []),
        ('m = "Terraform >= 1.10, YAML 1.1, a Kubernetes version such as 1.31"\n', []),
        ('AMI = "amazon-eks-node-1.30-v*"\nIMAGE = "public.ecr.aws/eks-distro/kubernetes/pause:3.7"\n', []),
        ('if api_version == "v1beta1" and count >= 2 and (a, b) == (1, 1):\n    pass\n', []),
        ('LABEL = "karpenter.sh/capacity-type"\nif "0" <= c <= "9":\n    pass\n', []),
    ],
)
def test_release_facts_are_caught(source: str, caught: list[str]) -> None:
    found = release_facts(source)
    assert len(found) == len(caught), found
    assert all(line.startswith(prefix) for line, prefix in zip(found, sorted(caught), strict=True)), found


def test_profiles_are_data_only():
    """A release is its data directory plus one profile: outside karpenter_model/releases/ no code
    names a release, keys a table by one, compares versions, or repeats a fact the releases module
    holds (the rule: release_facts)."""
    root = Path(__file__).resolve().parent.parent
    paths = [root / "main.py", *(path for package in GUARDED_PACKAGES for path in sorted((root / package).rglob("*.py")))]
    offenders = [
        f"{path.relative_to(root)}:{fact}"
        for path in paths
        if DATA.parent not in path.parents
        for fact in release_facts(path.read_text())
    ]
    assert len(paths) > 50  # the scan sees the code
    assert not offenders, "release facts outside karpenter_model/releases/ (ask the profile):\n" + "\n".join(offenders)


def test_every_interruption_rule_can_be_renamed_in_config():
    from typing import get_args

    from karpenter_model.config import InterruptionRuleKind
    from karpenter_model.naming import INTERRUPTION_RULE_KINDS

    assert get_args(InterruptionRuleKind) == INTERRUPTION_RULE_KINDS


def test_the_prefix_budget_counts_only_the_releases_own_names():
    """1.14.1's fifth rule name ends in `-capacity-reservation`: a prefix 0.37 takes is too long there."""
    suffix = "-karpenter-interruption-capacity-reservation"
    prefix = "p" * (64 - len("-karpenter-interruption-health-event"))  # the longest 0.37 allows

    def with_prefix(version: str, name_prefix: str) -> dict[str, Any]:
        data = example_of(version)
        data["node_classes"][0]["spec"].pop("role")  # it follows the prefix
        return {**data, "name_prefix": name_prefix}

    KarpenterConfig.model_validate(with_prefix("0.37.2", prefix))
    with pytest.raises(ValidationError, match=f"allowed: a name_prefix of at most {64 - len(suffix)} characters"):
        KarpenterConfig.model_validate(with_prefix("1.14.1", prefix))
    KarpenterConfig.model_validate(with_prefix("1.14.1", prefix[: 64 - len(suffix)]))
