"""The thin layer over the official `kubernetes` client: every call, and nothing else.

Credentials come from the kubeconfig exactly as kubectl reads it (`KUBECONFIG`, `~/.kube/config`,
the current or a named context; `aws eks get-token` through the exec plugin that
`aws eks update-kubeconfig` writes). Every object comes back as the JSON the API server sends
(camelCase, `ApiClient.sanitize_for_serialization`), so the checks in cluster.py and
scale_test.py read documented API shapes and can be tested without a server. The fake in
tests/test_check_cluster.py implements this same interface.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

Model = TypeVar("Model")


class Kube(Protocol):
    """What the cluster checks and the scale test call."""

    host: str

    def crd(self, name: str) -> dict[str, Any] | None: ...
    def deployment(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def service_account(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    def pods(self, namespace: str, label_selector: str) -> list[dict[str, Any]]: ...
    def pods_on_node(self, node: str) -> list[dict[str, Any]]: ...
    def pod_log(self, namespace: str, pod: str, container: str | None, since_seconds: int) -> str: ...
    def custom_objects(self, group: str, version: str, plural: str) -> list[dict[str, Any]]: ...
    def delete_custom_object(self, group: str, version: str, plural: str, name: str) -> None: ...
    def nodes(self) -> list[dict[str, Any]]: ...
    def namespace(self, name: str) -> dict[str, Any] | None: ...
    def create_namespace(self, name: str, labels: dict[str, str]) -> None: ...
    def delete_namespace(self, name: str) -> None: ...
    def create_deployment(self, namespace: str, body: dict[str, Any]) -> None: ...


class KubeApi:
    """`Kube` through the official client; objects as API JSON, a 404 on a read as None."""

    def __init__(self, context: str | None = None) -> None:
        from kubernetes import client, config

        api_client = config.new_client_from_config(context=context)
        self.host: str = api_client.configuration.host
        self._client = client
        self._json = api_client.sanitize_for_serialization
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.extensions = client.ApiextensionsV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)

    def _read(self, call: Any, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            found: dict[str, Any] = self._json(call(*args, **kwargs))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return found

    def _items(self, listed: Any) -> list[dict[str, Any]]:
        body = listed if isinstance(listed, dict) else self._json(listed)
        items: list[dict[str, Any]] = body.get("items", [])
        return items

    def crd(self, name: str) -> dict[str, Any] | None:
        return self._read(self.extensions.read_custom_resource_definition, name)

    def deployment(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._read(self.apps.read_namespaced_deployment, name, namespace)

    def service_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._read(self.core.read_namespaced_service_account, name, namespace)

    def pods(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        return self._items(self.core.list_namespaced_pod(namespace, label_selector=label_selector))

    def pods_on_node(self, node: str) -> list[dict[str, Any]]:
        return self._items(self.core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}"))

    def pod_log(self, namespace: str, pod: str, container: str | None, since_seconds: int) -> str:
        text = self.core.read_namespaced_pod_log(
            pod, namespace, container=container, since_seconds=since_seconds, limit_bytes=8 * 1024 * 1024
        )
        return str(text)

    def custom_objects(self, group: str, version: str, plural: str) -> list[dict[str, Any]]:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._items(self.custom.list_cluster_custom_object(group, version, plural))
        except ApiException as exc:
            if exc.status == 404:  # the CRD (or this version of it) is not installed
                return []
            raise

    def delete_custom_object(self, group: str, version: str, plural: str, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.custom.delete_cluster_custom_object(group, version, plural, name)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def nodes(self) -> list[dict[str, Any]]:
        return self._items(self.core.list_node())

    def namespace(self, name: str) -> dict[str, Any] | None:
        return self._read(self.core.read_namespace, name)

    def create_namespace(self, name: str, labels: dict[str, str]) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        self.core.create_namespace(_model(self._client.V1Namespace, body))

    def delete_namespace(self, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.core.delete_namespace(name, propagation_policy="Foreground")
        except ApiException as exc:
            if exc.status != 404:
                raise

    def create_deployment(self, namespace: str, body: dict[str, Any]) -> None:
        self.apps.create_namespaced_deployment(namespace, _model(self._client.V1Deployment, body))


def _model(kind: type[Model], body: dict[str, Any]) -> Model:
    """A typed model of the client from API JSON (the client's create calls take models)."""
    model = kind.from_dict(body)  # type: ignore[attr-defined]
    if model is None:
        raise ValueError(f"cannot build a {kind.__name__} from {body!r}")
    return model
