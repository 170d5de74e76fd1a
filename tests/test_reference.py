"""docs/configuration.md is generated from the config model (karpenter_model.reference): current, complete, described."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from karpenter_model import reference
from karpenter_model.config import KarpenterConfig
from tests.conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").rglob("*.yaml"))


def test_the_configuration_reference_is_current():
    assert reference.TARGET == ROOT / "docs" / "configuration.md"
    assert reference.TARGET.read_text() == reference.render(), (
        "docs/configuration.md is stale: run `make docs` (python -m karpenter_model.reference) and commit it"
    )


def test_every_config_field_has_a_description():
    missing = reference.missing_descriptions()
    assert not missing, f"give these fields a Field(description=...) in karpenter_model/config.py: {missing}"


def _keys(data: Any, nested: set[str], prefix: str = "") -> set[str]:
    """The dotted keys a config sets, going into a value only where the model has keys of its own below it
    (`nested`), not into data mappings (tags, labels) or node specs (upstream's CRD)."""
    found: set[str] = set()
    for key, value in data.items():
        path = f"{prefix}{key}"
        items = value if isinstance(value, list) else [value]
        path = f"{path}[]" if isinstance(value, list) and f"{path}[]" in nested else path  # a list of mappings
        found.add(path)
        if path in nested:
            for item in items:
                found |= _keys(item, nested, f"{path}.")
    return found


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: str(path.relative_to(ROOT / "examples")))
def test_every_key_an_example_sets_is_documented(example: Path):
    rows = list(reference.rows(KarpenterConfig))
    nested = {row.key for row in rows if "(keys below)" in row.type}
    keys = _keys(yaml.safe_load(example.read_text()), nested)
    assert len(keys) > 10
    undocumented = sorted(keys - {row.key for row in rows})
    assert not undocumented, undocumented
    text = reference.TARGET.read_text()
    assert all(f"| `{key}` |" in text for key in keys if "." in key or key not in nested)


def test_a_stale_reference_fails_the_check_and_names_the_command(tmp_path: Path, monkeypatch, capsys):
    stale = tmp_path / "configuration.md"
    stale.write_text(reference.render().replace("cluster_name", "cluster", 1))
    monkeypatch.setattr(reference, "TARGET", stale)
    assert reference.main(["--check"]) == 1
    assert "stale; run `make docs`" in capsys.readouterr().err
    assert reference.main([]) == 0
    assert reference.main(["--check"]) == 0
    assert stale.read_text() == reference.render()
