"""What each release's controller checks on NodePools the API server admitted (NodePool.RuntimeValidate),
as data: the well-known labels, the restricted label domains, the requirement operators. The checks
themselves are in `crd_validation/_runtime.py`; each profile names the table its release uses.

Ported from kubernetes-sigs/karpenter pkg/apis/{v1beta1,v1}/{nodepool,nodeclaim}_validation.go and
labels.go (v0.37.2, v0.37.7, v1.0.9, v1.14.1 as pinned by aws/karpenter-provider-aws v0.37.2,
v0.37.8, v1.0.14, v1.14.1), with the provider's additions from its pkg/apis/*/labels.go init().
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, eq=False)  # one table per generation, compared by identity (it holds a mapping)
class NodePoolRules:
    well_known: frozenset[str]  # labels a NodePool may set or require although their domain is restricted
    restricted_domains: frozenset[str]
    exceptions: frozenset[str]  # domain suffixes exempt from the restriction (suffix matching only)
    operators: tuple[str, ...]  # the requirement operators the controller accepts
    known_values: Mapping[str, frozenset[str]]  # well-known labels whose `In` values must include a known one
    exact_domains: bool  # a restricted domain matches itself and its subdomains; otherwise any plain suffix


_CORE = frozenset(
    {
        "karpenter.sh/nodepool",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "node.kubernetes.io/instance-type",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "karpenter.sh/capacity-type",
        "node.kubernetes.io/windows-build",
    }
)
_AWS_INSTANCE = frozenset(
    {
        f"karpenter.k8s.aws/instance-{n}"
        for n in (
            "hypervisor",
            "encryption-in-transit-supported",
            "category",
            "family",
            "generation",
            "size",
            "local-nvme",
            "cpu",
            "cpu-manufacturer",
            "memory",
            "ebs-bandwidth",
            "network-bandwidth",
            "gpu-name",
            "gpu-manufacturer",
            "gpu-count",
            "gpu-memory",
            "accelerator-name",
            "accelerator-manufacturer",
            "accelerator-count",
        )
    }
    | {"topology.k8s.aws/zone-id"}
)
_AWS_CAPACITY_AND_PLACEMENT = frozenset(
    f"karpenter.k8s.aws/{n}"
    for n in (
        "capacity-reservation-id",
        "capacity-reservation-type",
        "capacity-reservation-interruptible",
        "instance-capability-flex",
        "instance-cpu-sustained-clock-speed-mhz",
        "instance-tenancy",
        "placement-group-id",
        "placement-group-partition",
    )
)
_OPERATORS = ("In", "NotIn", "Gt", "Lt", "Exists", "DoesNotExist")

# v0.37's labels.go; v1.0 kept it unchanged.
NODE_POOL_RULES_V0_37 = NodePoolRules(
    well_known=_CORE | _AWS_INSTANCE,
    restricted_domains=frozenset({"kubernetes.io", "k8s.io", "karpenter.sh", "karpenter.k8s.aws"}),
    exceptions=frozenset({"kops.k8s.io", "node.kubernetes.io", "node-restriction.kubernetes.io"}),
    operators=_OPERATORS,
    known_values={},
    exact_domains=False,
)
NODE_POOL_RULES_V1_14 = NodePoolRules(
    well_known=_CORE | _AWS_INSTANCE | _AWS_CAPACITY_AND_PLACEMENT,
    restricted_domains=frozenset({"karpenter.sh", "karpenter.k8s.aws"}),
    exceptions=frozenset(),
    operators=(*_OPERATORS, "Gte", "Lte"),
    known_values={
        "karpenter.sh/capacity-type": frozenset({"on-demand", "spot", "reserved"}),
        "karpenter.k8s.aws/instance-tenancy": frozenset({"dedicated", "default"}),
    },
    exact_domains=True,
)
