"""What `cdktf synth` wrote: the stacks of one config, and the Terraform references in them resolved to live values.

The check compares the account against the synthesized JSON rather than rebuilding the documents,
so it checks what was deployed from this output directory. Terraform strings hold references
(`${data.aws_partition.current.partition}`, `${aws_sqs_queue.karpenter_interruption.arn}`) and
escapes (`$${` and `%%{` for a literal `${` and `%{`, see karpenter_model/terraform_literals.py);
`resolve` fills the first from a table of live values and turns the second back into text. A
reference it does not know is an error, never left in place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A literal `${` / `%{` is written `$${` / `%%{`; a reference is `${...}` without nested braces.
_TEMPLATE = re.compile(r"\$\$\{|%%\{|\$\{([^{}]*)\}|%\{")
_ESCAPES = {"$${": "${", "%%{": "%{"}
_REFERENCE = re.compile(r"^\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.(arn|name)\}$")


class SynthError(Exception):
    """The output directory does not hold the stacks of this config."""


class UnresolvedReference(Exception):
    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference


def resolve(text: str, values: Mapping[str, str]) -> str:
    """`text` with every `${reference}` replaced by `values[reference]` and escapes undone."""

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        if found in _ESCAPES:
            return _ESCAPES[found]
        if match.group(1) is None:  # `%{`: a template directive; none of the documents compared here has one
            raise UnresolvedReference(found)
        reference = match.group(1).strip()
        if reference not in values:
            raise UnresolvedReference(f"${{{reference}}}")
        return values[reference]

    return _TEMPLATE.sub(replace, text)


def unescape(value: Any) -> Any:
    """A literal from the JSON (every config string is one) as the text it stands for."""
    if isinstance(value, str):
        return value.replace("$${", "${").replace("%%{", "%{")
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {unescape(k): unescape(v) for k, v in value.items()}
    return value


DNS_SUFFIX = {"aws-cn": "amazonaws.com.cn"}


def reference_values(
    *,
    partition: str,
    region: str,
    account: str,
    queue_arn: str,
    node_role_arn: str,
    issuer_host: str,
    key_arn: str = "",
) -> dict[str, str]:
    """Every reference the infra stack's documents use, with the value it has in the live account.

    `key_arn`: the interruption queue's key, when the stack creates one (`interruption.encryption: kms`).
    """
    return {
        "data.aws_partition.current.partition": partition,
        "data.aws_partition.current.dns_suffix": DNS_SUFFIX.get(partition, "amazonaws.com"),
        "data.aws_region.current.name": region,
        "data.aws_region.current.region": region,
        "data.aws_region.current.id": region,
        "data.aws_caller_identity.current.account_id": account,
        "aws_sqs_queue.karpenter_interruption.arn": queue_arn,
        "aws_iam_role.karpenter_node.arn": node_role_arn,
        "aws_iam_openid_connect_provider.eks.arn": f"arn:{partition}:iam::{account}:oidc-provider/{issuer_host}",
        "local.oidc_issuer_host": issuer_host,
    } | ({"aws_kms_key.karpenter_interruption.arn": key_arn} if key_arn else {})


@dataclass(frozen=True)
class SynthesizedPolicy:
    address: str  # aws_iam_policy.<address>
    name: str  # the physical name
    template: str  # the policy JSON with Terraform references


@dataclass(frozen=True)
class SynthesizedRule:
    address: str
    name: str
    pattern: dict[str, Any]
    target_arn: str  # a reference, `${aws_sqs_queue.karpenter_interruption.arn}`


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    stacks: dict[str, dict[str, Any]]  # base name (infra, crds, chart) -> the stack's JSON
    names: dict[str, str]  # base name -> stack name (`prod-infra`)

    @classmethod
    def load(cls, outdir: str | Path, stack_name: Any) -> Synthesized:
        """The three stacks of a config from `outdir/manifest.json`; `stack_name` is `config.stack_name`."""
        outdir = Path(outdir)
        manifest_path = outdir / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text())
        except FileNotFoundError:
            raise SynthError(f"{manifest_path} not found: nothing was synthesized into {outdir}") from None
        except (OSError, ValueError) as exc:
            raise SynthError(f"{manifest_path}: cannot read it ({exc})") from None
        listed = manifest.get("stacks", {})
        stacks, names = {}, {}
        for base in ("infra", "crds", "chart"):
            name = stack_name(base)
            entry = listed.get(name)
            if entry is None:
                raise SynthError(
                    f"{manifest_path} has no stack {name!r} (it has {', '.join(sorted(listed)) or 'none'}): "
                    "synthesized from another config or environment"
                )
            path = outdir / entry.get("synthesizedStackPath", f"stacks/{name}/cdk.tf.json")
            try:
                stacks[base] = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise SynthError(f"{path}: cannot read the {name} stack ({exc})") from None
            names[base] = name
        return cls(outdir, stacks, names)

    def resources(self, base: str, kind: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.stacks[base].get("resource", {}).get(kind, {})
        return found

    def resource(self, base: str, kind: str, name: str) -> dict[str, Any]:
        try:
            return self.resources(base, kind)[name]
        except KeyError:
            raise SynthError(f"the {self.names[base]} stack has no {kind}.{name}") from None

    # -- infra ------------------------------------------------------------------------------------

    def controller_role_name(self) -> str:
        return str(unescape(self.resource("infra", "aws_iam_role", "karpenter_controller")["name"]))

    def controller_trust(self) -> str:
        return str(self.resource("infra", "aws_iam_role", "karpenter_controller")["assume_role_policy"])

    def controller_policies(self) -> list[SynthesizedPolicy]:
        """The policies attached to the controller role, in the stack's order."""
        policies = self.resources("infra", "aws_iam_policy")
        found = []
        for attachment in self.resources("infra", "aws_iam_role_policy_attachment").values():
            if attachment.get("role") != "${aws_iam_role.karpenter_controller.name}":
                continue
            match = _REFERENCE.match(str(attachment.get("policy_arn", "")))
            if not match or match.group(1) != "aws_iam_policy" or match.group(2) not in policies:
                raise SynthError(
                    f"a controller policy attachment names {attachment.get('policy_arn')!r}, not a policy of the stack"
                )
            policy = policies[match.group(2)]
            found.append(SynthesizedPolicy(match.group(2), str(unescape(policy["name"])), str(policy["policy"])))
        return found

    def interruption_rules(self) -> list[SynthesizedRule]:
        targets = self.resources("infra", "aws_cloudwatch_event_target")
        rules = []
        for address, rule in self.resources("infra", "aws_cloudwatch_event_rule").items():
            target = targets.get(address, {})
            pattern = json.loads(resolve(str(rule["event_pattern"]), {}))
            rules.append(SynthesizedRule(address, str(unescape(rule["name"])), pattern, str(target.get("arn", ""))))
        return rules

    # -- chart --------------------------------------------------------------------------------------

    def manifests(self, kind: str) -> list[dict[str, Any]]:
        """The chart stack's objects of `kind` (EC2NodeClass, NodePool) as the cluster has them."""
        found = []
        for body in self.resources("chart", "kubernetes_manifest").values():
            manifest = body.get("manifest", {})
            if manifest.get("kind") == kind:
                found.append(unescape(manifest))
        return found

    def helm_release(self, base: str, address: str) -> dict[str, Any]:
        release: dict[str, Any] = unescape(
            {k: v for k, v in self.resource(base, "helm_release", address).items() if k != "values"}
        )
        return release
