"""De-identification: pseudonyms, generalisation, suppression, k-anonymity, l-diversity, t-closeness.

What these do and do not protect is the lesson of notebook 08: a keyed pseudonym hides an
identifier from whoever lacks the key, and k-anonymity makes every record look like k − 1
others on the quasi-identifiers — but neither bounds what an analysis reveals (that is what
``dp`` is for), and l-diversity exists because k-anonymous groups can share one diagnosis.
Neighbours: ``attacks.linkage_attack`` re-identifies what is released here; ``crypto`` holds
the HMAC this module uses.

Grouping
--------
Records are grouped on the values that occur (``observed=True``): a categorical column's unused
categories, or combinations of categories that no record has, are never counted as empty
groups, on any pandas from 2.1 on. A missing quasi-identifier (NaN, None) is a value of its own.

References
----------
L. Sweeney, *k-Anonymity: A Model for Protecting Privacy*, IJUFKS 2002.
A. Machanavajjhala et al., *l-Diversity: Privacy Beyond k-Anonymity*, ICDE 2006 / TKDD 2007.
N. Li, T. Li and S. Venkatasubramanian, *t-Closeness: Privacy Beyond k-Anonymity and l-Diversity*,
ICDE 2007.
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
    "entropy_l_diversity",
    "generalize",
    "k_anonymity",
    "k_anonymity_violations",
    "l_diversity",
    "mondrian",
    "pseudonymize",
    "suppress",
    "t_closeness",
]

MIN_KEY_BYTES = 16


def pseudonymize(values: Iterable[Any], *, key: bytes, length: int = 16) -> list[str]:
    """Replace each value by a keyed pseudonym: the first ``length`` hex digits of HMAC-SHA256.

    The same value under the same key always gives the same pseudonym, so records still join;
    without the key nobody can recompute it, so a brute force over all phone numbers — which
    reverses an *unkeyed* hash in seconds — is useless. GDPR Art. 4(5) calls this
    pseudonymisation: the data stays personal data, because the key holder can re-identify.
    """
    if values is None or isinstance(values, (str, bytes, bytearray)) or not isinstance(values, Iterable):
        raise TypeError(f"values must be a collection of values to pseudonymise (a list, an array, a "
                        f"Series), got {type(values).__name__}")
    key = as_bytes(key, "key")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"key must be at least {MIN_KEY_BYTES} bytes (32 random bytes from "
                         f"crypto.generate_key() recommended), got {len(key)} bytes")
    length = check_int(length, "length", low=8, high=64)
    return [crypto.hmac_sha256(key, str(v).encode("utf-8")).hex()[:length] for v in values]


_MAX_AGE = 2**53   # |age| and band width: integers a double holds exactly


def generalize(values: pd.Series, *, kind: str, width: int = 10) -> pd.Series:
    """Coarsen a column so that fewer records stand out.

    ``kind="age"``: ages to bands of ``width`` years (``"40-49"``), for ages and widths up to
    2^53 in magnitude (larger ones are refused); ``kind="postcode"``: keep the first ``width``
    characters and mask the rest (``"SW1A***"``); ``kind="date"``: dates to their year.
    Missing values (NaN, None, NaT) stay missing. Error messages never quote the data.
    """
    if values is None or isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise TypeError(f"values must be a column of values (a Series, a list or an array), "
                        f"got {type(values).__name__}")
    if not isinstance(kind, str):
        raise TypeError(f"kind must be 'age', 'postcode' or 'date', got {type(kind).__name__}")
    try:
        series = pd.Series(values)
    except (TypeError, ValueError):
        raise TypeError("values must be a one-dimensional column of values") from None
    if kind == "age":
        width = check_int(width, "width", low=1, high=_MAX_AGE)
        return _age_bands(series, width)
    if kind == "postcode":
        width = check_int(width, "width", low=0)
        text = series.astype(str)
        coarse = text.str[:width] + text.str[width:].str.replace(r"\S", "*", regex=True)
        return coarse.where(series.notna(), None)
    if kind == "date":
        return _years(series)
    raise ValueError(f"kind must be 'age', 'postcode' or 'date', got {kind!r}")


def _years(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_datetime64_any_dtype(series):
        raise TypeError("values must be dates (datetimes or date strings) for kind='date', got numbers: "
                        "pandas would read them as nanoseconds since 1970")
    try:
        dates = pd.to_datetime(series)
    except (TypeError, ValueError, OverflowError):
        dates = None
    if dates is None or (dates.isna() & series.notna()).any():   # the data is never quoted
        raise ValueError("values must be dates for kind='date' (some entries could not be read as dates)")
    return dates.dt.year


def _age_bands(series: pd.Series, width: int) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        raise TypeError("values must be numbers for kind='age', got booleans")
    ages = pd.to_numeric(series, errors="coerce")
    if (ages.isna() & series.notna()).any():   # the data itself is never quoted in the message
        raise TypeError("values must be numbers for kind='age' (some entries are not numbers)")
    numbers = ages.to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(numbers)
    if not np.all(np.abs(numbers[known]) <= _MAX_AGE):
        raise ValueError("values must be finite ages of at most 2^53 in magnitude for kind='age'")
    low = np.floor_divide(numbers[known], width) * width          # exact: |low| ≤ 2^53 + width
    bands = [f"{int(a)}-{int(a) + width - 1}" for a in low]
    out = pd.Series([None] * len(series), index=series.index, dtype=object)
    out[known] = bands
    return out if not known.all() else out.astype(str)


def suppress(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy of ``df`` without the given columns (direct identifiers such as names)."""
    columns = _check_frame(df, columns)
    return df.drop(columns=columns)


