"""Import the prebuilt provider bindings without running their package `__init__`.

`cdktf_cdktf_provider_aws/__init__.py` imports all ~2,100 resource submodules (8-10 s per
process) although an app uses a few dozen. Registering a bare package module under the same
name first lets `from cdktf_cdktf_provider_aws.iam_role import IamRole` load only `_jsii` (the
assembly, ~2 s) and the submodules used. The submodules never read attributes of their parent
package, so the synthesized output is byte-identical (tests/test_fast_imports.py proves it).

Set KARPENTER_PLAIN_IMPORTS=1 to import the packages normally (the benchmark compares both).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types

PROVIDER_PACKAGES = (
    "cdktf_cdktf_provider_aws",
    "cdktf_cdktf_provider_helm",
    "cdktf_cdktf_provider_kubernetes",
    "cdktf_cdktf_provider_tls",
)


def prepare_framework() -> None:
    """Call once, before the first cdktf or provider import: silence jsii's Node banner, register the bare packages.

    jsii reads the banner setting when its Node process starts (cdktf 0.21 runs on Node 20, which
    jsii flags as end-of-life on every run; the value lists majors).
    """
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    register_bare_packages()


def register_bare_packages(names: tuple[str, ...] = PROVIDER_PACKAGES) -> list[str]:
    """Put an empty package module for each name into `sys.modules`; returns the names registered."""
    if os.environ.get("KARPENTER_PLAIN_IMPORTS") == "1":
        return []
    registered = []
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError(f"{name} is not an installed package (run `make deps`)")
        package = types.ModuleType(name, f"{name} (bare: submodules load on demand)")
        package.__spec__ = spec
        package.__path__ = list(spec.submodule_search_locations)
        package.__file__ = spec.origin
        package.__package__ = name
        sys.modules[name] = package
        registered.append(name)
    return registered
