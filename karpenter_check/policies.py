"""IAM and SQS policy documents compared and read for what they allow: pure functions, no AWS calls."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from karpenter_model.documents.interruption import EVENTBRIDGE_KEY_ACTIONS, EVENTS_SERVICE

IRSA_ACTION = "sts:AssumeRoleWithWebIdentity"
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = ("sts:AssumeRole", "sts:TagSession")
STS_AUDIENCE = "sts.amazonaws.com"


def document(value: Any) -> dict[str, Any]:
    """A policy document as boto3 returns it (a dict; a JSON or URL-encoded JSON string from some APIs)."""
    if isinstance(value, dict):
        return value
    text = str(value)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = json.loads(unquote(text))
    if not isinstance(parsed, dict):
        raise ValueError("a policy document must be a JSON object")
    return parsed


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _strings(value: Any) -> list[str]:
    return sorted(
        {
            json.dumps(v) if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v)
            for v in _as_list(value)
        }
    )


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _as_list(doc.get("Statement")) if isinstance(s, dict)]


def normalize_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """One statement in a canonical form: single values as sorted lists, condition values as strings.

    IAM stores what it was sent; Terraform sends what the stack holds. Normalizing makes the
    comparison about meaning (`"Action": "x"` equals `"Action": ["x"]`), not about spelling.
    """
    normal: dict[str, Any] = {}
    for key, value in statement.items():
        if key in ("Action", "NotAction", "Resource", "NotResource"):
            normal[key] = _strings(value)
        elif key in ("Principal", "NotPrincipal"):
            normal[key] = value if isinstance(value, str) else {k: _strings(v) for k, v in sorted(value.items())}
        elif key == "Condition":
            normal[key] = {op: {k: _strings(v) for k, v in sorted(keys.items())} for op, keys in sorted(value.items())}
        else:
            normal[key] = value
    return normal


def normalize(doc: dict[str, Any]) -> dict[str, Any]:
    normal = {k: v for k, v in doc.items() if k != "Statement"}
    normal["Statement"] = sorted((normalize_statement(s) for s in statements(doc)), key=lambda s: json.dumps(s, sort_keys=True))
    return normal


def differences(expected: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """What differs between two policy documents, by statement Sid; empty when they mean the same."""
    want, have = normalize(expected), normalize(live)
    if want == have:
        return []
    problems = []
    for key in sorted((set(want) | set(have)) - {"Statement"}):
        if want.get(key) != have.get(key):
            problems.append(f"{key} is {have.get(key)!r}, expected {want.get(key)!r}")

    def by_sid(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for statement in doc["Statement"]:
            grouped.setdefault(str(statement.get("Sid", "(no Sid)")), []).append(statement)
        return grouped

    wanted, had = by_sid(want), by_sid(have)
    missing = sorted(set(wanted) - set(had))
    extra = sorted(set(had) - set(wanted))
    changed = sorted(sid for sid in set(wanted) & set(had) if wanted[sid] != had[sid])
    if missing:
        problems.append(f"missing statements {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected statements {', '.join(extra)}")
    if changed:
        problems.append(f"changed statements {', '.join(changed)}")
    return problems or ["the documents differ"]


# -- what a document allows -----------------------------------------------------------------------


def _allows(statement: dict[str, Any], action: str) -> bool:
    return statement.get("Effect") == "Allow" and any(
        fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _strings(statement.get("Action"))
    )


def _principals(statement: dict[str, Any], kind: str) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    return _strings(principal.get(kind)) if isinstance(principal, dict) else []


def trust_modes(doc: dict[str, Any]) -> list[str]:
    """How a role's trust policy lets pods in: `irsa` (a federated OIDC principal), `pod_identity`, or both."""
    modes = []
    if any(_principals(s, "Federated") and _allows(s, IRSA_ACTION) for s in statements(doc)):
        modes.append("irsa")
    if any(POD_IDENTITY_SERVICE in _principals(s, "Service") for s in statements(doc)):
        modes.append("pod_identity")
    return modes


def _condition_values(statement: dict[str, Any], operators: Iterable[str], key: str) -> list[tuple[str, str]]:
    found = []
    for operator, keys in (statement.get("Condition") or {}).items():
        if operator in operators:
            for name, values in keys.items():
                if name.lower() == key.lower():
                    found += [(operator, v) for v in _strings(values)]
    return found


