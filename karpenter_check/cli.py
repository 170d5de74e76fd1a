"""The `check` command: options, the order of the checks, the table."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from karpenter_check.results import Result, exit_code, failed, passed, render_table, skipped

DEFAULT_CONFIG = "examples/aws-2026-eks.yaml"  # as main.py: KARPENTER_CONFIG, else the bundled example
DEFAULT_OUTDIR = "cdktf.out"  # as main.py: CDKTF_OUTDIR, else cdktf.out


def _stderr(message: str) -> None:
    sys.stderr.write(f"check: {message}\n")
    sys.stderr.flush()


def run_checks(
    config: Any,
    outdir: str | Path,
    *,
    cluster: bool = True,
    scale_test: bool = False,
    context: str | None = None,
    scale_test_timeout: float = 600,
    scale_test_cpu: str | None = None,
    clients: Any = None,
    kube_factory: Callable[[str | None], Any] | None = None,
    log: Callable[[str], None] = _stderr,
) -> list[Result]:
    """Every check for `config` against the stacks in `outdir`, in table order."""
    from karpenter_check.aws import AwsChecks, AwsClients
    from karpenter_check.synthesized import SynthError, Synthesized

    check = "synthesized stacks"
    try:
        synthesized = Synthesized.load(outdir, config.stack_name)
        synthesized_role = synthesized.controller_role_name()
    except SynthError as exc:
        return [failed(check, str(exc), "run make synth with this config (KARPENTER_CONFIG=<file> make synth)")]
    if synthesized_role != config.resource_names.controller_role:
        return [
            failed(
                check,
                f"{outdir} was synthesized from another config (controller role {synthesized_role}, this config's is {config.resource_names.controller_role})",
                "run make synth with this config (KARPENTER_CONFIG=<file> make synth)",
            )
        ]
    results = [passed(check, f"{', '.join(synthesized.names.values())} in {outdir}")]
    aws = AwsChecks(config, synthesized, clients or AwsClients(config))
    results += aws.run()
    if not cluster:
        return results + [skipped("cluster checks", "skipped (--no-cluster)")]
    try:
        if kube_factory is None:
            from karpenter_check.kube import KubeApi

            kube_factory = KubeApi
        kube = kube_factory(context)
    except ImportError:
        return results + [
            failed("kubernetes client", "the kubernetes package is not installed", "pip install kubernetes (see requirements)")
        ]
    except Exception as exc:  # noqa: BLE001 - any kubeconfig problem is this row
        return results + [
            failed(
                "kubeconfig",
                f"cannot load a kubeconfig: {type(exc).__name__}: {str(exc)[:200]}",
                f"aws eks update-kubeconfig --name {config.cluster_name} --region {config.region}",
            )
        ]
    from karpenter_check.cluster import ClusterChecks

    facts = aws.facts
    checks = ClusterChecks(
        config,
        synthesized,
        kube,
        endpoint=facts.endpoint,
        controller_role_arn=facts.controller_role_arn,
        trust_modes=facts.trust_modes,
    )
    try:
        results += checks.run()
    except Exception as exc:  # noqa: BLE001 - an API error ends the cluster checks, not the table
        results.append(
            failed(
                "cluster checks",
                f"Kubernetes API error: {type(exc).__name__}: {str(exc)[:300]}",
                "check the kubeconfig's user and the API server",
            )
        )
    if scale_test:
        from karpenter_check.scale_test import CHECK, ScaleTest

        if checks.same_cluster().status != "PASS":
            results.append(
                failed(CHECK, "not run: the kubeconfig is not confirmed to be this cluster", "fix the kubeconfig row first")
            )
        else:
            results.append(ScaleTest(kube, release=config.release, timeout=scale_test_timeout, cpu=scale_test_cpu, log=log).run())
    return results


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m karpenter_check",
        description="Check the live AWS account and cluster against the synthesized stacks (after cdktf deploy).",
    )
    p.add_argument("--config", help=f"the config file (default: $KARPENTER_CONFIG, else {DEFAULT_CONFIG})")
    p.add_argument("--outdir", help=f"the synth output (default: $CDKTF_OUTDIR, else {DEFAULT_OUTDIR})")
    p.add_argument("--no-cluster", action="store_true", help="AWS checks only; do not contact the Kubernetes API")
    p.add_argument("--context", help="kubeconfig context (default: the current one)")
    p.add_argument("--scale-test", action="store_true", help="launch one node through Karpenter, time it, remove it")
    p.add_argument(
        "--scale-test-timeout", type=float, default=600, metavar="SECONDS", help="wait this long for the NodeClaim (default 600)"
    )
    p.add_argument(
        "--scale-test-cpu", metavar="QUANTITY", help="CPU the test pod requests (default: more than any existing node offers)"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from karpenter_model.base import ConfigError
    from karpenter_model.loading import load_config

    config_path = args.config or os.environ.get("KARPENTER_CONFIG") or DEFAULT_CONFIG
    outdir = args.outdir or os.environ.get("CDKTF_OUTDIR") or DEFAULT_OUTDIR
    if args.scale_test and args.no_cluster:
        _stderr("--scale-test needs the cluster; drop --no-cluster")
        return 2
    try:
        config = load_config(config_path)
    except ConfigError as error:
        _stderr(f"error: {error}")
        return 2
    results = run_checks(
        config,
        outdir,
        cluster=not args.no_cluster,
        scale_test=args.scale_test,
        context=args.context,
        scale_test_timeout=args.scale_test_timeout,
        scale_test_cpu=args.scale_test_cpu,
    )
    sys.stdout.write(render_table(results) + "\n")
    return exit_code(results)
