"""A local AWS for the round trip: moto in this process, on a free loopback port, for one test session.

`MotoHarness` starts moto's `ThreadedMotoServer` on 127.0.0.1 (port chosen by the OS), patches the
six moto 5.2.1 gaps that would otherwise make a correct stack look wrong (see `_MotoGaps`), and
always stops the server and undoes the patches. `create_stand_in_cluster` builds, through boto3,
what the infra stack expects to exist already: a VPC, subnets and a security group carrying tags of
their own, an IAM role, and an EKS cluster using them.

Why in-process rather than the `moto_server` executable: the gaps are patched in moto's EKS backend,
and the stand-in cluster needs two facts EKS reports and moto does not invent (its cluster security
group, an issuer of its own; see `create_stand_in_cluster`); both need moto's Python objects, which
only exist in the process that serves them.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
# The services the provider is pointed at (config's `aws.endpoints` keys): all of them are this one server.
SERVICES = ("cloudwatch", "ec2", "eks", "events", "iam", "kms", "sqs", "sts")
KUBERNETES_VERSION = "1.30"  # the newest Karpenter 0.37 supports; the stack checks it at plan time


def moto_available() -> bool:
    try:
        import boto3  # noqa: F401
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer  # noqa: F401
    except ImportError:
        return False
    return True


class _MotoGaps:
    """Six things moto 5.2.1 does differently from EKS and SQS, patched in moto, never in what we synthesize.

    1. EKS access entries (`CreateAccessEntry`, `DescribeAccessEntry`, `DeleteAccessEntry`,
       `ListAccessEntries`) are not implemented: moto has no route for
       `/clusters/{name}/access-entries`, so the provider gets a 404 and `aws_eks_access_entry`
       can be neither created nor read. The stack needs one (nodes Karpenter launches must be allowed
       to join), so we add the four calls with the fields EKS returns: an in-memory record per
       (cluster, principal ARN), `ResourceNotFoundException` for an unknown one, and
       `ResourceInUseException` for a duplicate. Nothing else of EKS access management (policies,
       associations) is added: the stack does not use it.

    2. Node groups created without `remoteAccess` come back with `remoteAccess = {ec2SshKey:
       eksKeypair}` (moto's `DEFAULT_REMOTE_ACCESS`), which EKS never invents. The provider records that
       as a `remote_access` block the configuration does not have, and since that block forces a new
       node group, the second plan wants to replace it. We make moto return no `remoteAccess` when none
       was requested, which is what EKS does.

    3. `CreateNodegroup` ignores `updateConfig`: moto's handler never reads it, so the node group comes
       back without one, and the second plan wants to set `update_config { max_unavailable = 1 }` in
       place (moto's `UpdateNodegroupConfig` does store it, so it is only the create that drops it). We
       keep what was sent, as EKS does.

    4. EKS Pod Identity associations (`CreatePodIdentityAssociation`, `DescribePodIdentityAssociation`,
       `UpdatePodIdentityAssociation`, `DeletePodIdentityAssociation`, `ListPodIdentityAssociations`) are not
       implemented: moto has no route for `/clusters/{name}/pod-identity-associations` and answers 404 "Not yet
       implemented". `karpenter.identity: pod_identity` creates one (`aws_eks_pod_identity_association`), so we add
       the five calls with the fields EKS returns: an in-memory record per association ID (`a-` and 17 characters),
       `ResourceInUseException` for a second association of one (cluster, namespace, service account),
       `ResourceNotFoundException` for an unknown ID. Only what EKS stores is modelled; nothing issues credentials.

    5. EKS add-ons (`CreateAddon`, `DescribeAddon`, `DeleteAddon`, `ListAddons`) are not implemented either (404).
       The infra stack with Pod Identity reads the `eks-pod-identity-agent` add-on at plan time and must fail when
       it is missing, so we add the four calls: an in-memory record per (cluster, add-on name), ACTIVE at once,
       `ResourceNotFoundException` for a missing one. The tests install the add-on on a stand-in cluster through
       boto3 (`CreateAddon`), as a cluster's own configuration would.

    6. `SetQueueAttributes` without a `Policy` attribute deletes the queue's policy (moto's `Queue._set_attributes`
       ends with `self.policy = attributes.get("Policy")`); SQS changes only the attributes a call names. The
       provider sends only changed attributes, so switching the interruption queue to a KMS key (`KmsMasterKeyId`
       alone) would silently drop the policy `aws_sqs_queue_policy` set, and the next plan would want it back. We
       keep the policy when the call does not name one.

    Patches are applied before the server builds its EKS routes and undone by `undo()`.
    """

    def __init__(self) -> None:
        self._undo: list[Any] = []
        # (account, region, cluster, principal ARN) -> access entry; moto's backends are per account/region.
        self.access_entries: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        # (account, region, cluster, association ID) -> association; (account, region, cluster, add-on name) -> add-on.
        self.pod_identity_associations: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.addons: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def apply(self) -> None:
        self._aws_managed_policies()
        self._no_phantom_remote_access()
        self._access_entries()
        self._keep_update_config()
        self._pod_identity_associations()
        self._addons()
        self._queue_policy_survives_other_attributes()

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _set(self, owner: Any, name: str, value: Any) -> None:
        missing = object()
        old = owner.__dict__.get(name, missing) if isinstance(owner, type) else getattr(owner, name, missing)
        setattr(owner, name, value)
        self._undo.append(lambda: delattr(owner, name) if old is missing else setattr(owner, name, old))

    def _queue_policy_survives_other_attributes(self) -> None:
        from moto.sqs.models import SQSBackend

        set_queue_attributes = SQSBackend.set_queue_attributes

        def keeping_the_policy(backend: SQSBackend, queue_name: str, attributes: dict[str, Any]) -> Any:
            policy = backend.get_queue(queue_name).policy
            kept = {**attributes, "Policy": policy} if "Policy" not in attributes and policy else attributes
            return set_queue_attributes(backend, queue_name, kept)

        self._set(SQSBackend, "set_queue_attributes", keeping_the_policy)

    def _aws_managed_policies(self) -> None:
        """Not a gap but a moto setting: every AWS account has the AWS managed policies (the node roles attach
        AmazonEKSWorkerNodePolicy and others), moto loads them only when asked (`iam.load_aws_managed_policies`)."""
        from moto import settings

        config = settings.default_user_config
        old = config.get("iam")
        config["iam"] = {**(old or {}), "load_aws_managed_policies": True}
        self._undo.append(lambda: config.pop("iam") if old is None else config.__setitem__("iam", old))

    def _no_phantom_remote_access(self) -> None:
        import moto.eks.models as eks_models

        # `Nodegroup.__init__` reads the module global: `self.remote_access = remote_access or DEFAULT_REMOTE_ACCESS`.
        assert eks_models.DEFAULT_REMOTE_ACCESS == {"ec2SshKey": "eksKeypair"}, "moto changed: re-check gap 2"
        self._set(eks_models, "DEFAULT_REMOTE_ACCESS", None)

    def _keep_update_config(self) -> None:
        from moto.eks.responses import EKSResponse

        create_nodegroup = EKSResponse.create_nodegroup

        def create_nodegroup_keeping_update_config(self: EKSResponse) -> Any:
            result = create_nodegroup(self)
            nodegroup = result.result["nodegroup"]  # type: ignore[index]  # moto's ActionResult wraps a dict
            assert nodegroup.update_config is None, "moto keeps updateConfig now: drop gap 3"
            nodegroup.update_config = self._get_param("updateConfig")
            return result

        self._set(EKSResponse, "create_nodegroup", create_nodegroup_keeping_update_config)

    def _access_entries(self) -> None:
        import moto.eks.urls as eks_urls
        from moto.core.responses import ActionResult, EmptyResult
        from moto.core.utils import utcnow
        from moto.eks.exceptions import ResourceInUseException, ResourceNotFoundException
        from moto.eks.responses import EKSResponse

        assert not hasattr(EKSResponse, "create_access_entry"), "moto implements access entries now: drop gap 1"
        entries, lock = self.access_entries, self._lock

        def not_found(cluster: str, principal: str) -> ResourceNotFoundException:
            return ResourceNotFoundException(
                clusterName=cluster,
                nodegroupName=None,
                fargateProfileName=None,
                addonName=None,
                message=f"The specified access entry resource is not found: {principal}",
            )

        def cluster_of(response: EKSResponse) -> str:
            name = response._get_param("name")
            response.eks_backend.describe_cluster(name=name)  # ResourceNotFoundException for an unknown cluster
            return name

        def principal_of(response: EKSResponse) -> str:
            from urllib.parse import unquote

            # /clusters/{name}/access-entries/{principalArn}, the ARN URL-encoded (it contains slashes).
            return unquote(unquote(response.path.split("/access-entries/", 1)[1]))

        def key(response: EKSResponse, cluster: str, principal: str) -> tuple[str, str, str, str]:
            return (response.current_account, response.region, cluster, principal)

        def create_access_entry(self: EKSResponse) -> ActionResult:
            cluster = cluster_of(self)
            principal = self._get_param("principalArn")
            kind = self._get_param("type") or "STANDARD"
            now = utcnow()
            entry = {
                "clusterName": cluster,
                "principalArn": principal,
                "kubernetesGroups": self._get_param("kubernetesGroups") or [],
                "accessEntryArn": f"arn:aws:eks:{self.region}:{self.current_account}:access-entry/{cluster}/role/"
                f"{self.current_account}/{principal.rsplit('/', 1)[-1]}/{uuid.uuid4()}",
                "createdAt": now,
                "modifiedAt": now,
                "tags": self._get_param("tags") or {},
                # EKS's defaults: node entries map to the node's name, others to the principal.
                "username": self._get_param("username")
                or ("system:node:{{EC2PrivateDNSName}}" if kind.startswith("EC2") else principal),
                "type": kind,
            }
            with lock:
                if key(self, cluster, principal) in entries:
                    raise ResourceInUseException(
                        clusterName=cluster,
                        nodegroupName=None,
                        addonName=None,
                        message="The specified access entry resource is already in use on this cluster.",
                    )
                entries[key(self, cluster, principal)] = entry
            return ActionResult({"accessEntry": entry})

        def describe_access_entry(self: EKSResponse) -> ActionResult:
            cluster, principal = cluster_of(self), principal_of(self)
            with lock:
                entry = entries.get(key(self, cluster, principal))
            if entry is None:
                raise not_found(cluster, principal)
            return ActionResult({"accessEntry": entry})

        def delete_access_entry(self: EKSResponse) -> ActionResult:
            cluster, principal = cluster_of(self), principal_of(self)
            with lock:
                if entries.pop(key(self, cluster, principal), None) is None:
                    raise not_found(cluster, principal)
            return EmptyResult()

        def list_access_entries(self: EKSResponse) -> ActionResult:
            cluster = cluster_of(self)
            with lock:
                arns = [k[3] for k in entries if k[:3] == (self.current_account, self.region, cluster)]
            return ActionResult({"accessEntries": arns})

        for function in (create_access_entry, describe_access_entry, delete_access_entry, list_access_entries):
            self._set(EKSResponse, function.__name__, function)
        paths = dict(eks_urls.url_paths)
        eks_urls.url_paths.update(
            {
                "{0}/clusters/(?P<name>[^/]+)/access-entries$": eks_urls.response.dispatch,
                "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+)$": eks_urls.response.dispatch,
            }
        )

        def restore() -> None:
            eks_urls.url_paths.clear()
            eks_urls.url_paths.update(paths)

        self._undo.append(restore)

    def _route(self, patterns: list[str]) -> None:
        """Add EKS URL patterns (moto dispatches them by the operation botocore's model gives method and path)."""
        import moto.eks.urls as eks_urls

        paths = dict(eks_urls.url_paths)
        eks_urls.url_paths.update(dict.fromkeys(patterns, eks_urls.response.dispatch))

        def restore() -> None:
            eks_urls.url_paths.clear()
            eks_urls.url_paths.update(paths)

        self._undo.append(restore)

    def _pod_identity_associations(self) -> None:
        from moto.core.responses import ActionResult
        from moto.core.utils import utcnow
        from moto.eks.exceptions import ResourceInUseException, ResourceNotFoundException
        from moto.eks.responses import EKSResponse

        assert not hasattr(EKSResponse, "create_pod_identity_association"), "moto implements Pod Identity now: drop gap 4"
        associations, lock = self.pod_identity_associations, self._lock

        def cluster_of(response: EKSResponse) -> str:
            name = response._get_param("name")
            response.eks_backend.describe_cluster(name=name)  # ResourceNotFoundException for an unknown cluster
            return name

        def found(response: EKSResponse) -> tuple[tuple[str, str, str, str], dict[str, Any]]:
            cluster = cluster_of(response)
            association_id = response.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            key = (response.current_account, response.region, cluster, association_id)
            with lock:
                association = associations.get(key)
            if association is None:
                raise ResourceNotFoundException(message=f"No Pod Identity Association found with id {association_id}")
            return key, association

        def create_pod_identity_association(self: EKSResponse) -> ActionResult:
            cluster = cluster_of(self)
            namespace, service_account = self._get_param("namespace"), self._get_param("serviceAccount")
            association_id = "a-" + uuid.uuid4().hex[:17]  # EKS's form: `a-` and 17 lowercase letters and digits
            now = utcnow()
            association = {
                "clusterName": cluster,
                "namespace": namespace,
                "serviceAccount": service_account,
                "roleArn": self._get_param("roleArn"),
                "associationArn": f"arn:aws:eks:{self.region}:{self.current_account}:podidentityassociation/{cluster}/{association_id}",
                "associationId": association_id,
                "tags": self._get_param("tags") or {},
                "createdAt": now,
                "modifiedAt": now,
                "disableSessionTags": bool(self._get_param("disableSessionTags")),
            }
            with lock:
                if any(
                    key[:3] == (self.current_account, self.region, cluster)
                    and (other["namespace"], other["serviceAccount"]) == (namespace, service_account)
                    for key, other in associations.items()
                ):
                    raise ResourceInUseException(
                        clusterName=cluster,
                        nodegroupName=None,
                        addonName=None,
                        message="Association already exists for this namespace and service account",
                    )
                associations[(self.current_account, self.region, cluster, association_id)] = association
            return ActionResult({"association": association})

        def describe_pod_identity_association(self: EKSResponse) -> ActionResult:
            return ActionResult({"association": found(self)[1]})

        def update_pod_identity_association(self: EKSResponse) -> ActionResult:
            _, association = found(self)
            with lock:
                if self._get_param("roleArn"):
                    association["roleArn"] = self._get_param("roleArn")
                association["modifiedAt"] = utcnow()
            return ActionResult({"association": association})

        def delete_pod_identity_association(self: EKSResponse) -> ActionResult:
            key, association = found(self)
            with lock:
                associations.pop(key, None)
            return ActionResult({"association": association})

        def list_pod_identity_associations(self: EKSResponse) -> ActionResult:
            cluster = cluster_of(self)
            wanted = {"namespace": self._get_param("namespace"), "serviceAccount": self._get_param("serviceAccount")}
            with lock:
                listed = [
                    {k: a[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId")}
                    for key, a in associations.items()
                    if key[:3] == (self.current_account, self.region, cluster)
                    and all(value is None or a[field] == value for field, value in wanted.items())
                ]
            return ActionResult({"associations": listed})

        for function in (
            create_pod_identity_association,
            describe_pod_identity_association,
            update_pod_identity_association,
            delete_pod_identity_association,
            list_pod_identity_associations,
        ):
            self._set(EKSResponse, function.__name__, function)
        self._route(
            [
                "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations$",
                "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations/(?P<associationId>[^/]+)$",
            ]
        )

    def _addons(self) -> None:
        from moto.core.responses import ActionResult
        from moto.core.utils import utcnow
        from moto.eks.exceptions import ResourceInUseException, ResourceNotFoundException
        from moto.eks.responses import EKSResponse

        assert not hasattr(EKSResponse, "create_addon"), "moto implements EKS add-ons now: drop gap 5"
        addons, lock = self.addons, self._lock

        def cluster_of(response: EKSResponse) -> str:
            name = response._get_param("name")
            response.eks_backend.describe_cluster(name=name)
            return name

        def found(response: EKSResponse) -> tuple[tuple[str, str, str, str], dict[str, Any]]:
            cluster = cluster_of(response)
            addon_name = response.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            key = (response.current_account, response.region, cluster, addon_name)
            with lock:
                addon = addons.get(key)
            if addon is None:
                raise ResourceNotFoundException(
                    clusterName=cluster,
                    nodegroupName=None,
                    addonName=addon_name,
                    message=f"No addon: {addon_name} found in cluster: {cluster}",
                )
            return key, addon

        def create_addon(self: EKSResponse) -> ActionResult:
            cluster, addon_name = cluster_of(self), self._get_param("addonName")
            now = utcnow()
            addon = {
                "addonName": addon_name,
                "clusterName": cluster,
                "status": "ACTIVE",
                "addonVersion": self._get_param("addonVersion") or "v1.3.4-eksbuild.1",
                "health": {"issues": []},
                "addonArn": f"arn:aws:eks:{self.region}:{self.current_account}:addon/{cluster}/{addon_name}/{uuid.uuid4()}",
                "createdAt": now,
                "modifiedAt": now,
                "tags": self._get_param("tags") or {},
                "podIdentityAssociations": [],
            }
            key = (self.current_account, self.region, cluster, addon_name)
            with lock:
                if key in addons:
                    raise ResourceInUseException(
                        clusterName=cluster, nodegroupName=None, addonName=addon_name, message="Addon already exists."
                    )
                addons[key] = addon
            return ActionResult({"addon": addon})

        def describe_addon(self: EKSResponse) -> ActionResult:
            return ActionResult({"addon": found(self)[1]})

        def delete_addon(self: EKSResponse) -> ActionResult:
            key, addon = found(self)
            with lock:
                addons.pop(key, None)
            return ActionResult({"addon": addon})

        def list_addons(self: EKSResponse) -> ActionResult:
            cluster = cluster_of(self)
            with lock:
                names = [k[3] for k in addons if k[:3] == (self.current_account, self.region, cluster)]
            return ActionResult({"addons": names})

        for function in (create_addon, describe_addon, delete_addon, list_addons):
            self._set(EKSResponse, function.__name__, function)
        self._route(["{0}/clusters/(?P<name>[^/]+)/addons$", "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$"])


def _quiet(name: str) -> Any:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    return lambda: logger.setLevel(level)


class MotoHarness:
    """moto on 127.0.0.1:<free port> with the gaps patched; use as a context manager (always stopped)."""

    def __init__(self) -> None:
        self.gaps = _MotoGaps()
        self._server: Any = None
        self.endpoint = ""

    def __enter__(self) -> MotoHarness:
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        # werkzeug logs every request at INFO; keep warnings and errors (a moto 500 prints its traceback).
        self._undo_log_level = _quiet("werkzeug")
        self.gaps.apply()
        try:
            # Port 0: the OS picks a free port; get_host_and_port() reports it.
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint = f"http://{host}:{port}"
        except BaseException:
            self.gaps.undo()
            self._undo_log_level()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._server is not None:
                self._server.stop()
        finally:
            self.gaps.undo()
            self._undo_log_level()

    def client(self, service: str) -> Any:
        """A boto3 client for this server; a session of its own, as boto3's default session is not thread-safe."""
        import boto3

        return boto3.session.Session().client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=CREDENTIALS["AWS_SESSION_TOKEN"],
        )

    def endpoints(self) -> dict[str, str]:
        """The `aws.endpoints` value of a config pointed at this server."""
        return dict.fromkeys(SERVICES, self.endpoint)


@dataclass(frozen=True)
class StandInCluster:
    """What exists before the infra stack runs, with the tags each piece had then."""

    name: str
    vpc_id: str
    role_arn: str
    subnet_tags: dict[str, dict[str, str]]  # subnet id -> its tags
    security_group_id: str
    security_group_tags: dict[str, str]
    issuer: str

    @property
    def subnet_ids(self) -> list[str]:
        return list(self.subnet_tags)


def tags_of(described: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in described.get("Tags", [])}


def create_stand_in_cluster(moto: MotoHarness, name: str, kubernetes_version: str = KUBERNETES_VERSION) -> StandInCluster:
    """An EKS cluster `name` on a VPC with two tagged subnets and a tagged cluster security group.

    One moto serves the whole test session, and a scenario finds its resources by the cluster's name as a prefix:
    a name already used, or one that is a prefix of another's (`rt-a`, `rt-a-b`), is refused.
    """
    ec2, iam, eks = moto.client("ec2"), moto.client("iam"), moto.client("eks")
    for other in eks.list_clusters()["clusters"]:
        assert not (other == name or other.startswith(name + "-") or name.startswith(other + "-")), (
            f"stand-in cluster {name!r} collides with {other!r} in the session's moto: pick a name of its own"
        )
    vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet_tags = {}
    for index, zone in enumerate(("a", "b")):
        tags = {"Name": f"{name}-private-{zone}", "kubernetes.io/role/internal-elb": "1", "team": "platform"}
        subnet = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=f"10.42.{index}.0/24",
            AvailabilityZone=f"{REGION}{zone}",
            TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
        )["Subnet"]
        subnet_tags[subnet["SubnetId"]] = tags
    sg_tags = {"Name": f"eks-cluster-sg-{name}", f"kubernetes.io/cluster/{name}": "owned", "team": "platform"}
    security_group_id = ec2.create_security_group(
        GroupName=f"eks-cluster-sg-{name}",
        Description="EKS created security group applied to ENI that is attached to EKS Control Plane master nodes",
        VpcId=vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": k, "Value": v} for k, v in sg_tags.items()]}],
    )["GroupId"]
    role_arn = iam.create_role(
        RoleName=f"{name}-cluster",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            }
        ),
    )["Role"]["Arn"]
    eks.create_cluster(
        name=name,
        version=kubernetes_version,
        roleArn=role_arn,
        resourcesVpcConfig={"subnetIds": list(subnet_tags), "securityGroupIds": []},
    )
    # Two things EKS does that moto does not, done here on moto's record of the cluster:
    # - EKS creates the cluster security group and reports it (and the VPC) in `resourcesVpcConfig`; moto
    #   creates none and echoes the request. The stack tags `clusterSecurityGroupId` by default, so the
    #   stand-in reports the group created above, as EKS reports its own.
    # - EKS gives every cluster its own OIDC issuer; moto draws one issuer per process and hands it to
    #   every cluster, so two stand-ins would collide on the IAM OIDC provider the stack creates for it.
    from moto.eks.models import eks_backends

    record = eks_backends[ACCOUNT_ID][REGION].clusters[name]
    record.resources_vpc_config.update(clusterSecurityGroupId=security_group_id, vpcId=vpc_id)
    issuer = f"https://oidc.eks.{REGION}.amazonaws.com/id/{uuid.uuid4().hex.upper()}"
    record.identity = {"oidc": {"issuer": issuer}}
    described = eks.describe_cluster(name=name)["cluster"]
    assert described["resourcesVpcConfig"]["clusterSecurityGroupId"] == security_group_id, described
    assert described["resourcesVpcConfig"]["subnetIds"] == list(subnet_tags), described
    assert described["identity"]["oidc"]["issuer"] == issuer, described
    return StandInCluster(
        name=name,
        vpc_id=vpc_id,
        role_arn=role_arn,
        subnet_tags=subnet_tags,
        security_group_id=security_group_id,
        security_group_tags=sg_tags,
        issuer=issuer,
    )
