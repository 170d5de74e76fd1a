"""karpenter_check's cluster half and the pure document logic, without a Kubernetes API server.

There is no API server here, so the judging functions are fed objects in the JSON shapes the
Kubernetes API documents (Deployment, CustomResourceDefinition, ServiceAccount, Node) and the
shapes Karpenter's CRDs declare for EC2NodeClass, NodePool and NodeClaim status (conditions with
type/status/reason/message). One test goes through the official client's typed model and
`ApiClient.sanitize_for_serialization`, as kube.py does, to show that conversion yields those
shapes. Nothing here proves what a real controller writes into its conditions or logs beyond what
upstream's CRDs and messages say; see the report for what was not exercised.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from karpenter_check import cluster as cluster_checks
from karpenter_check.cluster import (
    ClusterChecks,
    crd_result,
    deployment_result,
    image_tag,
    kubeconfig_result,
    log_problems,
    log_results,
    node_class_result,
    node_pool_result,
    service_account_result,
)
from karpenter_check.policies import (
    differences,
    irsa_trust_problems,
    normalize,
    pod_identity_trust_problems,
    queue_policy_problems,
    trust_modes,
)
from karpenter_check.results import Result, exit_code, render_table
from karpenter_check.scale_test import (
    DEPLOYMENT,
    NAMESPACE,
    Interrupted,
    ScaleTest,
    cpu_request,
    deployment_body,
    interrupts_raise,
    millicores,
)
from karpenter_check.synthesized import Synthesized, UnresolvedReference, reference_values, resolve, unescape
from karpenter_model.documents.iam import irsa_trust_policy
from karpenter_model.documents.interruption import queue_policy
from karpenter_model.releases import PROFILES
from tests.conftest import make_config, require

ENDPOINT = "https://ABCDEF0123456789.gr7.us-east-1.eks.amazonaws.com"
ROLE_ARN = "arn:aws:iam::123456789012:role/aws-2026-eks-karpenter-controller"


def true(kind: str) -> dict[str, Any]:
    return {"type": kind, "status": "True", "reason": kind, "message": "", "lastTransitionTime": "2026-11-21T10:00:00Z"}


def false(kind: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": kind, "status": "False", "reason": reason, "message": message, "lastTransitionTime": "2026-11-21T10:00:00Z"}


def crd(name: str, established: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
        "status": {
            "conditions": [
                true("NamesAccepted"),
                true("Established")
                if established
                else false("Established", "Installing", "the initial names have not been accepted"),
            ]
        },
    }


def deployment(version: str = "0.37.2", *, available: bool = True, ready: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "karpenter", "namespace": "karpenter"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/instance": "karpenter", "app.kubernetes.io/name": "karpenter"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/instance": "karpenter", "app.kubernetes.io/name": "karpenter"}},
                "spec": {
                    "containers": [
                        {"name": "controller", "image": f"public.ecr.aws/karpenter/controller:{version}@sha256:{'0' * 64}"}
                    ]
                },
            },
        },
        "status": {
            "replicas": 1,
            "readyReplicas": ready,
            "conditions": [
                true("Available")
                if available
                else false("Available", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
            ],
        },
    }


def service_account(role_arn: str | None = ROLE_ARN) -> dict[str, Any]:
    annotations = {"eks.amazonaws.com/role-arn": role_arn} if role_arn else {}
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "karpenter", "namespace": "karpenter", "annotations": annotations},
    }


def node_class(name: str = "default", *conditions: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "karpenter.k8s.aws/v1beta1",
        "kind": "EC2NodeClass",
        "metadata": {"name": name},
        "spec": {"amiFamily": "AL2"},
        "status": {
            "subnets": [{"id": "subnet-1", "zone": "us-east-1a"}],
            "securityGroups": [{"id": "sg-1"}],
            "amis": [{"id": "ami-1", "name": "amazon-eks-node-1.30-v20241011"}],
            "instanceProfile": "aws-2026-eks_123",
            "conditions": list(conditions)
            or [
                true("SubnetsReady"),
                true("SecurityGroupsReady"),
                true("AMIsReady"),
                true("InstanceProfileReady"),
                true("Ready"),
            ],
        },
    }


def node_pool(name: str = "default", node_class_name: str = "default", *conditions: dict[str, Any]) -> dict[str, Any]:
    pool: dict[str, Any] = {
        "apiVersion": "karpenter.sh/v1beta1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"nodeClassRef": {"name": node_class_name}}}},
        "status": {"resources": {"cpu": "0"}},
    }
    if conditions:
        pool["status"]["conditions"] = list(conditions)
    return pool


def node(name: str, cpu: str, *, taints: list[dict[str, str]] | None = None, ready: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "spec": {"taints": taints or []},
        "status": {
            "allocatable": {"cpu": cpu, "memory": "3Gi"},
            "conditions": [true("Ready") if ready else false("Ready", "KubeletNotReady", "")],
        },
    }


def log_line(level: str, message: str, error: str = "") -> str:
    entry = {"level": level, "time": "2026-11-21T10:00:00.000Z", "logger": "controller", "message": message, "commit": "490ef94"}
    if error:
        entry["error"] = error
    return json.dumps(entry)


# -- the thin layer's shapes -------------------------------------------------------------------------


def test_typed_models_serialize_to_the_json_shapes_the_checks_read():
    import importlib.util

    require(importlib.util.find_spec("kubernetes") is not None, "the kubernetes package (the check command's client)")
    from kubernetes.client import ApiClient, V1Deployment

    typed = V1Deployment.from_dict(deployment())
    as_json = ApiClient().sanitize_for_serialization(typed)
    assert as_json["status"]["readyReplicas"] == 1 and as_json["spec"]["selector"]["matchLabels"]
    assert (
        deployment_result(as_json, namespace="karpenter", name="karpenter", release=PROFILES["0.37.2"], stack="chart").status
        == "PASS"
    )


# -- each judgement ---------------------------------------------------------------------------------


def test_image_tags():
    assert image_tag(f"public.ecr.aws/karpenter/controller:0.37.2@sha256:{'a' * 64}") == "0.37.2"
    assert image_tag("public.ecr.aws/karpenter/controller:1.0.14") == "1.0.14"
    assert image_tag("registry:5000/karpenter/controller") == ""
    assert image_tag("registry:5000/karpenter/controller:v1.14.1") == "v1.14.1"


def test_deployment():
    ok = deployment_result(deployment(), namespace="karpenter", name="karpenter", release=PROFILES["0.37.2"], stack="chart")
    assert ok.status == "PASS" and "image tag 0.37.2" in ok.detail
    other = deployment_result(
        deployment("0.37.8"), namespace="karpenter", name="karpenter", release=PROFILES["0.37.2"], stack="chart"
    )
    assert other.status == "FAIL" and "is not the configured release 0.37.2" in other.detail
    down = deployment_result(
        deployment(available=False, ready=0), namespace="karpenter", name="karpenter", release=PROFILES["0.37.2"], stack="chart"
    )
    assert down.status == "FAIL" and "MinimumReplicasUnavailable" in down.detail and "0/1 replicas ready" in down.detail
    assert "kubectl -n karpenter describe deployment karpenter" in down.fix
    missing = deployment_result(None, namespace="karpenter", name="karpenter", release=PROFILES["0.37.2"], stack="prod-chart")
    assert missing.status == "FAIL" and missing.fix == "npx cdktf deploy prod-chart"


def test_crds():
    assert crd_result("nodepools.karpenter.sh", crd("nodepools.karpenter.sh"), "crds").status == "PASS"
    installing = crd_result("nodepools.karpenter.sh", crd("nodepools.karpenter.sh", established=False), "crds")
    assert installing.status == "FAIL" and "Established=False (Installing" in installing.detail
    assert crd_result("nodepools.karpenter.sh", None, "crds").detail == "not installed"


def test_service_account_annotation():
    ok = service_account_result(
        service_account(), namespace="karpenter", name="karpenter", role_arn=ROLE_ARN, modes=["irsa"], stack="chart"
    )
    assert ok.status == "PASS"
    wrong = service_account_result(
        service_account("arn:aws:iam::123456789012:role/pilotgab-prod-Karpenter-IRSA"),
        namespace="karpenter",
        name="karpenter",
        role_arn=ROLE_ARN,
        modes=["irsa"],
        stack="chart",
    )
    assert wrong.status == "FAIL" and "rollout restart" in wrong.fix
    pod_identity = service_account_result(
        service_account(None), namespace="karpenter", name="karpenter", role_arn=ROLE_ARN, modes=["pod_identity"], stack="chart"
    )
    assert pod_identity.status == "PASS"


def test_node_classes():
    assert node_class_result("default", node_class(), "chart").status == "PASS"
    not_ready = node_class_result(
        "default",
        node_class(
            "default",
            false("SubnetsReady", "SubnetsNotFound", "SubnetSelector did not match any Subnets"),
            true("SecurityGroupsReady"),
            false("AMIsReady", "AMINotFound", "AMISelector did not match any AMIs"),
            false("Ready", "UnhealthyDependents", "SubnetsReady=False, AMIsReady=False"),
        ),
        "chart",
    )
    assert not_ready.status == "FAIL"
    assert "SubnetsReady=False (SubnetsNotFound: SubnetSelector did not match any Subnets)" in not_ready.detail
    assert "node class ...: subnets" in not_ready.fix and "alias (v1)" in not_ready.fix
    older = node_class("default")
    older["status"].pop("conditions")
    assert node_class_result("default", older, "chart").status == "PASS"
    older["status"].pop("amis")
    assert node_class_result("default", older, "chart").status == "FAIL"
    assert node_class_result("default", None, "chart").detail == "not found in the cluster"


def test_node_pools_v1beta1_have_no_conditions():
    assert (
        node_pool_result("default", node_pool(), release=PROFILES["0.37.2"], class_ready={"default": True}, stack="chart").status
        == "PASS"
    )
    waiting = node_pool_result("default", node_pool(), release=PROFILES["0.37.2"], class_ready={"default": False}, stack="chart")
    assert waiting.status == "FAIL" and waiting.fix == "see the 'EC2NodeClass default' row"


def test_node_pools_v1():
    ready = node_pool("default", "default", true("ValidationSucceeded"), true("NodeClassReady"), true("Ready"))
    assert node_pool_result("default", ready, release=PROFILES["1.0.14"], class_ready={}, stack="chart").status == "PASS"
    blocked = node_pool(
        "default",
        "default",
        true("ValidationSucceeded"),
        false("NodeClassReady", "NodeClassNotReady", "EC2NodeClass not ready"),
        false("Ready", "UnhealthyDependents", ""),
    )
    result = node_pool_result("default", blocked, release=PROFILES["1.0.14"], class_ready={}, stack="chart")
    assert result.status == "FAIL" and "NodeClassReady=False" in result.detail and "EC2NodeClass default" in result.fix


def test_kubeconfig_for_another_cluster():
    assert kubeconfig_result(ENDPOINT.lower() + "/", ENDPOINT, "aws-2026-eks", "us-east-1").status == "PASS"
    other = kubeconfig_result("https://kind-control-plane:6443", ENDPOINT, "aws-2026-eks", "us-east-1")
    assert other.status == "FAIL" and "aws eks update-kubeconfig --name aws-2026-eks --region us-east-1" in other.fix


SEED_LOG = "\n".join(
    [
        log_line("INFO", "discovered subnets"),
        log_line(
            "ERROR",
            "failed launching nodeclaim",
            "creating instance, UnauthorizedOperation: You are not authorized to perform this operation. Encoded authorization failure message: abc",
        ),
        log_line(
            "ERROR",
            "Reconciler error",
            "operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 403, api error AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity",
        ),
        log_line("ERROR", "Reconciler error", "no subnets exist given constraints"),
        log_line(
            "ERROR",
            "Reconciler error",
            "creating launch template, InvalidAMIID.NotFound: The image id '[ami-04bcf82576ac8eb1c]' does not exist",
        ),
        "plain text line without JSON: all good",
    ]
)


def test_controller_logs():
    found = log_problems(SEED_LOG)
    assert list(found) == ["AccessDenied", "no subnets found", "AMI not found"]
    assert len(found["AccessDenied"]) == 2
    results = log_results(
        {"karpenter-abc": SEED_LOG}, cluster="aws-2026-eks", infra="infra", namespace="karpenter", deployment="karpenter"
    )
    assert [(r.check, r.status) for r in results] == [
        ("controller logs: AccessDenied", "FAIL"),
        ("controller logs: no subnets found", "FAIL"),
        ("controller logs: AMI not found", "FAIL"),
    ]
    assert "kubectl -n karpenter rollout restart deployment/karpenter" in results[0].fix
    assert "karpenter.sh/discovery=aws-2026-eks" in results[1].fix and "npx cdktf deploy infra" in results[1].fix
    assert "ami-04bcf82576ac8eb1c" in results[2].detail
    clean = log_results(
        {"karpenter-abc": log_line("INFO", "discovered subnets")},
        cluster="c",
        infra="infra",
        namespace="karpenter",
        deployment="karpenter",
    )
    assert [(r.check, r.status) for r in clean] == [("controller logs", "PASS")]
    assert log_results({}, cluster="c", infra="infra", namespace="karpenter", deployment="karpenter")[0].status == "FAIL"


# -- the cluster checks end to end, through a fake of kube.py's interface --------------------------


class FakeKube:
    """kube.Kube in memory: what a cluster with Karpenter 0.37.2 installed by the three stacks returns."""

    def __init__(self, host: str = ENDPOINT) -> None:
        self.host = host
        self.crds = {
            name: crd(name) for name in ("ec2nodeclasses.karpenter.k8s.aws", "nodeclaims.karpenter.sh", "nodepools.karpenter.sh")
        }
        self.deployments = {("karpenter", "karpenter"): deployment()}
        self.accounts = {("karpenter", "karpenter"): service_account()}
        self.objects: dict[str, list[dict[str, Any]]] = {
            "ec2nodeclasses": [node_class()],
            "nodepools": [node_pool()],
            "nodeclaims": [],
        }
        self.logs = {"karpenter-5d7c9b8b4-abcde": log_line("INFO", "discovered subnets")}
        self.node_list = [
            node("ip-10-0-1-1", "1930m", taints=[{"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}])
        ]
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.node_pods: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[str] = []
        self.on_poll: Any = None  # called on each nodeclaims list: a test's stand-in for the controller

    def crd(self, name: str) -> dict[str, Any] | None:
        return self.crds.get(name)

    def deployment(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.deployments.get((namespace, name))

    def service_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.accounts.get((namespace, name))

    def pods(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        assert label_selector == "app.kubernetes.io/instance=karpenter,app.kubernetes.io/name=karpenter"
        return [{"metadata": {"name": name, "namespace": namespace}} for name in self.logs]

    def pods_on_node(self, node_name: str) -> list[dict[str, Any]]:
        return self.node_pods.get(node_name, [])

    def pod_log(self, namespace: str, pod: str, container: str | None, since_seconds: int) -> str:
        assert container == "controller" and since_seconds == 3600
        return self.logs[pod]

    def custom_objects(self, group: str, version: str, plural: str) -> list[dict[str, Any]]:
        if plural == "nodeclaims" and self.on_poll:
            self.on_poll(self)
        return copy.deepcopy(self.objects.get(plural, []))

    def delete_custom_object(self, group: str, version: str, plural: str, name: str) -> None:
        self.calls.append(f"delete {plural}/{name}")
        self.objects[plural] = [o for o in self.objects[plural] if o["metadata"]["name"] != name]

    def nodes(self) -> list[dict[str, Any]]:
        return self.node_list

    def namespace(self, name: str) -> dict[str, Any] | None:
        return self.namespaces.get(name)

    def create_namespace(self, name: str, labels: dict[str, str]) -> None:
        self.calls.append(f"create namespace/{name}")
        self.namespaces[name] = {"metadata": {"name": name, "labels": labels}}

    def delete_namespace(self, name: str) -> None:
        self.calls.append(f"delete namespace/{name}")
        self.namespaces.pop(name, None)

    def create_deployment(self, namespace: str, body: dict[str, Any]) -> None:
        self.calls.append(f"create deployment/{namespace}/{body['metadata']['name']}")
        self.created = body


@pytest.fixture(scope="module")
def synthesized(synth_config) -> Synthesized:
    config = make_config()
    return Synthesized.load(synth_config.outdir(config), config.stack_name)


def cluster_rows(kube: FakeKube, synthesized: Synthesized, endpoint: str = ENDPOINT) -> list[Result]:
    return ClusterChecks(
        make_config(), synthesized, kube, endpoint=endpoint, controller_role_arn=ROLE_ARN, trust_modes=["irsa"]
    ).run()


def test_a_healthy_cluster(synthesized):
    results = cluster_rows(FakeKube(), synthesized)
    assert [(r.check, r.status) for r in results] == [
        ("kubeconfig", "PASS"),
        ("crd ec2nodeclasses.karpenter.k8s.aws", "PASS"),
        ("crd nodeclaims.karpenter.sh", "PASS"),
        ("crd nodepools.karpenter.sh", "PASS"),
        ("controller deployment", "PASS"),
        ("controller service account", "PASS"),
        ("EC2NodeClass default", "PASS"),
        ("NodePool default", "PASS"),
        ("controller logs", "PASS"),
    ]
    assert exit_code(results) == 0


def test_the_seeds_failures_in_one_table(synthesized):
    kube = FakeKube()
    kube.logs = {"karpenter-5d7c9b8b4-abcde": SEED_LOG}
    kube.objects["ec2nodeclasses"] = [
        node_class(
            "default",
            false("AMIsReady", "AMINotFound", "AMISelector did not match any AMIs"),
            false("Ready", "UnhealthyDependents", ""),
        )
    ]
    results = cluster_rows(kube, synthesized)
    failures = {r.check for r in results if r.status == "FAIL"}
    assert failures == {
        "EC2NodeClass default",
        "NodePool default",
        "controller logs: AccessDenied",
        "controller logs: no subnets found",
        "controller logs: AMI not found",
    }
    assert exit_code(results) == 1
    table = render_table(results, width=140)
    assert all(len(line) <= 140 for line in table.splitlines())


def test_kubeconfig_for_another_cluster_stops_the_cluster_checks(synthesized):
    kube = FakeKube(host="https://127.0.0.1:6443")
    results = cluster_rows(kube, synthesized)
    assert [(r.check, r.status) for r in results] == [("kubeconfig", "FAIL"), ("cluster checks", "SKIP")]


# -- the scale test ---------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def claim(name: str, *conditions: dict[str, Any], node_name: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "karpenter.sh/v1beta1",
        "kind": "NodeClaim",
        "metadata": {
            "name": name,
            "labels": {
                "node.kubernetes.io/instance-type": "t3.xlarge",
                "topology.kubernetes.io/zone": "us-east-1b",
                "karpenter.sh/capacity-type": "spot",
            },
        },
        "status": {"conditions": list(conditions)},
    }
    if node_name:
        body["status"]["nodeName"] = node_name
    return body


def test_quantities_and_the_cpu_request():
    assert millicores("1930m") == 1930 and millicores("2") == 2000 and millicores("1.5") == 1500
    with pytest.raises(ValueError, match="not a CPU quantity"):
        millicores("lots")
    # The tainted system node does not count (the test pod tolerates nothing); an untainted 4-core node does.
    nodes = [
        node("system", "1930m", taints=[{"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}]),
        node("worker", "3920m"),
        node("broken", "15890m", ready=False),
    ]
    assert cpu_request(nodes) == 4020
    assert cpu_request(nodes[:1]) == 1000
    body = deployment_body(4020)
    container = body["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"]["cpu"] == "4020m" and "tolerations" not in body["spec"]["template"]["spec"]


def test_scale_test_times_a_node_and_removes_everything():
    kube, clock = FakeKube(), Clock()
    kube.objects["nodeclaims"] = [claim("default-old", true("Ready"), node_name="ip-old")]
    polls = {"n": 0}

    def controller(fake: FakeKube) -> None:  # the NodeClaim appears on the 2nd poll and is Ready on the 4th
        polls["n"] += 1
        if polls["n"] == 2:
            fake.objects["nodeclaims"].append(claim("default-x7k2p", true("Launched"), node_name="ip-10-0-2-7"))
        if polls["n"] == 4:
            fake.objects["nodeclaims"][-1] = claim(
                "default-x7k2p", true("Launched"), true("Registered"), true("Initialized"), true("Ready"), node_name="ip-10-0-2-7"
            )

    kube.on_poll = controller
    kube.node_pods["ip-10-0-2-7"] = [
        {
            "metadata": {
                "name": "aws-node-1",
                "namespace": "kube-system",
                "ownerReferences": [{"kind": "DaemonSet", "name": "aws-node"}],
            }
        },
        {"metadata": {"name": "inflate-1", "namespace": NAMESPACE}},
    ]
    result = ScaleTest(kube, release=PROFILES["0.37.2"], timeout=300, clock=clock, sleep=clock.sleep).run()
    assert result.status == "PASS", result
    assert (
        "NodeClaim default-x7k2p (t3.xlarge, us-east-1b, spot) Ready 10 s after the pod was created (1000m CPU)" in result.detail
    )
    assert kube.calls == [
        f"create namespace/{NAMESPACE}",
        f"create deployment/{NAMESPACE}/{DEPLOYMENT}",
        f"delete namespace/{NAMESPACE}",
        "delete nodeclaims/default-x7k2p",
    ]
    assert [c["metadata"]["name"] for c in kube.objects["nodeclaims"]] == ["default-old"]


def test_scale_test_timeout_still_cleans_up_and_leaves_busy_nodes():
    kube, clock = FakeKube(), Clock()

    def controller(fake: FakeKube) -> None:
        if NAMESPACE in fake.namespaces and not fake.objects["nodeclaims"]:  # a NodeClaim for the test's pod
            fake.objects["nodeclaims"].append(
                claim(
                    "default-slow",
                    true("Launched"),
                    false("Registered", "NodeNotFound", "Node not registered with cluster"),
                    node_name="ip-1",
                )
            )

    kube.on_poll = controller
    kube.node_pods["ip-1"] = [{"metadata": {"name": "web-1", "namespace": "shop"}, "status": {"phase": "Running"}}]
    result = ScaleTest(kube, release=PROFILES["0.37.2"], timeout=60, clock=clock, sleep=clock.sleep).run()
    assert result.status == "FAIL"
    assert "not Ready within 60 s" in result.detail and "Registered=False" in result.detail
    assert "left NodeClaim default-slow: it now runs 1 other pods" in result.detail
    assert f"delete namespace/{NAMESPACE}" in kube.calls and not any(c.startswith("delete nodeclaims") for c in kube.calls)


def test_scale_test_refuses_a_namespace_it_did_not_make():
    kube = FakeKube()
    kube.namespaces[NAMESPACE] = {"metadata": {"name": NAMESPACE, "labels": {"team": "someone"}}}
    result = ScaleTest(kube, release=PROFILES["0.37.2"]).run()
    assert result.status == "FAIL" and "was not made by this check" in result.detail and kube.calls == []


def test_scale_test_cleans_up_on_an_api_error():
    kube, clock = FakeKube(), Clock()

    def broken(_body: Any, *_args: Any) -> None:
        raise RuntimeError("admission webhook denied the request")

    kube.create_deployment = lambda namespace, body: broken(body)  # type: ignore[method-assign]
    result = ScaleTest(kube, release=PROFILES["0.37.2"], clock=clock, sleep=clock.sleep).run()
    assert result.status == "FAIL" and "admission webhook denied" in result.detail
    assert kube.calls == [f"create namespace/{NAMESPACE}", f"delete namespace/{NAMESPACE}"]


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signal handlers need the main thread")
def test_scale_test_cleans_up_when_interrupted_by_a_signal():
    kube, clock = FakeKube(), Clock()

    def sleep_then_signal(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= 10 and f"delete namespace/{NAMESPACE}" not in kube.calls:
            os.kill(os.getpid(), signal.SIGTERM)  # what `kill` or a CI runner's stop sends

    def controller(fake: FakeKube) -> None:
        if NAMESPACE in fake.namespaces and not fake.objects["nodeclaims"]:
            fake.objects["nodeclaims"].append(claim("default-new", true("Launched")))

    kube.on_poll = controller
    before = signal.getsignal(signal.SIGTERM)
    result = ScaleTest(kube, release=PROFILES["0.37.2"], timeout=300, clock=clock, sleep=sleep_then_signal).run()
    assert result.status == "FAIL" and result.detail.startswith("interrupted by SIGTERM")
    assert f"delete namespace/{NAMESPACE}" in kube.calls and "delete nodeclaims/default-new" in kube.calls
    assert signal.getsignal(signal.SIGTERM) is before  # handlers restored


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signal handlers need the main thread")
def test_a_signal_during_cleanup_does_not_stop_it():
    kube, clock = FakeKube(), Clock()
    logged: list[str] = []

    def controller(fake: FakeKube) -> None:
        if NAMESPACE in fake.namespaces and not fake.objects["nodeclaims"]:
            fake.objects["nodeclaims"].append(claim("default-new", true("Launched"), true("Ready")))

    kube.on_poll = controller
    delete_namespace = kube.delete_namespace

    def impatient_delete(name: str) -> None:  # the operator presses Ctrl-C again while the namespace goes away
        os.kill(os.getpid(), signal.SIGINT)
        delete_namespace(name)

    kube.delete_namespace = impatient_delete  # type: ignore[method-assign]
    result = ScaleTest(kube, release=PROFILES["0.37.2"], clock=clock, sleep=clock.sleep, log=logged.append).run()
    assert result.status == "PASS" and "NodeClaim default-new deleted" in result.detail
    assert logged[-1].startswith("SIGINT: still cleaning up")


def test_interrupts_raise_turns_sigint_into_an_exception():
    def signalled() -> None:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
        threading.Event().wait(1)  # the handler runs here and raises

    with pytest.raises(Interrupted, match="SIGINT"), interrupts_raise():
        signalled()


# -- documents --------------------------------------------------------------------------------------


HOST = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{HOST}"


def test_irsa_trust():
    doc = irsa_trust_policy(oidc_provider_arn=PROVIDER, issuer_host=HOST, namespace="karpenter", service_account="karpenter")
    assert trust_modes(doc) == ["irsa"]
    assert (
        irsa_trust_problems(doc, provider_arn=PROVIDER, issuer_host=HOST, namespace="karpenter", service_account="karpenter")
        == []
    )
    assert irsa_trust_problems(
        doc, provider_arn=PROVIDER.replace("ABC", "XYZ"), issuer_host=HOST, namespace="karpenter", service_account="karpenter"
    )[0].startswith("no statement trusts the cluster's OIDC provider")
    wildcard = copy.deepcopy(doc)
    condition = wildcard["Statement"][0]["Condition"]
    condition["StringLike"] = {f"{HOST}:sub": "system:serviceaccount:karpenter:*"}
    del condition["StringEquals"][f"{HOST}:sub"]
    assert (
        irsa_trust_problems(wildcard, provider_arn=PROVIDER, issuer_host=HOST, namespace="karpenter", service_account="karpenter")
        == []
    )
    wrong_audience = copy.deepcopy(doc)
    wrong_audience["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:aud"] = "sts.example.com"
    assert (
        "aud allows sts.example.com"
        in irsa_trust_problems(
            wrong_audience, provider_arn=PROVIDER, issuer_host=HOST, namespace="karpenter", service_account="karpenter"
        )[0]
    )


def test_pod_identity_trust():
    # What EKS Pod Identity needs: the pods.eks.amazonaws.com service may AssumeRole and TagSession.
    doc: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
    assert trust_modes(doc) == ["pod_identity"] and pod_identity_trust_problems(doc) == []
    doc["Statement"][0]["Action"] = "sts:AssumeRole"
    assert pod_identity_trust_problems(doc) == ["pods.eks.amazonaws.com is not allowed sts:TagSession"]
    both = irsa_trust_policy(oidc_provider_arn=PROVIDER, issuer_host=HOST, namespace="karpenter", service_account="karpenter")
    both["Statement"].append(
        {"Effect": "Allow", "Principal": {"Service": ["pods.eks.amazonaws.com"]}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
    )
    assert trust_modes(both) == ["irsa", "pod_identity"]  # during a migration both are checked


def test_queue_policy():
    arn = "arn:aws:sqs:us-east-1:123456789012:q"
    assert queue_policy_problems(queue_policy(arn), arn) == []
    assert queue_policy_problems(queue_policy(arn), arn + "-other")[0].startswith("no statement allows")
    deny = queue_policy(arn)
    deny["Statement"].append(
        {
            "Sid": "NoEvents",
            "Effect": "Deny",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:*",
            "Resource": arn,
        }
    )
    assert queue_policy_problems(deny, arn) == ["statement NoEvents denies sqs:SendMessage unconditionally"]


def test_policy_comparison_is_about_meaning():
    a: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "A",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": ["*"],
                "Condition": {"Bool": {"aws:SecureTransport": False}},
            }
        ],
    }
    b: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "A",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    assert normalize(a) == normalize(b) and differences(a, b) == []
    c = copy.deepcopy(b)
    c["Statement"].append({"Sid": "B", "Effect": "Allow", "Action": "*", "Resource": "*"})
    assert differences(a, c) == ["unexpected statements B"]


def test_references_are_resolved_or_refused():
    values = reference_values(
        partition="aws-cn", region="cn-north-1", account="1", queue_arn="q", node_role_arn="r", issuer_host="h"
    )
    text = "arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}::image/* $${literal} %%{x} ${data.aws_partition.current.dns_suffix}"
    assert resolve(text, values) == "arn:aws-cn:ec2:cn-north-1::image/* ${literal} %{x} amazonaws.com.cn"
    with pytest.raises(UnresolvedReference, match=r"\$\{aws_iam_role.other.arn\}"):
        resolve("${aws_iam_role.other.arn}", values)
    assert unescape({"a": ["$${HOME}"]}) == {"a": ["${HOME}"]}


def test_every_reference_of_the_synthesized_infra_stack_is_known(synthesized):
    values = reference_values(
        partition="aws", region="us-east-1", account="123456789012", queue_arn="q", node_role_arn="r", issuer_host="h"
    )
    for policy in synthesized.controller_policies():
        json.loads(resolve(policy.template, values))
    json.loads(resolve(synthesized.controller_trust(), values))
    assert [m["metadata"]["name"] for m in synthesized.manifests("EC2NodeClass")] == ["default"]
    assert synthesized.helm_release("chart", "karpenter")["version"] == "0.37.2"


def test_the_package_imports_no_kubernetes_until_the_cluster_is_checked(subprocesses):
    # --no-cluster and the AWS half must work without the kubernetes package installed.
    import subprocess
    import sys

    code = "import sys, karpenter_check.cli, karpenter_check.aws, karpenter_check.cluster, karpenter_check.scale_test; print('kubernetes' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent
    )
    assert out.stdout.strip() == "False"


def test_cluster_module_has_the_log_kinds_of_seed_004():
    assert [p.kind for p in cluster_checks.LOG_PROBLEMS] == [
        "AccessDenied",
        "no subnets found",
        "no security groups found",
        "AMI not found",
    ]
