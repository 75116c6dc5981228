"""Data for the notebooks: generated here with a seed, shipped in ``data/``, or bundled by a package.

Nothing is downloaded. Generated tables are synthetic: they look like a bank's or a
hospital's records so the lessons read true, but no real person is in them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._checks import RNG, as_generator, check_int

__all__ = ["bank_customers", "breast_cancer", "digits", "hospital_patients", "town_register"]

REGIONS = ("North", "South", "East", "West", "Harbour", "Old Town", "Hills", "Riverside")


def bank_customers(n: int = 5000, *, rng: RNG = 0) -> pd.DataFrame:
    """A synthetic customer table for Harbour Bank: one row per customer.

    Columns: ``customer`` (an id), ``age`` (18–90), ``region``, ``balance`` (EUR, log-normal,
    some negative), ``overdraft`` (bool, likelier for low balances) and ``joined`` (year).
    Seeded by default, so every notebook run shows the same table.
    """
    n = check_int(n, "n", low=2, high=10_000_000)
    g = as_generator(rng)
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


FIRST_NAMES = ("Ada", "Ben", "Chloe", "Dev", "Elif", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kofi",
               "Lena", "Mats", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tess", "Umar",
               "Vera", "Wim", "Xin", "Yara", "Zeno")
SURNAMES = ("Archer", "Bakker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Horvat", "Ito",
            "Jansen", "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Quist",
            "Rossi", "Silva", "Tanaka", "Ueda", "Varga", "Weber", "Yilmaz", "Zhou")
DIAGNOSES = ("hypertension", "type 2 diabetes", "asthma", "depression", "migraine",
             "osteoarthritis", "HIV", "none")
_DIAGNOSIS_P = (0.22, 0.14, 0.12, 0.12, 0.1, 0.1, 0.02, 0.18)


def town_register(n: int = 20_000, *, rng: RNG = 0) -> pd.DataFrame:
    """A synthetic public register of a town (think electoral roll): who lives where.

    Columns: ``name``, ``phone`` (``+44 7700 ``and six digits), ``postcode`` (30 codes,
    47101–47130), ``birth_date`` (1935–2007) and ``sex``. Names are not unique; the
    combination (postcode, birth date, sex) nearly always is — Sweeney's observation.
    """
    n = check_int(n, "n", low=2, high=1_000_000)
    g = as_generator(rng)
    days = (np.datetime64("2007-12-31") - np.datetime64("1935-01-01")).astype(int)
    phones = g.choice(1_000_000, size=n, replace=False)
    return pd.DataFrame({
        "name": [f"{g.choice(FIRST_NAMES)} {g.choice(SURNAMES)}" for _ in range(n)],
        "phone": [f"+44 7700 {p:06d}" for p in phones],
        "postcode": g.integers(47101, 47131, size=n),
        "birth_date": np.datetime64("1935-01-01") + g.integers(0, days + 1, size=n).astype("timedelta64[D]"),
        "sex": g.choice(["F", "M"], size=n),
    })


def hospital_patients(register: pd.DataFrame, n: int = 2000, *, rng: RNG = 1) -> pd.DataFrame:
    """A synthetic patient table drawn from ``register``: each patient with a diagnosis.

    The rows carry the register's identity columns, so notebook 08 can "de-identify" them and
    then show how the register links them back.
    """
    if not isinstance(register, pd.DataFrame) or register.empty:
        raise TypeError(f"register must be a non-empty pandas DataFrame such as town_register(), "
                        f"got {type(register).__name__}")
    n = check_int(n, "n", low=1, high=len(register))
    g = as_generator(rng)
    patients = register.iloc[np.sort(g.choice(len(register), size=n, replace=False))].copy()
    patients["diagnosis"] = g.choice(DIAGNOSES, size=n, p=_DIAGNOSIS_P)
    return patients.reset_index(drop=True)


def digits(*, test_size: float = 0.2, random_state: int = 0) -> tuple[np.ndarray, ...]:
    """scikit-learn's bundled 8×8 digits, scaled to [0, 1]: ``X_train, X_test, y_train, y_test``.

    The split is the one the kit's benchmark anchors use: stratified, ``random_state=0``, 80/20.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return tuple(train_test_split((X / 16.0).astype(np.float32), y, test_size=test_size,
                                  random_state=random_state, stratify=y))


def breast_cancer(*, test_size: float = 0.2, random_state: int = 0) -> tuple[np.ndarray, ...]:
    """The Wisconsin diagnostic breast cancer data bundled with scikit-learn (569 patients, 30
    features; 0 = malignant, 1 = benign), standardised with the training split's mean and
    deviation: ``X_train, X_test, y_train, y_test``.
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size,
                                                        random_state=random_state, stratify=y)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    scale = lambda X: ((X - mean) / std).astype(np.float32)  # noqa: E731
    return scale(X_train), scale(X_test), y_train, y_test
