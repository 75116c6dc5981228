"""The 简体中文 twins cannot drift from the English series.

Every English notebook ``notebooks/NN_*.ipynb`` has a twin ``notebooks/zh-CN/NN_*.ipynb`` with the same
cells in the same order (same ids, types and tags), the same code character for character except the
two lines that choose the language at the top of the first code cell, and every Markdown cell
translated (it stores the hash of the English it was translated from; ``tools/translation_status.py``
says which ones the English has changed since). nbval runs the twins too (pytest collects
``notebooks/`` recursively), so their checked outputs are the Chinese ones.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ZH = ROOT / "notebooks" / "zh-CN"
LANGUAGE_LINES = 'from leptonkit import set_language\nset_language("zh-CN")\n'
ZH_HEADINGS = ("**学习目标**", "**用时**", "**预备知识**", "## 故事", "## 本节小结", "## 延伸阅读")
_spec = importlib.util.spec_from_file_location("translation_status", ROOT / "tools" / "translation_status.py")
translation_status = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(translation_status)


def _cells(path: Path) -> list:
    return nbformat.read(path, as_version=4).cells


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


@pytest.mark.parametrize("english", ENGLISH, ids=lambda p: p.name)
def test_every_notebook_has_a_twin_with_the_same_cells(english):
    twin = ZH / english.name
    assert twin.exists(), f"{english.name} has no 简体中文 twin in notebooks/zh-CN/"
    source, zh = _cells(english), _cells(twin)
    assert len(zh) == len(source), f"{len(zh)} cells, the English has {len(source)}"
    assert [c.cell_type for c in zh] == [c.cell_type for c in source]
    assert [c.get("id") for c in zh] == [c.get("id") for c in source]
    assert [_tags(c) for c in zh] == [_tags(c) for c in source]   # solutions stay solutions


@pytest.mark.parametrize("english", ENGLISH, ids=lambda p: p.name)
def test_the_twins_code_is_the_english_code(english):
    twin = ZH / english.name
    if not twin.exists():
        pytest.skip("no twin yet (the test above fails for it)")
    code = [(a, b) for a, b in zip(_cells(english), _cells(twin), strict=False) if a.cell_type == "code"]
    assert code, "no code cells"
    first_english, first_zh = code[0]
    assert first_zh.source == LANGUAGE_LINES + first_english.source, \
        "the first code cell must be the two set_language lines, then the English cell"
    differ = [i for i, (a, b) in enumerate(code[1:], start=1) if a.source != b.source]
    assert not differ, f"code cells {differ} differ from the English ones"


@pytest.mark.parametrize("english", ENGLISH, ids=lambda p: p.name)
def test_every_markdown_cell_is_translated_in_the_zh_shape(english):
    twin = ZH / english.name
    if not twin.exists():
        pytest.skip("no twin yet (the first test fails for it)")
    markdown = [c for c in _cells(twin) if c.cell_type == "markdown"]
    unhashed = [i for i, c in enumerate(markdown) if not re.fullmatch(
        r"[0-9a-f]{16}", str(c.get("metadata", {}).get("translated_from", "")))]
    assert not unhashed, f"Markdown cells {unhashed} carry no translated_from hash"
    text = "\n".join(c.source for c in markdown)
    missing = [h for h in ZH_HEADINGS if h not in text]
    assert not missing, f"missing headings {missing}"
    exercises = set(re.findall(r"^#+ 练习 (\d\d\.\d+)", text, re.MULTILINE))
    assert len(exercises) >= 3, f"only {sorted(exercises)} as 练习 NN.k headings"
    assert all(e.startswith(english.name[:2] + ".") for e in exercises), sorted(exercises)


# --- tools/translation_status.py, on a temporary copy ----------------------------------------------


def _twin(english: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A twin built as the translators build them: same cells, Markdown 'translated' and hashed."""
    zh = nbformat.from_dict(english)
    for cell in zh.cells:
        if cell.cell_type == "markdown":
            cell.metadata["translated_from"] = translation_status.source_hash(cell.source)
            cell.source = "译文：" + cell.source
    first = next(c for c in zh.cells if c.cell_type == "code")
    first.source = LANGUAGE_LINES + first.source
    return zh


@pytest.fixture
def repo(tmp_path):
    """A copy of the repository's notebooks 00 and 02, each with a freshly translated twin."""
    (tmp_path / "notebooks" / "zh-CN").mkdir(parents=True)
    for name in ("00_welcome.ipynb", "02_laplace_vs_gaussian.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
        english = nbformat.read(tmp_path / "notebooks" / name, as_version=4)
        nbformat.write(_twin(english), tmp_path / "notebooks" / "zh-CN" / name)
    return tmp_path


def test_translation_status_is_quiet_when_all_is_in_step(repo, capsys):
    assert translation_status.main(["--root", str(repo)]) == 0
    assert capsys.readouterr().out.count(": in step") == 2


def test_translation_status_names_the_markdown_cells_that_changed(repo, capsys):
    path = repo / "notebooks" / "02_laplace_vs_gaussian.ipynb"
    english = nbformat.read(path, as_version=4)
    index = next(i for i, c in enumerate(english.cells) if c.cell_type == "markdown" and i > 3)
    english.cells[index].source += "\n\nA sentence added in English."
    english.cells.insert(index + 1, nbformat.v4.new_markdown_cell("A new English cell."))
    nbformat.write(english, path)
    assert translation_status.main(["--root", str(repo)]) == 1
    out = capsys.readouterr().out
    assert "00_welcome.ipynb: in step" in out
    assert "02_laplace_vs_gaussian.ipynb: 2 Markdown cell(s) to translate again" in out
    assert f"cell {index} (id {english.cells[index].id}): English changed since it was translated" in out
    assert f"cell {index + 1} (id {english.cells[index + 1].id}): no zh cell with this id" in out


def test_translation_status_names_untranslated_cells_and_missing_twins(repo, capsys):
    twin_path = repo / "notebooks" / "zh-CN" / "00_welcome.ipynb"
    twin = nbformat.read(twin_path, as_version=4)
    first_markdown = next(c for c in twin.cells if c.cell_type == "markdown")
    del first_markdown.metadata["translated_from"]
    nbformat.write(twin, twin_path)
    shutil.copy(ROOT / "notebooks" / "01_encryption.ipynb", repo / "notebooks")
    assert translation_status.main(["--root", str(repo)]) == 1
    out = capsys.readouterr().out
    assert "never translated" in out
    assert "notebooks/zh-CN/01_encryption.ipynb: missing" in out
