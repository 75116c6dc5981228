"""De-identification: pseudonyms, generalisation, suppression, k-anonymity, l-diversity, Mondrian.

What these do and do not protect is the lesson of notebook 08: a keyed pseudonym hides an
identifier from whoever lacks the key, and k-anonymity makes every record look like k − 1
others on the quasi-identifiers — but neither bounds what an analysis reveals (that is what
``dp`` is for), and l-diversity exists because k-anonymous groups can share one diagnosis.
Neighbours: ``attacks.linkage_attack`` re-identifies what is released here; ``crypto`` holds
the HMAC this module uses.

References
----------
L. Sweeney, *k-Anonymity: A Model for Protecting Privacy*, IJUFKS 2002.
A. Machanavajjhala et al., *l-Diversity: Privacy Beyond k-Anonymity*, ICDE 2006 / TKDD 2007.
K. LeFevre, D. DeWitt and R. Ramakrishnan, *Mondrian Multidimensional k-Anonymity*, ICDE 2006.
J. Xu et al., *Utility-Based Anonymization Using Local Recoding*, KDD 2006 (the NCP loss).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import crypto
from ._checks import as_bytes, check_int

__all__ = [
    "MIN_KEY_BYTES",
    "generalize",
    "k_anonymity",
    "k_anonymity_violations",
    "l_diversity",
    "mondrian",
    "pseudonymize",
    "suppress",
]

MIN_KEY_BYTES = 16


def pseudonymize(values: Iterable[Any], *, key: bytes, length: int = 16) -> list[str]:
    """Replace each value by a keyed pseudonym: the first ``length`` hex digits of HMAC-SHA256.

    The same value under the same key always gives the same pseudonym, so records still join;
    without the key nobody can recompute it, so a brute force over all phone numbers — which
    reverses an *unkeyed* hash in seconds — is useless. GDPR Art. 4(5) calls this
    pseudonymisation: the data stays personal data, because the key holder can re-identify.
    """
    key = as_bytes(key, "key")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"key must be at least {MIN_KEY_BYTES} bytes (32 random bytes from "
                         f"crypto.generate_key() recommended), got {len(key)} bytes")
    length = check_int(length, "length", low=8, high=64)
    return [crypto.hmac_sha256(key, str(v).encode("utf-8")).hex()[:length] for v in values]


def generalize(values: pd.Series, *, kind: str, width: int = 10) -> pd.Series:
    """Coarsen a column so that fewer records stand out.

    ``kind="age"``: ages to bands of ``width`` years (``"40-49"``); ``kind="postcode"``: keep
    the first ``width`` characters and mask the rest (``"SW1A***"``); ``kind="date"``: dates to
    their year.
    """
    series = pd.Series(values)
    if kind == "age":
        width = check_int(width, "width", low=1)
        ages = pd.to_numeric(series, errors="raise")
        low = (ages // width * width).astype(int)
        return low.astype(str) + "-" + (low + width - 1).astype(str)
    if kind == "postcode":
        width = check_int(width, "width", low=0)
        text = series.astype(str)
        return text.str[:width] + text.str[width:].str.replace(r"\S", "*", regex=True)
    if kind == "date":
        return pd.to_datetime(series).dt.year
    raise ValueError(f"kind must be 'age', 'postcode' or 'date', got {kind!r}")


def suppress(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy of ``df`` without the given columns (direct identifiers such as names)."""
    _check_frame(df, columns)
    return df.drop(columns=list(columns))


def _check_frame(df: Any, columns: Sequence[str], *, allow_empty: bool = False) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    if not allow_empty and df.empty:
        raise ValueError("df must not be empty")
    if isinstance(columns, str):
        raise TypeError("columns must be a list of column names, not a single string")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"unknown columns {missing}; df has {list(df.columns)}")
    if not columns:
        raise ValueError("give at least one column")


