"""Security: checkov on every synthesized stack, parliament on the IAM policies, least privilege against upstream.

checkov lives in its own venv (`.venv-scan`, from requirements/scan.txt): its pins conflict with
pytest's. It reads cdktf's Terraform JSON with the `terraform_json` framework, which cannot look
inside policies (cdktf writes them as JSON strings and checkov's policy-content checks then answer
UNKNOWN, which is reported as nothing), so every policy document is also rendered as HCL
`jsonencode(...)` and scanned with the `terraform` framework. Skips live in `.checkov.yaml`, each
with its reason; a skip that no longer fails without it is stale and fails here.

Each checker is shown to fail on a deliberately weakened copy, so a clean result means something.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, make_config
from tests.conftest import reference_controller_policy as shared_reference_policy

CHECKOV_CONFIG = ROOT / ".checkov.yaml"
CONTROLLER_POLICY = ("aws_iam_policy", "karpenter_controller", "policy")
QUEUE_POLICY = ("aws_sqs_queue_policy", "karpenter_interruption", "policy")
# Literal values for the references a synthesized policy holds, so linters see real ARNs.
PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "111122223333"
DATA_SOURCES = {
    ("aws_partition", "partition"): PARTITION,
    ("aws_region", "name"): REGION,
    ("aws_region", "region"): REGION,
    ("aws_caller_identity", "account_id"): ACCOUNT,
}


# -- the synthesized stacks ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthesized(synth_config, example_config) -> Path:
    return synth_config.outdir(example_config)


def stack_files(outdir: Path) -> dict[str, Path]:
    """Every stack cdktf synthesized (its manifest is the list), by name."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {name: outdir / stack["synthesizedStackPath"] for name, stack in manifest["stacks"].items()}


@pytest.fixture(scope="module")
def stacks(synthesized: Path) -> dict[str, dict[str, Any]]:
    return {name: json.loads(path.read_text()) for name, path in stack_files(synthesized).items()}


@pytest.fixture(scope="module")
def infra(stacks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    infra_stacks = [stack for name, stack in stacks.items() if name == "infra" or name.endswith("-infra")]
    assert len(infra_stacks) == 1, sorted(stacks)
    return infra_stacks[0]


def policy_documents(stack: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every IAM policy document of a stack: (resource type, name, attribute) -> document."""
    found = {}
    for kind, items in stack.get("resource", {}).items():
        for name, body in items.items():
            for attribute, value in body.items():
                if not (isinstance(value, str) and value.lstrip().startswith("{")):
                    continue
                try:
                    document = json.loads(value)
                except ValueError:
                    continue
                if isinstance(document, dict) and "Statement" in document:
                    found[(kind, name, attribute)] = document
    return found


def literal(stack: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The document with each `${...}` reference replaced by the value it takes in account ACCOUNT."""

    def value(match: re.Match[str]) -> str:
        parts = match.group(1).split(".")
        if parts[0] == "data" and (parts[1], parts[-1]) in DATA_SOURCES:
            return DATA_SOURCES[(parts[1], parts[-1])]
        if len(parts) == 3 and parts[2] == "arn" and parts[0] in ("aws_sqs_queue", "aws_iam_role"):
            name = stack["resource"][parts[0]][parts[1]]["name"]
            if parts[0] == "aws_sqs_queue":
                return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}"
            return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}"
        raise AssertionError(f"no literal value for {match.group(0)}; teach tests/test_security.py:literal")

    return json.loads(re.sub(r"\$\{([^}]*)\}", value, json.dumps(document)))


def as_set(value: str | list[str] | None) -> set[str]:
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


def test_policy_documents_are_found(infra):
    found = policy_documents(infra)
    assert {CONTROLLER_POLICY, QUEUE_POLICY} <= set(found)
    assert {key for key in found if key[2] == "assume_role_policy"}  # the roles' trust policies too


# -- checkov ---------------------------------------------------------------------------------------


