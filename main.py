"""Entry point of `make synth` and of `cdktf synth` (cdktf.json's "app").

Reads the config named by KARPENTER_CONFIG (default: the bundled example), validates it before
anything else is loaded, and only then synthesizes every stack into CDKTF_OUTDIR (set by the
cdktf CLI) or `cdktf.out`. A bad config exits 1 with one message and leaves the output untouched.
"""

from __future__ import annotations

import os
import sys

DEFAULT_CONFIG = "examples/aws-2026-eks.yaml"


def main() -> int:
    from karpenter_model.base import ConfigError
    from karpenter_model.loading import load_config

    config_path = os.environ.get("KARPENTER_CONFIG") or DEFAULT_CONFIG
    try:
        config = load_config(config_path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for warning in config.warnings():
        print(f"warning: {warning}", file=sys.stderr)

    from stacks.app import synthesize

    try:
        synthesize(config, os.environ.get("CDKTF_OUTDIR") or "cdktf.out")
    except ConfigError as error:  # problems only the assembled stacks reveal, e.g. an adoption address
        print(f"error: {config_path}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
