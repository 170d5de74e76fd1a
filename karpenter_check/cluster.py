"""The cluster half of `check`: the controller, the CRDs, the node classes and pools, the controller's logs.

The functions that judge take objects as the API server sends them (JSON, camelCase) and return
rows; `ClusterChecks` only fetches them through `Kube` (kube.py) and hands them over.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from karpenter_check.kube import Kube
from karpenter_check.results import Result, failed, passed, skipped
from karpenter_model.releases import NODE_CLASS_GROUP, NODE_POOL_GROUP, ReleaseProfile

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
CONTROLLER_CONTAINER = "controller"  # the chart's name for the controller's container
LOG_WINDOW_SECONDS = 3600  # controller log lines older than this are not read


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    for item in ((obj or {}).get("status") or {}).get("conditions") or []:
        if item.get("type") == kind:
            found: dict[str, Any] = item
            return found
    return None


def is_true(obj: dict[str, Any] | None, kind: str) -> bool:
    found = condition(obj, kind)
    return found is not None and found.get("status") == "True"


def _why(found: dict[str, Any] | None) -> str:
    if found is None:
        return "no condition"
    text = f"{found.get('type')}={found.get('status')}"
    reason = ": ".join(str(found[k]) for k in ("reason", "message") if found.get(k))
    return f"{text} ({reason})" if reason else text


def same_server(kubeconfig_host: str, endpoint: str) -> bool:
    def normal(url: str) -> str:
        return url.strip().lower().removeprefix("https://").rstrip("/")

    return bool(endpoint) and normal(kubeconfig_host) == normal(endpoint)


def kubeconfig_result(host: str, endpoint: str, cluster: str, region: str) -> Result:
    check = "kubeconfig"
    fix = f"aws eks update-kubeconfig --name {cluster} --region {region} (or pass --context)"
    if not endpoint:
        return failed(
            check,
            f"kubeconfig points at {host}; the cluster's endpoint is unknown (the AWS checks failed)",
            "fix the AWS rows first",
        )
    if not same_server(host, endpoint):
        return failed(check, f"kubeconfig points at {host}, not {cluster} ({endpoint})", fix)
    return passed(check, f"{host} is {cluster}")


def crd_result(name: str, crd: dict[str, Any] | None, stack: str) -> Result:
    check = f"crd {name}"
    if crd is None:
        return failed(check, "not installed", f"npx cdktf deploy {stack}")
    if not is_true(crd, "Established"):
        return failed(
            check,
            f"not Established: {_why(condition(crd, 'Established'))}",
            f"kubectl describe crd {name}; npx cdktf deploy {stack}",
        )
    return passed(check, "Established")


def image_tag(image: str) -> str:
    """`public.ecr.aws/karpenter/controller:0.37.2@sha256:...` -> `0.37.2` (empty when the image has no tag)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def deployment_result(
    deployment: dict[str, Any] | None, *, namespace: str, name: str, release: ReleaseProfile, stack: str
) -> Result:
    check = "controller deployment"
    if deployment is None:
        return failed(check, f"no deployment {namespace}/{name}", f"npx cdktf deploy {stack}")
    containers = ((deployment.get("spec") or {}).get("template", {}).get("spec") or {}).get("containers") or []
    container = next((c for c in containers if c.get("name") == CONTROLLER_CONTAINER), containers[0] if containers else {})
    tag = image_tag(str(container.get("image", "")))
    status = deployment.get("status") or {}
    wanted = (deployment.get("spec") or {}).get("replicas", 1)
    ready = status.get("readyReplicas", 0) or 0
    problems = []
    if not is_true(deployment, "Available"):
        problems.append(f"not Available: {_why(condition(deployment, 'Available'))}")
    if ready < wanted:
        problems.append(f"{ready}/{wanted} replicas ready")
    if tag.removeprefix("v") != release.version:
        problems.append(f"image {container.get('image')!r} is not the configured release {release.version}")
    if problems:
        return failed(
            check,
            f"{namespace}/{name}: {'; '.join(problems)}",
            f"kubectl -n {namespace} describe deployment {name}; kubectl -n {namespace} get pods; npx cdktf deploy {stack}",
        )
    return passed(check, f"{namespace}/{name}: Available, {ready}/{wanted} ready, image tag {tag}")


def service_account_result(
    account: dict[str, Any] | None, *, namespace: str, name: str, role_arn: str, modes: Sequence[str], stack: str
) -> Result:
    check = "controller service account"
    if account is None:
        return failed(check, f"no service account {namespace}/{name}", f"npx cdktf deploy {stack}")
    annotation = ((account.get("metadata") or {}).get("annotations") or {}).get(IRSA_ANNOTATION)
    if "irsa" in modes:
        if annotation != role_arn:
            return failed(
                check,
                f"{namespace}/{name} annotation {IRSA_ANNOTATION} is {annotation!r}, expected {role_arn!r}",
                f"npx cdktf deploy {stack}, then kubectl -n {namespace} rollout restart deployment (pods read the annotation at start)",
            )
        return passed(check, f"{IRSA_ANNOTATION}: {annotation}")
    return passed(check, f"{namespace}/{name} exists (Pod Identity: no annotation needed)")


