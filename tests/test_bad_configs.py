"""Bad input: every broken configuration exits non-zero with one clear message and writes nothing.

Each case is the bundled example with one thing broken (or a broken file), run through the real
entry point (`main.main()`, in this process, from the config's directory) with CDKTF_OUTDIR
pointing at a directory that already holds an earlier synthesis. A case passes when
the process exits non-zero, stderr is a single `error:` message that names the field path, the bad
value and what is allowed (no traceback, no jsii stack), and the earlier output is byte-identical.

Config errors happen before cdktf is used, so each run takes milliseconds (the slow cases, an
adoption address only the assembled stack can check, synthesize and fail: they show the staged
synthesis leaves the old output alone). The runs happen once per module and each case then checks
its own result. One test runs `python main.py` as a process for two cases and shows the process
prints what main() prints here, exits 1 and leaves the output alone: the CLI contract.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_model.base import bounded_repr
from karpenter_model.config import KarpenterConfig
from karpenter_model.limits import MAX_CONFIG_BYTES
from tests.conftest import EXAMPLE_CONFIG, ROOT, example_data, make_config, synth

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
    env: tuple[tuple[str, str], ...] = ()  # environment overrides (KARPENTER_CONFIG, CDKTF_OUTDIR), relative to the workdir
    in_process: bool = False  # a config value only (all cases now run through main.main() in this process alike)


def in_process(*cases: Case) -> tuple[Case, ...]:
    return tuple(dataclasses.replace(case, in_process=True) for case in cases)


POOL = "node_pools[0].spec"
CLASS = "node_classes[0].spec"
DISRUPTION = f"{POOL}.disruption"
TEMPLATE = f"{POOL}.template.spec"
LONG_CLUSTER = "c" * 50  # 50 + len("-karpenter-controller") = 71 > 64 for the IAM role name


def rename_cluster(name: str) -> Edit:
    """The example moved to another cluster: its node role and discovery selectors follow."""

    def edit(data: dict[str, Any]) -> None:
        moved = json.loads(json.dumps(data).replace("aws-2026-eks", name))
        data.clear()
        data.update(moved)

    return edit


def from_example(stem: str) -> Edit:
    """Start from another bundled example (another release) instead of the default one."""

    def edit(data: dict[str, Any]) -> None:
        data.clear()
        data.update(yaml.safe_load((ROOT / "examples" / f"{stem}.yaml").read_text()))

    return edit


def example_text(old: str, new: str) -> bytes:
    """The example file as written (comments, unquoted scalars) with one piece of text replaced."""
    text = EXAMPLE_CONFIG.read_text()
    assert old in text, old
    return text.replace(old, new, 1).encode()


def tag_key_path(key: str) -> str:
    return f"tags[{bounded_repr(key)}]"


CASES: tuple[Case, ...] = (
    # -- the file itself --------------------------------------------------------------------------
    Case("file-missing", "config.yaml", "config.yaml", "a YAML file", config="<missing>", extra=("not found",)),
    Case("file-is-a-directory", "config.yaml", "config.yaml", "a YAML file", config="<directory>", extra=("directory",)),
    Case("file-not-utf8", "config.yaml:1", "0xff", "save the file as UTF-8", raw=b"cluster_name: caf\xff\n"),
    Case("file-empty", "config.yaml", "empty", "a mapping", raw=b""),
    Case(
        "yaml-is-a-list",
        "config.yaml",
        "list: [{'cluster_name': 'blue'}",
        "a mapping",
        raw=b"- cluster_name: blue\n- region: us-east-1\n",
    ),
    Case("yaml-is-a-string", "config.yaml", "'just some words'", "a mapping", raw=b"just some words\n"),
    Case(
        "yaml-unclosed-bracket",
        "config.yaml:3:1",
        "'instance_types: [t3.medium'",
        "expected ',' or ']'",
        raw=b"cluster_name: blue\ninstance_types: [t3.medium\n",
    ),
    Case(
        "yaml-tab-indent",
        "config.yaml:3:1",
        "'\\treplicas: 1'",
        "indent with spaces",
        raw=b"karpenter:\n  namespace: karpenter\n\treplicas: 1\n",
    ),
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
        "at most 28 characters",  # every derived name must fit: the interruption rules are the longest
        (rename_cluster(LONG_CLUSTER),),
        extra=("controller role", "64"),
    ),
    Case(
        "name-prefix-makes-eventbridge-rule-name-too-long",
        "name_prefix",
        repr("p" * 40),
        "at most 28 characters",
        (put("name_prefix", "p" * 40), drop(f"{CLASS}.role")),
        extra=("interruption rule", "64"),
    ),
    Case("name-prefix-malformed", "name_prefix", "'blue.green'", "letters, digits", (put("name_prefix", "blue.green"),)),
    Case("region-malformed", "region", "'US-EAST-1'", "us-east-1", (put("region", "US-EAST-1"),)),
    Case("unknown-top-level-key", "clustername", "'clustername'", "cluster_name", (put("clustername", "blue"),)),
    Case("tags-not-a-mapping", "tags", "['a', 'b']", "a valid dictionary", (put("tags", ["a", "b"]),)),
    Case("node-pools-not-a-list", "node_pools", "'default'", "a valid list", (put("node_pools", "default"),)),
    # -- posture and the Kubernetes acknowledgement ----------------------------------------------------
    Case(
        "posture-accept-unknown-finding",
        "posture.accept[0].id",
        "'imdsv1'",
        "'imdsv1-allowed'",
        (put("posture.accept", [{"id": "imdsv1", "where": "node_classes[0]", "reason": "legacy"}]),),
    ),
    Case(
        "posture-accept-without-reason",
        "posture.accept[0].reason",
        "''",
        "at least 1 character",
        (put("posture.accept", [{"id": "hop-limit-too-high", "where": "node_classes[0]", "reason": ""}]),),
    ),
    Case(
        "posture-imdsv1-not-accepted",
        f"{CLASS}.metadataOptions.httpTokens",
        "IMDSv1",
        "httpTokens: required",
        (put(f"{CLASS}.metadataOptions.httpTokens", "optional"),),
        extra=("[imdsv1-allowed]", "posture.accept"),
    ),
    Case(
        "karpenter-version-unknown",
        "karpenter.version",
        "'1.2.0'",
        "allowed: '0.37.2', '0.37.8', '1.0.14', '1.14.1'",
        (put("karpenter.version", "1.2.0"),),
    ),
    Case(
        "kubernetes-acknowledged-but-supported",
        "karpenter.acknowledge_unsupported_kubernetes",
        "'1.30'",
        "a version outside that range",
        (put("karpenter.acknowledge_unsupported_kubernetes", "1.30"),),
    ),
    Case(
        "previous-version-skips-a-step",
        "karpenter.previous_version",
        "'0.37.2'",
        "the next step from 0.37.2 is karpenter.version: '0.37.8'; allowed: '1.0.14', or leave it unset",
        (put("karpenter.version", "1.14.1"), put("karpenter.previous_version", "0.37.2")),
    ),
    Case(
        "previous-version-is-the-release",
        "karpenter.previous_version",
        "'0.37.2'",
        "leave it unset once the step is done",
        (put("karpenter.previous_version", "0.37.2"),),
    ),
    Case(
        "previous-version-unknown",
        "karpenter.previous_version",
        "'0.36.2'",
        "allowed: '0.37.8', or leave it unset",
        (put("karpenter.previous_version", "0.36.2"),),
    ),
    # -- environment, names, backend, adoption ---------------------------------------------------------
    Case("environment-uppercase", "environment", "'Prod'", "lowercase", (put("environment", "Prod"),)),
    Case(
        "names-unknown-interruption-rule",
        "names.interruption_rules['spot-rule']",
        "'spot-rule'",
        "'spot', 'rebalance', 'state_change', 'health_event' or 'capacity_reservation'",
        (put("names.interruption_rules", {"spot-rule": "blue-spot"}),),
    ),
    Case("backend-unknown-type", "backend.type", "'gcs'", "'local', 's3' or 'cloud'", (put("backend", {"type": "gcs"}),)),
    Case(
        "backend-without-type",
        "backend.type",
        "required key is missing",
        "'local', 's3' or 'cloud'",
        (put("backend", {"bucket": "state"}),),
    ),
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
    Case(
        "backend-local-outside-project",
        "backend.directory",
        "'../state'",
        "without '..'",
        (put("backend", {"type": "local", "directory": "../state"}),),
    ),
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
    Case(
        "aws-endpoint-unknown-service",
        "aws.endpoints['s3']",
        "'s3'",
        "'sqs'",
        (put("aws.endpoints", {"s3": "http://localhost:5000"}),),
    ),
    Case(
        "aws-endpoint-not-a-url",
        "aws.endpoints['sqs']",
        "'localhost:5000'",
        "http://",
        (put("aws.endpoints", {"sqs": "localhost:5000"}),),
    ),
    Case(
        "aws-unknown-key",
        "aws.skip_credential_validation",
        "'skip_credential_validation'",
        "skip_credentials_validation",
        (put("aws.skip_credential_validation", True),),
    ),
    Case("oidc-thumbprint-malformed", "oidc.thumbprints[0]", "'abc'", "40 hexadecimal", (put("oidc.thumbprints", ["abc"]),)),
    # -- karpenter ----------------------------------------------------------------------------------
    Case("karpenter-unknown-key", "karpenter.replica", "'replica'", "replicas", (put("karpenter.replica", 1),)),
    Case(
        "namespace-malformed", "karpenter.namespace", "'Karpenter_NS'", "lowercase", (put("karpenter.namespace", "Karpenter_NS"),)
    ),
    Case("service-account-empty", "karpenter.service_account", "''", "lowercase", (put("karpenter.service_account", ""),)),
    Case(
        "namespace-kube-system-created",
        "karpenter.create_namespace",
        "'kube-system'",
        "allowed: false",
        (put("karpenter.namespace", "kube-system"), put("karpenter.create_namespace", True)),
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
    Case(
        "log-level-unknown",
        "karpenter.log_level",
        "'verbose'",
        "'debug', 'info' or 'error'",
        (put("karpenter.log_level", "verbose"),),
    ),
    Case(
        "resources-bad-quantity",
        "karpenter.resources.requests['cpu']",
        "'one'",
        "quantity",
        (put("karpenter.resources.requests.cpu", "one"),),
    ),
    Case(
        "resources-unknown-resource",
        "karpenter.resources.limits['gpu']",
        "'gpu'",
        "'cpu' or 'memory'",
        (put("karpenter.resources.limits.gpu", "1"),),
    ),
    Case(
        "helm-timeout-too-short",
        "karpenter.helm_timeout_seconds",
        "30",
        "greater than or equal to 60",
        (put("karpenter.helm_timeout_seconds", 30),),
    ),
    # -- extension points: extra chart values, permissions boundary, extra controller statements, extra tags ----
    Case(
        "helm-values-override-what-infra-wires",
        "karpenter.helm_values.settings.clusterEndpoint",
        "'https://elsewhere.example.com'",
        "a value this app does not wire",
        (put("karpenter.helm_values", {"settings": {"clusterEndpoint": "https://elsewhere.example.com"}}),),
        extra=("set by the infra stack",),
    ),
    Case(
        "helm-values-replace-a-wired-map",
        "karpenter.helm_values.serviceAccount",
        "'karpenter'",
        "a map of the other values",
        (put("karpenter.helm_values", {"serviceAccount": "karpenter"}),),
        extra=("serviceAccount.name",),
    ),
    Case(
        "helm-values-set-what-a-config-key-sets",
        "karpenter.helm_values.replicas",
        "3",
        "a value this app does not wire",
        (put("karpenter.helm_values", {"replicas": 3}),),
        extra=("karpenter.replicas",),
    ),
    Case(
        "helm-values-not-in-the-chart",
        "karpenter.helm_values.webhook",
        "{'enabled': True}",
        "allowed: one of additionalAnnotations",
        (from_example("aws-2026-eks-1.14.1"), put("karpenter.helm_values", {"webhook": {"enabled": True}})),
        extra=("not a value of the karpenter chart 1.14.1",),
    ),
    Case(
        "permissions-boundary-not-a-policy",
        "iam.permissions_boundary",
        "'arn:aws:iam::123456789012:role/boundary'",
        "an IAM managed policy ARN",
        (put("iam.permissions_boundary", "arn:aws:iam::123456789012:role/boundary"),),
    ),
    Case(
        "permissions-boundary-other-partition",
        "iam.permissions_boundary",
        "'arn:aws-cn:iam::123456789012:policy/boundary'",
        "allowed: an arn:aws:iam:: policy ARN",
        (put("iam.permissions_boundary", "arn:aws-cn:iam::123456789012:policy/boundary"),),
    ),
    Case(
        "controller-statement-without-resource",
        "iam.controller_policy_statements[0]",
        "a statement with Effect, Action",
        "allowed: Resource",
        (put("iam.controller_policy_statements", [{"Effect": "Allow", "Action": "ssm:GetParameter"}]),),
    ),
    Case(
        "controller-statement-with-a-principal",
        "iam.controller_policy_statements[0].Principal",
        "'Principal'",
        "allowed keys here: Action, Condition, Effect, NotAction, NotResource, Resource, Sid",
        (put("iam.controller_policy_statements", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}]),),
    ),
    Case(
        "controller-statements-over-iam-size",
        "iam.controller_policy_statements",
        "'100 statements'",
        "allowed: fewer or shorter statements",
        (
            put(
                "iam.controller_policy_statements",
                [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::bucket-{i:04d}/some/long/prefix/*"}
                    for i in range(100)
                ],
            ),
        ),
        extra=("IAM allows 6144",),
    ),
    Case(
        "extra-tags-reserved-key",
        "extra_tags.controller_role",
        "['karpenter-cdktf/release']",
        "allowed: other keys",
        (put("extra_tags.controller_role", {"karpenter-cdktf/release": "1.14.1"}),),
    ),
    Case(
        "extra-tags-over-aws-limit",
        "extra_tags.node_role",
        "'50 tags'",
        "allowed: at most 50 keys in `tags` and extra_tags.node_role together",
        (put("extra_tags.node_role", {f"team-{i}": "x" for i in range(50)}),),
    ),
    # -- controller identity (README, "Controller identity: IRSA or EKS Pod Identity") ---------------------
    Case(
        "identity-unknown",
        "karpenter.identity",
        "'pod-identity'",
        "'irsa' or 'pod_identity'",
        (put("karpenter.identity", "pod-identity"),),
    ),
    Case(
        "previous-identity-unknown",
        "karpenter.previous_identity",
        "'oidc'",
        "'irsa' or 'pod_identity'",
        (put("karpenter.identity", "pod_identity"), put("karpenter.previous_identity", "oidc")),
    ),
    Case(
        "version-step-and-identity-switch-together",
        "karpenter.previous_identity",
        "'irsa'",
        "leave it unset in this deploy",
        (
            put("karpenter.version", "0.37.8"),
            put("karpenter.previous_version", "0.37.2"),
            put("karpenter.identity", "pod_identity"),
            put("karpenter.previous_identity", "irsa"),
        ),
        extra=("one change per deploy",),
    ),
    # -- empty selector terms, refused for every release (patches from October 2026 ignore them) ----------------
    Case(
        "empty-selector-tags-0.37.2",
        f"{CLASS}.subnetSelectorTerms[0].tags",
        "{}",
        "a non-empty tags",
        (put(f"{CLASS}.subnetSelectorTerms", [{"tags": {}}]),),
        extra=("NotReady",),
    ),
    Case(
        "empty-selector-name-0.37.8",
        f"{CLASS}.securityGroupSelectorTerms[0].name",
        "''",
        "a non-empty name",
        (from_example("aws-2026-eks-0.37.8"), put(f"{CLASS}.securityGroupSelectorTerms", [{"name": ""}])),
    ),
    Case(
        "empty-selector-tags-1.0.14",
        f"{CLASS}.securityGroupSelectorTerms[0].tags",
        "{}",
        "a non-empty tags",
        (from_example("aws-2026-eks-1.0.14"), put(f"{CLASS}.securityGroupSelectorTerms", [{"tags": {}}])),
    ),
    Case(
        "empty-selector-ssm-parameter-1.14.1",
        f"{CLASS}.amiSelectorTerms[0].ssmParameter",
        "''",
        "a non-empty ssmParameter",
        (
            from_example("aws-2026-eks-1.14.1"),
            put(f"{CLASS}.amiFamily", "AL2023"),
            put(f"{CLASS}.amiSelectorTerms", [{"ssmParameter": ""}]),
        ),
    ),
    Case(
        "previous-identity-same-as-identity",
        "karpenter.previous_identity",
        "'irsa'",
        "'pod_identity' for the deploy that switches from it, or leave it unset",
        (put("karpenter.previous_identity", "irsa"),),
    ),
    Case(
        "oidc-thumbprints-without-irsa",
        "oidc.thumbprints",
        "['9e99a48a9960b14926bb7f3b02e22da2b0ab7280']",
        "allowed: [] (remove the key), or karpenter.identity: irsa",
        (put("karpenter.identity", "pod_identity"), put("oidc.thumbprints", ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])),
    ),
    # -- interruption queue, node role, discovery ----------------------------------------------------
    Case(
        "queue-retention-too-short",
        "interruption.message_retention_seconds",
        "30",
        "greater than or equal to 60",
        (put("interruption.message_retention_seconds", 30),),
    ),
    Case(
        "interruption-under-both-names",
        "interruption_queue",
        "{'message_retention_seconds': 300}",
        "allowed: one of them (move its keys under interruption)",
        (put("interruption_queue.message_retention_seconds", 300),),
    ),
    Case(
        "interruption-encryption-unknown",
        "interruption.encryption",
        "'aws_managed'",
        "'sqs_managed' or 'kms'",
        (put("interruption.encryption", "aws_managed"),),
    ),
    Case(
        "kms-aws-managed-sqs-key-alias-arn",
        "interruption.kms_key_arn",
        "arn:aws:kms:us-east-1:111122223333:alias/aws/sqs",
        "allowed: the ARN of a customer managed key, or leave kms_key_arn unset",
        (
            put("interruption.encryption", "kms"),
            put("interruption.kms_key_arn", "arn:aws:kms:us-east-1:111122223333:alias/aws/sqs"),
        ),
        extra=("EventBridge cannot use it: its key policy cannot be changed to admit events.amazonaws.com",),
    ),
    Case(
        "kms-aws-managed-sqs-key-alias",
        "interruption.kms_key_arn",
        "alias/aws/sqs",
        "allowed: the ARN of a customer managed key",
        (put("interruption.encryption", "kms"), put("interruption.kms_key_arn", "alias/aws/sqs")),
        extra=("EventBridge cannot use it",),
    ),
    Case(
        "kms-key-arn-malformed",
        "interruption.kms_key_arn",
        "arn:aws:kms:us-east-1:111122223333:key/not-a-key-id",
        "allowed: a key ARN, or leave it unset",
        (
            put("interruption.encryption", "kms"),
            put("interruption.kms_key_arn", "arn:aws:kms:us-east-1:111122223333:key/not-a-key-id"),
        ),
        extra=("expected a KMS key ARN",),
    ),
    Case(
        "kms-key-id-instead-of-arn",
        "interruption.kms_key_arn",
        "0123abcd-0123-4567-89ab-0123456789ab",
        "allowed: a key ARN",
        (put("interruption.encryption", "kms"), put("interruption.kms_key_arn", "0123abcd-0123-4567-89ab-0123456789ab")),
        extra=("not a key ID or an alias",),
    ),
    Case(
        "kms-key-in-another-region",
        "interruption.kms_key_arn",
        "arn:aws:kms:eu-west-1:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab",
        "allowed: a key in us-east-1",
        (
            put("interruption.encryption", "kms"),
            put("interruption.kms_key_arn", "arn:aws:kms:eu-west-1:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab"),
        ),
        extra=("the key is in eu-west-1 and the queue in region us-east-1",),
    ),
    Case(
        "kms-key-without-kms-encryption",
        "interruption.kms_key_arn",
        "arn:aws:kms:us-east-1:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab",
        "allowed: encryption: kms, or remove kms_key_arn",
        (put("interruption.kms_key_arn", "arn:aws:kms:us-east-1:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab"),),
    ),
    Case(
        "alarm-age-not-below-retention",
        "interruption.alarms.oldest_message_age_seconds",
        "300",
        "allowed: 1 to 299",
        (put("interruption.alarms.enabled", True), put("interruption.alarms.oldest_message_age_seconds", 300)),
        extra=("the alarm could never fire",),
    ),
    Case(
        "alarm-age-zero",
        "interruption.alarms.oldest_message_age_seconds",
        "0",
        "greater than or equal to 1",
        (put("interruption.alarms.enabled", True), put("interruption.alarms.oldest_message_age_seconds", 0)),
    ),
    Case(
        "alarm-evaluation-periods-beyond-a-day",
        "interruption.alarms.evaluation_periods",
        "1441",
        "less than or equal to 1440",
        (put("interruption.alarms.enabled", True), put("interruption.alarms.evaluation_periods", 1441)),
    ),
    Case(
        "alarm-evaluation-periods-zero",
        "interruption.alarms.evaluation_periods",
        "0",
        "greater than or equal to 1",
        (put("interruption.alarms.evaluation_periods", 0),),
    ),
    Case(
        "alarm-topic-not-an-arn",
        "interruption.alarms.sns_topic_arn",
        "'platform-alerts'",
        "an SNS topic ARN",
        (put("interruption.alarms.enabled", True), put("interruption.alarms.sns_topic_arn", "platform-alerts")),
    ),
    Case(
        "dead-letter-retries-beyond-eventbridge",
        "interruption.dead_letter_queue.maximum_retry_attempts",
        "186",
        "less than or equal to 185",
        (put("interruption.dead_letter_queue.enabled", True), put("interruption.dead_letter_queue.maximum_retry_attempts", 186)),
    ),
    Case(
        "dead-letter-event-age-too-short",
        "interruption.dead_letter_queue.maximum_event_age_seconds",
        "30",
        "greater than or equal to 60",
        (
            put("interruption.dead_letter_queue.enabled", True),
            put("interruption.dead_letter_queue.maximum_event_age_seconds", 30),
        ),
    ),
    Case(
        "access-entry-not-a-bool",
        "node_role.access_entry",
        "'maybe'",
        "a valid boolean",
        (put("node_role.access_entry", "maybe"),),
    ),
    Case(
        "discovery-security-group-malformed",
        "discovery.security_group_ids[0]",
        "'sg_123'",
        "sg-",
        (put("discovery.security_group_ids", ["sg_123"]),),
    ),
    # -- system node group ------------------------------------------------------------------------------
    Case(
        "instance-types-empty",
        "system_node_group.instance_types",
        "[]",
        "at least 1",
        (put("system_node_group.instance_types", []),),
    ),
    Case(
        "instance-type-malformed",
        "system_node_group.instance_types[0]",
        "'t3 medium'",
        "family.size",
        (put("system_node_group.instance_types", ["t3 medium"]),),
    ),
    Case(
        "ami-type-unknown",
        "system_node_group.ami_type",
        "'AL2_x86'",
        "'AL2_x86_64'",
        (put("system_node_group.ami_type", "AL2_x86"),),
    ),
    Case(
        "disk-size-with-unit",
        "system_node_group.disk_size",
        "'20GB'",
        "a valid integer",
        (put("system_node_group.disk_size", "20GB"),),
    ),
    Case(
        "sizes-out-of-order",
        "system_node_group",
        "3 <= 1 <= 2",
        "min_size <= desired_size <= max_size",
        (put("system_node_group.min_size", 3),),
    ),
    Case(
        "node-label-key-invalid",
        "system_node_group.labels['-role']",
        "'-role'",
        "label key",
        (put("system_node_group.labels", {"-role": "system"}),),
    ),
    Case(
        "node-group-taint-kubernetes-effect",
        "system_node_group.taints[0].effect",
        "'NoSchedule'",
        "'NO_SCHEDULE', 'NO_EXECUTE' or 'PREFER_NO_SCHEDULE'",
        (put("system_node_group.taints[0].effect", "NoSchedule"),),
    ),
    Case(
        "subnet-id-malformed",
        "system_node_group.subnet_ids[0]",
        "'subnet-XYZ'",
        "subnet-",
        (put("system_node_group.subnet_ids", ["subnet-XYZ"]),),
    ),
    # -- node classes --------------------------------------------------------------------------------------
    Case("node-classes-empty", "node_classes", "[]", "at least 1", (put("node_classes", []),)),
    Case(
        "node-class-name-uppercase",
        "node_classes[0].name",
        "'Default'",
        "lowercase",
        (put("node_classes[0].name", "Default"), put(f"{TEMPLATE}.nodeClassRef.name", "Default")),
    ),
    Case("ami-family-unknown", f"{CLASS}.amiFamily", "'AL2024'", '"AL2023"', (put(f"{CLASS}.amiFamily", "AL2024"),)),
    Case(
        "ami-selector-alias-is-v1",
        f"{CLASS}.amiSelectorTerms[0].alias",
        "'al2023@latest'",
        "it exists in the v1 API",
        (put(f"{CLASS}.amiSelectorTerms", [{"alias": "al2023@latest"}]),),
    ),
    Case(
        "volume-size-numeric",
        f"{CLASS}.blockDeviceMappings[0].ebs.volumeSize",
        "20",
        "a size with a unit such as 20Gi",
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
        "'20Gi'",
        "did you mean 'volumeSize'?",
        (drop(f"{CLASS}.blockDeviceMappings[0].ebs.volumeSize"), put(f"{CLASS}.blockDeviceMappings[0].ebs.volumesize", "20Gi")),
    ),
    Case(
        "http-tokens-unknown",
        f"{CLASS}.metadataOptions.httpTokens",
        "'require'",
        '"required", "optional"',
        (put(f"{CLASS}.metadataOptions.httpTokens", "require"),),
    ),
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
        f"{CLASS}.instanceProfile",
        "'KarpenterNodeInstanceProfile'",
        "allowed: role 'aws-2026-eks-karpenter-node'",
        (drop(f"{CLASS}.role"), put(f"{CLASS}.instanceProfile", "KarpenterNodeInstanceProfile")),
    ),
    Case(
        "restricted-node-class-tag",
        f"{CLASS}.tags",
        "'karpenter.sh/nodepool'",
        "restricted",
        (put(f"{CLASS}.tags", {"karpenter.sh/nodepool": "x"}),),
    ),
    Case(
        "subnet-selector-empty-term",
        f"{CLASS}.subnetSelectorTerms",
        "[{}]",
        "'tags', 'id'",
        (put(f"{CLASS}.subnetSelectorTerms", [{}]),),
    ),
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
    Case(
        "node-pool-unknown-key",
        f"{TEMPLATE}.nodeclassref",
        "{'name': 'default'}",
        "did you mean 'nodeClassRef'?",
        (put(f"{TEMPLATE}.nodeclassref", {"name": "default"}),),
    ),
    Case(
        "when-underutilized-with-consolidate-after",
        DISRUPTION,
        "'30s'",
        "cannot be combined with consolidationPolicy=WhenUnderutilized",
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
        '"WhenEmpty", "WhenUnderutilized"',
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
    Case(
        "budget-nodes-over-100-percent",
        f"{DISRUPTION}.budgets[0].nodes",
        "'110%'",
        "percentage",
        (put(f"{DISRUPTION}.budgets[0].nodes", "110%"),),
    ),
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
        '"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"',
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
        f"{TEMPLATE}.requirements",
        "<list of 4 items>",
        "must have a value defined",
        (put(f"{TEMPLATE}.requirements[0].values", []),),
    ),
    Case(
        "node-pool-taint-eks-effect",
        f"{TEMPLATE}.taints[0].effect",
        "'NO_SCHEDULE'",
        '"NoSchedule", "PreferNoSchedule", "NoExecute"',
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
    # -- issue 10: bounded input, documented limits, contradictions; run through main.py ----------------
    Case(
        "file-over-size-limit",
        "config.yaml",
        f"larger than {MAX_CONFIG_BYTES:,} bytes",
        "a few kilobytes",
        raw=b"#" * (MAX_CONFIG_BYTES + 1),
    ),
    Case("karpenter-config-empty", "KARPENTER_CONFIG", "set but empty", "a path", env=(("KARPENTER_CONFIG", ""),)),
    Case("cdktf-outdir-empty", "CDKTF_OUTDIR", "set but empty", "a path", env=(("CDKTF_OUTDIR", ""),)),
    Case(
        "cdktf-outdir-current-directory",
        "CDKTF_OUTDIR='.'",
        "the current directory",
        "a directory of its own",
        env=(("CDKTF_OUTDIR", "."),),
    ),
    Case(
        "cdktf-outdir-parent-directory",
        "CDKTF_OUTDIR='..'",
        "contains the current directory",
        "a directory of its own",
        env=(("CDKTF_OUTDIR", ".."),),
    ),
    Case(
        "cdktf-outdir-is-the-config-file",
        "CDKTF_OUTDIR='config.yaml'",
        "is a file",
        "a directory of its own",
        env=(("CDKTF_OUTDIR", "config.yaml"),),
    ),
    Case(
        "yaml-duplicate-key-one-line",
        "config.yaml:8:19",
        "'Owner'",
        "may appear only once",
        raw=example_text("  Environment: learning\n", "  Environment: learning\ntags2: {Owner: a, Owner: b}\n"),
    ),
    Case(
        "yaml-nested-too-deep",
        "config.yaml:1:38",
        "nested more than 32 levels",
        "about 10",
        raw=b"tags: " + b"[" * 40 + b"]" * 40 + b"\n",
    ),
    Case("yaml-recursive-alias", "config.yaml:1:14", "inside its own anchor", "recursive", raw=b"tags: &t {a: *t}\n"),
    Case(
        "yaml-integer-too-long",
        "config.yaml:1:23",
        "an integer of 100 characters",
        "quote it",
        raw=b"karpenter: {replicas: " + b"9" * 100 + b"}\n",
    ),
    Case("yaml-nul-character", "config.yaml:1:15", "'\\x00'", "printable characters", raw=b"cluster_name: \x00\n"),
    Case(
        "yaml-boolean-where-text-belongs",
        "tags['Enabled']",
        "yes (YAML reads it as a boolean)",
        'quote it: "yes"',
        raw=example_text("  Environment: learning\n", "  Environment: learning\n  Enabled: yes\n"),
    ),
    Case(
        "yaml-date-where-text-belongs",
        "tags['Created']",
        "2024-01-01 (YAML reads it as a date)",
        'quote it: "2024-01-01"',
        raw=example_text("  Environment: learning\n", "  Environment: learning\n  Created: 2024-01-01\n"),
    ),
    Case(
        "yaml-octal-where-text-belongs",
        "tags['Code']",
        "0755 (YAML reads it as a number, 493)",
        'quote it: "0755"',
        raw=example_text("  Environment: learning\n", "  Environment: learning\n  Code: 0755\n"),
    ),
    Case(
        "yaml-empty-value",
        "region",
        "an empty value (YAML reads it as null",
        "write the value after the colon",
        raw=example_text("region: us-east-1\n", "region:\n"),
    ),
    Case(
        "yaml-boolean-key",
        "system_node_group.labels[on]",
        "on (YAML reads it as a boolean)",
        'quote it: "on"',
        raw=example_text("    role: system\n", "    role: system\n    on: duty\n"),
    ),
    Case(
        "adoption-moved-from-a-declared-address",
        "adoption.moved['aws_iam_role.karpenter_node']",
        "'aws_iam_role.karpenter_node'",
        "an address the stack does not use",
        (put("adoption.moved", {"aws_iam_role.karpenter_node": "aws_iam_role.system_node"}),),
        slow=True,
    ),
    Case(
        "backend-local-inside-cdktf-outdir",
        "backend.directory",
        "'build/state'",
        "outside",
        (put("backend", {"type": "local", "directory": "build/state"}),),
        env=(("CDKTF_OUTDIR", "build"),),
    ),
    # The same class of checks on config values only: in-process (the path from main.py to the message is
    # the one the cases above already run; a subprocess each would add time and nothing else).
    *in_process(
        Case(
            "adoption-two-moves-to-one-target",
            "adoption.moved['aws_iam_role.old_b']",
            "'aws_iam_role.karpenter_node'",
            "one resource can only come from one address",
            (
                put(
                    "adoption.moved",
                    {"aws_iam_role.old_a": "aws_iam_role.karpenter_node", "aws_iam_role.old_b": "aws_iam_role.karpenter_node"},
                ),
            ),
            extra=("'aws_iam_role.old_a' and 'aws_iam_role.old_b' both move to",),
        ),
        Case(
            "adoption-address-with-newline",
            "adoption.moved['aws_iam_role.x[\"a\\nb\"]']",
            "'aws_iam_role.x[\"a\\nb\"]'",
            "resource address",
            (put("adoption.moved", {'aws_iam_role.x["a\nb"]': "aws_iam_role.karpenter_node"}),),
        ),
        Case(
            "adoption-address-with-template",
            "adoption.imports['aws_iam_role.x[\"${var.y}\"]']",
            "'aws_iam_role.x[\"${var.y}\"]'",
            "resource address",
            (put("adoption.imports", {'aws_iam_role.x["${var.y}"]': "role-name"}),),
        ),
        Case(
            "adoption-address-trailing-newline",
            "adoption.moved['aws_iam_role.x\\n']",
            "'aws_iam_role.x\\n'",
            "resource address",
            (put("adoption.moved", {"aws_iam_role.x\n": "aws_iam_role.karpenter_node"}),),
        ),
        Case(
            "names-system-node-role-non-ascii",
            "names.system_node_role",
            "'systém-node'",
            "ASCII",
            (put("names.system_node_role", "systém-node"),),
        ),
        Case(
            "names-system-node-role-is-the-node-role",
            "names.system_node_role",
            "'AWS-2026-EKS-karpenter-node'",
            "another name",
            (put("names.system_node_role", "AWS-2026-EKS-karpenter-node"),),
            extra=("node role", "ignores case"),
        ),
        Case(
            "names-two-rules-one-name",
            "names.interruption_rules['rebalance']",
            "'karpenter-interruption'",
            "another name",
            (put("names.interruption_rules", {"spot": "karpenter-interruption", "rebalance": "karpenter-interruption"}),),
            extra=("spot interruption rule",),
        ),
        Case(
            "names-rule-takes-a-derived-name",
            "names.interruption_rules['spot']",
            "'aws-2026-eks-karpenter-interruption-rebalance'",
            "another name",
            (put("names.interruption_rules", {"spot": "aws-2026-eks-karpenter-interruption-rebalance"}),),
            extra=("rebalance interruption rule",),
        ),
        Case(
            "names-node-group-too-long",
            "names.system_node_group",
            repr("g" * 64),
            "at most 63 characters",
            (put("names.system_node_group", "g" * 64),),
        ),
        Case(
            "backend-local-inside-cdktf-out",
            "backend.directory",
            "'cdktf.out/state'",
            "outside",
            (put("backend", {"type": "local", "directory": "cdktf.out/state"}),),
        ),
        *(
            Case(
                f"backend-s3-bucket-{kind}",
                "backend.bucket",
                repr(bucket),
                allowed,
                (put("backend", {"type": "s3", "bucket": bucket, "region": "us-east-1"}),),
            )
            for kind, bucket, allowed in (
                ("ip-address", "192.168.5.4", "IP address"),
                ("adjacent-periods", "state..bucket", "two adjacent periods"),
                ("xn-prefix", "xn--state", "'xn--'"),
                ("sthree-prefix", "sthree-state", "'sthree-'"),
                ("s3alias-suffix", "state-s3alias", "'-s3alias'"),
                ("ol-s3-suffix", "state--ol-s3", "'--ol-s3'"),
                ("too-long", "b" * 64, "S3 bucket name"),
            )
        ),
        Case(
            "backend-s3-key-prefix-empty-segment",
            "backend.key_prefix",
            "'eks//karpenter'",
            "separated by '/'",
            (put("backend", {"type": "s3", "bucket": "state", "region": "us-east-1", "key_prefix": "eks//karpenter"}),),
        ),
        Case(
            "backend-cloud-hostname-uppercase",
            "backend.hostname",
            "'App.Terraform.io'",
            "host name",
            (put("backend", {"type": "cloud", "organization": "acme", "hostname": "App.Terraform.io"}),),
        ),
        Case(
            "tags-key-aws-prefix",
            tag_key_path("AWS:owner"),
            "'AWS:owner'",
            "reserved for AWS",
            (put("tags", {"AWS:owner": "me"}),),
        ),
        Case("tags-value-control-character", "tags['Team']", "'a\\tb'", "not allowed", (put("tags", {"Team": "a\tb"}),)),
        Case("tags-value-template", "tags['Team']", "'${var.team}'", "not allowed", (put("tags", {"Team": "${var.team}"}),)),
        Case("tags-key-too-long", tag_key_path("k" * 129), "129 characters", "128", (put("tags", {"k" * 129: "v"}),)),
        Case("tags-value-too-long", "tags['Team']", "257 characters", "256", (put("tags", {"Team": "v" * 257}),)),
        Case("tags-too-many", "tags", "50 tags", "at most 49", (put("tags", {f"Tag{i}": "v" for i in range(50)}),)),
        Case(
            "resources-negative-memory",
            "karpenter.resources.requests['memory']",
            "'-1Gi'",
            "not be negative",
            (put("karpenter.resources.requests.memory", "-1Gi"),),
        ),
        Case(
            "resources-negative-cpu-limit",
            "karpenter.resources.limits['cpu']",
            "'-500m'",
            "not be negative",
            (put("karpenter.resources.limits.cpu", "-500m"),),
        ),
        Case(
            "resources-request-above-limit",
            "karpenter.resources.requests['memory']",
            "'2Gi'",
            "no larger than the limit",
            (put("karpenter.resources.requests.memory", "2Gi"),),
            extra=("'1Gi'",),
        ),
        Case(
            "node-group-max-size-huge",
            "system_node_group.max_size",
            str(10**30),
            "less than or equal to 450",
            (put("system_node_group.max_size", 10**30),),
        ),
        Case(
            "node-group-desired-size-over-quota",
            "system_node_group.desired_size",
            "451",
            "less than or equal to 450",
            (put("system_node_group.desired_size", 451),),
        ),
        Case(
            "node-group-min-size-zero",
            "system_node_group.min_size",
            "0",
            "greater than or equal to 1",
            (put("system_node_group.min_size", 0),),
        ),
        Case(
            "node-group-disk-too-large",
            "system_node_group.disk_size",
            "20000",
            "less than or equal to 16384",
            (put("system_node_group.disk_size", 20000),),
        ),
        Case(
            "node-label-key-over-63",
            f"system_node_group.labels[{'l' * 64!r}]",
            repr("l" * 64),
            "at most 63 characters",
            (put("system_node_group.labels", {"role": "system", "l" * 64: "x"}),),
        ),
        Case(
            "node-label-value-empty",
            "system_node_group.labels['role']",
            "''",
            "at least 1 character",
            (put("system_node_group.labels", {"role": ""}),),
        ),
        Case(
            "node-label-value-over-63",
            "system_node_group.labels['role']",
            repr("v" * 64),
            "at most 63 characters",
            (put("system_node_group.labels", {"role": "v" * 64}),),
        ),
        Case(
            "node-label-key-non-ascii",
            "system_node_group.labels['rôle']",
            "'rôle'",
            "label key",
            (put("system_node_group.labels", {"rôle": "system"}),),
        ),
        Case(
            "taint-key-over-63",
            "system_node_group.taints[0].key",
            repr("t" * 64),
            "at most 63 characters",
            (put("system_node_group.taints[0].key", "t" * 64),),
        ),
        Case(
            "taint-value-over-63",
            "system_node_group.taints[0].value",
            repr("v" * 64),
            "at most 63 characters",
            (put("system_node_group.taints[0].value", "v" * 64),),
        ),
        Case(
            "taints-over-50",
            "system_node_group.taints",
            "List should have at most 50 items",
            "at most 50",
            (put("system_node_group.taints", [{"key": f"t{i}", "effect": "NO_SCHEDULE"} for i in range(51)]),),
        ),
        Case(
            "ami-type-of-another-architecture",
            "system_node_group.ami_type",
            "'AL2023_x86_64_STANDARD'",
            "an AMI type of the instance types' architecture",
            (put("system_node_group.instance_types", ["m7g.large"]), put("system_node_group.ami_type", "AL2023_x86_64_STANDARD")),
        ),
        Case(
            "instance-types-of-two-architectures",
            "system_node_group.instance_types",
            "['t3.medium', 't4g.medium']",
            "types of one architecture",
            (put("system_node_group.instance_types", ["t3.medium", "t4g.medium"]),),
        ),
        Case(
            "discovery-subnets-ignored-without-tagging",
            "discovery.subnet_ids",
            "['subnet-0abc']",
            "manage_tags: true",
            (put("discovery", {"manage_tags": False, "subnet_ids": ["subnet-0abc"]}),),
        ),
        Case(
            "oidc-more-than-five-thumbprints",
            "oidc.thumbprints",
            "List should have at most 5 items",
            "at most 5",
            (put("oidc.thumbprints", ["a" * 40] * 6),),
        ),
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


def prepare(case: Case, workdir: Path, previous_output: Path) -> tuple[Path, Path, str]:
    """The case's directory: an earlier synthesis as cdktf.out and the config; returns (config, outdir, its digest)."""
    workdir.mkdir()
    outdir = workdir / "cdktf.out"
    shutil.copytree(previous_output, outdir, symlinks=True)
    return write_config(case, workdir), outdir, tree_digest(outdir)


