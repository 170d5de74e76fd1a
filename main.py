"""Entry point of `make synth` and of `cdktf synth` (cdktf.json's "app").

Reads the config named by KARPENTER_CONFIG (default, when unset: the bundled example), validates
it and checks the output directory before anything else is loaded, and only then synthesizes
every stack into CDKTF_OUTDIR (set by the cdktf CLI) or `cdktf.out`. A bad config or output
directory exits 1 with one message and leaves the output untouched.
"""

from __future__ import annotations

import os
import sys

DEFAULT_CONFIG = "examples/aws-2026-eks.yaml"


def _setting(name: str, default: str) -> str:
    """An environment variable's value, the default when it is unset; set but empty is a mistake, not a default."""
    from karpenter_model.base import ConfigError

    value = os.environ.get(name)
    if value is None:
        return default
    if not value.strip():
        raise ConfigError(f"{name}: set but empty; allowed: a path, or leave {name} unset to use {default}")
    return value


def main() -> int:
    from karpenter_model.base import ConfigError
    from karpenter_model.config import DEFAULT_OUTDIR
    from karpenter_model.loading import load_config

    try:
        config_path = _setting("KARPENTER_CONFIG", DEFAULT_CONFIG)
        outdir = _setting("CDKTF_OUTDIR", DEFAULT_OUTDIR)
        config = load_config(config_path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    from stacks.output import OutputError, check_output_dir

    try:
        check_output_dir(outdir, config, config_path)  # before cdktf is loaded: a refusal costs no time
    except OutputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ConfigError as error:
        print(f"error: {config_path}: {error}", file=sys.stderr)
        return 1
    for warning in config.warnings():
        print(f"warning: {warning}", file=sys.stderr)

    from karpenter_constructs.fast_imports import prepare_framework

    prepare_framework()
    from stacks.app import synthesize

    try:
        synthesize(config, outdir, config_path)
    except OutputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ConfigError as error:  # problems only the assembled stacks reveal, e.g. an adoption address
        print(f"error: {config_path}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
