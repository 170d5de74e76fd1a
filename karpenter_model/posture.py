"""Security and operability posture of the node classes and node pools, judged at synth.

The CRD checks (`node_objects.py`) say whether the API server and the controller would accept an
object; these say whether a team should want it. Each finding has a stable id. A team that wants a
setting anyway accepts the finding in its config (`posture.accept: [{id, where, reason}]`), and
`apply_acceptances` drops what is accepted and returns the acceptances that matched nothing, so a
stale one can be reported instead of silently hiding the next finding at that place.

| id | severity | what | why | fix |
|---|---|---|---|---|
| `imdsv1-allowed` | error | `metadataOptions.httpTokens: optional` | IMDSv1 answers unauthenticated GETs, so an SSRF in any pod that reaches IMDS reads the node role's credentials | `httpTokens: required` (the CRD default when `metadataOptions` or `httpTokens` is left out) |
| `ebs-unencrypted` | error | an `ebs` block device mapping without `encrypted: true`; or `amiFamily: Custom` without `blockDeviceMappings` | without `encrypted: true` Karpenter leaves encryption to the account's EBS-encryption-by-default setting (or the snapshot); with Custom and no mappings, to the AMI | `encrypted: true` on every `ebs`, or leave `blockDeviceMappings` out for a non-Custom family (upstream's defaults are encrypted) |
| `ebs-no-kms-key` | error, only with `require_kms_key` | an encrypted volume without `kmsKeyID` (upstream's default volumes have none) | the volume uses the account's default EBS key, not one the team controls and audits | `kmsKeyID: <key ARN>` on every `ebs` (the node role, or the key policy, must let EC2 use it through the Auto Scaling/EC2 service) |
| `ami-pinned-by-id` | warning | an `amiSelectorTerms` term with `id` | an AMI id exists in one region and gets no security fixes; the seed's install broke on one ("AMI not found") | v1: `alias: <family>@<version>` (e.g. `al2023@v20241011`), or `name`/`tags` with `owner`; v1beta1: `amiFamily` with `name`/`tags` terms and `owner` |
| `hop-limit-too-high` | warning | `httpPutResponseHopLimit` above the release's CRD default (1 in every release here) | each extra hop lets IMDS answers cross into containers, so pods can take the node role | `httpPutResponseHopLimit: 1`; pods that truly need IMDS need 2: accept the finding with that reason |
| `nodepool-without-limits` | warning | a NodePool without `limits` | a runaway Deployment or a bad requirement scales the pool without bound, and the bill with it | `limits: {cpu: "<vCPUs>", memory: <size>}` |
| `spot-only-without-on-demand-fallback` | warning | every NodePool allows only `spot` for `karpenter.sh/capacity-type` | when spot capacity runs out in the allowed types and zones, no pool can launch on-demand and pods stay Pending | allow `on-demand` in one pool (`values: [spot, on-demand]`: Karpenter prefers spot when both are allowed), or add an on-demand pool with a lower `weight` |

Defaults that decide findings, from the release's own files and upstream's code:
- `metadataOptions` left out: the CRD default is `httpTokens: required`, `httpPutResponseHopLimit: 1`
  (`data/<version>/crds/karpenter.k8s.aws_ec2nodeclasses.yaml`, every release here), so no finding.
- `blockDeviceMappings` left out: Karpenter uses its per-family defaults (AL2/AL2023 `/dev/xvda`,
  Bottlerocket `/dev/xvda` + `/dev/xvdb`, Windows and Ubuntu `/dev/sda1`), all `DefaultEBS`, which is
  `encrypted: true`, gp3, no KMS key (aws/karpenter-provider-aws `pkg/providers/amifamily/resolver.go`);
  `Custom` has none and EC2 uses the AMI's mappings (`custom.go`: "EC2 will automatically choose the
  volumes defined by the AMI"). A mapping given without `encrypted` is passed to EC2 with it unset.
- No `karpenter.sh/capacity-type` requirement: NodePools default to on-demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from karpenter_model.releases import ReleaseProfile

Severity = Literal["error", "warning"]
CAPACITY_TYPE = "karpenter.sh/capacity-type"
# Every capacity type a NodePool can name (`reserved` exists from 1.3 on; harmless to list for older releases).
CAPACITY_TYPES = frozenset({"spot", "on-demand", "reserved"})
# v1 AMI aliases: `<family>@<version>`; the family is the amiFamily, lower-cased (Ubuntu and Custom have none).
ALIAS_FAMILIES = {
    "AL2": "al2",
    "AL2023": "al2023",
    "Bottlerocket": "bottlerocket",
    "Windows2019": "windows2019",
    "Windows2022": "windows2022",
}
# Names of the EKS-optimized AMIs (owner amazon), for v1beta1's name terms; the Kubernetes minor is the cluster's.
V1BETA1_NAME_EXAMPLES = {"AL2": "amazon-eks-node-1.30-v*", "AL2023": "amazon-eks-node-al2023-x86_64-standard-1.30-v*"}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    what: str
    why: str
    fix: str


# The table in the module docstring, as data (ids are stable: configs accept findings by id).
RULES: tuple[Rule, ...] = (
    Rule(
        "imdsv1-allowed",
        "error",
        "metadataOptions.httpTokens is optional, so IMDSv1 is allowed",
        "IMDSv1 answers unauthenticated requests: an SSRF in a pod that reaches IMDS reads the node role's credentials",
        "set metadataOptions.httpTokens: required (or leave httpTokens out: the CRD default is required)",
    ),
    Rule(
        "ebs-unencrypted",
        "error",
        "an EBS volume is not set encrypted: true",
        "Karpenter passes encryption unset to EC2, which then follows the account's EBS-encryption-by-default setting, "
        "the snapshot, or (amiFamily Custom without mappings) the AMI",
        "set ebs.encrypted: true on every block device mapping (left-out mappings of non-Custom families are encrypted)",
    ),
    Rule(
        "ebs-no-kms-key",
        "error",
        "an encrypted EBS volume names no kmsKeyID (the team's config requires one)",
        "without kmsKeyID EC2 uses the account's default EBS key, not a key the team controls and audits",
        "set ebs.kmsKeyID to the team's key ARN on every block device mapping (declare the mappings if they are left out)",
    ),
    Rule(
        "ami-pinned-by-id",
        "warning",
        "amiSelectorTerms selects an AMI by id",
        "an AMI id exists in one region only and never gets security fixes; a deleted or foreign id leaves the pool unable to launch",
        "select by alias (v1) or by amiFamily with name/tags terms and owner (v1beta1)",
    ),
    Rule(
        "hop-limit-too-high",
        "warning",
        "metadataOptions.httpPutResponseHopLimit is above the release's default",
        "every hop above 1 lets IMDS responses reach containers, so pods without host networking can take the node role",
        "set httpPutResponseHopLimit to the release's default (1); if pods need IMDS (2), accept the finding with that reason",
    ),
    Rule(
        "nodepool-without-limits",
        "warning",
        "a NodePool has no limits",
        "a runaway workload or a wrong requirement lets the pool grow without bound, and the bill with it",
        'set spec.limits, e.g. {cpu: "100", memory: 200Gi}',
    ),
    Rule(
        "spot-only-without-on-demand-fallback",
        "warning",
        "every NodePool allows only spot capacity",
        "when spot capacity runs out for the allowed types and zones, no pool can launch on-demand and pods stay Pending",
        "allow on-demand in one pool (values: [spot, on-demand]; Karpenter prefers spot when both are allowed) "
        "or add an on-demand pool with a lower weight",
    ),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}
FINDING_IDS = tuple(RULES_BY_ID)


@dataclass(frozen=True)
class Finding:
    id: str
    severity: Severity
    where: str  # the config path: node_classes[0].spec.metadataOptions.httpTokens, or node_pools for a finding on all pools
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message} [{self.id}]; fix: {self.fix}"


Entry = tuple[str, str, Mapping[str, Any]]  # (where, name, spec): ("node_classes[0]", "default", {...})


def findings(
    release: ReleaseProfile, node_classes: Sequence[Entry], node_pools: Sequence[Entry], require_kms_key: bool
) -> list[Finding]:
    """Every posture finding of the node classes and pools, in config order, the all-pools finding last."""
    found: list[Finding] = []
    for where, name, spec in node_classes:
        found += _node_class_findings(release, f"{where}.spec", name, spec, require_kms_key)
    for where, name, spec in node_pools:
        if not _mapping(spec.get("limits")):
            found.append(_finding("nodepool-without-limits", f"{where}.spec.limits", f"NodePool {name!r} has no limits"))
    found += _spot_only(node_pools)
    return found


def _finding(rule_id: str, where: str, message: str, fix: str | None = None) -> Finding:
    rule = RULES_BY_ID[rule_id]
    return Finding(rule_id, rule.severity, where, message, fix or rule.fix)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _node_class_findings(
    release: ReleaseProfile, where: str, name: str, spec: Mapping[str, Any], require_kms_key: bool
) -> list[Finding]:
    found: list[Finding] = []
    metadata = _mapping(spec.get("metadataOptions"))
    if metadata.get("httpTokens") == "optional":
        found.append(
            _finding(
                "imdsv1-allowed",
                f"{where}.metadataOptions.httpTokens",
                f"EC2NodeClass {name!r} allows IMDSv1 (httpTokens: optional)",
            )
        )
    hop_limit = metadata.get("httpPutResponseHopLimit")
    recommended = release.recommended_hop_limit
    if isinstance(hop_limit, int) and not isinstance(hop_limit, bool) and hop_limit > recommended:
        found.append(
            _finding(
                "hop-limit-too-high",
                f"{where}.metadataOptions.httpPutResponseHopLimit",
                f"EC2NodeClass {name!r} sets httpPutResponseHopLimit {hop_limit}; Karpenter {release.version}'s default is {recommended}",
                f"set httpPutResponseHopLimit: {recommended}; if pods need IMDS ({recommended + 1}), accept the finding with that reason",
            )
        )
    found += _volume_findings(where, name, spec, require_kms_key)
    for index, term in enumerate(_list(spec.get("amiSelectorTerms"))):
        if isinstance(term, Mapping) and term.get("id"):
            found.append(
                _finding(
                    "ami-pinned-by-id",
                    f"{where}.amiSelectorTerms[{index}].id",
                    f"EC2NodeClass {name!r} pins AMI {term['id']!r} by id",
                    _ami_fix(release, spec),
                )
            )
    return found


def _volume_findings(where: str, name: str, spec: Mapping[str, Any], require_kms_key: bool) -> list[Finding]:
    mappings = spec.get("blockDeviceMappings")
    if not isinstance(mappings, list) or not mappings:
        if _ami_family(spec) == "Custom":
            return [
                _finding(
                    "ebs-unencrypted",
                    f"{where}.blockDeviceMappings",
                    f"EC2NodeClass {name!r} uses amiFamily Custom without blockDeviceMappings, so the AMI's own mappings decide encryption",
                    "declare blockDeviceMappings with ebs.encrypted: true (Custom has no defaults)",
                )
            ]
        if require_kms_key:
            return [
                _finding(
                    "ebs-no-kms-key",
                    f"{where}.blockDeviceMappings",
                    f"EC2NodeClass {name!r} leaves blockDeviceMappings out; Karpenter's default volumes are encrypted with the account's default EBS key",
                    "declare blockDeviceMappings (the root device of the AMI family) with ebs.encrypted: true and ebs.kmsKeyID: <key ARN>",
                )
            ]
        return []
    found: list[Finding] = []
    for index, mapping in enumerate(mappings):
        ebs = mapping.get("ebs") if isinstance(mapping, Mapping) else None
        if not isinstance(ebs, Mapping):  # no EBS volume in this mapping
            continue
        device = mapping.get("deviceName", f"#{index}")
        at = f"{where}.blockDeviceMappings[{index}].ebs"
        if ebs.get("encrypted") is not True:
            state = "encrypted: false" if ebs.get("encrypted") is False else "no encrypted: true"
            found.append(_finding("ebs-unencrypted", f"{at}.encrypted", f"EC2NodeClass {name!r} volume {device} has {state}"))
        elif require_kms_key and not ebs.get("kmsKeyID"):
            found.append(
                _finding(
                    "ebs-no-kms-key", f"{at}.kmsKeyID", f"EC2NodeClass {name!r} volume {device} is encrypted without kmsKeyID"
                )
            )
    return found


def _ami_family(spec: Mapping[str, Any]) -> str | None:
    family = spec.get("amiFamily")
    if isinstance(family, str):
        return family
    for term in _list(spec.get("amiSelectorTerms")):  # v1: an alias implies the family
        alias = term.get("alias") if isinstance(term, Mapping) else None
        if isinstance(alias, str):
            by_alias = {v: k for k, v in ALIAS_FAMILIES.items()}
            return by_alias.get(alias.split("@", 1)[0])
    return None


def _ami_fix(release: ReleaseProfile, spec: Mapping[str, Any]) -> str:
    family = _ami_family(spec)
    if release.api_version == "v1":
        alias = ALIAS_FAMILIES.get(family or "")
        example = f"{alias}@v20241011" if alias in ("al2", "al2023") else f"{alias}@<version>" if alias else "al2023@v20241011"
        return (
            f"select by alias: amiSelectorTerms: [{{alias: {example}}}] (pin a version rather than @latest so upgrades are deliberate), "
            "or by name/tags with owner for your own images"
        )
    example = V1BETA1_NAME_EXAMPLES.get(family or "", "<AMI name, * allowed>")
    return (
        f"keep amiFamily{f' {family}' if family else ''} and select by name or tags with owner (alias is a v1 field), "
        f"e.g. amiSelectorTerms: [{{name: '{example}', owner: amazon}}], "
        "or leave amiSelectorTerms out to get the family's current EKS-optimized AMI"
    )


def allowed_capacity_types(spec: Mapping[str, Any]) -> frozenset[str]:
    """What a NodePool's template lets `karpenter.sh/capacity-type` be (no requirement: on-demand, the default)."""
    template = _mapping(spec.get("template"))
    allowed: frozenset[str] | None = None
    label = _mapping(_mapping(template.get("metadata")).get("labels")).get(CAPACITY_TYPE)
    if isinstance(label, str):
        allowed = frozenset({label})
    for requirement in _list(_mapping(template.get("spec")).get("requirements")):
        if not isinstance(requirement, Mapping) or requirement.get("key") != CAPACITY_TYPE:
            continue
        values = frozenset(v for v in _list(requirement.get("values")) if isinstance(v, str))
        operator = requirement.get("operator")
        these = {"In": values, "NotIn": CAPACITY_TYPES - values, "Exists": CAPACITY_TYPES, "DoesNotExist": frozenset()}.get(
            str(operator)
        )
        if these is not None:
            allowed = these if allowed is None else allowed & these
    return frozenset({"on-demand"}) if allowed is None else allowed