def finish(workdir: Path, outdir: Path, before: str, returncode: int, stdout: str, stderr: str) -> Run:
    leftovers = tuple(sorted(p.name for p in workdir.iterdir() if p.name not in ("cdktf.out", "config.yaml")))
    return Run(returncode, stdout, stderr, before, tree_digest(outdir), leftovers)


def run_case(case: Case, workdir: Path, previous_output: Path) -> Run:
    """main.py's entry point, `main.main()`, in this process, as `python main.py` runs it from the config's directory
    (the config's own name is what the message shows): its exit code and what it printed; no process is started
    (`test_main_py_keeps_its_contract_as_a_process` shows a process prints the same)."""
    import main

    config, outdir, before = prepare(case, workdir, previous_output)
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in ("KARPENTER_CONFIG", "CDKTF_OUTDIR"):
            patch.delenv(name, raising=False)
        patch.setenv("KARPENTER_CONFIG", config.name)
        patch.setenv("CDKTF_OUTDIR", str(outdir))
        for name, value in case.env:
            patch.setenv(name, value)
        patch.chdir(workdir)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            returncode = main.main()
    return finish(workdir, outdir, before, returncode, stdout.getvalue(), stderr.getvalue())


def run_process(case: Case, workdir: Path, previous_output: Path) -> Run:
    """The same through `python main.py` in a process, as `make synth` and `cdktf synth` run it."""
    config, outdir, before = prepare(case, workdir, previous_output)
    # The app must silence the jsii Node banner itself (the late case loads jsii), so the test does not.
    unset = ("KARPENTER_CONFIG", "CDKTF_OUTDIR", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(KARPENTER_CONFIG=config.name, CDKTF_OUTDIR=str(outdir), PYTHONPATH=str(ROOT))
    env.update(case.env)
    process = subprocess.run(
        [sys.executable, str(ROOT / "main.py")], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )
    return finish(workdir, outdir, before, process.returncode, process.stdout, process.stderr)


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
    """Every case through main.main(), one after the other (each changes the working directory and environment)."""
    base = tmp_path_factory.mktemp("bad-configs")
    return {case.id: run_case(case, base / case.id, previous_output) for case in CASES}


def test_corpus_is_large_and_names_are_unique():
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


def test_every_config_section_has_bad_cases():
    sections = {re.findall(r"^[A-Za-z_]*", case.path)[0] for case in CASES if case.edits}
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


# A config error found before cdktf loads, and one only the assembled stacks show (the process loads jsii and Node).
CONTRACT_CASES = ("tags-key-aws-prefix", "adoption-moved-to-unknown-address")


def test_main_py_keeps_its_contract_as_a_process(main_py_contract, runs: dict[str, Run], previous_output: Path, tmp_path: Path):
    """`python main.py` as a process: exit 1, nothing on stdout, exactly the one `error:` message main() prints in this
    process (no traceback, no jsii or Node text), the earlier output byte-identical and nothing left behind."""
    for case_id in CONTRACT_CASES:
        case = next(c for c in CASES if c.id == case_id)
        process = run_process(case, tmp_path / case_id, previous_output)
        assert process.returncode == 1, process.stderr
        assert process.stdout == ""
        assert process.stderr.startswith("error: ") and process.stderr.count("error:") == 1, process.stderr
        assert "Traceback" not in process.stderr and "jsii" not in process.stderr.lower() and "!!!" not in process.stderr
        assert process.stderr == runs[case_id].stderr
        assert process.after == process.before, "the earlier cdktf.out changed"
        assert process.leftovers == (), process.leftovers
