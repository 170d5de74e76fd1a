"""Every limit a config value must fit, in one place, as the service or standard that owns it documents it.

Each constant or pattern names its source in the comment above it. `config.py` builds its
constrained types from these; no other module defines a limit of its own (the Karpenter CRD
schemas of a release are checked against the CRDs themselves).

Patterns are written for pydantic's default regex engine (Rust `regex`): matching is linear in
the length of the text, so a long value cannot make validation hang, and `$` matches only at the
very end of the text (not before a trailing newline, as in Python's `re`). Python code that
checks a text against one of them must use `re.fullmatch`, which gives the same answer; `\\Z`,
Python's end-of-text anchor, is not accepted by the Rust engine. Classes are spelled out in
ASCII (`[A-Za-z0-9_]`, never `\\w` or `\\d`, which are Unicode-aware in both engines), and
every pattern here compiles in both engines (tests/test_limits.py checks both).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

# -- reading the config file (this project's own bounds, so any input is refused in bounded time and memory) --

# The example is 2.5 KB and a config with 50 node pools stays under 100 KB; 1 MiB leaves room for
# long userData scripts and comments while bounding what is read (at most MAX_CONFIG_BYTES + 1
# bytes, whatever the file is: /dev/zero, a FIFO) and parsed (about a second in the worst case).
MAX_CONFIG_BYTES = 1 << 20
# Nesting of YAML collections; the deepest key this app reads is 9 levels down
# (node_pools[0].spec.template.spec.requirements[0].values[0]). Deeper input is refused before
# any recursion can exhaust the stack.
MAX_YAML_DEPTH = 32
# Alias uses (`*name`, including merge keys `<<: *name`) per file; a config needs a few dozen.
MAX_YAML_ALIASES = 200
# Nodes of the document with every alias expanded to what it repeats; an alias or merge-key bomb
# (a few lines that expand to billions of nodes) is refused while composing, before anything is
# built. The example has about 150 nodes.
MAX_YAML_NODES = 100_000
# Characters of an integer literal. The widest integer any setting takes is int64 (19 digits);
# Python refuses to build ints over 4,300 digits anyway, and a sexagesimal literal costs quadratic time.
MAX_INTEGER_CHARS = 64
# Error messages show at most this many characters of a value, and at most this many problems.
MAX_SHOWN_VALUE = 100
MAX_SHOWN_PROBLEMS = 25

# -- AWS: EKS --

# EKS API reference, CreateCluster `name`: 1-100 characters, must start with a letter or digit.
EKS_CLUSTER_NAME = r"^[0-9A-Za-z][A-Za-z0-9\-_]*$"
EKS_CLUSTER_NAME_MAX = 100
# EKS API reference, CreateNodegroup `nodegroupName`: up to 63 characters, letters, digits, '-' and '_', starting alphanumeric.
EKS_NODEGROUP_NAME = r"^[0-9A-Za-z][A-Za-z0-9\-_]*$"
EKS_NODEGROUP_NAME_MAX = 63
# EKS API reference, CreateNodegroup `labels` (UpdateLabelsPayload): key and value each 1-63 characters.
EKS_LABEL_KEY_MAX = 63
EKS_LABEL_VALUE_MIN = 1
EKS_LABEL_VALUE_MAX = 63
# EKS API reference, Taint: key 1-63 characters, value 0-63 characters; EKS User Guide "Node taints
# on managed node groups": at most 50 taints per node group.
EKS_TAINT_KEY_MAX = 63
EKS_TAINT_VALUE_MAX = 63
EKS_TAINTS_MAX = 50
# EKS API reference, NodegroupScalingConfig: minSize >= 0, maxSize >= 1, desiredSize >= 0; EKS User
# Guide "Amazon EKS service quotas": 450 nodes per managed node group (the default quota).
EKS_NODEGROUP_MAX_NODES = 450
# EKS API reference, CreateNodegroup `diskSize` in GiB: AL2023 AMIs need a 20 GiB root volume; EBS
# gp2/gp3 volumes hold at most 16,384 GiB (EBS User Guide "Amazon EBS volume types").
EKS_DISK_SIZE_MIN = 20
EKS_DISK_SIZE_MAX = 16_384
# EC2 instance type names: family and generation, then size (`t3.medium`, `m7i-flex.large`).
EC2_INSTANCE_TYPE = r"^[a-z0-9-]+\.[a-z0-9]+$"

# -- AWS: IAM --

# IAM API reference, CreateRole `RoleName`: 1-64 characters of [\w+=,.@-] where \w is ASCII
# ("upper and lowercase alphanumeric characters with no spaces"); names are unique regardless of case.
IAM_ROLE_NAME = r"^[A-Za-z0-9_+=,.@-]+$"
IAM_ROLE_NAME_MAX = 64
# IAM API reference, CreatePolicy `PolicyName`: 1-128 characters, the same character set.
IAM_POLICY_NAME_MAX = 128
# IAM API reference, CreateOpenIDConnectProvider `ThumbprintList`: at most 5 SHA-1 thumbprints of 40 hex digits.
IAM_OIDC_THUMBPRINT = r"^[0-9a-fA-F]{40}$"
IAM_OIDC_THUMBPRINTS_MAX = 5
# IAM counts a managed policy's characters without white space (IAM User Guide, "IAM and AWS STS quotas").
IAM_MANAGED_POLICY_MAX_CHARACTERS = 6144

# -- AWS: tags (AWS "Tagging AWS resources", Tag naming limits and requirements; IAM API reference `Tag`) --

# At most 50 user tags per resource.
AWS_TAGS_MAX = 50
# Keys 1-128 and values 0-256 Unicode characters.
AWS_TAG_KEY_MAX = 128
AWS_TAG_VALUE_MAX = 256
# Letters, digits and spaces (Unicode) and _ . : / = + - @: the IAM `Tag` pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]
# (default tags reach IAM roles, whose tags are the strictest of the services tagged here), checked
# by `aws_tag_problem` with Unicode categories, as Python's `re` has no \p{...}. No control characters.
AWS_TAG_SYMBOLS = frozenset("_.:/=+-@")
# The `aws:` prefix, in any case, is reserved for AWS.
AWS_RESERVED_TAG_PREFIX = "aws:"

# -- AWS: SQS and EventBridge --

# SQS API reference, CreateQueue `QueueName`: up to 80 characters: letters, digits, '-' and '_'.
SQS_QUEUE_NAME_MAX = 80
# SQS API reference, SetQueueAttributes `MessageRetentionPeriod`: 60 seconds to 1,209,600 (14 days).
SQS_RETENTION_MIN = 60
SQS_RETENTION_MAX = 1_209_600
# EventBridge API reference, PutRule `Name`: 1-64 characters of [\.\-_A-Za-z0-9].
EVENTBRIDGE_RULE_NAME = r"^[\.\-_A-Za-z0-9]+$"
EVENTBRIDGE_RULE_NAME_MAX = 64
# EventBridge API reference, RetryPolicy: `MaximumRetryAttempts` 0-185, `MaximumEventAgeInSeconds` 60-86,400
# (both defaults are the maximum: 185 attempts, 24 hours).
EVENTBRIDGE_RETRY_ATTEMPTS_MAX = 185
EVENTBRIDGE_EVENT_AGE_MIN = 60
EVENTBRIDGE_EVENT_AGE_MAX = 86_400

# -- AWS: CloudWatch alarms, SNS --

# CloudWatch API reference, PutMetricAlarm `Period`: SQS and EventBridge publish one data point a minute, so the
# alarms here evaluate 60-second periods; `EvaluationPeriods` >= 1, and for periods under an hour Period x
# EvaluationPeriods may not exceed one day (86,400 seconds): at most 1,440 periods of 60 s.
CLOUDWATCH_ALARM_PERIOD = 60
CLOUDWATCH_EVALUATION_PERIODS_MAX = 86_400 // CLOUDWATCH_ALARM_PERIOD
# SNS API reference, CreateTopic `Name`: 1-256 characters of letters, digits, '-' and '_' (FIFO topics end in
# `.fifo`); topic ARNs are arn:<partition>:sns:<region>:<account>:<name>.
SNS_TOPIC_ARN = r"^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"

# Prefix of every name created: letters, digits, '-' and '_', starting alphanumeric, the characters
# every consumer above accepts (node group names start with it; SQS allows no '.').
NAME_PREFIX = r"^[A-Za-z0-9][A-Za-z0-9\-_]*$"

# -- AWS: regions, IDs, S3, DynamoDB, KMS --

# AWS Regions: `us-east-1`, `us-gov-west-1`, `cn-north-1`.
AWS_REGION = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"
# EC2 resource IDs: `subnet-` / `sg-` followed by hexadecimal digits.
SUBNET_ID = r"^subnet-[0-9a-f]+$"
SECURITY_GROUP_ID = r"^sg-[0-9a-f]+$"
# S3 User Guide "General purpose bucket naming rules": 3-63 characters of lowercase letters, digits,
# '.' and '-', beginning and ending with a letter or digit; further rules in `s3_bucket_problem`.
S3_BUCKET_NAME = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
S3_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")  # sthree-configurator is covered by sthree-
S3_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_IP_ADDRESS_FORM = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
# S3 User Guide "Naming Amazon S3 objects": keys up to 1,024 bytes; the "safe characters" only.
S3_KEY_PREFIX = r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$"
S3_KEY_MAX_BYTES = 1024
# DynamoDB Developer Guide "Naming rules": table names 3-255 characters of [a-zA-Z0-9_.-].
DYNAMODB_TABLE_NAME = r"^[A-Za-z0-9_.-]{3,255}$"
# KMS API reference `KeyId`: 1-2048 characters (key ID, key ARN, alias name or alias ARN).
KMS_KEY_ID_MAX = 2048
# KMS Developer Guide "Key identifiers (KeyId)": a key ARN is arn:<partition>:kms:<region>:<account>:key/<key ID>;
# key IDs are UUIDs, multi-Region key IDs `mrk-` and 32 hexadecimal digits.
KMS_KEY_ARN = (
    r"^arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:key/"
    r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
# SQS Developer Guide "Encryption at rest": the AWS managed key for SQS. Its key policy cannot be changed, so it can
# never admit events.amazonaws.com (EventBridge User Guide, "Amazon SQS permissions": a queue encrypted with it
# cannot be an EventBridge target).
SQS_AWS_MANAGED_KEY_ALIAS = "alias/aws/sqs"

# Region name prefixes of the partitions other than `aws` (AWS General Reference, "Regions and partitions").
PARTITION_BY_REGION_PREFIX = {
    "cn-": "aws-cn",
    "us-gov-": "aws-us-gov",
    "us-isob-": "aws-iso-b",
    "us-isof-": "aws-iso-f",
    "us-iso-": "aws-iso",
    "eu-isoe-": "aws-iso-e",
}


def partition_of(region: str) -> str:
    return next((p for prefix, p in PARTITION_BY_REGION_PREFIX.items() if region.startswith(prefix)), "aws")


# IAM User Guide, "IAM identifiers" (ARNs) and CreatePolicy `Path` / `PolicyName`: a managed policy's ARN,
# `arn:<partition>:iam::<account or "aws">:policy/<path/><name>`; the path is printable ASCII between slashes.
IAM_POLICY_ARN = (
    r"^arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f)?:iam::([0-9]{12}|aws):policy/([!-~]+/)?[A-Za-z0-9_+=,.@-]{1,128}$"
)
IAM_POLICY_ARN_MAX = 2048
# IAM User Guide, "Grammar of the IAM JSON policy language": an action is `<service prefix>:<action>` with
# wildcards `*` and `?`, or `*`; a statement ID is alphanumeric; a resource is `*` or an ARN.
IAM_ACTION = r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$"
IAM_STATEMENT_ID = r"^[A-Za-z0-9]+$"
IAM_RESOURCE = r"^(\*|arn:[!-~]+)$"


# -- HCP Terraform / Terraform Enterprise --

# Organization and workspace names: letters, digits, '-' and '_' (Terraform Enterprise "Workspace Naming").
TFC_NAME = r"^[A-Za-z0-9_-]+$"
TFC_NAME_PREFIX = r"^[A-Za-z0-9_-]*$"
# Hostnames (RFC 1123): at most 253 characters of labels of letters, digits and '-'.
HOSTNAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$"
HOSTNAME_MAX = 253
# http(s) URLs of service endpoints, no whitespace.
URL = r"^https?://[^\s/$.?#][^\s]*$"

# -- Terraform --

# Terraform "Resource addressing" for a root-module resource: `<type>.<name>` with an optional
# `[<number>]` or `["<key>"]` instance key. Types are lowercase provider type names; names are
# identifiers (letters, digits, '_' and '-', not starting with a digit). Instance keys hold no
# quote, backslash, control character or template syntax (`$`, `%`, `{`, `}`).
TERRAFORM_ADDRESS = r'^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*(\[[0-9]+\]|\["[^"\\\x00-\x1f\x7f${}%]+"\])?$'
# A relative directory of plain path segments (local state); '..' is refused separately.
RELATIVE_DIR = r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/?$"
RELATIVE_DIR_MAX = 200

# -- Kubernetes --

# RFC 1123 DNS label (Kubernetes "Object Names and IDs"): namespaces, and the NodePool and
# EC2NodeClass names, which Karpenter also writes as label values (so at most 63 characters).
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_LABEL_MAX = 63
# Kubernetes "Labels and Selectors", syntax: an optional DNS-subdomain prefix (at most 253
# characters) and '/', then a name of at most 63 characters: alphanumerics, '-', '_' and '.',
# starting and ending alphanumeric. Values: at most 63 such characters, or empty.
LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(\/))?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
)
LABEL_KEY_PREFIX_MAX = 253
LABEL_NAME_MAX = 63
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
LABEL_VALUE_MAX = 63
# Kubernetes resource.Quantity grammar (k8s.io/apimachinery): signed decimal number, then a binary
# SI suffix (Ki..Ei), a decimal SI suffix (n, u, m, k, M..E) or a decimal exponent (e3, E-2).
QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?"
    r"(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)

_BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_QUANTITY_PARTS = re.compile(
    r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))((?:[KMGTPE]i)|[numkMGTPE]|[eE][+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))?"
)
# Exponents beyond this are refused rather than expanded (Kubernetes caps quantities at int64 anyway).
_MAX_EXPONENT = 1000


def parse_quantity(text: str) -> Decimal | None:
    """A Kubernetes quantity's exact value (`500m` -> 0.5, `1Gi` -> 1073741824), or None if it is not one."""
    match = _QUANTITY_PARTS.fullmatch(text)
    if match is None:
        return None
    number, suffix = match.group(1), match.group(2) or ""
    try:
        value = Decimal(number)
        if suffix in _BINARY_SUFFIXES:
            return value * _BINARY_SUFFIXES[suffix]
        if suffix in _DECIMAL_SUFFIXES:
            return value.scaleb(_DECIMAL_SUFFIXES[suffix])
        exponent = Decimal(suffix[1:])
        if exponent != exponent.to_integral_value() or abs(exponent) > _MAX_EXPONENT:
            return None
        return value.scaleb(int(exponent))
    except InvalidOperation:
        return None