def _check_frame(df: Any, columns: Any, name: str = "columns", *, allow_empty: bool = False) -> list:
    """The column names as a list, after checking ``df`` and that each name is one of its columns."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    if not allow_empty and df.empty:
        raise ValueError("df must not be empty")
    if isinstance(columns, (str, bytes)):
        raise TypeError(f"{name} must be a list of column names, not a single string")
    if columns is None or isinstance(columns, dict) or not isinstance(columns, Iterable):
        raise TypeError(f"{name} must be a list of column names, got {type(columns).__name__}")
    columns = list(columns)
    try:
        missing = [c for c in columns if c not in df.columns]
    except TypeError:   # an unhashable entry, such as a nested list
        raise TypeError(f"{name} must be a list of column names (strings), not nested lists") from None
    if missing:
        raise ValueError(f"unknown columns {missing} in {name}; df has {list(df.columns)}")
    if not columns:
        raise ValueError(f"{name} must name at least one column")
    return columns


def _groups(df: pd.DataFrame, columns: list) -> Any:
    """Records grouped on the combinations that occur: ``observed=True`` (pandas 2.x defaults to
    False, which adds every unused combination of categories as an empty group)."""
    return df.groupby(columns, dropna=False, sort=False, observed=True)


def k_anonymity(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """The k of ``df``: the size of its smallest group of records equal on the quasi-identifiers.

    Only combinations that occur count (categorical columns included): k ≥ 1 for any non-empty df.
    """
    columns = _check_frame(df, quasi_identifiers, "quasi_identifiers")
    return int(_groups(df, columns).size().min())


def k_anonymity_violations(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int) -> pd.DataFrame:
    """The groups (quasi-identifier values and their size) with fewer than ``k`` records."""
    columns = _check_frame(df, quasi_identifiers, "quasi_identifiers")
    k = check_int(k, "k", low=1)
    sizes = _groups(df, columns).size().rename("records").reset_index()
    return sizes[sizes["records"] < k].reset_index(drop=True)


def l_diversity(df: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str) -> int:
    """The l of ``df`` (distinct l-diversity): the fewest distinct sensitive values in any group.

    l = 1 means some group shares one sensitive value: knowing someone is in that group
    reveals it, however large k is (the homogeneity attack of Machanavajjhala et al.).
    A missing sensitive value adds no diversity (it is not a value an attacker must rule out),
    and every group has l ≥ 1: a group whose sensitive values are all missing has l = 1, as it
    would if missing counted as a value of its own.
    """
    columns = _check_frame(df, quasi_identifiers, "quasi_identifiers")
    if isinstance(sensitive, (list, tuple, set, dict)) or sensitive is None:
        raise TypeError(f"sensitive must be one column name, got {type(sensitive).__name__}")
    _check_frame(df, [sensitive], "sensitive")
    distinct = _groups(df, columns)[sensitive].nunique(dropna=True)
    return max(1, int(distinct.min()))


def _sensitive_counts(df: Any, quasi_identifiers: Any, sensitive: Any) -> tuple[pd.DataFrame, pd.Series]:
    """Per group, the count of each (non-missing) sensitive value; and the whole table's counts."""
    columns = _check_frame(df, quasi_identifiers, "quasi_identifiers")
    if isinstance(sensitive, (list, tuple, set, dict)) or sensitive is None:
        raise TypeError(f"sensitive must be one column name, got {type(sensitive).__name__}")
    _check_frame(df, [sensitive], "sensitive")
    keys = _groups(df, columns).ngroup()
    values = df[sensitive]
    present = values.notna().to_numpy()
    table = pd.crosstab(keys[present], values[present])
    return table, values[present].value_counts()


