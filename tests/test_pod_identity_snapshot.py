"""Snapshots of the three stacks with `karpenter.identity: pod_identity`, and during the switch from IRSA.

Kept apart from the example snapshots (tests/test_infra_stack.py, tests/test_chart_stacks.py): these configs are
not bundled examples. The first release and the current one; review and accept changes with
`.venv/bin/python -m pytest tests/test_pod_identity_snapshot.py --snapshot-update`.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from karpenter_model.config import KarpenterConfig
from tests.conftest import config_for_cluster

THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"

# name: (bundled example, karpenter settings added to it)
CONFIGS = {
    "0.37.2-pod-identity": ("aws-2026-eks", {"identity": "pod_identity"}),
    "1.14.1-pod-identity": ("aws-2026-eks-1.14.1", {"identity": "pod_identity"}),
    "0.37.2-switch-from-irsa": ("aws-2026-eks", {"identity": "pod_identity", "previous_identity": "irsa"}),
}


def config(name: str) -> KarpenterConfig:
    example, settings = CONFIGS[name]
    data = config_for_cluster("aws-2026-eks", example).model_dump(mode="json", exclude_unset=True)
    data["karpenter"] = {**data["karpenter"], **settings}
    if "irsa" in (settings.get("identity"), settings.get("previous_identity")):
        data["oidc"] = {"thumbprints": [THUMBPRINT]}  # the snapshot does not depend on the tls lookup
    return KarpenterConfig.model_validate(data)


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", ["infra", "crds", "chart"])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_pod_identity_snapshot(name, stack, synth_config, snapshot_json):
    assert synth_config(config(name))[stack] == snapshot_json
