"""Lesson for notebooks/00_welcome.ipynb: how long it takes to guess a key.

Here: the exercise checkers 00.1–00.3 and the key-search explorer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from leptonkit import crypto, plots
from leptonkit.errors import IntegrityError
from leptonkit.exercises import NotYet, exercise
from leptonkit.i18n import N_, _
from leptonkit.widgets import Explorer, slider

__all__ = ["EXPLORERS", "KEY_BITS_AXIS", "SECONDS_PER_THOUSAND_YEARS", "key_search_explorer"]

SECONDS_PER_THOUSAND_YEARS = 1000 * 365.25 * 24 * 3600
KEY_BITS_AXIS = np.arange(8, 257)


# --- exercises -----------------------------------------------------------------------------


@exercise("00.1", hint=N_("Move the key-length slider at 10^12 guesses per second until the title "
                          "first says more than a thousand years; give that number of bits."))
def _smallest_key_for_a_thousand_years(bits: Any) -> bool:
    bits = int(bits)
    if crypto.expected_crack_seconds(bits, 1e12) < SECONDS_PER_THOUSAND_YEARS:
        raise NotYet(_("{bits} bits fall in under a thousand years.").format(bits=bits))
    if crypto.expected_crack_seconds(bits - 1, 1e12) >= SECONDS_PER_THOUSAND_YEARS:
        raise NotYet(_("{bits} bits are enough, but fewer would do: find the smallest.").format(bits=bits))
    return True


@exercise("00.2", hint=N_("leptonkit.crypto.sha256(b'leptonkit') returns bytes; call .hex() on them."))
def _sha256_hex(answer: Any) -> bool:
    if not isinstance(answer, str):
        raise NotYet(_("give the digest as a hex string, not {kind}.").format(kind=type(answer).__name__))
    return answer.lower() == hashlib.sha256(b"leptonkit").hexdigest()


@exercise("00.3", hint=N_("Read help(leptonkit.crypto.decrypt): its 'Raises' section names the class. "
                          "Give the class itself, not a string."))
def _tamper_exception(answer: Any) -> bool:
    return isinstance(answer, type) and issubclass(answer, IntegrityError)


# --- explorer: how long does it take to guess a key? ---------------------------------------


def key_search_explorer(bits: int = 56, log10_guesses_per_second: float = 12.0) -> Explorer:
    """Key length and an attacker's speed against the expected time of a brute-force search.

    Parameters
    ----------
    bits
        The key length the sliders start at.
    log10_guesses_per_second
        The attacker's speed they start at, as a power of ten.
    """
    controls = {
        "bits": slider(w.IntSlider, _("key length (bits)"), value=bits, min=8, max=256),
        "log10_rate": slider(w.FloatSlider, _("log₁₀ guesses / second"), value=log10_guesses_per_second,
                             min=0.0, max=20.0, step=0.5),
    }

    def compute(bits: int, log10_rate: float) -> np.ndarray:
        return crypto.expected_crack_seconds(KEY_BITS_AXIS, 10.0 ** log10_rate)

    def build(seconds: np.ndarray, bits: int, log10_rate: float) -> go.Figure:
        return plots.crack_time(KEY_BITS_AXIS, seconds, x_title=_("key length (bits)"), highlight=bits,
                                title=_("{bits}-bit key at 10^{rate:g} guesses/s").format(bits=bits,
                                                                                        rate=log10_rate))

    return Explorer(controls, compute, build)


EXPLORERS: dict[str, Callable[..., Explorer]] = {"key_search": key_search_explorer}