def s3_bucket_problem(name: str) -> str | None:
    """What the S3 naming rules beyond the character pattern say about `name`, or None if it is allowed."""
    if ".." in name:
        return "must not contain two adjacent periods"
    if _IP_ADDRESS_FORM.fullmatch(name):
        return "must not be formatted as an IP address"
    for prefix in S3_BUCKET_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with {prefix!r} (reserved by S3)"
    for suffix in S3_BUCKET_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with {suffix!r} (reserved by S3)"
    return None


def aws_tag_problem(text: str, *, key: bool) -> str | None:
    """What AWS's tag rules say about a tag key (`key=True`) or value, or None if it is allowed."""
    limit = AWS_TAG_KEY_MAX if key else AWS_TAG_VALUE_MAX
    if len(text) > limit:
        return f"has {len(text)} characters; AWS allows {limit}"
    if key and not text:
        return "a tag key must not be empty"
    for position, char in enumerate(text):
        if char not in AWS_TAG_SYMBOLS and unicodedata.category(char)[0] not in "LZN":
            return (
                f"character {char!r} at position {position} is not allowed; AWS tags allow letters, digits, spaces "
                "and _ . : / = + - @"
            )
    if key and text.lower().startswith(AWS_RESERVED_TAG_PREFIX):
        return f"the prefix {text[:4]!r} is reserved for AWS"
    return None


