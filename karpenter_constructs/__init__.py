"""One construct per concern of karpenter.tf. Named so it cannot shadow the `constructs` library.

Importing this package prepares the framework, so it must come before any cdktf or provider
import: jsii reads the banner setting when its Node process starts, and the bare provider
packages must be registered before any provider submodule is imported.
"""

import os

from karpenter_constructs.fast_imports import register_bare_packages

# cdktf 0.21 runs on Node 20, which jsii flags as end-of-life in a banner on every run; the value lists majors.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
register_bare_packages()
