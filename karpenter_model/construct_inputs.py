"""What each construct is given: one small frozen dataclass per construct, built from the config by its stack.

A construct's signature says what it depends on; nothing below hands a construct the whole config.
Terraform references (a cluster's partition, a queue's ARN) are not here: they are known only inside
the stack, which passes them next to these inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from karpenter_model.config import DeadLetterQueueSettings, KarpenterConfig, SystemNodeGroupSettings
from karpenter_model.documents.helm_values import controller_values, crd_chart_values
from karpenter_model.documents.iam import PolicyDocument, PolicyValues, additional_policy, measured_values
from karpenter_model.documents.interruption import Alarm, alarms
from karpenter_model.documents.manifests import node_class_manifest, node_pool_manifest
from karpenter_model.naming import IDENTITY_TAG, RELEASE_TAG, ResourceNames, manifest_name
from karpenter_model.releases import ReleaseProfile
from karpenter_model.terraform_literals import literal, literal_tree


def _boundary(config: KarpenterConfig) -> str | None:
    boundary = config.iam.permissions_boundary
    return literal(boundary) if boundary else None


@dataclass(frozen=True)
class OidcProviderInputs:
    name: str  # the provider's Name tag
    thumbprints: tuple[str, ...]  # empty: read from the issuer's TLS certificate at plan time

    @classmethod
    def of(cls, config: KarpenterConfig) -> OidcProviderInputs:
        return cls(name=config.resource_names.oidc_provider, thumbprints=tuple(config.oidc.thumbprints))


@dataclass(frozen=True)
class NodeRoleInputs:
    cluster_name: str
    role_name: str
    release: ReleaseProfile  # its node role policies (a migration step keeps the previous release's too)
    access_entry: bool
    permissions_boundary: str | None
    tags: Mapping[str, str]  # on top of the provider's default tags

    @classmethod
    def of(cls, config: KarpenterConfig) -> NodeRoleInputs:
        return cls(
            cluster_name=config.cluster_name,
            role_name=config.resource_names.node_role,
            release=config.release,
            access_entry=config.node_role.access_entry,
            permissions_boundary=_boundary(config),
            tags=literal_tree(dict(config.extra_tags.node_role)),
        )


@dataclass(frozen=True)
class ControllerRoleInputs:
    cluster_name: str
    names: ResourceNames  # the role's name and its policies' names
    release: ReleaseProfile
    identities: tuple[str, ...]  # trusted: `karpenter.identity`, and during a switch the previous one too
    namespace: str
    service_account: str
    tags: Mapping[str, str]  # with what the next deploy's guard reads: the release and identity the role was deployed for
    measured: PolicyValues  # the literal values the policies' references will take: what their sizes are measured with
    additional_policy: PolicyDocument | None  # config `iam.controller_policy_statements`
    permissions_boundary: str | None

    @classmethod
    def of(cls, config: KarpenterConfig) -> ControllerRoleInputs:
        settings = config.karpenter
        return cls(
            cluster_name=config.cluster_name,
            names=config.resource_names,
            release=config.release,
            identities=settings.identities,
            namespace=settings.namespace,
            service_account=settings.service_account,
            tags={
                **literal_tree(dict(config.extra_tags.controller_role)),
                RELEASE_TAG: settings.version,
                IDENTITY_TAG: settings.identity,
            },
            measured=measured_values(config),
            additional_policy=additional_policy(config),
            permissions_boundary=_boundary(config),
        )


@dataclass(frozen=True)
class PodIdentityInputs:
    namespace: str
    service_account: str
    role_name: str
    switch_declared: bool  # `karpenter.previous_identity` is set: both trusts stay, so no switch guard is needed

    @classmethod
    def of(cls, config: KarpenterConfig) -> PodIdentityInputs:
        settings = config.karpenter
        return cls(
            namespace=settings.namespace,
            service_account=settings.service_account,
            role_name=config.resource_names.controller_role,
            switch_declared=settings.previous_identity is not None,
        )


@dataclass(frozen=True)
class DiscoveryTagsInputs:
    cluster_name: str  # the tag's value
    subnet_ids: tuple[str, ...]  # empty: the cluster's own subnets
    security_group_ids: tuple[str, ...]  # empty: the cluster security group

    @classmethod
    def of(cls, config: KarpenterConfig) -> DiscoveryTagsInputs:
        discovery = config.discovery
        return cls(config.cluster_name, tuple(discovery.subnet_ids), tuple(discovery.security_group_ids))


@dataclass(frozen=True)
class SystemNodeGroupInputs:
    cluster_name: str
    role_name: str
    group_name: str
    settings: SystemNodeGroupSettings
    permissions_boundary: str | None  # of the group's role
    tags: Mapping[str, str]  # on the group and its role, on top of the provider's default tags

    @classmethod
    def of(cls, config: KarpenterConfig) -> SystemNodeGroupInputs:
        names = config.resource_names
        return cls(
            config.cluster_name,
            names.system_node_role,
            names.system_node_group,
            config.system_node_group,
            _boundary(config),
            literal_tree(dict(config.extra_tags.system_node_group)),
        )


@dataclass(frozen=True)
class HelmReleaseInputs:
    """One of the release's charts (`karpenter` or `karpenter-crd`), installed where the controller runs."""

    release: ReleaseProfile
    namespace: str
    timeout_seconds: int
    values: Mapping[str, Any]  # empty: the chart's defaults

    @classmethod
    def controller(
        cls, config: KarpenterConfig, *, cluster_endpoint: str, interruption_queue: str, controller_role_arn: str
    ) -> HelmReleaseInputs:
        """The `karpenter` chart; the three arguments are references into the infra stack."""
        values = controller_values(
            config,
            cluster_endpoint=cluster_endpoint,
            interruption_queue=interruption_queue,
            controller_role_arn=controller_role_arn,
        )
        settings = config.karpenter
        return cls(config.release, settings.namespace, settings.helm_timeout_seconds, values)


