"""Constructs read from their signatures: typed inputs, no whole config, no import cycle in the model."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import typing
from pathlib import Path

from constructs import Construct

from karpenter_model import construct_inputs
from karpenter_model.config import KarpenterConfig
from karpenter_model.migration import MigrationStep, migration_step
from tests.conftest import MIGRATION_STEPS, ROOT, make_config


def construct_classes() -> list[type]:
    found = []
    for path in sorted((ROOT / "karpenter_constructs").glob("*.py")):
        module = importlib.import_module(f"karpenter_constructs.{path.stem}")
        found += [
            c
            for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, Construct) and c.__module__ == module.__name__
        ]
    return found


def test_no_construct_takes_the_whole_config():
    classes = construct_classes()
    assert len(classes) >= 10, [c.__name__ for c in classes]
    takes_config = [c.__name__ for c in classes if KarpenterConfig in typing.get_type_hints(vars(c)["__init__"]).values()]
    assert takes_config == []


def test_construct_inputs_are_frozen_dataclasses():
    inputs = [c for _, c in inspect.getmembers(construct_inputs, inspect.isclass) if c.__module__ == construct_inputs.__name__]
    assert inputs
    for cls in inputs:
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, cls.__name__  # type: ignore[attr-defined]


def module_imports(package: str) -> dict[str, set[str]]:
    """For each module of `package`, the modules of `package` it imports (at any level of the file)."""
    graph: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name.startswith(package)}
        graph[name] = found
    return graph


def test_the_model_has_no_import_cycle():
    graph = module_imports("karpenter_model")
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        for imported in sorted(graph.get(module, ())):
            if imported in trail:
                cycles.append(trail[trail.index(imported) :] + [imported])
            elif imported in graph and imported not in done:
                visit(imported, [*trail, imported])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        visit(module, [module])
    assert cycles == []


def test_a_steady_state_deploy_has_no_migration_step():
    assert migration_step(make_config()) is None


def test_each_migration_step_is_computed_once_from_its_config():
    from karpenter_model.loading import load_config

    steps = {path.stem: migration_step(load_config(path)) for path in MIGRATION_STEPS}
    taken = {stem: (s.previous.version, s.current.version) for stem, s in steps.items() if isinstance(s, MigrationStep)}
    assert taken == {
        "1-karpenter-0.37.8": ("0.37.2", "0.37.8"),
        "2-karpenter-1.0.14": ("0.37.8", "1.0.14"),
        "3-karpenter-1.14.1": ("1.0.14", "1.14.1"),
    }
    # Only the step that changes the API version re-addresses node objects (v1beta1 -> v1).
    moving = {stem for stem, s in steps.items() if s and s.manifest_moves([("NodePool", "default")])}
    assert moving == {"2-karpenter-1.0.14"}


def test_the_model_is_importable_without_the_framework():
    """Documents and inputs are plain Python: nothing under karpenter_model imports cdktf, constructs or jsii."""
    framework = ("cdktf", "constructs", "jsii", "cdktf_cdktf_provider")
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in Path(ROOT / "karpenter_model").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        for name in ([node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in getattr(node, "names", [])])
        if isinstance(node, (ast.Import, ast.ImportFrom)) and name.split(".")[0] in framework
    ]
    assert offenders == []
