"""Where synthesis may write: checks that run before cdktf is loaded, so nothing is ever lost.

Every synth replaces the output directory as a whole (stacks/app.py `synthesize`). So the
directory must be one of its own: never the project, the current directory or a parent of them,
never a file, and, if it exists, either empty or an earlier synthesis (recognized by what cdktf
writes: `manifest.json` and `stacks/`). Anything else is refused and left as it is. Local state
must not live inside it either, or the next synth would delete it.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from karpenter_model.base import ConfigError, bounded_repr
from karpenter_model.config import DEFAULT_OUTDIR, KarpenterConfig, LocalBackendSettings

PROJECT = Path(__file__).resolve().parent.parent
# What `cdktf synth` writes into its output directory; an earlier output has both.
OUTPUT_MARKERS = ("manifest.json", "stacks")


class OutputError(ConfigError):
    """The output directory cannot be used; the message names CDKTF_OUTDIR, not a config key."""


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def is_previous_output(directory: Path) -> bool:
    """Whether `directory` looks like what cdktf synth writes (and so may be replaced)."""
    return (directory / "manifest.json").is_file() and (directory / "stacks").is_dir() and not (directory / "stacks").is_symlink()


def check_output_dir(outdir: str | Path, config: KarpenterConfig | None = None, config_path: str | Path | None = None) -> Path:
    """The output directory as an absolute path, if synthesis may replace it; an OutputError otherwise."""
    shown = (
        f"CDKTF_OUTDIR={bounded_repr(str(outdir))}"
        if str(outdir) != DEFAULT_OUTDIR
        else f"the output directory {DEFAULT_OUTDIR!r}"
    )
    if str(outdir) == "":
        raise OutputError(f"{shown}: empty; allowed: a directory of its own such as {DEFAULT_OUTDIR}")
    absolute = Path(os.path.abspath(outdir))
    resolved = absolute.resolve()
    own = f"allowed: a directory of its own such as {DEFAULT_OUTDIR}, which every synth replaces"
    for what, place in (("the current directory", Path.cwd().resolve()), ("the project", PROJECT)):
        if _inside(place, resolved):
            relation = "is" if place == resolved else "contains"
            raise OutputError(f"{shown}: {relation} {what} ({place}), and every synth replaces the output directory; {own}")
    if absolute.is_symlink():
        raise OutputError(
            f"{shown}: is a symbolic link (to {os.readlink(absolute)!r}); point CDKTF_OUTDIR at the directory itself"
        )
    if absolute.exists() and not absolute.is_dir():
        raise OutputError(f"{shown}: is a file, not a directory; it is left as it is; {own}")
    if config_path is not None and _inside(Path(os.path.abspath(config_path)).resolve(), resolved):
        raise OutputError(f"{shown}: holds the config file {str(config_path)!r}, which the next synth would delete; {own}")
    if absolute.is_dir() and any(absolute.iterdir()) and not is_previous_output(absolute):
        raise OutputError(
            f"{shown}: exists and is not the output of an earlier synth (it has no {' and no '.join(OUTPUT_MARKERS)}), "
            f"so replacing it could lose data; it is left as it is; allowed: an empty or new directory, or an earlier output"
        )
    if config is not None:
        check_state_outside(config, absolute)
    return absolute


def check_state_outside(config: KarpenterConfig, outdir: Path) -> None:
    """Local state (`<outdir>/../<backend.directory>`, see stacks/state.py) must not be inside the output directory."""
    backend = config.backend
    if not isinstance(backend, LocalBackendSettings):
        return
    state_dir = Path(posixpath.normpath(str(outdir.parent / backend.directory)))
    if _inside(state_dir.resolve(), outdir.resolve()):
        raise ConfigError(
            f"backend.directory: got {backend.directory!r}: the state files would be in {state_dir}, inside the output "
            f"directory {outdir}, which every synth replaces; allowed: a directory outside it, such as '.' or 'state'"
        )
