"""The cdktf app: all stacks in deploy order, synthesized so a failure never leaves half an output."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import karpenter_constructs  # noqa: F401  (registers the bare provider packages before any stack imports them)
from cdktf import App

from karpenter_model.config import KarpenterConfig
from karpenter_constructs.cluster_access import ClusterAccess
from stacks.chart import ChartStack
from stacks.crds import CrdsStack
from stacks.infra import InfraStack


def build_app(config: KarpenterConfig, outdir: str) -> App:
    """infra -> crds -> chart; `cdktf deploy '*'` follows the dependencies, `cdktf destroy '*'` reverses them."""
    app = App(outdir=outdir)
    infra = InfraStack(app, config.stack_name("infra"), config=config)
    access = ClusterAccess(
        name=config.cluster_name,
        region=config.region,
        endpoint=infra.cluster_endpoint,
        certificate_authority=infra.cluster_certificate_authority,
    )
    crds = CrdsStack(app, config.stack_name("crds"), config=config, access=access)
    chart = ChartStack(app, config.stack_name("chart"), config=config, infra=infra, access=access)
    crds.add_dependency(infra)
    chart.add_dependency(crds)
    return app


def synthesize(config: KarpenterConfig, outdir: str | Path) -> None:
    """Synthesize into a sibling directory, then swap it in: `outdir` is either the old or the new output."""
    outdir = Path(outdir)
    staging = outdir.with_name(f"{outdir.name}.staging-{os.getpid()}")
    retired = outdir.with_name(f"{outdir.name}.old-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    try:
        build_app(config, str(staging)).synth()
        _carry_over_terraform_dirs(outdir, staging)
        if outdir.exists():
            outdir.rename(retired)
        staging.rename(outdir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)


def _carry_over_terraform_dirs(old: Path, new: Path) -> None:
    """Keep each stack's `.terraform/` (providers already installed by `terraform init`) across syntheses."""
    for terraform_dir in old.glob("stacks/*/.terraform"):
        target = new / terraform_dir.relative_to(old)
        if target.parent.is_dir():
            terraform_dir.rename(target)