def irsa_trust_problems(
    doc: dict[str, Any], *, provider_arn: str, issuer_host: str, namespace: str, service_account: str
) -> list[str]:
    """Why the service account could not assume the role through IRSA; empty when it can."""
    subject = f"system:serviceaccount:{namespace}:{service_account}"
    candidates = [s for s in statements(doc) if _allows(s, IRSA_ACTION)]
    if not candidates:
        return [f"no statement allows {IRSA_ACTION}"]
    federated = [s for s in candidates if provider_arn in _principals(s, "Federated")]
    if not federated:
        seen = sorted({p for s in candidates for p in _principals(s, "Federated")})
        return [f"no statement trusts the cluster's OIDC provider {provider_arn} (trusted: {', '.join(seen) or 'none'})"]
    problems = []
    for statement in federated:
        subjects = _condition_values(statement, ("StringEquals", "StringLike"), f"{issuer_host}:sub")
        audiences = _condition_values(statement, ("StringEquals", "StringLike"), f"{issuer_host}:aud")
        sub_ok = any(v == subject if op == "StringEquals" else fnmatch.fnmatchcase(subject, v) for op, v in subjects)
        aud_ok = not audiences or any(
            v == STS_AUDIENCE if op == "StringEquals" else fnmatch.fnmatchcase(STS_AUDIENCE, v) for op, v in audiences
        )
        if sub_ok and aud_ok:
            return []
        if not sub_ok:
            shown = ", ".join(v for _, v in subjects) or "no sub condition"
            problems.append(f"{issuer_host}:sub allows {shown}, not {subject}")
        if not aud_ok:
            problems.append(f"{issuer_host}:aud allows {', '.join(v for _, v in audiences)}, not {STS_AUDIENCE}")
    return problems


def pod_identity_trust_problems(doc: dict[str, Any]) -> list[str]:
    """Why EKS Pod Identity could not hand out this role; empty when it can."""
    trusted = [s for s in statements(doc) if POD_IDENTITY_SERVICE in _principals(s, "Service")]
    if not trusted:
        return [f"no statement trusts the service {POD_IDENTITY_SERVICE}"]
    missing = [a for a in POD_IDENTITY_ACTIONS if not any(_allows(s, a) for s in trusted)]
    return [f"{POD_IDENTITY_SERVICE} is not allowed {', '.join(missing)}"] if missing else []


def queue_policy_problems(doc: dict[str, Any], queue_arn: str) -> list[str]:
    """Why EventBridge could not send to the queue; empty when it can."""

    def covers_queue(statement: dict[str, Any]) -> bool:
        return any(fnmatch.fnmatchcase(queue_arn, r) for r in _strings(statement.get("Resource")))

    def names_events(statement: dict[str, Any]) -> bool:
        return (
            "events.amazonaws.com" in _principals(statement, "Service")
            or "*" in _principals(statement, "Service")
            or statement.get("Principal") == "*"
        )

    allow = [s for s in statements(doc) if _allows(s, "sqs:SendMessage") and names_events(s) and covers_queue(s)]
    if not allow:
        return ["no statement allows events.amazonaws.com to sqs:SendMessage to the queue"]
    denied = [
        s
        for s in statements(doc)
        if s.get("Effect") == "Deny"
        and not s.get("Condition")
        and names_events(s)
        and covers_queue(s)
        and any(fnmatch.fnmatchcase("sqs:sendmessage", a.lower()) for a in _strings(s.get("Action")))
    ]
    if denied:
        return [f"statement {denied[0].get('Sid', '(no Sid)')} denies sqs:SendMessage unconditionally"]
    return []


def eventbridge_key_problems(doc: dict[str, Any]) -> list[str]:
    """Why EventBridge could not use a key with this key policy for an encrypted target queue; empty when it can.

    The same question the infra plan asks of a brought key (`documents.interruption.key_admits_eventbridge`): an
    Allow statement for events.amazonaws.com with kms:GenerateDataKey and kms:Decrypt (or kms:*, or *).
    """

    def admits(statement: dict[str, Any]) -> bool:
        actions = {a.lower() for a in _strings(statement.get("Action"))}
        return (
            statement.get("Effect") == "Allow"
            and EVENTS_SERVICE in _principals(statement, "Service")
            and bool(actions & {"kms:*", "*"} or {a.lower() for a in EVENTBRIDGE_KEY_ACTIONS} <= actions)
        )

    if any(admits(s) for s in statements(doc)):
        return []
    return [f"no statement allows {EVENTS_SERVICE} to {' and '.join(EVENTBRIDGE_KEY_ACTIONS)}"]