# A condition of a node class that is not True, and what to do about it.
NODE_CLASS_FIXES = {
    "SubnetsReady": "the subnet selector finds nothing: see the 'node class ...: subnets' row",
    "SecurityGroupsReady": "the security group selector finds nothing: see the 'node class ...: security groups' row",
    "AMIsReady": "amiSelectorTerms match no AMI in this region: select by alias (v1) or amiFamily with name/tags (v1beta1), not by an id from elsewhere",
    "InstanceProfileReady": "the controller cannot create the instance profile: see the 'controller policy' rows (iam:CreateInstanceProfile, iam:PassRole on the node role)",
    "ValidationSucceeded": "the controller refused the spec (see the message); fix the node class in the config and redeploy the chart stack",
}


def node_class_result(name: str, obj: dict[str, Any] | None, stack: str) -> Result:
    check = f"EC2NodeClass {name}"
    if obj is None:
        return failed(check, "not found in the cluster", f"npx cdktf deploy {stack}")
    ready = condition(obj, "Ready")
    if ready is None:
        status = obj.get("status") or {}
        missing = [key for key in ("subnets", "securityGroups", "amis", "instanceProfile") if not status.get(key)]
        if missing:
            return failed(
                check, f"no Ready condition and status has no {', '.join(missing)}", f"kubectl describe ec2nodeclass {name}"
            )
        return passed(
            check, "no Ready condition (older controller); subnets, security groups, AMIs and instance profile resolved"
        )
    if ready.get("status") == "True":
        return passed(check, "Ready")
    bad = [c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") != "Ready" and c.get("status") != "True"]
    fixes = [NODE_CLASS_FIXES[c["type"]] for c in bad if c.get("type") in NODE_CLASS_FIXES]
    return failed(
        check,
        "; ".join(_why(c) for c in bad) or _why(ready),
        "; ".join(fixes) or f"kubectl describe ec2nodeclass {name}",
    )


def node_pool_result(
    name: str, obj: dict[str, Any] | None, *, release: ReleaseProfile, class_ready: dict[str, bool], stack: str
) -> Result:
    check = f"NodePool {name}"
    if obj is None:
        return failed(check, "not found in the cluster", f"npx cdktf deploy {stack}")
    reference = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeClassRef") or {}
    node_class = str(reference.get("name", ""))
    ready = condition(obj, "Ready")
    if ready is None and not release.node_pool_reports_conditions:
        # 0.37's v1beta1 NodePool has no status conditions: it is as ready as its node class.
        if class_ready.get(node_class):
            return passed(check, f"{release.api_version} NodePools report no conditions; its EC2NodeClass {node_class} is Ready")
        return failed(check, f"its EC2NodeClass {node_class!r} is not Ready", f"see the 'EC2NodeClass {node_class}' row")
    if ready is not None and ready.get("status") == "True":
        return passed(check, "Ready")
    bad = [c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") != "Ready" and c.get("status") != "True"]
    detail = "; ".join(_why(c) for c in bad) or _why(ready)
    fix = (
        f"see the 'EC2NodeClass {node_class}' row"
        if any(c.get("type") == "NodeClassReady" for c in bad)
        else f"kubectl describe nodepool {name}"
    )
    return failed(check, detail, fix)


# -- controller logs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogProblem:
    kind: str
    pattern: re.Pattern[str]
    fix: str  # formatted with cluster, infra, namespace, deployment


# The kinds seed 004's troubleshooting section greps for, as Karpenter and the AWS SDK word them.
LOG_PROBLEMS = (
    LogProblem(
        "AccessDenied",
        re.compile(
            r"AccessDenied|UnauthorizedOperation|is not authorized to perform|WebIdentityErr|InvalidIdentityToken", re.IGNORECASE
        ),
        "the controller's AWS calls are refused: see the 'controller role trust', 'controller policy' and 'controller service account' rows; "
        "after fixing: kubectl -n {namespace} rollout restart deployment/{deployment}",
    ),
    LogProblem(
        "no subnets found",
        re.compile(r"no subnets|subnets? (?:were )?not found|did not match any subnets|InvalidSubnetID", re.IGNORECASE),
        "tag the cluster's subnets karpenter.sh/discovery={cluster} (npx cdktf deploy {infra}) or fix subnetSelectorTerms",
    ),
    LogProblem(
        "no security groups found",
        re.compile(r"no security ?groups|did not match any security ?groups|InvalidGroup\.NotFound", re.IGNORECASE),
        "tag the cluster security group karpenter.sh/discovery={cluster} (npx cdktf deploy {infra}) or fix securityGroupSelectorTerms",
    ),
    LogProblem(
        "AMI not found",
        re.compile(
            r"InvalidAMIID|AMI not found|no amis|did not match any AMIs|failed to discover any AMIs|no images? (?:found|exist)",
            re.IGNORECASE,
        ),
        "amiSelectorTerms match no AMI in this region: select by alias (v1) or amiFamily with name/tags (v1beta1), "
        "not by an id from another region or account (posture finding ami-pinned-by-id)",
    ),
)


def _message(line: str) -> str:
    """A log line's message: Karpenter logs JSON (`{"level": "ERROR", "message": ..., "error": ...}`)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line.strip()
    if not isinstance(entry, dict):
        return line.strip()
    parts = [str(entry.get(k)) for k in ("level", "message", "error") if entry.get(k)]
    return " ".join(parts) or line.strip()


def log_problems(text: str) -> dict[str, list[str]]:
    """Lines of the log matching each problem kind (kinds in LOG_PROBLEMS order), as their messages."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        for problem in LOG_PROBLEMS:
            if problem.pattern.search(line):
                found.setdefault(problem.kind, []).append(_message(line))
    return found


def log_results(logs: dict[str, str], *, cluster: str, infra: str, namespace: str, deployment: str) -> list[Result]:
    """One FAIL row per kind of problem found in any controller pod's log, or one PASS row."""
    if not logs:
        return [failed("controller logs", "no controller pods to read logs from", f"kubectl -n {namespace} get pods")]
    merged: dict[str, list[str]] = {}
    for text in logs.values():
        for kind, lines in log_problems(text).items():
            merged.setdefault(kind, []).extend(lines)
    window = f"last {LOG_WINDOW_SECONDS // 60} min of {len(logs)} pod{'s' if len(logs) != 1 else ''}"
    if not merged:
        return [passed("controller logs", f"no AccessDenied, subnet, security group or AMI errors ({window})")]
    results: list[Result] = []
    for problem in LOG_PROBLEMS:
        lines = merged.get(problem.kind, [])
        if lines:
            sample = lines[-1] if len(lines[-1]) <= 300 else lines[-1][:297] + "..."
            results.append(
                failed(
                    f"controller logs: {problem.kind}",
                    f"{len(lines)} line{'s' if len(lines) != 1 else ''} ({window}), latest: {sample}",
                    problem.fix.format(cluster=cluster, infra=infra, namespace=namespace, deployment=deployment),
                )
            )
    return results


# -- running them ---------------------------------------------------------------------------------


def selector(deployment: dict[str, Any]) -> str:
    labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


class ClusterChecks:
    def __init__(
        self, config: Any, synthesized: Any, kube: Kube, *, endpoint: str, controller_role_arn: str, trust_modes: Sequence[str]
    ) -> None:
        self.config, self.synth, self.kube = config, synthesized, kube
        self.endpoint, self.role_arn, self.modes = endpoint, controller_role_arn, list(trust_modes)
        self.release = config.release

    def same_cluster(self) -> Result:
        return kubeconfig_result(self.kube.host, self.endpoint, self.config.cluster_name, self.config.region)

    def run(self) -> list[Result]:
        results = [self.same_cluster()]
        if results[0].status == "FAIL" and self.endpoint:
            return results + [skipped("cluster checks", "skipped: the kubeconfig is for another cluster")]
        crds, chart, infra = self.synth.names["crds"], self.synth.names["chart"], self.synth.names["infra"]
        results += [crd_result(name, self.kube.crd(name), crds) for name in self.release.crd_names]
        release = self.synth.helm_release("chart", "karpenter")
        namespace, name = str(release.get("namespace", self.config.karpenter.namespace)), str(release.get("name", "karpenter"))
        deployment = self.kube.deployment(namespace, name)
        results.append(deployment_result(deployment, namespace=namespace, name=name, release=self.release, stack=chart))
        results.append(
            service_account_result(
                self.kube.service_account(namespace, self.config.karpenter.service_account),
                namespace=namespace,
                name=self.config.karpenter.service_account,
                role_arn=self.role_arn,
                modes=self.modes,
                stack=chart,
            )
        )
        results += self._objects(chart)
        if deployment is not None:
            logs = {}
            for pod in self.kube.pods(namespace, selector(deployment)):
                pod_name = pod["metadata"]["name"]
                logs[pod_name] = self.kube.pod_log(namespace, pod_name, CONTROLLER_CONTAINER, LOG_WINDOW_SECONDS)
            results += log_results(logs, cluster=self.config.cluster_name, infra=infra, namespace=namespace, deployment=name)
        return results

    def _objects(self, chart: str) -> Iterable[Result]:
        version = self.release.api_version
        classes = {o["metadata"]["name"]: o for o in self.kube.custom_objects(NODE_CLASS_GROUP, version, "ec2nodeclasses")}
        pools = {o["metadata"]["name"]: o for o in self.kube.custom_objects(NODE_POOL_GROUP, version, "nodepools")}
        class_ready = {}
        for manifest in self.synth.manifests("EC2NodeClass"):
            name = manifest["metadata"]["name"]
            result = node_class_result(name, classes.get(name), chart)
            class_ready[name] = result.status == "PASS"
            yield result
        for manifest in self.synth.manifests("NodePool"):
            name = manifest["metadata"]["name"]
            yield node_pool_result(name, pools.get(name), release=self.release, class_ready=class_ready, stack=chart)
