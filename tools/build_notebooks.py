"""Write the learner's and the instructor's copies of every notebook, in both languages.

- ``student``: every cell tagged ``solution`` becomes a stub that says "your answer here" (in the
  notebook's language), and every output is cleared, so nothing gives an answer away.
- ``instructor``: the notebooks as they are, solutions and checked outputs included.

Usage: python tools/build_notebooks.py {student,instructor} OUT_DIR [NOTEBOOK ...]
By default every notebook in notebooks/ goes to OUT_DIR and every 简体中文 twin in notebooks/zh-CN/
to OUT_DIR/zh-CN (with the glossary). ``make student`` and ``make instructor`` call it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_TAG = "solution"
STUBS = {"en": "# your answer here: write it in the exercise cell above, then run that cell again",
         "zh-CN": "# 在此作答（your answer here）：把答案写在上面的练习单元格里，然后再运行一次那个单元格"}
STUB = STUBS["en"]
ZH = "zh-CN"   # the folder of the 简体中文 twins, under notebooks/ and under each build


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def language_of(path: Path) -> str:
    """``"zh-CN"`` for a twin in a ``zh-CN`` folder, else ``"en"``."""
    return ZH if Path(path).parent.name == ZH else "en"


def student_copy(nb: nbformat.NotebookNode, language: str = "en") -> nbformat.NotebookNode:
    """The learner's notebook: solution cells replaced by a stub, all outputs cleared."""
    copy = nbformat.from_dict(nb)
    cells = []
    for cell in copy.cells:
        if is_solution(cell):
            cell = nbformat.v4.new_code_cell(STUBS[language], metadata={"tags": ["solution-stub"]})
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    copy.cells = cells
    copy.metadata.pop("widgets", None)
    return copy


def instructor_copy(nb: nbformat.NotebookNode, language: str = "en") -> nbformat.NotebookNode:
    """The instructor's notebook: unchanged, solutions and checked outputs included."""
    return nbformat.from_dict(nb)


BUILDS = {"student": student_copy, "instructor": instructor_copy}


def build(kind: str, out_dir: Path, notebooks: list[Path]) -> list[Path]:
    """Write the ``kind`` copy of each notebook into ``out_dir``, a zh-CN twin into ``out_dir/zh-CN``."""
    written = []
    for path in notebooks:
        language = language_of(path)
        target = (out_dir / ZH if language == ZH else out_dir) / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(BUILDS[kind](nbformat.read(path, as_version=4), language), target)
        written.append(target)
    glossary = ROOT / "notebooks" / ZH / "GLOSSARY.md"
    if any(language_of(p) == ZH for p in notebooks) and glossary.exists():
        shutil.copy(glossary, out_dir / ZH / glossary.name)
    return written


def all_notebooks() -> list[Path]:
    """Every English notebook, then every 简体中文 twin."""
    return [*sorted((ROOT / "notebooks").glob("*.ipynb")), *sorted((ROOT / "notebooks" / ZH).glob("*.ipynb"))]


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in BUILDS:
        sys.exit(__doc__)
    paths = [Path(p) for p in sys.argv[3:]] or all_notebooks()
    for written in build(sys.argv[1], Path(sys.argv[2]), paths):
        print(written)
