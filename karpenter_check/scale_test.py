"""`check --scale-test`: make Karpenter launch one node, time it, and remove everything the test made.

A pause Deployment (one replica) in its own namespace requests more CPU than any existing
untainted node can offer (its allocatable CPU plus 100m, at least one core; `--scale-test-cpu`
overrides), tolerates nothing, and so can only run on a new node. The test waits for a NodeClaim
that did not exist before to become Ready and reports the time. Whatever happens (success,
timeout, an API error, Ctrl-C, SIGTERM, SIGHUP), the `finally` deletes the namespace (and so the
Deployment and its pod) and the NodeClaims created during the test whose node runs nothing else,
so Karpenter terminates their instances. A NodeClaim another workload moved onto is left for
Karpenter's consolidation, and the row says so.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from karpenter_check.cluster import is_true
from karpenter_check.kube import Kube
from karpenter_check.results import Result, failed, passed
from karpenter_model.releases import NODE_POOL_GROUP, ReleaseProfile

NAMESPACE = "karpenter-check"
DEPLOYMENT = "karpenter-check-inflate"
LABELS = {"app.kubernetes.io/managed-by": "karpenter-check", "app.kubernetes.io/name": DEPLOYMENT}
PAUSE_IMAGE = "public.ecr.aws/eks-distro/kubernetes/pause:3.7"  # the image seed 004's scaling test uses
POLL_SECONDS = 5
CLEANUP_SECONDS = 180
CHECK = "scale test"


class Interrupted(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


SIGNALS = (signal.SIGINT, signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))


class Signals:
    """One handler for SIGINT, SIGTERM and SIGHUP from before the test makes anything until its cleanup ends.

    While the test runs a signal raises `Interrupted`, so the `finally` that cleans up runs; once
    cleanup has begun (`cleaning = True`) a signal is reported and otherwise ignored, since stopping
    half-way would leave a node behind. No gap between the two: the handler stays installed throughout.
    Outside the main thread (where Python allows no handlers) it does nothing.
    """

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.cleaning = False
        self._previous: dict[int, Any] = {}

    def _handle(self, number: int, _frame: Any) -> None:
        name = signal.Signals(number).name
        if self.cleaning:
            self.log(
                f"{name}: still cleaning up (at most {CLEANUP_SECONDS} s); kill -9 now would leave the test's objects behind"
            )
            return
        raise Interrupted(name)

    def __enter__(self) -> Signals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {number: signal.signal(number, self._handle) for number in SIGNALS}
        return self

    def __exit__(self, *_exc: object) -> None:
        for number, old in self._previous.items():
            signal.signal(number, old)


@contextmanager
def interrupts_raise() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise `Interrupted` inside the block."""
    with Signals(lambda _message: None):
        yield


def millicores(quantity: str) -> int:
    """A Kubernetes CPU quantity in millicores: `1930m` -> 1930, `2` -> 2000, `1.5` -> 1500."""
    text = str(quantity).strip()
    try:
        return int(Decimal(text[:-1])) if text.endswith("m") else int(Decimal(text) * 1000)
    except InvalidOperation:
        raise ValueError(f"not a CPU quantity: {quantity!r}") from None


def _schedulable(node: dict[str, Any]) -> bool:
    spec = node.get("spec") or {}
    hard = [t for t in spec.get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")]
    return not spec.get("unschedulable") and not hard and is_true(node, "Ready")


def cpu_request(nodes: list[dict[str, Any]]) -> int:
    """Millicores no existing node can fit: above every untainted Ready node's allocatable CPU, at least one core."""
    allocatable = [millicores((n.get("status") or {}).get("allocatable", {}).get("cpu", "0")) for n in nodes if _schedulable(n)]
    return max([1000] + [a + 100 for a in allocatable])


def deployment_body(cpu_m: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": DEPLOYMENT, "namespace": NAMESPACE, "labels": LABELS},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": DEPLOYMENT}},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "containers": [
                        {
                            "name": "pause",
                            "image": PAUSE_IMAGE,
                            "resources": {"requests": {"cpu": f"{cpu_m}m", "memory": "64Mi"}},
                            "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 65535},
                        }
                    ],
                },
            },
        },
    }


def nodeclaim_ready(claim: dict[str, Any]) -> bool:
    """Ready (v1, and 0.37's status conditions); Initialized, the last lifecycle condition, where Ready is not reported."""
    return is_true(claim, "Ready") or is_true(claim, "Initialized")


def describe_claim(claim: dict[str, Any]) -> str:
    labels = (claim.get("metadata") or {}).get("labels") or {}
    facts = [
        labels.get(k) for k in ("node.kubernetes.io/instance-type", "topology.kubernetes.io/zone", "karpenter.sh/capacity-type")
    ]
    shown = ", ".join(f for f in facts if f)
    return f"{claim['metadata']['name']}" + (f" ({shown})" if shown else "")


def _claims(kube: Kube, api_version: str) -> list[dict[str, Any]]:
    return kube.custom_objects(NODE_POOL_GROUP, api_version, "nodeclaims")


