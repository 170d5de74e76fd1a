"""Bad input: every broken configuration exits non-zero with one clear message and writes nothing.

Each case is the bundled example with one thing broken (or a broken file), run through the real
entry point (`main.py` in a subprocess, as `make synth` and `cdktf synth` run it) with
CDKTF_OUTDIR pointing at a directory that already holds an earlier synthesis. A case passes when
the process exits non-zero, stderr is a single `error:` message that names the field path, the bad
value and what is allowed (no traceback, no jsii stack), and the earlier output is byte-identical.

Config errors happen before cdktf is imported, so each run takes a fraction of a second (one case,
an adoption address only the assembled stack can check, loads cdktf and fails during synthesis:
it shows the staged synthesis leaves the old output alone). The runs go through a small thread
pool once per module and each case then checks its own result.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from karpenter_model.config import KarpenterConfig
from tests.conftest import ROOT, example_data, make_config, synth

Edit = Callable[[dict[str, Any]], None]
_STEP = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]")


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    position = 0
    while position < len(path):
        match = _STEP.match(path, position)
        assert match, f"bad path {path!r} at {position}"
        name, index, key = match.groups()
        steps.append(int(index) if index is not None else (name if name is not None else key))
        position = match.end()
    return steps


def put(path: str, value: Any) -> Edit:
    """Set `path` (as the error messages spell it, e.g. `node_pools[0].spec.weight`) to `value`."""

    def edit(data: dict[str, Any]) -> None:
        *parents, last = _steps(path)
        node: Any = data
        for step in parents:
            if isinstance(step, str) and step not in node:
                node[step] = {}
            node = node[step]
        node[last] = value

    return edit


def drop(path: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        *parents, last = _steps(path)
        node: Any = data
        for step in parents:
            node = node[step]
        del node[last]

    return edit


@dataclass(frozen=True)
class Case:
    id: str
    path: str  # the field path the message must name, followed by ':'
    value: str  # the bad value (or key) as the message prints it
    allowed: str  # words of the message that say what is allowed instead
    edits: tuple[Edit, ...] = ()
    raw: bytes | None = None  # file content instead of an edited example
    config: str = "config.yaml"  # "<missing>" or "<directory>" for the file-level cases
    extra: tuple[str, ...] = ()  # further text the message must hold
    slow: bool = False  # fails only once the stacks are assembled, after cdktf is loaded


POOL = "node_pools[0].spec"
CLASS = "node_classes[0].spec"
DISRUPTION = f"{POOL}.disruption"
TEMPLATE = f"{POOL}.template.spec"
LONG_CLUSTER = "c" * 50  # 50 + len("-karpenter-controller") = 71 > 64 for the IAM role name

CASES: tuple[Case, ...] = (
    # -- the file itself --------------------------------------------------------------------------
    Case("file-missing", "config.yaml", "config.yaml", "a YAML file", config="<missing>", extra=("not found",)),
    Case("file-is-a-directory", "config.yaml", "config.yaml", "a YAML file", config="<directory>", extra=("directory",)),
    Case("file-not-utf8", "config.yaml:1", "0xff", "save the file as UTF-8", raw=b"cluster_name: caf\xff\n"),
    Case("file-empty", "config.yaml", "empty", "a mapping", raw=b""),
    Case("yaml-is-a-list", "config.yaml", "list: [{'cluster_name': 'blue'}", "a mapping", raw=b"- cluster_name: blue\n- region: us-east-1\n"),
    Case("yaml-is-a-string", "config.yaml", "'just some words'", "a mapping", raw=b"just some words\n"),
    Case("yaml-unclosed-bracket", "config.yaml:3:1", "'instance_types: [t3.medium'", "expected ',' or ']'", raw=b"cluster_name: blue\ninstance_types: [t3.medium\n"),
    Case("yaml-tab-indent", "config.yaml:3:1", "'\\treplicas: 1'", "indent with spaces", raw=b"karpenter:\n  namespace: karpenter\n\treplicas: 1\n"),
    Case(
        "yaml-duplicate-key",
        "config.yaml:3:1",
        "'region'",
        "may appear only once",
        raw=b"cluster_name: blue\nregion: us-east-1\nregion: eu-west-1\n",
    ),
    # -- top level ----------------------------------------------------------------------------------
    Case("cluster-name-missing", "cluster_name", "cluster_name", "required", (drop("cluster_name"),)),
    Case("cluster-name-wrong-type", "cluster_name", "123", "a valid string", (put("cluster_name", 123),)),
    Case("cluster-name-empty", "cluster_name", "''", "letters, digits", (put("cluster_name", ""),)),
    Case("cluster-name-malformed", "cluster_name", "'my cluster!'", "letters, digits", (put("cluster_name", "my cluster!"),)),
    Case(
        "cluster-name-makes-iam-name-too-long",
        "cluster_name",
        repr(LONG_CLUSTER),
        "at most 43 characters",
        (put("cluster_name", LONG_CLUSTER),),
        extra=("controller role", "64"),
    ),
    Case(
        "name-prefix-makes-eventbridge-rule-name-too-long",
        "name_prefix",
        repr("p" * 40),
        "at most 28 characters",
        (put("name_prefix", "p" * 40),),
        extra=("interruption rule", "64"),
    ),
    Case("name-prefix-malformed", "name_prefix", "'blue.green'", "letters, digits", (put("name_prefix", "blue.green"),)),
    Case("region-malformed", "region", "'US-EAST-1'", "us-east-1", (put("region", "US-EAST-1"),)),
    Case("unknown-top-level-key", "clustername", "'clustername'", "cluster_name", (put("clustername", "blue"),)),
    Case("tags-not-a-mapping", "tags", "['a', 'b']", "a valid dictionary", (put("tags", ["a", "b"]),)),
    Case("node-pools-not-a-list", "node_pools", "'default'", "a valid list", (put("node_pools", "default"),)),
    # -- environment, names, backend, adoption ---------------------------------------------------------
    Case("environment-uppercase", "environment", "'Prod'", "lowercase", (put("environment", "Prod"),)),
    Case(
        "names-unknown-interruption-rule",
        "names.interruption_rules['spot-rule']",
        "'spot-rule'",
        "'spot', 'rebalance', 'state_change' or 'health_event'",
        (put("names.interruption_rules", {"spot-rule": "blue-spot"}),),
    ),
    Case("backend-unknown-type", "backend.type", "'gcs'", "'local', 's3' or 'cloud'", (put("backend", {"type": "gcs"}),)),
    Case("backend-without-type", "backend.type", "required key is missing", "'local', 's3' or 'cloud'", (put("backend", {"bucket": "state"}),)),
    Case(
        "backend-s3-bucket-malformed",
        "backend.bucket",
        "'My_Bucket'",
        "S3 bucket name",
        (put("backend", {"type": "s3", "bucket": "My_Bucket", "region": "us-east-1"}),),
    ),
    Case(
        "backend-s3-unknown-key",
        "backend.lock_table",
        "'lock_table'",
        "dynamodb_table",
        (put("backend", {"type": "s3", "bucket": "state", "region": "us-east-1", "lock_table": "locks"}),),
    ),
    Case(
        "backend-s3-unencrypted",
        "backend.encrypt",
        "False",
        "should be True",
        (put("backend", {"type": "s3", "bucket": "state", "region": "us-east-1", "encrypt": False}),),
    ),
    Case("backend-local-outside-project", "backend.directory", "'../state'", "without '..'", (put("backend", {"type": "local", "directory": "../state"}),)),
    Case(
        "adoption-address-malformed",
        "adoption.moved['not an address']",
        "'not an address'",
        "resource address",
        (put("adoption.moved", {"not an address": "aws_iam_role.karpenter_node"}),),
    ),
    # Passes validation; only the assembled stack shows the address is unknown (cdktf is loaded: slow).
    Case(
        "adoption-moved-to-unknown-address",
        "adoption.moved['aws_iam_role.old_node']",
        "'aws_iam_role.nonexistent'",
        "'aws_iam_role.karpenter_node'",
        (put("adoption.moved", {"aws_iam_role.old_node": "aws_iam_role.nonexistent"}),),
        slow=True,
    ),
    # -- aws, oidc -----------------------------------------------------------------------------------
    Case("aws-endpoint-unknown-service", "aws.endpoints['s3']", "'s3'", "'sqs'", (put("aws.endpoints", {"s3": "http://localhost:5000"}),)),
    Case("aws-endpoint-not-a-url", "aws.endpoints['sqs']", "'localhost:5000'", "http://", (put("aws.endpoints", {"sqs": "localhost:5000"}),)),
    Case("aws-unknown-key", "aws.skip_credential_validation", "'skip_credential_validation'", "skip_credentials_validation", (put("aws.skip_credential_validation", True),)),
    Case("oidc-thumbprint-malformed", "oidc.thumbprints[0]", "'abc'", "40 hexadecimal", (put("oidc.thumbprints", ["abc"]),)),
    # -- karpenter ----------------------------------------------------------------------------------
    Case("karpenter-unknown-key", "karpenter.replica", "'replica'", "replicas", (put("karpenter.replica", 1),)),
    Case("namespace-malformed", "karpenter.namespace", "'Karpenter_NS'", "lowercase", (put("karpenter.namespace", "Karpenter_NS"),)),
    Case("service-account-empty", "karpenter.service_account", "''", "lowercase", (put("karpenter.service_account", ""),)),
    Case(
        "namespace-kube-system-created",
        "karpenter.create_namespace",
        "'kube-system'",
        "allowed: false",
        (put("karpenter.namespace", "kube-system"),),
    ),
    Case("replicas-wrong-type", "karpenter.replicas", "'two'", "a valid integer", (put("karpenter.replicas", "two"),)),
    # Strict types: YAML has real numbers and booleans, so a quoted one is a mistake, not something to convert.
    Case("replicas-quoted-number", "karpenter.replicas", "'1'", "a valid integer", (put("karpenter.replicas", "1"),)),
    Case("access-entry-string", "node_role.access_entry", "'yes'", "a valid boolean", (put("node_role.access_entry", "yes"),)),
    Case("replicas-zero", "karpenter.replicas", "0", "greater than or equal to 1", (put("karpenter.replicas", 0),)),
    Case(
        "replicas-exceed-system-nodes",
        "karpenter.replicas",
        "2",
        "replicas <= system_node_group.min_size",
        (put("karpenter.replicas", 2),),
    ),
    Case("log-level-unknown", "karpenter.log_level", "'verbose'", "'debug', 'info' or 'error'", (put("karpenter.log_level", "verbose"),)),
    Case("resources-bad-quantity", "karpenter.resources.requests['cpu']", "'one'", "quantity", (put("karpenter.resources.requests.cpu", "one"),)),
    Case("resources-unknown-resource", "karpenter.resources.limits['gpu']", "'gpu'", "'cpu' or 'memory'", (put("karpenter.resources.limits.gpu", "1"),)),
    Case("helm-timeout-too-short", "karpenter.helm_timeout_seconds", "30", "greater than or equal to 60", (put("karpenter.helm_timeout_seconds", 30),)),
    # -- interruption queue, node role, discovery ----------------------------------------------------
    Case(
        "queue-retention-too-short",
        "interruption_queue.message_retention_seconds",
        "30",
        "greater than or equal to 60",
        (put("interruption_queue.message_retention_seconds", 30),),
    ),
    Case("access-entry-not-a-bool", "node_role.access_entry", "'maybe'", "a valid boolean", (put("node_role.access_entry", "maybe"),)),
    Case("discovery-security-group-malformed", "discovery.security_group_ids[0]", "'sg_123'", "sg-", (put("discovery.security_group_ids", ["sg_123"]),)),
    # -- system node group ------------------------------------------------------------------------------
    Case("instance-types-empty", "system_node_group.instance_types", "[]", "at least 1", (put("system_node_group.instance_types", []),)),
    Case("instance-type-malformed", "system_node_group.instance_types[0]", "'t3 medium'", "family.size", (put("system_node_group.instance_types", ["t3 medium"]),)),
    Case("ami-type-unknown", "system_node_group.ami_type", "'AL2_x86'", "'AL2_x86_64'", (put("system_node_group.ami_type", "AL2_x86"),)),
    Case("disk-size-with-unit", "system_node_group.disk_size", "'20GB'", "a valid integer", (put("system_node_group.disk_size", "20GB"),)),
    Case(
        "sizes-out-of-order",
        "system_node_group",
        "3 <= 1 <= 2",
        "min_size <= desired_size <= max_size",
        (put("system_node_group.min_size", 3),),
    ),
    Case("node-label-key-invalid", "system_node_group.labels['-role']", "'-role'", "label key", (put("system_node_group.labels", {"-role": "system"}),)),
    Case(
        "node-group-taint-kubernetes-effect",
        "system_node_group.taints[0].effect",
        "'NoSchedule'",
        "'NO_SCHEDULE', 'NO_EXECUTE' or 'PREFER_NO_SCHEDULE'",
        (put("system_node_group.taints[0].effect", "NoSchedule"),),
    ),
    Case("subnet-id-malformed", "system_node_group.subnet_ids[0]", "'subnet-XYZ'", "subnet-", (put("system_node_group.subnet_ids", ["subnet-XYZ"]),)),
    # -- node classes --------------------------------------------------------------------------------------
    Case("node-classes-empty", "node_classes", "[]", "at least 1", (put("node_classes", []),)),
    Case("node-class-name-uppercase", "node_classes[0].name", "'Default'", "lowercase", (put("node_classes[0].name", "Default"),)),
    Case("ami-family-unknown", f"{CLASS}.amiFamily", "'AL2024'", "'AL2023'", (put(f"{CLASS}.amiFamily", "AL2024"),)),
    Case(
        "ami-selector-alias-is-v1",
        f"{CLASS}.amiSelectorTerms[0]",
        "'al2023@latest'",
        "amiFamily",
        (put(f"{CLASS}.amiSelectorTerms", [{"alias": "al2023@latest"}]),),
    ),
    Case(
        "volume-size-numeric",
        f"{CLASS}.blockDeviceMappings[0].ebs.volumeSize",
        "20",
        '"20Gi"',
        (put(f"{CLASS}.blockDeviceMappings[0].ebs.volumeSize", 20),),
    ),
    Case(
        "volume-size-bad-unit",
        f"{CLASS}.blockDeviceMappings[0].ebs.volumeSize",
        "'20GB'",
        "Gi",
        (put(f"{CLASS}.blockDeviceMappings[0].ebs.volumeSize", "20GB"),),
    ),
    Case(
        "ebs-unknown-key-deep",
        f"{CLASS}.blockDeviceMappings[0].ebs.volumesize",
        "'volumesize'",
        "volumeSize",
        (drop(f"{CLASS}.blockDeviceMappings[0].ebs.volumeSize"), put(f"{CLASS}.blockDeviceMappings[0].ebs.volumesize", "20Gi")),
    ),
    Case("http-tokens-unknown", f"{CLASS}.metadataOptions.httpTokens", "'require'", "'required' or 'optional'", (put(f"{CLASS}.metadataOptions.httpTokens", "require"),)),
    Case(
        "hop-limit-zero",
        f"{CLASS}.metadataOptions.httpPutResponseHopLimit",
        "0",
        "greater than or equal to 1",
        (put(f"{CLASS}.metadataOptions.httpPutResponseHopLimit", 0),),
    ),
    Case(
        "node-class-role-not-infra-role",
        f"{CLASS}.role",
        "'other-node-role'",
        "'aws-2026-eks-karpenter-node'",
        (put(f"{CLASS}.role", "other-node-role"),),
    ),
    Case(
        "discovery-tag-not-cluster-name",
        f"{CLASS}.subnetSelectorTerms[0].tags['karpenter.sh/discovery']",
        "'other-cluster'",
        "'aws-2026-eks'",
        (put(f"{CLASS}.subnetSelectorTerms[0].tags", {"karpenter.sh/discovery": "other-cluster"}),),
    ),
    Case(
        "instance-profile-instead-of-role",
        CLASS,
        "'KarpenterNodeInstanceProfile'",
        "'role'",
        (put(f"{CLASS}.instanceProfile", "KarpenterNodeInstanceProfile"),),
    ),
    Case(
        "restricted-node-class-tag",
        f"{CLASS}.tags",
        "'karpenter.sh/nodepool'",
        "restricted",
        (put(f"{CLASS}.tags", {"karpenter.sh/nodepool": "x"}),),
    ),
    Case("subnet-selector-empty-term", f"{CLASS}.subnetSelectorTerms", "[{}]", "'tags', 'id'", (put(f"{CLASS}.subnetSelectorTerms", [{}]),)),
    Case(
        "duplicate-node-class-names",
        "node_classes[*].name",
        "['default']",
        "unique",
        (lambda data: data["node_classes"].append(copy.deepcopy(data["node_classes"][0])),),
    ),
    # -- node pools ------------------------------------------------------------------------------------------
    Case(
        "node-pool-references-missing-class",
        f"{TEMPLATE}.nodeClassRef.name",
        "'missing'",
        "['default']",
        (put(f"{TEMPLATE}.nodeClassRef.name", "missing"),),
    ),
    Case("node-pool-unknown-key", f"{TEMPLATE}.nodeclassref", "'nodeclassref'", "nodeClassRef", (put(f"{TEMPLATE}.nodeclassref", {"name": "default"}),)),
    Case(
        "when-underutilized-with-consolidate-after",
        DISRUPTION,
        "'30s'",
        "consolidationPolicy=WhenEmpty",
        (put(f"{DISRUPTION}.consolidateAfter", "30s"),),
        extra=("WhenUnderutilized",),
    ),
    Case(
        "when-empty-without-consolidate-after",
        DISRUPTION,
        "'WhenEmpty'",
        "consolidateAfter must be specified",
        (put(f"{DISRUPTION}.consolidationPolicy", "WhenEmpty"),),
    ),
    Case(
        "consolidation-policy-v1-only",
        f"{DISRUPTION}.consolidationPolicy",
        "'WhenEmptyOrUnderutilized'",
        "WhenEmpty or WhenUnderutilized",
        (put(f"{DISRUPTION}.consolidationPolicy", "WhenEmptyOrUnderutilized"),),
    ),
    Case("expire-after-in-days", f"{DISRUPTION}.expireAfter", "'30d'", "720h", (put(f"{DISRUPTION}.expireAfter", "30d"),)),
    Case(
        "consolidate-after-words",
        f"{DISRUPTION}.consolidateAfter",
        "'30 seconds'",
        "30s",
        (put(f"{DISRUPTION}.consolidationPolicy", "WhenEmpty"), put(f"{DISRUPTION}.consolidateAfter", "30 seconds")),
    ),
    Case("budget-nodes-over-100-percent", f"{DISRUPTION}.budgets[0].nodes", "'110%'", "percentage", (put(f"{DISRUPTION}.budgets[0].nodes", "110%"),)),
    Case(
        "budget-schedule-without-duration",
        f"{DISRUPTION}.budgets",
        "'@daily'",
        "'duration'",
        (put(f"{DISRUPTION}.budgets[0].schedule", "@daily"),),
    ),
    Case(
        "requirement-operator-unknown",
        f"{TEMPLATE}.requirements[0].operator",
        "'Equals'",
        "'In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt' or 'Lt'",
        (put(f"{TEMPLATE}.requirements[0].operator", "Equals"),),
    ),
    Case(
        "requirement-key-restricted",
        f"{TEMPLATE}.requirements[0].key",
        "'kubernetes.io/hostname'",
        "restricted",
        (put(f"{TEMPLATE}.requirements[0].key", "kubernetes.io/hostname"),),
    ),
    Case(
        "requirement-key-invalid",
        f"{TEMPLATE}.requirements[0].key",
        "'instance type'",
        "label key",
        (put(f"{TEMPLATE}.requirements[0].key", "instance type"),),
    ),
    Case(
        "requirement-in-without-values",
        f"{TEMPLATE}.requirements[0]",
        "'In'",
        "a value",
        (put(f"{TEMPLATE}.requirements[0].values", []),),
    ),
    Case(
        "node-pool-taint-eks-effect",
        f"{TEMPLATE}.taints[0].effect",
        "'NO_SCHEDULE'",
        "'NoSchedule', 'PreferNoSchedule' or 'NoExecute'",
        (put(f"{TEMPLATE}.taints", [{"key": "dedicated", "value": "batch", "effect": "NO_SCHEDULE"}]),),
    ),
    Case(
        "template-label-value-invalid",
        f"{POOL}.template.metadata.labels['team']",
        "'data science'",
        "label value",
        (put(f"{POOL}.template.metadata", {"labels": {"team": "data science"}}),),
    ),
    Case("limits-bad-quantity", f"{POOL}.limits['cpu']", "'lots'", "quantity", (put(f"{POOL}.limits.cpu", "lots"),)),
    Case("weight-out-of-range", f"{POOL}.weight", "101", "less than or equal to 100", (put(f"{POOL}.weight", 101),)),
    Case(
        "kubelet-eviction-signal-unknown",
        f"{TEMPLATE}.kubelet.evictionHard",
        "'memory.free'",
        "'memory.available'",
        (put(f"{TEMPLATE}.kubelet", {"evictionHard": {"memory.free": "5%"}}),),
    ),
    Case(
        "duplicate-node-pool-names",
        "node_pools[*].name",
        "['default']",
        "unique",
        (lambda data: data["node_pools"].append(copy.deepcopy(data["node_pools"][0])),),
    ),
)


# -- running the cases ------------------------------------------------------------------------------


def tree_digest(root: Path) -> str:
    """Hash of every path, file mode and file content under `root` (symlinks by target)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        info = path.lstat()
        digest.update(f"{relative}\0{info.st_mode:o}\0".encode())
        if path.is_symlink():
            digest.update(os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    before: str
    after: str
    leftovers: tuple[str, ...]


def write_config(case: Case, workdir: Path) -> Path:
    config = workdir / "config.yaml"
    if case.config == "<missing>":
        return config
    if case.config == "<directory>":
        config.mkdir()
        return config
    if case.raw is not None:
        config.write_bytes(case.raw)
        return config
    data = example_data()
    for edit in case.edits:
        edit(data)
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config


def run_case(case: Case, workdir: Path, previous_output: Path) -> Run:
    workdir.mkdir()
    outdir = workdir / "cdktf.out"
    shutil.copytree(previous_output, outdir, symlinks=True)
    config = write_config(case, workdir)
    before = tree_digest(outdir)
    # The app must silence the jsii Node banner itself (the late case loads jsii), so the test does not.
    unset = ("KARPENTER_CONFIG", "CDKTF_OUTDIR", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    # The config's own name is what the message shows; run from its directory to keep it short.
    env.update(KARPENTER_CONFIG=config.name, CDKTF_OUTDIR=str(outdir), PYTHONPATH=str(ROOT))
    process = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    leftovers = tuple(sorted(p.name for p in workdir.iterdir() if p.name not in ("cdktf.out", "config.yaml")))
    return Run(process.returncode, process.stdout, process.stderr, before, tree_digest(outdir), leftovers)


@pytest.fixture(scope="module")
def previous_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real earlier synthesis of the example, with a `terraform init` leftover in a stack directory."""
    outdir = tmp_path_factory.mktemp("previous") / "cdktf.out"
    synth(make_config(), outdir)
    stacks = sorted(p for p in (outdir / "stacks").iterdir() if p.is_dir())
    assert stacks, "the example synthesized no stack"
    (stacks[0] / ".terraform").mkdir()
    (stacks[0] / ".terraform" / "providers.lock").write_text("kept across syntheses\n")
    (stacks[0] / "stale.txt").write_text("a file a new synthesis does not write\n")
    return outdir


@pytest.fixture(scope="module")
def runs(previous_output: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    base = tmp_path_factory.mktemp("bad-configs")
    # Each run is mostly Python start-up and imports, CPU-bound: more workers than 2 per CPU only contend.
    with ThreadPoolExecutor(max_workers=min(4, 2 * (os.cpu_count() or 1))) as pool:
        ordered = sorted(CASES, key=lambda case: not case.slow)  # the slow ones first, to overlap the rest
        futures = {case.id: pool.submit(run_case, case, base / case.id, previous_output) for case in ordered}
        return {case_id: future.result() for case_id, future in futures.items()}


def test_corpus_is_large_and_names_are_unique():
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


def test_every_config_section_has_bad_cases():
    sections = {re.match(r"[A-Za-z_]+", case.path).group() for case in CASES if case.edits}
    missing = sorted(set(KarpenterConfig.model_fields) - sections)
    assert not missing, f"add bad cases to CASES for the config section(s) {missing}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_config_is_rejected_clearly_and_writes_nothing(case: Case, runs: dict[str, Run]):
    run = runs[case.id]
    assert run.returncode != 0, run.stderr
    assert run.stdout == ""
    assert "Traceback" not in run.stderr and "jsii" not in run.stderr.lower(), run.stderr
    assert run.stderr.startswith("error: ") and run.stderr.count("error:") == 1, run.stderr
    problem_lines = [line for line in run.stderr.splitlines() if line.startswith("  ")]
    assert len(problem_lines) <= 1, f"more than one problem reported:\n{run.stderr}"
    lines = [line.strip().removeprefix("error: ") for line in run.stderr.splitlines()]
    lines += [line.removeprefix("config.yaml: ") for line in lines]  # errors found during synthesis name the file first
    assert any(line.startswith(f"{case.path}: ") for line in lines), f"{case.path!r} does not lead the message:\n{run.stderr}"
    assert case.value in run.stderr, f"bad value {case.value!r} not shown:\n{run.stderr}"
    assert case.allowed in run.stderr, f"what is allowed ({case.allowed!r}) not said:\n{run.stderr}"
    for text in case.extra:
        assert text in run.stderr, run.stderr
    assert run.after == run.before, "the earlier cdktf.out changed"
    assert run.leftovers == (), f"left behind: {run.leftovers}"


def test_the_harness_sees_a_good_config_write_output(previous_output: Path, tmp_path: Path):
    """The corpus's checks can fail: the unedited example exits 0 and replaces cdktf.out (the stale
    file goes, `.terraform/` is carried over), which the tree digest sees."""
    run = run_case(Case("good", "", "", ""), tmp_path / "good", previous_output)
    assert run.returncode == 0, run.stderr
    assert run.after != run.before
    stack = sorted((tmp_path / "good" / "cdktf.out" / "stacks").iterdir())[0]
    assert not (stack / "stale.txt").exists()
    assert (stack / ".terraform" / "providers.lock").is_file()
    assert run.leftovers == ()
