"""Re-execute notebooks in place, then keep only the outputs worth reviewing.

Text outputs (printed lines, short reprs) stay, so the checked numbers are in the file and a
reviewer sees them; figures, widget views and widget state are dropped, because plotly HTML is
large and carries random ids. Run it through ``make notebooks`` after editing a notebook.

Usage: python tools/refresh_notebooks.py notebooks/01_encryption.ipynb [...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BULKY = ("application/vnd.jupyter.widget-view+json", "application/vnd.plotly.v1+json",
         "text/html", "image/png", "image/svg+xml", "application/javascript")
MAX_TEXT = 4000  # characters: a longer text/plain output is a figure's repr, not a result


def keep(output: dict) -> bool:
    if output.get("output_type") in ("stream", "error"):
        return True
    data = output.get("data", {})
    if any(mime in data for mime in BULKY):
        return False
    return len(str(data.get("text/plain", ""))) <= MAX_TEXT


def strip(nb: nbformat.NotebookNode) -> None:
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if keep(o)]


def refresh(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    strip(nb)
    nbformat.write(nb, path)
    return seconds


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"{arg}: executed in {refresh(Path(arg)):.1f} s, {Path(arg).stat().st_size / 1000:.0f} kB")
