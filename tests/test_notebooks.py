"""Every notebook has the shape NOTEBOOKS.md promises, stays small, and ships no secrets or checkpoints."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("notebooks/*.ipynb"))


def test_notebooks_are_numbered_in_teaching_order():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == sorted(set(numbers)) and NOTEBOOKS[0].name == "00_welcome.ipynb"
    assert all(re.fullmatch(r"\d\d_[a-z_]+\.ipynb", p.name) for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_shape(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in ("**Learning goals**", "**Time**", "**Assumes**", "## The story",
                    "## What you learned", "## Further reading"):
        assert heading in text, f"{path.name} lacks {heading}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    exercises = [c for c in code if "check(" in c.source and "solution" not in c.metadata.get("tags", [])]
    assert len(exercises) >= 3, f"{path.name} has {len(exercises)} exercises, needs 3"
    assert any("explorer(" in c.source for c in code), f"{path.name} has no live explorer"
    assert any("NBVAL_CHECK_OUTPUT" in c.source for c in code)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_small_and_carries_no_bulky_outputs(path):
    assert path.stat().st_size < 100_000, f"{path.name}: run `make notebooks` to strip outputs"
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            assert not {"text/html", "application/vnd.plotly.v1+json",
                        "application/vnd.jupyter.widget-view+json"} & set(data), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_needs_no_network(path):
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                       if c.cell_type == "code")
    assert not re.search(r"urlopen|requests\.|fetch_openml|download=True|!pip|%pip", source)


def test_no_checkpoints_or_keys_are_tracked():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout
    assert ".ipynb_checkpoints" not in files
    assert not [f for f in files.splitlines() if f.endswith((".pem", ".key"))]