def checkov_skips() -> dict[str, tuple[set[str], str]]:
    """`skip-check` entries of .checkov.yaml -> (the resources it is meant for, the reason), from the
    comment beside each: `- CKV_X  # aws_type.name, aws_type.other: why`."""
    text = CHECKOV_CONFIG.read_text()
    comments = dict(re.findall(r"^\s*-\s*(CKV2?_[A-Z0-9_]+)\s*#\s*(.*?)\s*$", text, flags=re.MULTILINE))
    skips = {}
    for check in yaml.safe_load(text).get("skip-check") or []:
        match = re.match(r"((?:[a-z0-9_]+\.[a-z0-9_]+)(?:,\s*[a-z0-9_]+\.[a-z0-9_]+)*):\s*(.*)", comments.get(check, ""))
        skips[check] = ({a.strip() for a in match.group(1).split(",")}, match.group(2)) if match else (set(), "")
    return skips


def _is_resource(record: dict[str, Any], address: str) -> bool:
    """checkov names a resource `aws_iam_policy.name` in HCL but `resource.name` in cdktf's JSON."""
    return record["resource"] in (address, "resource." + address.split(".", 1)[-1])


def render_policies_as_hcl(stack: dict[str, Any]) -> str:
    """Each policy document as `<attribute> = jsonencode(...)`: the form checkov's policy checks can read."""
    blocks = []
    for (kind, name, attribute), document in sorted(policy_documents(stack).items()):
        # JSON is valid HCL expression syntax; `${...}` stays a template reference, as in the stack.
        blocks.append(f'resource "{kind}" "{name}" {{\n  {attribute} = jsonencode({json.dumps(document, indent=2)})\n}}\n')
    return "\n".join(blocks)


def scan_targets(stack_jsons: dict[str, Path], stack_data: dict[str, dict[str, Any]], root: Path) -> list[Path]:
    """The stacks' cdk.tf.json files, plus one policies.tf per stack that has policy documents."""
    targets = list(stack_jsons.values())
    for name, stack in sorted(stack_data.items()):
        hcl = render_policies_as_hcl(stack)
        if hcl:
            directory = root / "policies" / name
            directory.mkdir(parents=True)
            (directory / "policies.tf").write_text(hcl)
            targets.append(directory / "policies.tf")
    return targets


def run_checkov(checkov: Path, targets: list[Path], config: Path, workdir: Path) -> list[dict[str, Any]]:
    """One checkov run; its reports (one per framework)."""
    results = workdir / "results"
    command = [str(checkov), "--config-file", str(config), "--output", "json", "--output-file-path", str(results)]
    for target in targets:
        command += ["--file", str(target)]
    process = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900, env=dict(os.environ))
    assert process.returncode in (0, 1), f"checkov crashed ({process.returncode}):\n{process.stderr[-3000:]}"
    reports = json.loads((results / "results_json.json").read_text())
    reports = reports if isinstance(reports, list) else [reports]
    return [report for report in reports if "results" in report]  # a framework with nothing to check has no results


def checks(reports: list[dict[str, Any]], outcome: str, under: Path) -> list[dict[str, Any]]:
    """Check records of one outcome (`passed_checks`, `failed_checks`) for files under `under`."""
    return [
        record
        for report in reports
        for record in report["results"][outcome]
        if Path(record["file_abs_path"]).resolve().is_relative_to(under.resolve())
    ]


def weakened_infra(infra: dict[str, Any]) -> dict[str, Any]:
    """The infra stack with an unencrypted queue and a controller policy that can escalate privileges."""
    weak = copy.deepcopy(infra)
    weak["resource"]["aws_sqs_queue"]["karpenter_interruption"]["sqs_managed_sse_enabled"] = False
    body = weak["resource"]["aws_iam_policy"]["karpenter_controller"]
    document = json.loads(body["policy"])
    document["Statement"].append({"Sid": "Weak", "Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": "*"})
    body["policy"] = json.dumps(document)
    return weak


