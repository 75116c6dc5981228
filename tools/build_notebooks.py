"""Write the learner's and the instructor's copies of every notebook.

- ``student``: every cell tagged ``solution`` becomes a stub that says "your answer here",
  and every output is cleared, so nothing gives an answer away.
- ``instructor``: the notebooks as they are, solutions and checked outputs included.

Usage: python tools/build_notebooks.py {student,instructor} OUT_DIR [NOTEBOOK ...]
(by default every notebook in notebooks/). ``make student`` and ``make instructor`` call it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_TAG = "solution"
STUB = "# your answer here: write it in the exercise cell above, then run that cell again"


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The learner's notebook: solution cells replaced by a stub, all outputs cleared."""
    copy = nbformat.from_dict(nb)
    cells = []
    for cell in copy.cells:
        if is_solution(cell):
            cell = nbformat.v4.new_code_cell(STUB, metadata={"tags": ["solution-stub"]})
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    copy.cells = cells
    copy.metadata.pop("widgets", None)
    return copy


def instructor_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The instructor's notebook: unchanged, solutions and checked outputs included."""
    return nbformat.from_dict(nb)


BUILDS = {"student": student_copy, "instructor": instructor_copy}


def build(kind: str, out_dir: Path, notebooks: list[Path]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        target = out_dir / path.name
        nbformat.write(BUILDS[kind](nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in BUILDS:
        sys.exit(__doc__)
    paths = [Path(p) for p in sys.argv[3:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for written in build(sys.argv[1], Path(sys.argv[2]), paths):
        print(written)
