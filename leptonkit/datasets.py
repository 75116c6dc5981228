"""Data for the notebooks: generated here with a seed, shipped in ``data/``, or bundled by a package.

Nothing is downloaded. Generated tables are synthetic: they look like a bank's or a
hospital's records so the lessons read true, but no real person is in them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._checks import RNG, as_generator, check_int, check_real

__all__ = ["bank_customers", "breast_cancer", "digits", "hospital_patients", "load_credit", "load_diagnosis",
           "town_register"]

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


# --- the case studies' data (notebooks 11 and 12) ------------------------------------------------

BANKS = ("Northbank", "Harbour Bank", "Riverside Credit", "Hills Savings")
_BANK_SHARE = (0.4, 0.3, 0.2, 0.1)                   # how the customers divide among the banks
_BANK_INCOME = (0.25, 0.0, -0.15, -0.35)             # covariate shift: log-income offset by bank
_BANK_INTERCEPT = (-0.4, 0.0, 0.3, 0.6)              # label shift: each bank's baseline default risk
# Regional lenders: each bank lends in a few of the eight regions and hardly at all in the rest
# (rows sum to 1; order as REGIONS), so a bank alone has not seen how default varies elsewhere.
_BANK_REGIONS = ((0.4, 0.05, 0.3, 0.15, 0.08, 0.01, 0.005, 0.005),
                 (0.01, 0.15, 0.04, 0.01, 0.45, 0.3, 0.02, 0.02),
                 (0.005, 0.02, 0.005, 0.2, 0.02, 0.05, 0.2, 0.5),
                 (0.01, 0.39, 0.01, 0.02, 0.01, 0.01, 0.5, 0.05))
#: Each region's offset to the logit of default (local economies differ).
REGION_RISK = (-0.7, 0.5, -0.4, 0.6, 0.0, 0.3, 0.9, -0.2)
EMPLOYMENT = ("salaried", "self-employed", "retired", "student")
#: The logistic model ``load_credit`` draws default from: logit P(default) = intercept(bank) + Σ wᵢ xᵢ.
CREDIT_MODEL = {"intercept": -3.9, "log_income_vs_median": -0.9, "debt_to_income": 3.0,
                "utilisation": 2.2, "delinquencies": 0.45, "age_per_decade_over_40": -0.15,
                "self-employed": 0.35, "student": 0.5}


def load_credit(n: int = 22_000, *, shared: float = 0.1, missing: float = 0.03, rng: RNG = 0) -> pd.DataFrame:
    """A synthetic loan book of four banks: one row per (customer, bank), default drawn from a stated model.

    Each of ``n`` customers banks mainly with one of :data:`BANKS` (shares 40/30/20/10 %);
    a fraction ``shared`` of them also hold a loan at a second bank, which adds a row with the
    same ``customer`` id and the same person behind it (notebook 11 counts them with a private
    set intersection). The banks differ by covariate shift (income level, region mix) and by
    label shift (baseline risk), as real lenders with different markets do; each lends mostly in
    a few regions, and regions differ in risk (:data:`REGION_RISK`).

    Columns: ``customer``, ``bank``, ``age`` (18–85), ``region``, ``employment``, ``income``
    (EUR a year, log-normal; a fraction ``missing`` is NaN — not reported), ``debt_to_income``
    (Beta(2, 5)), ``utilisation`` (credit-line use, Beta(1.5, 3)), ``delinquencies`` (past
    arrears, Poisson) and ``default`` (0/1). Default is Bernoulli(sigmoid(logit)) with
    logit = intercept + bank offset + region offset + :data:`CREDIT_MODEL`'s weights times the features
    (income as log(income / 30 000)). Same seed → identical frame. Nobody real is in it.
    """
    n = check_int(n, "n", low=100, high=2_000_000)
    shared = check_real(shared, "shared", low=0.0, high=1.0)
    missing = check_real(missing, "missing", low=0.0, high=0.5)
    g = as_generator(rng)
    bank = g.choice(len(BANKS), size=n, p=_BANK_SHARE)
    age = np.clip(np.round(g.normal(44, 14, n)), 18, 85).astype(int)
    employment = np.where(age >= 67, 2, g.choice([0, 1, 3], size=n, p=[0.78, 0.17, 0.05]))
    employment = np.where((age <= 25) & (g.random(n) < 0.4), 3, employment)
    region = np.empty(n, dtype=int)
    for b in range(len(BANKS)):
        rows = bank == b
        region[rows] = g.choice(len(REGIONS), size=int(rows.sum()), p=_BANK_REGIONS[b])
    income = np.round(30_000 * np.exp(np.asarray(_BANK_INCOME)[bank] + g.normal(0.0, 0.5, n)
                                      - 0.6 * (employment == 3) - 0.3 * (employment == 2)), -2)
    dti = g.beta(2, 5, n)
    utilisation = g.beta(1.5, 3, n)
    delinquencies = g.poisson(0.3 + 0.8 * utilisation)
    m = CREDIT_MODEL
    logit = (m["intercept"] + np.asarray(_BANK_INTERCEPT)[bank] + np.asarray(REGION_RISK)[region]
             + m["log_income_vs_median"] * np.log(income / 30_000)
             + m["debt_to_income"] * dti + m["utilisation"] * utilisation + m["delinquencies"] * delinquencies
             + m["age_per_decade_over_40"] * (age - 40) / 10 + m["self-employed"] * (employment == 1)
             + m["student"] * (employment == 3))
    default = (g.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({
        "customer": [f"K{i:07d}" for i in range(1, n + 1)], "bank": np.asarray(BANKS)[bank], "age": age,
        "region": np.asarray(REGIONS)[region], "employment": np.asarray(EMPLOYMENT)[employment],
        "income": income, "debt_to_income": dti.round(4), "utilisation": utilisation.round(4),
        "delinquencies": delinquencies, "default": default})
    # The second bank of a shared customer: the same person and default, that bank's own view of
    # income (banks verify income differently) — a second row the privacy unit must account for.
    twins = np.flatnonzero(g.random(n) < shared)
    second = (bank[twins] + g.integers(1, len(BANKS), size=len(twins))) % len(BANKS)
    extra = frame.iloc[twins].copy()
    extra["bank"] = np.asarray(BANKS)[second]
    extra["income"] = np.round(extra["income"].to_numpy() * np.exp(g.normal(0.0, 0.05, len(twins))), -2)
    frame = pd.concat([frame, extra], ignore_index=True)
    frame.loc[g.random(len(frame)) < missing, "income"] = np.nan
    return frame.sample(frac=1.0, random_state=int(g.integers(2**31))).reset_index(drop=True)


HOSPITALS = ("St Mary", "Royal Infirmary", "County General", "Harbour Clinic")
_WISCONSIN_HOSPITAL_P = {0: (0.45, 0.25, 0.2, 0.1), 1: (0.15, 0.3, 0.3, 0.25)}   # by diagnosis: 0 malignant
CONDITIONS = ("type 2 diabetes", "hypertension", "none", "sarcoidosis")
_SITE_PREVALENCE = (0.08, 0.12, 0.16, 0.22, 0.1)      # diabetes by site: different patient mixes
_SITE_GLUCOSE_OFFSET = (0.0, 0.4, -0.3, 0.0, 0.8)     # mmol/L: each laboratory's calibration offset
COHORT_SITES = ("St Mary", "Royal Infirmary", "County General", "Harbour Clinic", "Hills Hospital")


def load_diagnosis(source: str = "wisconsin", *, n: int = 20_000, rng: RNG = 0) -> pd.DataFrame:
    """Patients across hospitals, for notebook 12: real tumour measurements or a synthetic cohort.

    ``source="wisconsin"``: scikit-learn's Breast Cancer Wisconsin (Diagnostic) data (569 real
    patients, 30 features of a fine-needle aspirate; W. H. Wolberg, W. N. Street and
    O. L. Mangasarian, UCI, CC BY 4.0), columns as scikit-learn names them plus ``malignant``
    (0/1) and ``hospital``: each patient is assigned to one of :data:`HOSPITALS` at random with
    probabilities that depend on the diagnosis (malignant: 45/25/20/10 %, benign: 15/30/30/25 %),
    so the referral centre St Mary sees more cancers — a label shift across sites. ``n`` is
    ignored; ``rng`` seeds the assignment.

    ``source="cohort"``: a synthetic multi-site cohort of ``n`` patients in
    :data:`COHORT_SITES`, one row per visit (1–4 visits), with direct identifiers (``name``,
    ``phone``) and quasi-identifiers (``postcode``, ``birth_date``, ``sex``) as notebook 08's
    patients have, labs (``bmi``, ``systolic_bp``, ``glucose`` mmol/L, ``hba1c`` %), a
    ``condition`` with one rare value (sarcoidosis, about 0.3 %) and the target ``diabetes``
    (0/1). Sites differ by prevalence and by a laboratory calibration offset on glucose.
    Same seed → identical frame. Nobody real is in it.
    """
    if not isinstance(source, str) or source not in ("wisconsin", "cohort"):
        raise ValueError(f"source must be 'wisconsin' or 'cohort', got {source!r}")
    g = as_generator(rng)
    if source == "wisconsin":
        from sklearn.datasets import load_breast_cancer

        data = load_breast_cancer(as_frame=True)
        frame = data.data.copy()
        frame["malignant"] = (data.target == 0).astype(int)
        u = g.random(len(frame))
        cumulative = {d: np.cumsum(p) for d, p in _WISCONSIN_HOSPITAL_P.items()}
        site = [int(np.searchsorted(cumulative[int(d)], x, side="right"))
                for d, x in zip(data.target, u, strict=True)]
        frame["hospital"] = np.asarray(HOSPITALS)[np.minimum(site, len(HOSPITALS) - 1)]
        return frame
    n = check_int(n, "n", low=100, high=1_000_000)
    people = town_register(n, rng=g)
    site = g.choice(len(COHORT_SITES), size=n, p=(0.3, 0.25, 0.2, 0.15, 0.1))
    base = np.log(np.asarray(_SITE_PREVALENCE) / (1 - np.asarray(_SITE_PREVALENCE)))[site]
    days = (np.datetime64("2026-01-01") - people["birth_date"].to_numpy()).astype("timedelta64[D]")
    age = days.astype(int) / 365.25
    bmi = np.clip(g.normal(27 + 0.03 * (age - 50), 4.5, n), 16, 55)
    diabetes = (g.random(n) < 1 / (1 + np.exp(-(base + 0.04 * (age - 50) + 0.12 * (bmi - 27))))).astype(int)
    visits = 1 + np.minimum(g.poisson(0.6, n), 3)
    rows = np.repeat(np.arange(n), visits)
    visit = np.concatenate([np.arange(1, v + 1) for v in visits])
    m = len(rows)
    glucose = 5.4 + 1.2 * diabetes[rows] + g.normal(0, 1.1, m) + np.asarray(_SITE_GLUCOSE_OFFSET)[site[rows]]
    hba1c = 5.4 + 0.6 * diabetes[rows] + g.normal(0, 0.6, m)
    condition = g.choice(len(CONDITIONS), size=n, p=(0.0, 0.3, 0.697, 0.003))
    condition = np.where(diabetes == 1, 0, condition)
    frame = people.iloc[rows][["name", "phone", "postcode", "birth_date", "sex"]].reset_index(drop=True)
    frame.insert(0, "patient", [f"P{i:06d}" for i in rows + 1])
    frame["site"] = np.asarray(COHORT_SITES)[site[rows]]
    frame["visit"] = visit
    frame["bmi"] = np.round(bmi[rows] + g.normal(0, 0.3, m), 1)
    pressure = g.normal(118 + 0.5 * (age[rows] - 50) + 6 * diabetes[rows], 14)
    frame["systolic_bp"] = np.round(np.clip(pressure, 80, 220))
    frame["glucose"] = glucose.round(1)
    frame["hba1c"] = hba1c.round(2)
    frame["condition"] = np.asarray(CONDITIONS)[condition[rows]]
    frame["diabetes"] = diabetes[rows]
    return frame