def entropy_l_diversity(df: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str) -> float:
    """The entropy l of ``df``: exp of the smallest Shannon entropy (in nats) of any group's sensitive values.

    Machanavajjhala et al. (2007, definition 4.1): a table is entropy l-diverse when every group
    has −Σ p(s) log p(s) ≥ log l. It is stronger than distinct l-diversity: a group with nine
    "flu" and one "HIV" has two distinct values but entropy l ≈ 1.38, since an attacker who
    guesses "flu" is right nine times in ten. Missing sensitive values are left out; a group with
    none left counts as l = 1.
    """
    table, _ = _sensitive_counts(df, quasi_identifiers, sensitive)
    groups = _groups(df, _check_frame(df, quasi_identifiers, "quasi_identifiers")).ngroups
    if len(table) < groups:   # some group has only missing sensitive values
        return 1.0
    p = table.to_numpy(dtype=float)
    p = p / p.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return float(np.exp(entropy.min()))


def t_closeness(df: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str) -> float:
    """The t of ``df``: the largest distance between a group's sensitive distribution and the whole table's.

    Li, Li & Venkatasubramanian (2007) measure it with the Earth Mover's Distance; for a
    categorical attribute whose values are all equally far apart it is the total variation
    distance ½ Σ |p_group(s) − p_table(s)| (their section 4.2), which this returns — 0 when
    every group looks like the table, up to 1. Small t stops the skewness attack (a group where
    a rare diagnosis is common) that distinct l-diversity allows. Missing sensitive values are
    left out.
    """
    table, overall = _sensitive_counts(df, quasi_identifiers, sensitive)
    if table.empty:
        return 0.0
    q = (overall / overall.sum()).reindex(table.columns).to_numpy(dtype=float)
    p = table.to_numpy(dtype=float)
    p = p / p.sum(axis=1, keepdims=True)
    return float(0.5 * np.abs(p - q).sum(axis=1).max())


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
    columns = _check_frame(df, quasi_identifiers, "quasi_identifiers")
    k = check_int(k, "k", low=1)
    if k > len(df):
        raise ValueError(f"k must be in [1, {len(df)}] (the number of records), got {k}")
    for c in columns:
        numeric = (pd.api.types.is_datetime64_any_dtype(df[c]) or
                   (pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])))
        if numeric and df[c].isna().any():
            raise ValueError(f"quasi_identifiers column {c!r} has missing values: Mondrian needs a number "
                             f"or a date in every record (fill or drop them first)")
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
