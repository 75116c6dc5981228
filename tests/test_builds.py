"""`make student` hides every solution and still runs; `make instructor` keeps them, all passing —
in English (build/…/) and in 简体中文 (build/…/zh-CN/, the twins in notebooks/zh-CN/)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from leptonkit.exercises import exercise_ids

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TWINS = sorted((ROOT / "notebooks" / "zh-CN").glob("*.ipynb"))
SOURCES = NOTEBOOKS + TWINS
# what check() prints, by language: a passed exercise, and the placeholder's answer
PASSED = {"en": r"✓ Exercise (\d\d\.\d+): correct\.", "zh-CN": r"✓ 练习 (\d\d\.\d+)：正确。"}
PLACEHOLDER = {"en": "replace ... with your answer", "zh-CN": "把 ... 换成你的答案"}
_spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
build_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_notebooks)


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    return build_notebooks.build("student", tmp_path_factory.mktemp("student"), SOURCES)


@pytest.fixture(scope="module")
def instructor(tmp_path_factory):
    return build_notebooks.build("instructor", tmp_path_factory.mktemp("instructor"), SOURCES)


def _solution_lines(path: Path) -> set[str]:
    """The lines of a notebook's solution cells that give something away."""
    lines = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if build_notebooks.is_solution(cell):
            lines |= {line.strip() for line in cell.source.splitlines()   # not `try:` or `break`
                      if len(line.strip()) > 15 and not line.startswith(("#", "check(", "print("))}
    return lines


def test_both_languages_are_built_side_by_side(student, instructor):
    for built in (student, instructor):
        root = built[0].parent
        assert [p.relative_to(root) for p in built] == [p.relative_to(ROOT / "notebooks") for p in SOURCES]
    if TWINS:
        assert (student[0].parent / "zh-CN" / "GLOSSARY.md").exists()


def test_learner_copies_have_no_solutions_and_no_outputs(student):
    for source, copy in zip(SOURCES, student, strict=True):
        nb = nbformat.read(copy, as_version=4)
        assert not any(build_notebooks.is_solution(c) for c in nb.cells), copy.name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), copy.name
        text = "\n".join(c.source for c in nb.cells)
        leaked = [line for line in _solution_lines(source) if line in text.splitlines()]
        assert not leaked, f"{copy.name} still shows solution lines: {leaked[:3]}"
        stubs = [c for c in nb.cells if "solution-stub" in c.metadata.get("tags", [])]
        assert stubs and all("your answer here" in c.source for c in stubs)


# The learner copies executed here: every English one, and one zh-CN twin. The twins' code is the
# English code (tests/test_translations.py fails otherwise) and nbval runs every twin, so what a second
# language adds to this run is only its placeholder text — one twin shows it; all of them would add
# minutes to `make test`.
EXECUTED = [p for p in SOURCES if p in NOTEBOOKS or p.name.startswith("02_")]


# Kernels at once, one math thread each: most of a notebook's time is single-threaded Python, so two
# one-thread kernels finish the copies sooner on two cores than one two-thread kernel after another
# (as in the browser test, tests/test_browser.py).
KERNELS = 2


async def _execute_all(copies: list[tuple[Path, Path]]) -> list[nbformat.NotebookNode]:
    """Execute each learner copy (from its source's folder), ``KERNELS`` at a time, in order."""
    gate = asyncio.Semaphore(KERNELS)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}

    async def one(source: Path, copy: Path) -> nbformat.NotebookNode:
        nb = nbformat.read(copy, as_version=4)
        for cell in nb.cells:   # what nbval skips (the deployment demo's minute of processes) is skipped here
            if cell.cell_type == "code" and "# NBVAL_SKIP" in cell.source:
                cell.source = "# skipped, as nbval skips it"
        async with gate:
            await NotebookClient(nb, timeout=120, kernel_name="python3",
                                 resources={"metadata": {"path": str(source.parent)}}).async_execute(env=env)
        return nb

    return await asyncio.gather(*(one(source, copy) for source, copy in copies))


def test_learner_copies_run_top_to_bottom_without_giving_answers(student):
    copies = [(source, copy) for source, copy in zip(SOURCES, student, strict=True) if source in EXECUTED]
    for (source, copy), nb in zip(copies, asyncio.run(_execute_all(copies)), strict=True):
        language = build_notebooks.language_of(source)
        printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                          for o in c.outputs)
        assert not re.search(PASSED[language], printed), f"{copy} answers an exercise by itself"
        assert PLACEHOLDER[language] in printed, copy


def test_instructor_copies_keep_every_solution_passing(instructor):
    """Every exercise passes in its English solution, and in its twin's, in Chinese."""
    passed = {"en": set(), "zh-CN": set()}
    for source, copy in zip(SOURCES, instructor, strict=True):
        language = build_notebooks.language_of(source)
        nb = nbformat.read(copy, as_version=4)
        assert nb.cells == nbformat.read(source, as_version=4).cells  # nbval re-runs these cells
        for cell in nb.cells:
            if build_notebooks.is_solution(cell):
                out = "".join(o.get("text", "") for o in cell.outputs)
                passed[language] |= set(re.findall(PASSED[language], out))
    assert passed["en"] == set(exercise_ids())
    translated = {p.name[:2] for p in TWINS}
    assert passed["zh-CN"] == {e for e in exercise_ids() if e[:2] in translated}
