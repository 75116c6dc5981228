"""Progress bars for the kit's long loops: training, sweeps, shadow models.

Every function that may run for more than a couple of seconds takes ``progress`` and passes it
here. The default (``None``) shows a tqdm bar only once the loop has run for :data:`DELAY_S`
seconds, so quick calls print nothing and nothing long runs without one: in a notebook a widget
(``tqdm.auto``), in a script a line on stderr. It disappears when the loop ends (``leave=False``).
``True`` shows it at once, ``False`` never. The environment variable ``LEPTONKIT_PROGRESS=0``
turns the default off, for logs that must not carry bars (the nbval run of the notebooks, whose
checked outputs are results, sets it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm

__all__ = ["DELAY_S", "bar", "check_progress"]

#: Seconds a loop runs before its bar appears (issue 19: "longer than about two seconds").
DELAY_S = 2.0
_OFF = {"0", "false", "no", "off"}


def check_progress(progress: Any) -> bool | None:
    """``progress`` if it is True, False or None; a ``TypeError`` naming it otherwise."""
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None (a bar after {DELAY_S:g} s), "
                        f"got {type(progress).__name__}")
    return progress


def bar(iterable: Iterable | None = None, *, desc: str, total: int | None = None,
        progress: bool | None = None) -> tqdm:
    """A tqdm bar over ``iterable`` as ``progress`` asks (see the module docstring)."""
    progress = check_progress(progress)
    if progress is None and os.environ.get("LEPTONKIT_PROGRESS", "").strip().lower() in _OFF:
        progress = False
    return tqdm(iterable, desc=desc, total=total, leave=False, disable=progress is False,
                delay=DELAY_S if progress is None else 0.0)
