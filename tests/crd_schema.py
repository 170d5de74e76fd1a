"""Validate objects against the upstream CRDs' own openAPIV3Schema, as the API server's schema check would."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema

from karpenter_model.crd_validation import load_crd
from karpenter_model.releases import PROFILES


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
def schema_for(release: str, api_version: str, kind: str) -> dict[str, Any]:
    crd = load_crd(PROFILES[release], kind)  # the file only; the schema check below is jsonschema's, not the app's
    version = api_version.split("/")[1]
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = _to_json_schema(served["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


def schema_errors(release: str, manifest: dict[str, Any]) -> list[str]:
    """Problems jsonschema finds with `manifest` against the CRD of `release`: an oracle independent of the app's validator."""
    validator = jsonschema.Draft7Validator(schema_for(release, manifest["apiVersion"], manifest["kind"]))
    return [f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(manifest)]