@dataclass(frozen=True)
class CrdsInputs:
    chart: HelmReleaseInputs
    create_namespace: bool

    @classmethod
    def of(cls, config: KarpenterConfig) -> CrdsInputs:
        settings = config.karpenter
        chart = HelmReleaseInputs(config.release, settings.namespace, settings.helm_timeout_seconds, crd_chart_values(config))
        return cls(chart, settings.create_namespace)


@dataclass(frozen=True)
class NodeObject:
    """One EC2NodeClass or NodePool manifest, at its Terraform name."""

    kind: str
    name: str
    address: str  # manifest_name(): the Terraform name, which carries the API version
    manifest: Mapping[str, Any]
    node_class: str | None  # a NodePool's node class (created first, deleted after it)


@dataclass(frozen=True)
class NodePoolsInputs:
    node_classes: tuple[NodeObject, ...]
    node_pools: tuple[NodeObject, ...]

    @classmethod
    def of(cls, config: KarpenterConfig) -> NodePoolsInputs:
        api = config.release.api_version
        return cls(
            node_classes=tuple(
                NodeObject(
                    "EC2NodeClass", c.name, manifest_name("EC2NodeClass", c.name, api), node_class_manifest(config, c), None
                )
                for c in config.node_classes
            ),
            node_pools=tuple(
                NodeObject(
                    "NodePool",
                    p.name,
                    manifest_name("NodePool", p.name, api),
                    node_pool_manifest(config, p),
                    p.spec["template"]["spec"]["nodeClassRef"]["name"],
                )
                for p in config.node_pools
            ),
        )

    @property
    def objects(self) -> list[tuple[str, str]]:
        """`(kind, name)` of every object, node classes first."""
        return [(o.kind, o.name) for o in self.node_classes + self.node_pools]


@dataclass(frozen=True)
class NamedInterruptionRule:
    """One of the release's interruption rules (`ReleaseProfile.interruption_rules`), with the name it gets."""

    key: str
    name: str
    description: str
    pattern: Mapping[str, Any]


@dataclass(frozen=True)
class InterruptionQueueInputs:
    queue_name: str
    message_retention_seconds: int
    rules: tuple[NamedInterruptionRule, ...]
    kms: bool  # encrypted with a customer managed key (`kms_key_arn`, or one the construct creates); else SQS-managed
    kms_key_arn: str | None  # a key of the user's: its policy is read at plan time and must admit EventBridge
    key_alias: str  # the created key's alias
    dead_letter_queue: DeadLetterQueueSettings | None  # None: no retry policy, no dead-letter queue
    dead_letter_queue_name: str
    alarms: tuple[Alarm, ...]  # empty: no alarms
    alarm_actions: tuple[str, ...]  # the SNS topic the alarms notify, if any

    @classmethod
    def of(cls, config: KarpenterConfig) -> InterruptionQueueInputs:
        names, settings = config.resource_names, config.interruption
        rules = tuple(
            NamedInterruptionRule(rule.key, names.interruption_rule(rule.key), rule.description, rule.pattern)
            for rule in config.release.interruption_rules
        )
        dead_letter_queue = settings.dead_letter_queue if settings.dead_letter_queue.enabled else None
        return cls(
            queue_name=names.interruption_queue,
            message_retention_seconds=settings.message_retention_seconds,
            rules=rules,
            kms=settings.encryption == "kms",
            kms_key_arn=settings.kms_key_arn,
            key_alias=names.interruption_key_alias,
            dead_letter_queue=dead_letter_queue,
            dead_letter_queue_name=names.interruption_dead_letter_queue,
            alarms=tuple(
                alarms(
                    queue_name=names.interruption_queue,
                    rule_names={rule.key: rule.name for rule in rules},
                    dead_letter_queue_name=names.interruption_dead_letter_queue if dead_letter_queue else None,
                    oldest_message_age_seconds=settings.alarms.oldest_message_age_seconds,
                    evaluation_periods=settings.alarms.evaluation_periods,
                )
            )
            if settings.alarms.enabled
            else (),
            alarm_actions=(settings.alarms.sns_topic_arn,) if settings.alarms.sns_topic_arn else (),
        )
