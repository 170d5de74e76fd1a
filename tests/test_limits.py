"""limits.py: the documented limits, checked as their owners state them, and the only place limits come from."""

from __future__ import annotations

import re
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.types import StringConstraints

from karpenter_model import limits
from karpenter_model.config import KarpenterConfig
from karpenter_model.errors import _PATTERN_HINTS

PATTERNS = {
    name: value for name, value in vars(limits).items() if name.isupper() and isinstance(value, str) and value.startswith("^")
}

# One text each pattern accepts.
SAMPLES = {
    "EKS_CLUSTER_NAME": "aws-2026-eks",
    "IAM_POLICY_ARN": "arn:aws:iam::123456789012:policy/platform/role-boundary",
    "IAM_ACTION": "ssm:GetParameter",
    "IAM_STATEMENT_ID": "ReadPlatformAmiParameters",
    "IAM_RESOURCE": "arn:aws:ssm:us-east-1:123456789012:parameter/platform/ami/x",
    "EKS_NODEGROUP_NAME": "blue_system-1",
    "EC2_INSTANCE_TYPE": "m7i-flex.large",
    "IAM_ROLE_NAME": "blue+role=a,b.c@d_e-f",
    "IAM_OIDC_THUMBPRINT": "9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
    "EVENTBRIDGE_RULE_NAME": "blue.rule-1_x",
    "NAME_PREFIX": "blue-1_a",
    "AWS_REGION": "us-gov-west-1",
    "SUBNET_ID": "subnet-0123456789abcdef0",
    "SECURITY_GROUP_ID": "sg-0123abcd",
    "S3_BUCKET_NAME": "acme.tf-state",
    "S3_KEY_PREFIX": "eks/karpenter(1)",
    "DYNAMODB_TABLE_NAME": "tf.locks-1",
    "TFC_NAME": "acme_platform-1",
    "TFC_NAME_PREFIX": "karpenter-",
    "HOSTNAME": "tfe.example.com",
    "URL": "http://127.0.0.1:5000",
    "TERRAFORM_ADDRESS": 'aws_iam_role_policy_attachment.nodes["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]',
    "RELATIVE_DIR": "state/dev",
    "DNS_LABEL": "karpenter",
    "LABEL_KEY": "node.kubernetes.io/lifecycle",
    "LABEL_VALUE": "on-demand",
    "QUANTITY": "1.5Gi",
    "KUBERNETES_VERSION": "1.31",
    "KMS_KEY_ARN": "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef",
    "SNS_TOPIC_ARN": "arn:aws:sns:eu-west-1:111122223333:platform-alerts.fifo",
}


def test_every_pattern_has_a_sample():
    assert sorted(PATTERNS) == sorted(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_patterns_match_whole_texts_in_both_regex_engines(name: str):
    """pydantic's Rust engine and Python's re.fullmatch agree: the sample matches; with a line break
    before, inside or after it, it does not (`$` is the end of the text, not of a line)."""
    pattern, sample = PATTERNS[name], SAMPLES[name]
    adapter = TypeAdapter(Annotated[str, StringConstraints(pattern=pattern)])
    assert adapter.validate_python(sample) == sample
    assert re.fullmatch(pattern, sample)
    for bad in (sample + "\n", "\n" + sample, sample[:1] + "\n" + sample[1:], sample + "\r\n"):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)
        assert not re.fullmatch(pattern, bad)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_patterns_are_ascii_where_aws_says_ascii(name: str):
    if name in ("URL",):  # no character classes to speak of
        return
    adapter = TypeAdapter(Annotated[str, StringConstraints(pattern=PATTERNS[name])])
    sample = SAMPLES[name]
    for letter in ("\u00e9", "\u0663", "\uff41"):  # a Latin-1 letter, an Arabic-Indic digit, a full-width letter
        variant = sample[:-1] + letter
        with pytest.raises(ValidationError):
            adapter.validate_python(variant)


def test_every_pattern_has_words_for_the_error_message():
    missing = sorted(name for name, pattern in PATTERNS.items() if pattern not in _PATTERN_HINTS)
    assert not missing, f"add a hint to errors._PATTERN_HINTS for {missing}"