def gated(reports: list[dict[str, Any]], skips: set[str], under: list[Path]) -> list[dict[str, Any]]:
    """What a run with .checkov.yaml reports, from the run without its skips: only the files under `under`, and no
    failure of a skipped check (checkov's `skip-check` of a check ID skips it everywhere)."""

    def kept(record: dict[str, Any]) -> bool:
        path = Path(record.get("file_abs_path") or record.get("file_path", "")).resolve()
        return any(path.is_relative_to(directory.resolve()) for directory in under)

    return [
        {
            **report,
            "results": {
                **report["results"],
                "passed_checks": [r for r in report["results"]["passed_checks"] if kept(r)],
                "failed_checks": [r for r in report["results"]["failed_checks"] if kept(r) and r["check_id"] not in skips],
                "parsing_errors": [e for e in report["results"]["parsing_errors"] if kept({"file_abs_path": e})],
            },
        }
        for report in reports
    ]


@pytest.fixture(scope="module")
def checkov_runs(checkov: Path, synthesized: Path, stacks, infra, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One checkov run over every stack, the policies rendered as HCL and a weakened copy of the infra stack (to prove
    the scan can fail), with .checkov.yaml's settings but not its skips (to prove each is still needed); the gate's
    view (`gated`: with the skips, without the weakened copy) is read from the same run."""
    root = tmp_path_factory.mktemp("checkov")
    policies_dir, weak_dir = root / "gated", root / "weak"
    for directory in (policies_dir, weak_dir / "stacks" / "infra"):
        directory.mkdir(parents=True)
    targets = scan_targets(stack_files(synthesized), stacks, policies_dir)

    weak = weakened_infra(infra)
    (weak_dir / "stacks" / "infra" / "cdk.tf.json").write_text(json.dumps(weak, indent=2))
    weak_targets = [weak_dir / "stacks" / "infra" / "cdk.tf.json", *scan_targets({}, {"infra": weak}, weak_dir)]

    config = yaml.safe_load(CHECKOV_CONFIG.read_text())
    skips = set(config.pop("skip-check", None) or [])
    open_config = root / "checkov-no-skips.yaml"
    open_config.write_text(yaml.safe_dump(config))

    reports = run_checkov(checkov, targets + weak_targets, open_config, root)
    return {
        "gated": gated(reports, skips, [synthesized, policies_dir]),
        "open": reports,
        "synthesized": synthesized,
        "policies": policies_dir,
        "weak": weak_dir,
    }


def test_checkov_scans_every_stack_without_parse_errors(checkov_runs, stacks):
    assert {"infra", "crds", "chart"} <= {name.split("-")[-1] for name in stacks}  # what the app synthesizes today
    frameworks = {report["check_type"] for report in checkov_runs["gated"]}
    assert {"terraform_json", "terraform"} <= frameworks
    for report in checkov_runs["gated"]:
        assert report["results"]["parsing_errors"] == [], report["check_type"]


def test_checkov_checks_the_infra_resources_and_their_policies(checkov_runs):
    """Non-vacuous: the resources that matter were checked, policy contents included."""
    passed = checks(checkov_runs["gated"], "passed_checks", checkov_runs["synthesized"])
    checked = {(record["file_abs_path"], tuple(record["file_line_range"])) for record in passed}
    assert len(checked) >= 8  # provider, roles, policy, attachments, queue, queue policy, node group
    policy_checks = {
        (record["resource"], record["check_id"])
        for record in checks(checkov_runs["gated"], "passed_checks", checkov_runs["policies"])
    }
    assert ("aws_iam_policy.karpenter_controller", "CKV_AWS_286") in policy_checks  # privilege escalation
    assert ("aws_iam_policy.karpenter_controller", "CKV_AWS_290") in policy_checks  # write access without constraints
    assert ("aws_sqs_queue_policy.karpenter_interruption", "CKV_AWS_72") in policy_checks


def test_checkov_finds_no_failed_check(checkov_runs):
    failed = [
        f"{record['check_id']} {record['resource']} ({record['file_abs_path']}): {record['check_name']}"
        for report in checkov_runs["gated"]
        for record in report["results"]["failed_checks"]
    ]
    assert failed == [], "fix the resource, or skip the check in .checkov.yaml with the reason beside it:\n" + "\n".join(failed)


def test_every_checkov_skip_has_a_reason_and_is_still_needed(checkov_runs):
    """A skip is global in checkov; here it may only hide failures of the resources its comment names."""
    failing = [
        record
        for directory in (checkov_runs["synthesized"], checkov_runs["policies"])
        for record in checks(checkov_runs["open"], "failed_checks", directory)
    ]
    for check, (resources, reason) in checkov_skips().items():
        assert resources and len(reason.split()) >= 8, (
            f"{check}: write `# <resource address>, ...: <reason>` beside its skip in .checkov.yaml"
        )
        hidden = [record for record in failing if record["check_id"] == check]
        assert hidden, f"{check} no longer fails: remove its skip from .checkov.yaml"
        others = sorted(record["resource"] for record in hidden if not any(_is_resource(record, a) for a in resources))
        assert not others, f"the skip of {check} also hides failures of {others}: fix them, or name them with a reason"


def test_checkov_fails_a_weakened_copy(checkov_runs):
    failed = {record["check_id"] for record in checks(checkov_runs["open"], "failed_checks", checkov_runs["weak"])}
    assert "CKV_AWS_27" in failed  # unencrypted queue, seen in the Terraform JSON
    assert "CKV_AWS_286" in failed  # privilege escalation, seen only in the policy rendered as HCL


# -- parliament ------------------------------------------------------------------------------------

# Findings we accept on upstream's controller policy, each with its reason; anything else fails.
# Keyed by statement Sid (or "(whole policy)" for combinations of statements) and finding.
RUN_INSTANCES_SPLIT = (
    "ec2:RunInstances and ec2:CreateFleet authorize each resource type of a launch separately; upstream "
    "splits the types across three statements with different conditions (image, snapshot, security group, "
    "subnet unconditioned; launch templates only if owned by the cluster; the created instance, volume, "
    "network interface, fleet and spot request only with the cluster's request tags). "
    "test_run_instances_resource_types_are_covered_across_statements proves they cover every type."
)
INSTANCE_PROFILES = (
    "Karpenter creates one instance profile per EC2NodeClass under a generated name, so no ARN can be "
    "named; the statement's conditions require the kubernetes.io/cluster/<cluster>=owned, "
    "topology.kubernetes.io/region and karpenter.k8s.aws/ec2nodeclass tags instead"
)
CONTROLLER_FINDINGS = {
    ("AllowScopedEC2InstanceAccessActions", "RESOURCE_MISMATCH"): RUN_INSTANCES_SPLIT,
    ("AllowScopedEC2LaunchTemplateAccessActions", "RESOURCE_MISMATCH"): RUN_INSTANCES_SPLIT,
    ("AllowScopedEC2InstanceActionsWithTags", "RESOURCE_MISMATCH"): RUN_INSTANCES_SPLIT,
    ("AllowSSMReadActions", "RESOURCE_MISMATCH"): (
        "AWS public parameters (/aws/service/..., the EKS AMI IDs) have ARNs without an account ID; "
        "parliament's format expects one"
    ),
    ("AllowPassingInstanceRole", "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "iam:PassRole of exactly the infra stack's node role, and only to ec2.amazonaws.com: nodes need it"
    ),
    ("AllowScopedInstanceProfileCreationActions", "PERMISSIONS_MANAGEMENT_ACTIONS"): INSTANCE_PROFILES,
    ("AllowScopedInstanceProfileCreationActions", "RESOURCE_STAR"): INSTANCE_PROFILES,
    ("AllowScopedInstanceProfileTagActions", "RESOURCE_STAR"): INSTANCE_PROFILES,
    ("AllowScopedInstanceProfileActions", "PERMISSIONS_MANAGEMENT_ACTIONS"): INSTANCE_PROFILES,
    ("AllowScopedInstanceProfileActions", "RESOURCE_STAR"): INSTANCE_PROFILES,
    ("AllowInstanceProfileReadActions", "RESOURCE_STAR"): (
        "read-only iam:GetInstanceProfile; the profiles' names are generated (see instance profiles above)"
    ),
    ("(whole policy)", "PRIVILEGE_ESCALATION:CreateEC2WithExistingIP"): (
        "iam:PassRole plus ec2:RunInstances is Karpenter's job: launching nodes with a role. PassRole is "
        "limited to the node role (the four AWS-managed node policies) and to ec2.amazonaws.com"
    ),
}
QUEUE_FINDINGS: dict[tuple[str, str], str] = {}


def _finding_name(finding: Any) -> str:
    kind = finding.location.get("type") if isinstance(finding.location, dict) else None
    return f"{finding.issue}:{kind}" if kind else finding.issue


def _finding_actions(finding: Any) -> set[str]:
    actions = set()
    for item in finding.detail if isinstance(finding.detail, list) else []:
        if isinstance(item, str):
            actions.add(item.lower())
        elif isinstance(item, dict) and "action" in item:
            actions.add(str(item["action"]).lower())
    if isinstance(finding.location, dict):
        actions |= {str(action).lower() for action in finding.location.get("actions", [])}
    return actions


Analyzer = Callable[..., Any]  # parliament's analyze_policy_string (the `parliament` fixture)


def _parliament(parliament: Analyzer, document: dict[str, Any]) -> list[Any]:
    return parliament(json.dumps(document), include_community_auditors=True).findings


def lint(parliament: Analyzer, document: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """parliament's findings (community auditors included) by (statement Sid, finding) -> actions.

    Each statement is linted alone, so a finding names its statement; the whole policy is linted
    too, and what only the combination shows is keyed "(whole policy)".
    """
    found: dict[tuple[str, str], set[str]] = {}
    for index, statement in enumerate(document["Statement"]):
        alone = {**document, "Statement": [statement]}
        for finding in _parliament(parliament, alone):
            found.setdefault((statement.get("Sid", f"#{index}"), _finding_name(finding)), set()).update(_finding_actions(finding))
    explained: dict[str, set[str]] = {}
    for (_, name), actions in found.items():
        explained.setdefault(name, set()).update(actions)
    for finding in _parliament(parliament, document):
        name, actions = _finding_name(finding), _finding_actions(finding)
        if name not in explained or not actions <= explained[name]:
            found.setdefault(("(whole policy)", name), set()).update(actions)
    return found


def assert_findings_explained(found: dict[tuple[str, str], set[str]], accepted: dict[tuple[str, str], str]) -> None:
    unexplained = {
        f"{where}: {name} {sorted(actions)}" for (where, name), actions in found.items() if (where, name) not in accepted
    }
    stale = {f"{where}: {name}" for where, name in accepted if (where, name) not in found}
    assert not unexplained, "parliament findings without a written reason:\n" + "\n".join(sorted(unexplained))
    assert not stale, "accepted findings parliament no longer reports (remove them):\n" + "\n".join(sorted(stale))
    for key, reason in accepted.items():
        assert len(reason.split()) >= 8, key


def controller_policy_literal(infra: dict[str, Any]) -> dict[str, Any]:
    kind, name, attribute = CONTROLLER_POLICY
    return literal(infra, json.loads(infra["resource"][kind][name][attribute]))


def test_parliament_controller_policy(infra, parliament):
    assert_findings_explained(lint(parliament, controller_policy_literal(infra)), CONTROLLER_FINDINGS)


def test_parliament_queue_policy(infra, parliament):
    kind, name, attribute = QUEUE_POLICY
    document = literal(infra, json.loads(infra["resource"][kind][name][attribute]))
    assert_findings_explained(lint(parliament, document), QUEUE_FINDINGS)


def test_parliament_flags_weakened_copies(infra, parliament):
    """The linter can fail: a misspelt action and an unscoped write show up as findings."""
    kind, name, attribute = QUEUE_POLICY
    queue = literal(infra, json.loads(infra["resource"][kind][name][attribute]))
    queue["Statement"][0]["Action"] = "sqs:SendMesage"
    assert ("AllowInterruptionEvents", "UNKNOWN_ACTION") in lint(parliament, queue)
    controller = controller_policy_literal(infra)
    controller["Statement"].append({"Sid": "Weak", "Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": "*"})
    found = lint(parliament, controller)
    assert ("Weak", "RESOURCE_STAR") in found
    assert ("Weak", "PRIVILEGE_ESCALATION:CreateNewPolicyVersion") in found


def test_run_instances_resource_types_are_covered_across_statements(infra, parliament):
    """The reason for accepting RESOURCE_MISMATCH: together the statements grant every resource type
    parliament says ec2:RunInstances and ec2:CreateFleet need."""
    document = controller_policy_literal(infra)
    required: set[tuple[str, str]] = set()
    for statement in document["Statement"]:
        for finding in _parliament(parliament, {**document, "Statement": [statement]}):
            if finding.issue == "RESOURCE_MISMATCH":
                required |= {
                    (item["action"], item["required_format"]) for item in finding.detail if item["action"].startswith("ec2:")
                }
    assert {action for action, _ in required} == {"ec2:RunInstances", "ec2:CreateFleet"}
    for action, required_format in sorted(required):
        resource_type = required_format.split(":", 5)[5]
        granted = {
            resource.split(":", 5)[5]
            for statement in document["Statement"]
            if action in as_set(statement["Action"])
            for resource in as_set(statement["Resource"])
            if resource.count(":") >= 5
        }
        assert resource_type in granted, f"{action} needs {required_format}; granted {sorted(granted)}"


# -- least privilege -----------------------------------------------------------------------------


def reference_controller_policy(infra: dict[str, Any], cluster_name: str) -> dict[str, Any]:
    """Upstream's v0.37.2 policy with its CloudFormation placeholders set to the literal values we use."""
    return shared_reference_policy(
        partition=PARTITION,
        region=REGION,
        account=ACCOUNT,
        cluster=cluster_name,
        queue_arn=literal(infra, {"v": "${aws_sqs_queue.karpenter_interruption.arn}"})["v"],
        node_role_arn=literal(infra, {"v": "${aws_iam_role.karpenter_node.arn}"})["v"],
    )


def widenings(ours: dict[str, Any], upstream: dict[str, Any]) -> list[str]:
    """Every way `ours` grants more than `upstream`, statement by statement (matched by Sid).

    A statement may drop actions or resources, narrow a resource, or add conditions; it may not
    gain an action, name a resource no upstream resource pattern covers, lose a condition key, or
    accept a condition value upstream does not. Statements upstream does not have grant more.
    """
    reference = {statement["Sid"]: statement for statement in upstream["Statement"]}
    problems = []
    for index, statement in enumerate(ours["Statement"]):
        sid = statement.get("Sid", f"#{index}")
        if statement.get("Effect") == "Deny":
            continue
        for negated in ("NotAction", "NotResource", "NotPrincipal"):
            if negated in statement:
                problems.append(f"{sid}: uses {negated}")
        base = reference.get(sid)
        if base is None:
            problems.append(f"{sid}: not an upstream statement; grants {sorted(as_set(statement.get('Action')))}")
            continue
        gained = as_set(statement.get("Action")) - as_set(base["Action"])
        if gained:
            problems.append(f"{sid}: gains actions {sorted(gained)}")
        for resource in sorted(as_set(statement.get("Resource"))):
            if not any(fnmatch.fnmatchcase(resource, pattern) for pattern in as_set(base["Resource"])):
                problems.append(f"{sid}: resource {resource!r} is wider than upstream's {sorted(as_set(base['Resource']))}")
        conditions = statement.get("Condition", {})
        for operator, keys in base.get("Condition", {}).items():
            for key, allowed in keys.items():
                got = conditions.get(operator, {}).get(key)
                if got is None:
                    problems.append(f"{sid}: loses condition {operator} {key}")
                    continue
                like = "Like" in operator
                for value in sorted(as_set(got)):
                    if not any(fnmatch.fnmatchcase(value, a) if like else value == a for a in as_set(allowed)):
                        problems.append(f"{sid}: condition {operator} {key} accepts {value!r}; upstream {allowed!r}")
    return problems


@pytest.fixture(scope="module")
def controller_and_reference(infra) -> tuple[dict[str, Any], dict[str, Any]]:
    return controller_policy_literal(infra), reference_controller_policy(infra, make_config().cluster_name)


def test_controller_policy_grants_nothing_beyond_upstream(controller_and_reference):
    ours, upstream = controller_and_reference
    assert widenings(ours, upstream) == []
    assert len(ours["Statement"]) == len(upstream["Statement"]) == 16


def _statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(statement for statement in document["Statement"] if statement["Sid"] == sid)


def _gain_action(document):
    _statement(document, "AllowScopedDeletion")["Action"].append("ec2:DeleteVolume")


def _wildcard_action(document):
    _statement(document, "AllowRegionalReadActions")["Action"] = "ec2:Describe*"


def _drop_condition_key(document):
    del _statement(document, "AllowScopedDeletion")["Condition"]["StringLike"]["aws:ResourceTag/karpenter.sh/nodepool"]


def _drop_all_conditions(document):
    del _statement(document, "AllowPassingInstanceRole")["Condition"]


def _widen_condition_value(document):
    _statement(document, "AllowRegionalReadActions")["Condition"]["StringEquals"]["aws:RequestedRegion"] = [REGION, "eu-west-1"]


def _widen_resource_to_star(document):
    _statement(document, "AllowInterruptionQueueActions")["Resource"] = "*"


def _widen_resource_pattern(document):
    _statement(document, "AllowSSMReadActions")["Resource"] = f"arn:{PARTITION}:ssm:{REGION}::parameter/*"


def _add_statement(document):
    document["Statement"].append({"Sid": "Extra", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(mutate, expected, id=mutate.__name__.lstrip("_"))
        for mutate, expected in (
            (_gain_action, "AllowScopedDeletion: gains actions ['ec2:DeleteVolume']"),
            (_wildcard_action, "AllowRegionalReadActions: gains actions ['ec2:Describe*']"),
            (_drop_condition_key, "AllowScopedDeletion: loses condition StringLike aws:ResourceTag/karpenter.sh/nodepool"),
            (_drop_all_conditions, "AllowPassingInstanceRole: loses condition StringEquals iam:PassedToService"),
            (_widen_condition_value, "AllowRegionalReadActions: condition StringEquals aws:RequestedRegion accepts 'eu-west-1'"),
            (_widen_resource_to_star, "AllowInterruptionQueueActions: resource '*' is wider"),
            (_widen_resource_pattern, "AllowSSMReadActions: resource 'arn:aws:ssm:us-east-1::parameter/*' is wider"),
            (_add_statement, "Extra: not an upstream statement"),
        )
    ],
)
def test_least_privilege_check_detects_a_widened_copy(controller_and_reference, mutate, expected):
    ours, upstream = controller_and_reference
    widened = copy.deepcopy(ours)
    mutate(widened)
    problems = widenings(widened, upstream)
    assert any(problem.startswith(expected) for problem in problems), problems
    assert len(problems) == 1, problems


def test_least_privilege_check_allows_narrowing(controller_and_reference):
    """Dropping an action, narrowing a resource or adding a condition is not a widening."""
    ours, upstream = controller_and_reference
    narrowed = copy.deepcopy(ours)
    _statement(narrowed, "AllowScopedDeletion")["Action"] = ["ec2:TerminateInstances"]
    _statement(narrowed, "AllowSSMReadActions")["Resource"] = f"arn:{PARTITION}:ssm:{REGION}::parameter/aws/service/eks/*"
    _statement(narrowed, "AllowPricingReadActions")["Condition"] = {"StringEquals": {"aws:RequestedRegion": REGION}}
    assert widenings(narrowed, upstream) == []
