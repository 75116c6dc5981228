"""Data for the notebooks: generated here with a seed, shipped in ``data/``, or bundled by a package.

Nothing is downloaded. Generated tables are synthetic: they look like a bank's or a
hospital's records so the lessons read true, but no real person is in them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._checks import check_int

__all__ = ["bank_customers"]

REGIONS = ("North", "South", "East", "West", "Harbour", "Old Town", "Hills", "Riverside")


def bank_customers(n: int = 5000, *, rng: Any = 0) -> pd.DataFrame:
    """A synthetic customer table for Harbour Bank: one row per customer.

    Columns: ``customer`` (an id), ``age`` (18–90), ``region``, ``balance`` (EUR, log-normal,
    some negative), ``overdraft`` (bool, likelier for low balances) and ``joined`` (year).
    Seeded by default, so every notebook run shows the same table.
    """
    n = check_int(n, "n", low=2, high=10_000_000)
    g = np.random.default_rng(rng)
    age = np.clip(np.round(g.normal(46, 16, n)), 18, 90).astype(int)
    balance = np.round(g.lognormal(mean=7.6, sigma=1.1, size=n) - 400 * g.random(n), 2)
    overdraft = g.random(n) < 1 / (1 + np.exp((balance - 300) / 400))
    return pd.DataFrame({
        "customer": [f"C{i:06d}" for i in range(1, n + 1)],
        "age": age,
        "region": g.choice(REGIONS, size=n),
        "balance": balance,
        "overdraft": overdraft,
        "joined": g.integers(1995, 2027, size=n),
    })
