"""The lesson layer: one module per notebook, ``nNN_<name>`` for ``notebooks/NN_<name>.ipynb``.

A lesson module holds what only its notebook needs: the scenario's data and set-up (defined
once, used by the notebook, its checkers and its explorers), the exercise checkers (registered
with ``leptonkit.exercises``), the explorers, listed in its ``EXPLORERS``, and the figure
builders no other notebook draws. Dependencies point one way: lessons → ``widgets`` /
``plots`` / ``exercises`` → the library; the library never imports a lesson.

Importing this package imports no lesson: :func:`explorers` does, when asked.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["explorers", "lessons"]


def lessons() -> list[ModuleType]:
    """Every lesson module, imported, in notebook order."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__)
                   if re.fullmatch(r"n\d\d_\w+", info.name))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def explorers() -> dict[str, Callable[..., Any]]:
    """Every explorer factory of every lesson, by name (the union of the lessons' ``EXPLORERS``).

    Raises
    ------
    ValueError
        If two lessons give an explorer the same name.
    """
    found: dict[str, Callable[..., Any]] = {}
    for lesson in lessons():
        for name, factory in getattr(lesson, "EXPLORERS", {}).items():
            if name in found:
                raise ValueError(f"explorer {name!r} is declared by two lessons")
            found[name] = factory
    return found