def _patterns_in(annotation: Any, seen: set[int]) -> list[str]:
    """Every StringConstraints pattern in an annotation, through models, containers and unions."""
    found: list[str] = []
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        found += [str(m.pattern) for m in metadata if isinstance(m, StringConstraints) and m.pattern]
        return found + _patterns_in(base, seen)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if id(annotation) in seen:
            return found
        seen.add(id(annotation))
        for field in annotation.model_fields.values():
            found += _patterns_in(field.annotation, seen)
            found += [str(m.pattern) for m in field.metadata if isinstance(m, StringConstraints) and m.pattern]
        return found
    if origin in (list, dict, tuple, Union, UnionType):
        for arg in get_args(annotation):
            found += _patterns_in(arg, seen)
    return found


def test_the_config_model_takes_every_pattern_from_limits():
    used = set(_patterns_in(KarpenterConfig, set()))
    assert used, "the walk found no patterns"
    foreign = sorted(used - set(PATTERNS.values()))
    assert not foreign, f"patterns defined outside limits.py: {foreign}"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", Decimal(1)),
        ("500m", Decimal("0.5")),
        ("1Gi", Decimal(2**30)),
        ("1.5Ki", Decimal(1536)),
        ("-1Gi", Decimal(-(2**30))),
        ("+2k", Decimal(2000)),
        ("1e3", Decimal(1000)),
        ("1.5E-2", Decimal("0.015")),
        (".5", Decimal("0.5")),
        ("5.", Decimal(5)),
        ("100n", Decimal("1E-7")),
        ("3u", Decimal("3E-6")),
        ("1E", Decimal(10**18)),
        ("1Ei", Decimal(2**60)),
    ],
)
def test_quantities_parse_as_kubernetes_reads_them(text: str, value: Decimal):
    assert re.fullmatch(limits.QUANTITY, text)
    assert limits.parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "one", "1 Gi", "1GB", "1e", "1e1.5", "1e99999", "--1", "1ki", "0x10"])
def test_what_is_not_a_quantity_parses_to_none(text: str):
    assert limits.parse_quantity(text) is None


@pytest.mark.parametrize(
    ("bucket", "problem"),
    [
        ("acme-tf-state", None),
        ("acme.tf.state", None),
        ("192.168.5.4", "IP address"),
        ("state..bucket", "two adjacent periods"),
        ("xn--bucket", "xn--"),
        ("sthree-bucket", "sthree-"),
        ("sthree-configurator-x", "sthree-"),
        ("amzn-s3-demo-bucket", "amzn-s3-demo-"),
        ("bucket-s3alias", "-s3alias"),
        ("bucket--ol-s3", "--ol-s3"),
        ("bucket.mrap", ".mrap"),
        ("bucket--x-s3", "--x-s3"),
        ("bucket--table-s3", "--table-s3"),
    ],
)
def test_s3_bucket_rules(bucket: str, problem: str | None):
    found = limits.s3_bucket_problem(bucket)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("Cost Center", True, None),
        ("team/owner:x=y+z@a_b.c-d", True, None),
        ("Équipe données", True, None),  # Unicode letters are allowed
        ("", True, "empty"),
        ("", False, None),
        ("aws:cloudformation:stack", True, "reserved"),
        ("Aws:x", True, "reserved"),
        ("aws:x", False, None),  # only keys carry the reserved prefix rule here
        ("a\tb", False, "'\\t'"),
        ("line\nbreak", False, "'\\n'"),
        ("${file(x)}", False, "'$'"),
        ("k" * 128, True, None),
        ("k" * 129, True, "129 characters"),
        ("v" * 256, False, None),
        ("v" * 257, False, "257 characters"),
    ],
)
def test_aws_tag_rules(text: str, key: bool, problem: str | None):
    found = limits.aws_tag_problem(text, key=key)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_label_key_lengths():
    assert limits.label_key_problem("example.com/" + "n" * 63) is None
    assert "after the prefix" in str(limits.label_key_problem("example.com/" + "n" * 64))
    assert "before '/'" in str(limits.label_key_problem("a" * 254 + "/name"))
