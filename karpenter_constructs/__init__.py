"""One construct per concern of karpenter.tf. Named so it cannot shadow the `constructs` library.

Importing it has no side effects: entry points call `fast_imports.prepare_framework()` before the
first cdktf or provider import (main.py, tests/conftest.py).
"""