class ScaleTest:
    def __init__(
        self,
        kube: Kube,
        *,
        release: ReleaseProfile,
        timeout: float = 600,
        cpu: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] = lambda _message: None,
    ) -> None:
        self.kube, self.api_version, self.timeout, self.cpu = kube, release.api_version, timeout, cpu
        self.clock, self.sleep, self.log = clock, sleep, log
        self.before: set[str] = set()
        self.created_namespace = False

    def run(self) -> Result:
        existing = self.kube.namespace(NAMESPACE)
        if (
            existing is not None
            and ((existing.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/managed-by") != "karpenter-check"
        ):
            return failed(
                CHECK,
                f"namespace {NAMESPACE} exists and was not made by this check",
                "remove it or rename it; the test will not touch it",
            )
        self.before = {c["metadata"]["name"] for c in _claims(self.kube, self.api_version)}
        with Signals(self.log) as signals:
            try:
                if existing is not None:  # left by a run that was killed: start clean
                    self.log(f"removing namespace {NAMESPACE} left by an earlier run")
                    self._delete_namespace()
                result = self._launch()
            except Interrupted as exc:
                result = failed(CHECK, f"interrupted by {exc.name}", "re-run when ready")
            except Exception as exc:  # noqa: BLE001 - reported as the row; cleanup runs below
                result = failed(
                    CHECK,
                    f"error: {type(exc).__name__}: {str(exc)[:300]}",
                    "see the error; check the kubeconfig user may create namespaces and deployments",
                )
            finally:
                while not signals.cleaning:  # a signal landing before this flag is set must not skip the cleanup
                    try:
                        signals.cleaning = True
                    except Interrupted:
                        continue
                notes, clean = self._cleanup()
        detail = f"{result.detail}; cleanup: {notes}"
        if not clean:
            return failed(CHECK, detail, f"remove what is left (see cleanup); {result.fix}".rstrip("; "))
        return Result(result.check, result.status, detail, result.fix)

    def _launch(self) -> Result:
        cpu_m = millicores(self.cpu) if self.cpu else cpu_request(self.kube.nodes())
        start = self.clock()
        self.kube.create_namespace(NAMESPACE, {"app.kubernetes.io/managed-by": "karpenter-check"})
        self.created_namespace = True
        self.kube.create_deployment(NAMESPACE, deployment_body(cpu_m))
        self.log(f"created {NAMESPACE}/{DEPLOYMENT} requesting {cpu_m}m CPU; waiting up to {self.timeout:.0f} s for a NodeClaim")
        new: list[dict[str, Any]] = []
        while self.clock() - start < self.timeout:
            new = [c for c in _claims(self.kube, self.api_version) if c["metadata"]["name"] not in self.before]
            ready = [c for c in new if nodeclaim_ready(c)]
            if ready:
                return passed(
                    CHECK,
                    f"NodeClaim {describe_claim(ready[0])} Ready {self.clock() - start:.0f} s after the pod was created ({cpu_m}m CPU)",
                )
            self.sleep(POLL_SECONDS)
        if not new:
            return failed(
                CHECK,
                f"no NodeClaim within {self.timeout:.0f} s for a pod requesting {cpu_m}m CPU",
                f"kubectl -n {NAMESPACE} describe pod (the scheduler's reason) and the controller logs: no NodePool may allow a type "
                "that large (requirements, limits, taints): use --scale-test-cpu",
            )
        states = "; ".join(
            f"{describe_claim(c)}: "
            + ", ".join(f"{k['type']}={k['status']}" for k in (c.get("status") or {}).get("conditions") or [])
            for c in new
        )
        return failed(
            CHECK,
            f"NodeClaim not Ready within {self.timeout:.0f} s: {states}",
            "kubectl describe nodeclaim <name>; the node may not join (access entry, node role)",
        )

    def _delete_namespace(self) -> None:
        self.kube.delete_namespace(NAMESPACE)
        deadline = self.clock() + CLEANUP_SECONDS
        while self.kube.namespace(NAMESPACE) is not None:
            if self.clock() > deadline:
                raise TimeoutError(f"namespace {NAMESPACE} still terminating after {CLEANUP_SECONDS} s")
            self.sleep(POLL_SECONDS)

    def _cleanup(self) -> tuple[str, bool]:
        notes, clean = [], True
        try:
            if self.created_namespace or self.kube.namespace(NAMESPACE) is not None:
                self._delete_namespace()
                notes.append(f"namespace {NAMESPACE} deleted")
            for claim in _claims(self.kube, self.api_version):
                name = claim["metadata"]["name"]
                if name in self.before:
                    continue
                node = (claim.get("status") or {}).get("nodeName")
                others = [p for p in self.kube.pods_on_node(node) if not _ignorable(p)] if node else []
                if others:
                    notes.append(
                        f"left NodeClaim {name}: it now runs {len(others)} other pods (Karpenter consolidates it when empty)"
                    )
                    continue
                self.kube.delete_custom_object(NODE_POOL_GROUP, self.api_version, "nodeclaims", name)
                notes.append(f"NodeClaim {name} deleted (Karpenter terminates its instance)")
        except Exception as exc:  # noqa: BLE001 - the row must say what is left
            clean = False
            notes.append(
                f"FAILED ({type(exc).__name__}: {str(exc)[:200]}); remove by hand: kubectl delete namespace {NAMESPACE}; "
                "kubectl get nodeclaims, and kubectl delete nodeclaim <name> for those the test created"
            )
        return "; ".join(notes) or "nothing to remove", clean


def _ignorable(pod: dict[str, Any]) -> bool:
    """DaemonSet and mirror pods run on every node, and the test's own pods are going away."""
    metadata = pod.get("metadata") or {}
    owners = metadata.get("ownerReferences") or []
    return (
        metadata.get("namespace") == NAMESPACE
        or any(o.get("kind") == "DaemonSet" for o in owners)
        or "kubernetes.io/config.mirror" in (metadata.get("annotations") or {})
        or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
    )
