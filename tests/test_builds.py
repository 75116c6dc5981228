"""`make student` hides every solution and still runs; `make instructor` keeps them, all passing."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from leptonkit.exercises import exercise_ids

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
_spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
build_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_notebooks)


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    return build_notebooks.build("student", tmp_path_factory.mktemp("student"), NOTEBOOKS)


@pytest.fixture(scope="module")
def instructor(tmp_path_factory):
    return build_notebooks.build("instructor", tmp_path_factory.mktemp("instructor"), NOTEBOOKS)


def _solution_lines(path: Path) -> set[str]:
    """The lines of a notebook's solution cells that give something away."""
    lines = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if build_notebooks.is_solution(cell):
            lines |= {line.strip() for line in cell.source.splitlines()   # not `try:` or `break`
                      if len(line.strip()) > 15 and not line.startswith(("#", "check(", "print("))}
    return lines


def test_learner_copies_have_no_solutions_and_no_outputs(student):
    assert [p.name for p in student] == [p.name for p in NOTEBOOKS]
    for source, copy in zip(NOTEBOOKS, student, strict=True):
        nb = nbformat.read(copy, as_version=4)
        assert not any(build_notebooks.is_solution(c) for c in nb.cells), copy.name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), copy.name
        text = "\n".join(c.source for c in nb.cells)
        leaked = [line for line in _solution_lines(source) if line in text.splitlines()]
        assert not leaked, f"{copy.name} still shows solution lines: {leaked[:3]}"
        stubs = [c for c in nb.cells if "solution-stub" in c.metadata.get("tags", [])]
        assert stubs and all("your answer here" in c.source for c in stubs)


def test_learner_copies_run_top_to_bottom_without_giving_answers(student):
    for copy in student:
        nb = nbformat.read(copy, as_version=4)
        for cell in nb.cells:   # what nbval skips (the deployment demo's minute of processes) is skipped here
            if cell.cell_type == "code" and "# NBVAL_SKIP" in cell.source:
                cell.source = "# skipped, as nbval skips it"
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
        printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                          for o in c.outputs)
        assert "✓ Exercise" not in printed, f"{copy.name} answers an exercise by itself"
        assert "replace ... with your answer" in printed


def test_instructor_copies_keep_every_solution_passing(instructor):
    passed = set()
    for source, copy in zip(NOTEBOOKS, instructor, strict=True):
        nb = nbformat.read(copy, as_version=4)
        assert nb.cells == nbformat.read(source, as_version=4).cells  # nbval re-runs these cells
        for cell in nb.cells:
            if build_notebooks.is_solution(cell):
                out = "".join(o.get("text", "") for o in cell.outputs)
                passed |= set(re.findall(r"✓ Exercise (\d\d\.\d+): correct\.", out))
    assert passed == set(exercise_ids())
