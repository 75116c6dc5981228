"""Data for the notebooks: generated here with a seed, shipped in ``data/``, or bundled by a package.

Nothing is downloaded. Generated tables are synthetic: they look like a bank's or a
hospital's records so the lessons read true, but no real person is in them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._checks import RNG, as_generator, check_int, check_real

__all__ = ["bank_customers", "breast_cancer", "digits", "hospital_patients", "load_credit", "load_diagnosis",
           "support_messages", "town_register"]

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


# --- customer-service messages (notebook 13) -----------------------------------------------------

#: The complaint categories of :func:`support_messages` (the ``intent`` label), in label order.
INTENTS = ("card_declined", "lost_card", "fraud", "fees", "transfer", "app_access")
#: The sentiment labels of :func:`support_messages`, in label order.
SENTIMENTS = ("negative", "neutral", "positive")
#: The languages :func:`support_messages` writes: English and Simplified Chinese.
MESSAGE_LANGUAGES = ("en", "zh")
#: The columns of :func:`support_messages` that hold direct identifiers (what de-identification removes).
MESSAGE_IDENTIFIERS = ("name", "phone", "email", "account")

# Templates: each intent has core sentences (one is always used) and details (0–2 are added);
# {slots} are filled per message. Some words ("card", "money", "account") occur in several intents,
# and one message in eight also mentions a second intent, so the classes overlap as real chats do.
_EN = {
    "core": {
        "card_declined": ["my card was declined at {merchant} {day}",
                          "the card got refused when i tried to pay {amount} pounds at {merchant}",
                          "every payment with my debit card fails since {day}",
                          "i could not pay at {merchant}, the terminal said card declined"],
        "lost_card": ["i lost my card {day} and need it blocked",
                      "my wallet was stolen at {merchant} with my bank card in it",
                      "i can not find my credit card anywhere, please freeze it",
                      "i think i left my card at {merchant} {day}, can you send a new one"],
        "fraud": ["there is a payment of {amount} pounds to {merchant} that i never made",
                  "someone used my card online, i did not authorise these charges",
                  "i got a text asking for my pin and then money left my account",
                  "i see {count} transactions i do not recognise on my statement"],
        "fees": ["why was i charged a fee of {amount} pounds this month",
                 "you took an overdraft charge although my balance was positive",
                 "the annual fee on my account went up without any notice",
                 "i was charged twice for the same transfer, {amount} pounds each"],
        "transfer": ["my transfer of {amount} pounds from {day} has still not arrived",
                     "the money i sent to my landlord is stuck as pending",
                     "a payment to my savings account never reached it",
                     "i sent {amount} pounds to the wrong account number, can it be recalled"],
        "app_access": ["i can not log in to the app since {day}",
                       "the app keeps saying my password is wrong on my {device}",
                       "online banking locked me out after the update",
                       "the verification text never arrives so i can not sign in on my {device}"],
    },
    "detail": {
        "card_declined": ["there is enough money on the account", "it happened {count} times in a row",
                          "the card is not expired", "it works at cash machines but not in shops"],
        "lost_card": ["the last payment i made was at {merchant}", "please cancel it before anyone uses it",
                      "i need a replacement card before my trip", "i already checked at home twice"],
        "fraud": ["my card is still in my wallet", "i never shared my details with anyone",
                  "please refund the money and block the card", "i only noticed it {day}"],
        "fees": ["nobody told me about this charge", "i want the fee refunded",
                 "other banks do not charge for this", "i have been a customer for {count} years"],
        "transfer": ["the reference was rent for {month}", "the bank details were correct",
                     "the app shows it as sent", "i need the money there by {day}"],
        "app_access": ["i already reset my password twice", "i reinstalled the app on my {device}",
                       "the fingerprint login stopped working", "i get an error code every time"],
    },
    "filler": ["i have been waiting on the phone for an hour", "this is the second time i am writing",
               "i am travelling at the moment", "my partner has the same problem",
               "i tried the chat bot first", "the branch in {city} told me to write here"],
    "opener": {"negative": ["this is unacceptable.", "i am really upset.", "i am fed up with this bank.",
                            "honestly, this is the worst service."],
               "neutral": ["hello,", "hi,", "good morning,", "dear support team,"],
               "positive": ["hi, hope you are well!", "hello, thanks for your help last time.",
                            "good morning, you have always been great.", "hi, love the new app by the way."]},
    "closer": {"negative": ["fix this now or i close my account.", "i expect an answer today.",
                            "this is a disgrace.", "i am going to complain to the ombudsman."],
               "neutral": ["please advise.", "can you check?", "let me know what to do.",
                           "what are the next steps?"],
               "positive": ["thanks a lot!", "many thanks in advance, much appreciated.",
                            "thank you so much for sorting it.", "cheers, you are great."]},
    "name": ["this is {name}.", "my name is {name}.", "{name} here."],
    "phone": ["call me on {phone}.", "my number is {phone}."],
    "email": ["email me at {email}.", "my email is {email}."],
    "account": ["my account number is {account}.", "account {account}."],
    "merchant": ["the supermarket", "a petrol station", "an online shop", "the pharmacy", "the train station",
                 "a restaurant", "the airport"],
    "day": ["yesterday", "today", "on monday", "on friday", "last week", "this morning", "at the weekend"],
    "month": ["march", "april", "may", "june"],
    "device": ["phone", "iphone", "android phone", "tablet", "laptop"],
}
_ZH = {
    "core": {
        "card_declined": ["我的卡{day}在{merchant}付款被拒了",
                          "我在{merchant}刷卡付{amount}元的时候被拒绝了",
                          "从{day}开始我的借记卡每次付款都失败", "在{merchant}付不了钱，机器显示卡被拒绝"],
        "lost_card": ["我{day}把卡丢了，需要马上冻结", "我的钱包在{merchant}被偷了，银行卡也在里面",
                      "我的信用卡找不到了，请帮我冻结", "我好像把卡落在{merchant}了，能不能补办一张新卡"],
        "fraud": ["有一笔{amount}元付给{merchant}的交易不是我做的",
                  "有人在网上盗用了我的卡，这些扣款我没有授权",
                  "我收到一条短信要我的密码，然后账户里的钱就少了", "我的账单上有{count}笔我不认识的交易"],
        "fees": ["为什么这个月扣了我{amount}元的手续费", "我的余额是正的，你们却收了透支费",
                 "我账户的年费没有任何通知就涨了", "同一笔转账收了我两次费用，每次{amount}元"],
        "transfer": ["我{day}转的{amount}元到现在还没到账", "我转给房东的钱一直显示处理中",
                     "转到我储蓄账户的钱一直没有到", "我把{amount}元转错了账号，能不能追回"],
        "app_access": ["从{day}开始我就登录不了手机银行", "我的{device}上的APP一直提示密码错误",
                       "更新以后网上银行把我锁住了", "验证码短信一直收不到，我在{device}上登录不了"],
    },
    "detail": {
        "card_declined": ["账户里的钱是够的", "连续{count}次都是这样", "卡没有过期",
                          "取款机能用但商店里不能用"],
        "lost_card": ["最后一笔消费是在{merchant}", "请在别人用之前注销它", "出差之前我需要一张新卡",
                      "我在家里已经找了两遍"],
        "fraud": ["我的卡还在我的钱包里", "我从来没有把信息告诉过别人", "请退款并冻结这张卡",
                  "我{day}才发现"],
        "fees": ["没有人告诉过我这笔费用", "我要求退还这笔费用", "别的银行不收这个费",
                 "我已经是{count}年的老客户了"],
        "transfer": ["备注是{month}的房租", "银行信息是正确的", "APP上显示已经转出",
                     "我需要钱在{day}之前到账"],
        "app_access": ["我已经重置了两次密码", "我在{device}上重新安装了APP", "指纹登录不能用了",
                       "每次都出现一个错误代码"],
    },
    "filler": ["我在电话里等了一个小时", "这是我第二次写信了", "我现在在外地出差",
               "我爱人也遇到了同样的问题", "我先试过了智能客服", "{city}的网点让我在这里留言"],
    "opener": {
        "negative": ["这太让人无法接受了。", "我真的很生气。", "我受够了这家银行。",
                     "说实话，服务太差了。"],
        "neutral": ["你好，", "您好，", "早上好，", "客服你好，"],
        "positive": ["你好，祝你一切顺利！", "您好，谢谢你们上次的帮助。", "早上好，你们一直很棒。",
                     "你好，新版APP很好用。"],
    },
    "closer": {
        "negative": ["马上解决，不然我就销户。", "今天必须给我答复。", "太丢人了。", "我要去投诉你们。"],
        "neutral": ["请告知。", "能帮我查一下吗？", "请告诉我该怎么办。", "下一步怎么做？"],
        "positive": ["非常感谢！", "提前谢谢啦，辛苦了。", "谢谢你们帮我处理。", "谢谢，你们真好。"],
    },
    "name": ["我是{name}。", "我叫{name}。"],
    "phone": ["请打我电话{phone}。", "我的手机号是{phone}。"],
    "email": ["请发邮件到{email}。", "我的邮箱是{email}。"],
    "account": ["我的账号是{account}。", "账户{account}。"],
    "merchant": ["超市", "加油站", "网店", "药店", "火车站", "饭店", "机场"],
    "day": ["昨天", "今天", "周一", "周五", "上周", "今天早上", "周末"],
    "month": ["三月", "四月", "五月", "六月"],
    "device": ["手机", "苹果手机", "安卓手机", "平板", "电脑"],
}
_ZH_SURNAMES = (("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
                ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"))
_ZH_GIVEN = (("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("磊", "lei"),
             ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("杰", "jie"), ("涛", "tao"), ("明", "ming"),
             ("秀英", "xiuying"), ("建华", "jianhua"), ("晓东", "xiaodong"), ("丽娟", "lijuan"))
_ZH_CITIES = ("北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "南京")
_MESSAGE_P = {"name": 0.6, "phone": 0.3, "email": 0.2, "account": 0.3, "second_intent": 0.125}
_SENTIMENT_P = (0.45, 0.4, 0.15)


def support_messages(n: int = 3000, *, language: str = "en", canary: str | Sequence[str] | None = None,
                     canary_repeats: int = 0, typo_rate: float = 0.03, test_fraction: float = 0.2,
                     rng: RNG = 0) -> pd.DataFrame:
    """Synthetic customer-service chats of a bank, labelled by complaint category and sentiment.

    One row per message, one message per customer. Each message is built from templates:
    a greeting whose tone follows the sentiment, one core sentence of its ``intent`` (one of
    :data:`INTENTS`) with slots filled (amounts, merchants, days, devices), up to two details,
    up to two fillers shared by all intents, and in one message of eight a sentence of a second
    intent (so the classes overlap); then a closing line of the same tone (``sentiment``, one
    of :data:`SENTIMENTS`, 45/40/15 %). Words are misspelt at rate ``typo_rate`` (a letter
    dropped, doubled or swapped with its neighbour; for Chinese a character dropped or doubled).

    Direct identifiers (:data:`MESSAGE_IDENTIFIERS`) are columns of the frame — the CRM record
    of the customer — and are written *verbatim* into the text of some messages (the name in
    60 %, the phone number in 30 %, the e-mail in 20 %, the account number in 30 %), never
    misspelt, so de-identification that looks up each message's identifiers finds every one.
    E-mail addresses are at example.com (reserved, RFC 2606); phone numbers have the shape
    ``+44 7700 ddd ddd`` (``+86 138 dddd dddd`` in Chinese).

    ``canary`` (a string, e.g. ``"my verification code is 493817"``, or a list of them) is written
    after the greeting of ``canary_repeats`` messages of the training split each (flagged in the
    ``canary`` column), as Carlini et al. (2019) plant a secret to measure memorisation; a canary
    is not an identifier column, so de-identification does not remove it.

    Columns: ``message``, ``customer``, ``name``, ``phone``, ``email``, ``account``, ``text``,
    ``intent``, ``sentiment``, ``canary`` (bool), ``split`` (``"train"`` or ``"test"``: a
    seeded random ``test_fraction`` of the messages, never a canary). ``language`` is
    ``"en"`` or ``"zh"`` (Simplified Chinese, with Chinese names, cities and phone numbers).
    Same seed → identical frame, and the same messages whatever ``canary`` and ``canary_repeats``
    (only the planted sentences differ), so runs with 1 and 16 repeats compare like with like.
    Nothing is downloaded and nobody real is in it.

    References
    ----------
    N. Carlini, C. Liu, Ú. Erlingsson, J. Kos and D. Song, *The Secret Sharer: Evaluating and
    Testing Unintended Memorization in Neural Networks*, USENIX Security 2019.
    """
    n = check_int(n, "n", low=10, high=1_000_000)
    if not isinstance(language, str):
        raise TypeError(f"language must be one of {MESSAGE_LANGUAGES}, got {type(language).__name__}")
    if language not in MESSAGE_LANGUAGES:
        raise ValueError(f"language must be one of {MESSAGE_LANGUAGES}, got {language!r:.40}")
    canary_repeats = check_int(canary_repeats, "canary_repeats", low=0, high=n)
    typo_rate = check_real(typo_rate, "typo_rate", low=0.0, high=0.5)
    test_fraction = check_real(test_fraction, "test_fraction", low=0.0, high=0.9)
    canaries = [] if canary is None else [canary] if isinstance(canary, str) else canary
    if isinstance(canaries, (bytes, dict)) or not isinstance(canaries, (list, tuple)):
        raise TypeError(f"canary must be a string, a list of strings or None, got {type(canary).__name__}")
    if not all(isinstance(c, str) for c in canaries):
        raise TypeError("canary must hold strings only")
    if canary is not None and not (1 <= len(canaries) <= 100
                                   and all(0 < len(c.strip()) <= 200 for c in canaries)):
        raise ValueError("canary must be 1 to 100 non-empty strings of at most 200 characters")
    if canary_repeats > 0 and not canaries:
        raise ValueError("canary_repeats must be 0 when no canary is given (pass canary='...' to plant one)")
    g = as_generator(rng)
    zh = language == "zh"
    t = _ZH if zh else _EN
    n_test = round(test_fraction * n)
    if canary_repeats * max(1, len(canaries)) > n - n_test:
        most = (n - n_test) // max(1, len(canaries))
        raise ValueError(f"canary_repeats must be at most {most} (the training messages, over the canaries), "
                         f"got {canary_repeats}")
    split = np.array(["train"] * n, dtype=object)
    split[g.permutation(n)[:n_test]] = "test"
    intent = g.integers(len(INTENTS), size=n)
    sentiment = g.choice(len(SENTIMENTS), size=n, p=_SENTIMENT_P)
    names, phones, emails, accounts = _message_identities(n, zh, g)
    cities = _ZH_CITIES if zh else REGIONS
    planted = np.full(n, -1)   # which canary each message carries; drawn whatever the repeats, so that the
    order = g.permutation(np.flatnonzero(split == "train"))   # other messages never change with them
    for j in range(len(canaries)):
        planted[order[j * canary_repeats:(j + 1) * canary_repeats]] = j
    texts = []
    for i in range(n):
        slots = {"merchant": g.choice(t["merchant"]), "day": g.choice(t["day"]),
                 "month": g.choice(t["month"]), "device": g.choice(t["device"]), "city": g.choice(cities),
                 "amount": str(int(g.choice([12, 25, 40, 60, 85, 120, 250, 400, 999]) + g.integers(0, 10))),
                 "count": str(int(g.integers(2, 6)))}
        tone = SENTIMENTS[sentiment[i]]
        key = INTENTS[intent[i]]
        body = [g.choice(t["core"][key])]
        details = t["detail"][key]
        body += [details[j] for j in g.permutation(len(details))[:g.integers(0, 3)]]
        fillers = t["filler"]
        body += [fillers[j] for j in g.permutation(len(fillers))[:g.integers(0, 3)]]
        if g.random() < _MESSAGE_P["second_intent"]:
            other = INTENTS[(intent[i] + g.integers(1, len(INTENTS))) % len(INTENTS)]
            body.insert(int(g.integers(1, len(body) + 1)), g.choice(t["core"][other]))
        body = [_misspell(s.format(**slots), typo_rate, zh, g) for s in body]
        sentence_end = "。" if zh else ". "
        text = [g.choice(t["opener"][tone])]
        if planted[i] >= 0:   # up front, as customers often open with the code they were sent
            text.append(canaries[planted[i]] + ("。" if zh else "."))
        text.append(sentence_end.join(body) + ("。" if zh else "."))
        identity = {"name": names[i], "phone": phones[i], "email": emails[i], "account": accounts[i]}
        for column in MESSAGE_IDENTIFIERS:
            if g.random() < _MESSAGE_P[column]:
                text.append(g.choice(t[column]).format(**identity))
        text.append(g.choice(t["closer"][tone]))
        texts.append(("" if zh else " ").join(text))
    return pd.DataFrame({
        "message": [f"M{i:06d}" for i in range(1, n + 1)],
        "customer": [f"C{i:06d}" for i in g.permutation(n) + 1],
        "name": names, "phone": phones, "email": emails, "account": accounts, "text": texts,
        "intent": np.asarray(INTENTS)[intent], "sentiment": np.asarray(SENTIMENTS)[sentiment],
        "canary": planted >= 0, "split": split})


def _message_identities(n: int, zh: bool, g: np.random.Generator) -> tuple[list[str], ...]:
    """Names, phone numbers, e-mail addresses (example.com) and 8-digit account numbers, all distinct."""
    numbers = g.choice(10**8, size=n, replace=False)
    accounts = [f"{a:08d}" for a in g.choice(10**8, size=n, replace=False)]
    names, emails = [], []
    for i in range(n):
        if zh:
            (family, family_py), (given, given_py) = (_ZH_SURNAMES[g.integers(len(_ZH_SURNAMES))],
                                                      _ZH_GIVEN[g.integers(len(_ZH_GIVEN))])
            names.append(family + given)
            emails.append(f"{family_py}.{given_py}{i}@example.com")
        else:
            first, last = str(g.choice(FIRST_NAMES)), str(g.choice(SURNAMES))
            names.append(f"{first} {last}")
            emails.append(f"{first.lower()}.{last.lower()}{i}@example.com")
    if zh:
        phones = [f"+86 138 {p // 10**4:04d} {p % 10**4:04d}" for p in numbers]
    else:
        phones = [f"+44 7700 {p % 10**6 // 1000:03d} {p % 1000:03d}" for p in numbers]
    return names, phones, emails, accounts


def _misspell(sentence: str, rate: float, zh: bool, g: np.random.Generator) -> str:
    """Each word (each character in Chinese) misspelt with probability ``rate``: a letter dropped,
    doubled or swapped with the next one (Chinese: each character dropped or doubled with probability
    ``rate`` / 2, about one error per two-character word)."""
    if rate == 0:
        return sentence
    if zh:
        out = []
        for ch in sentence:
            u = g.random()
            out.append("" if u < rate / 4 else ch * 2 if u < rate / 2 else ch)
        return "".join(out)
    words = sentence.split(" ")
    for j, word in enumerate(words):
        if len(word) > 3 and word.isalpha() and g.random() < rate:
            k = int(g.integers(1, len(word) - 1))
            kind = g.integers(3)
            words[j] = (word[:k] + word[k + 1:] if kind == 0 else word[:k] + word[k] + word[k:] if kind == 1
                        else word[:k] + word[k + 1] + word[k] + word[k + 2:])
    return " ".join(words)
