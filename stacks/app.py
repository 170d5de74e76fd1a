"""The cdktf app: all stacks in deploy order, synthesized so a failure never leaves half an output."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from cdktf import App

from karpenter_constructs.cluster_access import ClusterAccess
from karpenter_model.config import KarpenterConfig
from karpenter_model.migration import migration_step
from stacks.chart import ChartStack
from stacks.crds import CrdsStack
from stacks.infra import InfraStack
from stacks.output import check_output_dir


def build_app(config: KarpenterConfig, outdir: str) -> App:
    """infra -> crds -> chart; `cdktf deploy '*'` follows the dependencies, `cdktf destroy '*'` reverses them."""
    app = App(outdir=outdir)
    step = migration_step(config)
    infra = InfraStack(app, config.stack_name("infra"), config=config, step=step)
    access = ClusterAccess(
        name=config.cluster_name,
        region=config.region,
        endpoint=infra.cluster_endpoint,
        certificate_authority=infra.cluster_certificate_authority,
    )
    crds = CrdsStack(app, config.stack_name("crds"), config=config, access=access, step=step)
    chart = ChartStack(app, config.stack_name("chart"), config=config, infra=infra, access=access, step=step)
    crds.add_dependency(infra)
    chart.add_dependency(crds)
    return app


def synthesize(config: KarpenterConfig, outdir: str | Path, config_path: str | Path | None = None) -> None:
    """Synthesize into a fresh sibling directory, then swap it in: `outdir` is either the old or the new output.

    Only an earlier output (or an empty directory) is ever replaced, and only directories this
    function created are deleted; stacks/output.py says what is refused and why.
    """
    outdir = check_output_dir(outdir, config, config_path)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = _fresh_sibling(outdir, "staging")
    staging.mkdir()  # fails rather than reuse anything that exists
    retired: Path | None = None
    try:
        build_app(config, str(staging)).synth()
        if outdir.exists():
            _carry_over_terraform_dirs(outdir, staging)
            retired = _fresh_sibling(outdir, "old")
            outdir.rename(retired)
        try:
            staging.rename(outdir)
        except BaseException:
            if retired is not None:  # put the earlier output back rather than delete it below
                retired.rename(outdir)
                retired = None
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)


def _fresh_sibling(outdir: Path, kind: str) -> Path:
    """A name beside `outdir` that nothing has: `cdktf.out.staging-<pid>-<random>`."""
    while True:
        candidate = outdir.with_name(f"{outdir.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")
        if not os.path.lexists(candidate):
            return candidate


def _carry_over_terraform_dirs(old: Path, new: Path) -> None:
    """Keep each stack's `.terraform/` (providers already installed by `terraform init`) across syntheses."""
    for terraform_dir in old.glob("stacks/*/.terraform"):
        target = new / terraform_dir.relative_to(old)
        if target.parent.is_dir():
            terraform_dir.rename(target)
