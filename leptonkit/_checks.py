"""Argument checks shared by the public functions: each error names the parameter and the allowed range.

Private helpers (leading underscore): the public modules call them at their boundary.
"""

from __future__ import annotations

import math
import secrets
from numbers import Real
from typing import Any

import numpy as np

__all__ = ["RNG", "as_bytes", "as_generator", "check_array", "check_bools", "check_int", "check_real",
           "lesson_generator"]

#: What every ``rng`` parameter in the kit accepts: a numpy Generator, an int seed, or None.
RNG = np.random.Generator | int | None


def as_bytes(value: Any, name: str) -> bytes | memoryview:
    """Return ``value`` if it is bytes-like; raise ``TypeError`` naming ``name`` otherwise.

    ``str`` is refused on purpose: text has no single byte encoding, so the caller must choose
    one (``"text".encode()``) rather than have the kit guess.
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return memoryview(value).cast("B")
    hint = " (encode text first, e.g. 'text'.encode())" if isinstance(value, str) else ""
    raise TypeError(f"{name} must be bytes-like (bytes, bytearray or memoryview), "
                    f"got {type(value).__name__}{hint}")


def _refuse_non_number(value: Any, name: str, kind: str) -> None:
    """Raise ``TypeError`` for text, bytes and booleans, which Python would otherwise take for numbers."""
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be {kind}, got {type(value).__name__} (convert text to a number first)")
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be {kind}, got a bool")


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int within ``[low, high]``; raise ``TypeError``/``ValueError`` otherwise.

    Python ints and numpy integer scalars are accepted; bool, str, bytes and floats (even
    ``2.0``) are refused with a ``TypeError`` naming ``name``.
    """
    _refuse_non_number(value, name, "an int")
    if not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be in {_interval(low, high)}, got {_show_int(value)}")
    return value


def check_real(value: Any, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a finite float within the given bounds.

    Python and numpy reals (ints, floats, ``Fraction``) are accepted; bool, str and bytes are
    refused with a ``TypeError``. NaN, infinities and numbers too large for a float (``10**400``)
    are refused with a ``ValueError``; ``low_open``/``high_open`` make a bound strict (``ε > 0``).
    """
    _refuse_non_number(value, name, "a real number")
    if not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    allowed = _interval(low, high, low_open=low_open, high_open=high_open)
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        shown = _show_int(int(value)) if isinstance(value, (int, np.integer)) else f"{x}"
        raise ValueError(f"{name} must be a finite number in {allowed}, got {shown}")
    too_low = low is not None and (x <= low if low_open else x < low)
    too_high = high is not None and (x >= high if high_open else x > high)
    if too_low or too_high:
        raise ValueError(f"{name} must be in {allowed}, got {x:g}")
    return x


def _show_int(value: int) -> str:
    """An int for an error message: in full when short, else its sign and bit length."""
    if abs(value) < 10**15:
        return str(value)
    return f"{'-' if value < 0 else ''}an int of {abs(value).bit_length()} bits"


def _bound(x: float | int) -> str:
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        x = int(x)
        if abs(x) < 10**15:
            return str(x)
        if x > 0 and x & (x - 1) == 0:
            return f"2^{x.bit_length() - 1}"
        return f"{float(x):g}" if abs(x) < 2**1000 else _show_int(x)
    return f"{x:g}"


def _interval(low, high, *, low_open: bool = False, high_open: bool = False) -> str:
    left = "(" if low is None or low_open else "["
    right = ")" if high is None or high_open else "]"
    return f"{left}{'-inf' if low is None else _bound(low)}, {'inf' if high is None else _bound(high)}{right}"


def lesson_generator(rng: Any) -> np.random.Generator | None:
    """``rng`` as one numpy Generator for the whole call, or None when it is None.

    None means "no lesson seed": the caller then draws keys, shares, masks and nonces from the
    OS CSPRNG itself. An int seed becomes a single Generator, so that repeated draws in one call
    continue one stream instead of restarting it.
    """
    if rng is None or isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative int seed, a Generator or None, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")


def as_generator(rng: Any) -> np.random.Generator:
    """``rng`` as a numpy Generator; None gives one freshly seeded from the OS (unpredictable,
    but a statistical generator, not a CSPRNG stream)."""
    generator = lesson_generator(rng)
    return np.random.default_rng(secrets.randbits(128)) if generator is None else generator


def check_array(value: Any, name: str, *, ndim: int | None = None, finite: bool = True) -> np.ndarray:
    """``value`` as a float64 array (of ``ndim`` dimensions, all finite unless told otherwise), or a
    ValueError / TypeError naming ``name``."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{name} must be an array of numbers") from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    if finite and not np.isfinite(array).all():
        raise ValueError(f"{name} must hold finite numbers (no NaN or infinity)")
    return array


def check_bools(value: Any, name: str, *, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a bool array (of ``shape``), or a TypeError / ValueError naming ``name``."""
    try:
        array = np.asarray(value) if not isinstance(value, (str, bytes)) and value is not None else None
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype != bool:
        raise TypeError(f"{name} must be an array of bools (True: in, False: out)")
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {array.shape}")
    return array