def k_anonymity(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """The k of ``df``: the size of its smallest group of records equal on the quasi-identifiers."""
    _check_frame(df, quasi_identifiers)
    return int(df.groupby(list(quasi_identifiers), dropna=False, sort=False).size().min())


def k_anonymity_violations(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int) -> pd.DataFrame:
    """The groups (quasi-identifier values and their size) with fewer than ``k`` records."""
    _check_frame(df, quasi_identifiers)
    k = check_int(k, "k", low=1)
    groups = df.groupby(list(quasi_identifiers), dropna=False, sort=False)
    sizes = groups.size().rename("records").reset_index()
    return sizes[sizes["records"] < k].reset_index(drop=True)


def l_diversity(df: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str) -> int:
    """The l of ``df`` (distinct l-diversity): the fewest distinct sensitive values in any group.

    l = 1 means some group shares one sensitive value: knowing someone is in that group
    reveals it, however large k is (the homogeneity attack of Machanavajjhala et al.).
    """
    _check_frame(df, [*quasi_identifiers, sensitive])
    return int(df.groupby(list(quasi_identifiers), dropna=False, sort=False)[sensitive].nunique().min())


def mondrian(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int) -> tuple[pd.DataFrame, float]:
    """k-anonymise with strict multidimensional Mondrian (LeFevre, DeWitt & Ramakrishnan 2006).

    Records are split recursively at the median of the quasi-identifier with the widest
    normalised range, as long as both halves keep at least ``k`` records. Each final partition
    then publishes its quasi-identifiers generalised: numbers and dates as a closed
    ``pandas.Interval`` (or the exact value when all agree), categories as the one value or the
    ``"|"``-joined set of values present (categories are ordered alphabetically for splitting).

    Returns the anonymised copy and its information loss: the normalised certainty penalty
    (mean over records and quasi-identifiers of a range's width over the column's full width),
    0 for the original data and 1 when every value covers its whole column.
    """
    _check_frame(df, quasi_identifiers)
    k = check_int(k, "k", low=1)
    if k > len(df):
        raise ValueError(f"k must be in [1, {len(df)}] (the number of records), got {k}")
    columns = list(quasi_identifiers)
    encoded = np.column_stack([_as_numbers(df[c]) for c in columns])
    span = np.ptp(encoded, axis=0)
    span[span == 0] = 1.0
    low, high = np.empty_like(encoded), np.empty_like(encoded)
    for rows in _mondrian_partitions(encoded, np.arange(len(df)), span, k):
        low[rows], high[rows] = encoded[rows].min(axis=0), encoded[rows].max(axis=0)
    out = df.copy()
    for j, c in enumerate(columns):
        out[c] = _decode(df[c], low[:, j], high[:, j])
    return out, float(np.mean((high - low) / span))


def _as_numbers(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.to_numpy("datetime64[ns]").astype(np.int64).astype(float)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=float)
    return pd.Categorical(column.astype(str)).codes.astype(float)


def _decode(column: pd.Series, low: np.ndarray, high: np.ndarray) -> list:
    """Generalised values: the exact value, a closed Interval, or categories joined by '|'."""
    if pd.api.types.is_datetime64_any_dtype(column):
        cast = lambda x: pd.Timestamp(int(x))  # noqa: E731
    elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        cast = (lambda x: int(x)) if pd.api.types.is_integer_dtype(column) else float
    else:
        names = pd.Categorical(column.astype(str)).categories
        return ["|".join(names[int(a):int(b) + 1]) for a, b in zip(low, high, strict=True)]
    return [cast(a) if a == b else pd.Interval(cast(a), cast(b), closed="both")
            for a, b in zip(low, high, strict=True)]


def _mondrian_partitions(values: np.ndarray, rows: np.ndarray, span: np.ndarray, k: int) -> list[np.ndarray]:
    done, todo = [], [rows]
    while todo:
        part = todo.pop()
        left = _median_split(values[part], span, k)
        if left is None:
            done.append(part)
        else:
            todo += [part[left], part[~left]]
    return done


def _median_split(sub: np.ndarray, span: np.ndarray, k: int) -> np.ndarray | None:
    """A boolean mask splitting ``sub`` at a median with at least k records each side, or None."""
    for j in np.argsort(-(np.ptp(sub, axis=0) / span)):  # widest normalised range first
        median = np.median(sub[:, j])
        for left in (sub[:, j] <= median, sub[:, j] < median):
            if k <= left.sum() <= len(sub) - k:
                return left
    return None