def _spot_only(node_pools: Sequence[Entry]) -> list[Finding]:
    allowed = [allowed_capacity_types(spec) for _, _, spec in node_pools]
    if not allowed or any("on-demand" in types for types in allowed) or not any("spot" in types for types in allowed):
        return []
    names = ", ".join(repr(name) for _, name, _ in node_pools)
    return [
        _finding(
            "spot-only-without-on-demand-fallback",
            "node_pools",
            f"no NodePool allows on-demand capacity ({names} allow only {', '.join(sorted(set().union(*allowed)))})",
        )
    ]


# -- acceptances -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    id: str
    where: str
    reason: str


def _acceptance(item: Any) -> Acceptance:
    """An acceptance from a config model (attributes) or a plain mapping (`{id, where, reason}`)."""
    if isinstance(item, Acceptance):
        return item

    def get(key: str) -> Any:
        return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)

    return Acceptance(str(get("id")), str(get("where")), str(get("reason") or ""))


def covers(where: str, finding_where: str) -> bool:
    """An acceptance's `where` covers a finding at that path or below it: `node_classes[1]` covers
    `node_classes[1].spec.metadataOptions.httpTokens`, not `node_classes[10]...`."""
    if finding_where == where:
        return True
    return finding_where.startswith(where) and finding_where[len(where)] in ".["


def apply_acceptances(found: Iterable[Finding], accepted: Iterable[Any]) -> tuple[list[Finding], list[Acceptance]]:
    """(findings no acceptance covers, acceptances that covered no finding).

    An acceptance covers a finding with its id at its `where` or below it. One that covers nothing is
    stale (the setting was fixed, the entry moved, or the id is misspelt) and should be reported, since
    it would silently accept whatever lands at that place next.
    """
    acceptances = [_acceptance(item) for item in accepted]
    used: set[int] = set()
    remaining = []
    for finding in found:
        matching = [i for i, a in enumerate(acceptances) if a.id == finding.id and covers(a.where, finding.where)]
        used.update(matching)
        if not matching:
            remaining.append(finding)
    return remaining, [a for i, a in enumerate(acceptances) if i not in used]


def rules_table() -> str:
    """The rules as a Markdown table (for docs/configuration.md)."""
    lines = ["| id | severity | what | fix |", "|---|---|---|---|"]
    lines += [f"| `{r.id}` | {r.severity} | {r.what} | {r.fix} |" for r in RULES]
    return "\n".join(lines)
