"""The exercise registry: ``check`` prints a verdict, loads a notebook's lesson only when needed, and
every exercise is tested (in tests/lessons/) and used by a notebook. The layers point one way.

Each lesson's right and wrong answers are in ``tests/lessons/test_nNN_*.py``.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from leptonkit import exercises
from leptonkit.exercises import check, exercise, exercise_ids

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("notebooks/*.ipynb"))
LESSONS = sorted(p for p in (ROOT / "leptonkit" / "lessons").glob("n[0-9][0-9]_*.py"))
LESSON_TESTS = ROOT / "tests" / "lessons"
TEACHING_LAYER = ("leptonkit.lessons", "leptonkit.widgets", "leptonkit.exercises")


def test_check_prints_a_tick_or_a_hint(capsys):
    assert check("00.1", 76) is True
    assert "✓ Exercise 00.1" in capsys.readouterr().out
    assert check("00.1", 10) is False
    out = capsys.readouterr().out
    assert "✗ Exercise 00.1" in out and "Hint:" in out
    assert check("01.1", "not a pair") is False
    assert "could not be checked" in capsys.readouterr().out
    assert check("00.1", ...) is False
    assert "replace ..." in capsys.readouterr().out


@pytest.mark.parametrize("unknown", ["99.9", "06.9", "6.2", 6.2])
def test_unknown_exercise_names_the_known_ones(unknown):
    last = re.escape(sorted(exercise_ids())[-1])
    with pytest.raises(ValueError, match=rf"exercise_id must be one of 00\.1, .*{last}; got"):
        check(unknown, 1)


def test_an_exercise_id_is_registered_once_and_well_formed():
    assert "00.1" in exercise_ids()   # loads every lesson, so 00.1 has its checker
    with pytest.raises(ValueError, match="already registered"):
        exercise("00.1", hint="a second checker")(lambda answer: True)
    with pytest.raises(ValueError, match=r"must look like '06\.2'"):
        exercise("6.2", hint="malformed")


def test_every_exercise_is_registered_by_its_notebooks_lesson():
    lessons = {p.stem[1:3]: p.stem for p in LESSONS}
    assert sorted(lessons) == sorted({p.name[:2] for p in NOTEBOOKS})
    for exercise_id in exercise_ids():
        checker = exercises._EXERCISES[exercise_id].is_correct
        assert checker.__module__ == f"leptonkit.lessons.{lessons[exercise_id[:2]]}", exercise_id


def _tested_ids(path: Path) -> set[str]:
    """The keys of the ``ANSWERS = {...}`` dict of a lesson's test file."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "ANSWERS" for t in node.targets):
            return {key.value for key in node.value.keys}
    return set()


def test_every_registered_exercise_has_a_test_in_its_lessons_test_file():
    tested = set()
    for lesson in LESSONS:
        test_file = LESSON_TESTS / f"test_{lesson.stem}.py"
        assert test_file.exists(), f"{lesson.name} has no {test_file.relative_to(ROOT)}"
        ids = _tested_ids(test_file)
        assert all(i.startswith(lesson.stem[1:3] + ".") for i in ids), (test_file.name, ids)
        tested |= ids
    assert sorted(tested) == exercise_ids()


def test_every_exercise_is_in_a_notebook_with_a_tagged_solution_after_it():
    seen = set()
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            for exercise_id in exercise_ids():
                if cell.cell_type == "code" and f'check("{exercise_id}", answer)' in cell.source \
                        and "solution" not in cell.metadata.get("tags", []):
                    seen.add(exercise_id)
                    assert "answer = ..." in cell.source, (path.name, exercise_id)
                    after = cells[i + 1]
                    assert "solution" in after.metadata.get("tags", []), (path.name, exercise_id)
                    assert f'check("{exercise_id}"' in after.source
    assert seen == set(exercise_ids())


def test_importing_exercises_loads_no_torch():
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", "import leptonkit.exercises"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = [line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()
              if line.startswith("import time:") and "|" in line]
    assert "leptonkit.exercises" in loaded
    heavy = [m for m in loaded if m.split(".")[0] in ("torch", "opacus")]
    assert not heavy, heavy[:5]
    allowed = ("leptonkit.exercises", "leptonkit.errors", "leptonkit.i18n")
    topics = [m for m in loaded if m.startswith("leptonkit.") and m not in allowed]
    assert not topics, topics


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports statically, as absolute names (``from . import x`` → ``leptonkit.x``)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def test_the_library_never_imports_the_teaching_layer():
    for path in sorted((ROOT / "leptonkit").rglob("*.py")):
        if path.parent.name == "lessons":
            continue
        own = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        wrong = {m for m in _imports(path) if m != own and m.startswith(TEACHING_LAYER)}
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


@pytest.mark.parametrize("name", ["exercises", "widgets", "plots"])
def test_the_shared_teaching_modules_import_no_topic_module(name):
    imported = {m for m in _imports(ROOT / "leptonkit" / f"{name}.py") if m.startswith("leptonkit.")}
    assert imported <= {"leptonkit.errors", "leptonkit.i18n", "leptonkit.i18n._", "leptonkit.i18n.N_"}, \
        sorted(imported)


def test_the_generic_checks_say_what_is_wrong():
    assert exercises.exactly(6, 6, "{} is not six") is True
    with pytest.raises(exercises.NotYet, match=r"^7 is not six$"):
        exercises.exactly(7, 6, "{} is not six")
    assert exercises.just_enough(2.95, 3.0) is True
    with pytest.raises(exercises.NotYet, match="above the target 3"):
        exercises.just_enough(3.01, 3.0)
    with pytest.raises(exercises.NotYet, match="more noise than needed"):
        exercises.just_enough(2.5, 3.0)
    assert exercises.close_to(1.005, 1.0, rel=0.01) is True
    with pytest.raises(exercises.NotYet, match="not within 1%"):
        exercises.close_to(1.05, 1.0, rel=0.01)
