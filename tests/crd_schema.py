"""Validate objects against the upstream CRDs' own openAPIV3Schema, as the API server's schema check would."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
import yaml

from tests.conftest import REFERENCE

CRD_FILES = {
    ("karpenter.sh/v1beta1", "NodePool"): "karpenter.sh_nodepools.yaml",
    ("karpenter.k8s.aws/v1beta1", "EC2NodeClass"): "karpenter.k8s.aws_ec2nodeclasses.yaml",
}


def _to_json_schema(node: Any) -> Any:
    """Kubernetes structural schema -> JSON Schema: int-or-string and the x-kubernetes-* keywords."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _to_json_schema(value) for key, value in node.items() if not key.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        converted.pop("type", None)
        pattern = converted.pop("pattern", None)
        converted["anyOf"] = [{"type": "integer"}, {"type": "string", **({"pattern": pattern} if pattern else {})}]
    if converted.get("type") == "object" and "properties" in converted and "additionalProperties" not in converted:
        converted["additionalProperties"] = False  # strict field validation, as kubectl applies by default
    return converted


@cache
def schema_for(api_version: str, kind: str) -> dict[str, Any]:
    crd = yaml.safe_load((REFERENCE / CRD_FILES[(api_version, kind)]).read_text())
    version = api_version.split("/")[1]
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = _to_json_schema(served["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema_for(manifest["apiVersion"], manifest["kind"]))
    return [f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(manifest)]