def label_key_problem(key: str) -> str | None:
    """The length rules of a Kubernetes label key the pattern cannot express, or None."""
    prefix, _, name = key.rpartition("/")
    if len(prefix) > LABEL_KEY_PREFIX_MAX:
        return f"the prefix before '/' has {len(prefix)} characters; Kubernetes allows {LABEL_KEY_PREFIX_MAX}"
    if len(name) > LABEL_NAME_MAX:
        return f"the name after the prefix has {len(name)} characters; Kubernetes allows {LABEL_NAME_MAX}"
    return None


# Kubernetes versions as EKS reports them (`1.31`): major.minor.
KUBERNETES_VERSION = r"^1\.[0-9]{1,2}$"


def kms_key_arn_problem(arn: str) -> str | None:
    """What is wrong with `arn` as the interruption queue's key, or None: the AWS managed SQS key, or not a key ARN."""
    if arn.endswith(SQS_AWS_MANAGED_KEY_ALIAS):  # the alias name, or its alias ARN
        return (
            f"{SQS_AWS_MANAGED_KEY_ALIAS} is the AWS managed key for SQS, and EventBridge cannot use it: its key policy cannot "
            "be changed to admit events.amazonaws.com, so no interruption event would reach the queue; allowed: the ARN "
            "of a customer managed key, or leave kms_key_arn unset and the infra stack creates one"
        )
    if not re.fullmatch(KMS_KEY_ARN, arn):
        return (
            "expected a KMS key ARN such as arn:aws:kms:us-east-1:111122223333:key/<key ID> (not a key ID or an alias: "
            "the controller's kms:Decrypt permission names the key by its ARN); allowed: a key ARN, or leave it unset "
            "and the infra stack creates a key"
        )
    return None
