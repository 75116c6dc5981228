"""Which Markdown cells of the 简体中文 notebooks need translating again.

Each translated Markdown cell of a twin ``notebooks/zh-CN/NN_*.ipynb`` keeps in
``metadata["translated_from"]`` the first 16 hex digits of the SHA-256 of the English cell it was
translated from (the English cell with the same id). This prints, per twin, each English Markdown
cell that changed since (the hash differs), that was never translated (no hash, or no zh cell with
its id), and each English notebook without a twin; it exits 1 when there is any, 0 when all is in step.

Usage: python tools/translation_status.py [--root REPO]   (``make translations``)
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def source_hash(source: str) -> str:
    """What a translated cell stores: the first 16 hex digits of SHA-256 of the English source."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def stale_cells(english: Path, twin: Path) -> list[str]:
    """One line per English Markdown cell whose translation in ``twin`` is missing or out of date."""
    translated = {cell.get("id"): cell for cell in nbformat.read(twin, as_version=4).cells}
    found = []
    for index, cell in enumerate(nbformat.read(english, as_version=4).cells):
        if cell.cell_type != "markdown":
            continue
        zh = translated.get(cell.get("id"))
        stored = None if zh is None else zh.get("metadata", {}).get("translated_from")
        if stored == source_hash(cell.source):
            continue
        why = ("no zh cell with this id" if zh is None else "never translated" if stored is None
               else "English changed since it was translated")
        first = next((line for line in cell.source.splitlines() if line.strip()), "")[:70]
        found.append(f"  cell {index} (id {cell.get('id')}): {why} — {first}")
    return found


def report(root: Path) -> tuple[list[str], bool]:
    """The lines to print and whether anything needs a translator."""
    lines, stale = [], False
    for english in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        twin = root / "notebooks" / "zh-CN" / english.name
        if not twin.exists():
            lines.append(f"{twin.relative_to(root)}: missing (no twin of {english.name} yet)")
            stale = True
            continue
        cells = stale_cells(english, twin)
        lines.append(f"{twin.relative_to(root)}: " + (f"{len(cells)} Markdown cell(s) to translate again"
                                                      if cells else "in step"))
        lines += cells
        stale = stale or bool(cells)
    return lines, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    lines, stale = report(parser.parse_args(argv).root)
    print("\n".join(lines))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
