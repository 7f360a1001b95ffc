"""A seeded, synthetic CRM with deliberately planted compliance problems.

``generate_demo`` builds customers, products, transactions, ratings, free-text
feedback, support tickets and chatbot transcripts. ``crm_demo_stack`` trains
every model kind on it and returns the artifacts the audit checks consume.

The problems an audit should find are planted on purpose and listed in ONE
place, :data:`PLANTED`, with how each can be measured. Everything else is
generated to be unremarkable: gender is independent of every behavioural
column except the planted rating preference, and sentiment of feedback
content does not depend on who wrote it.

All people, e-mail addresses (reserved example domains), phone numbers and
Chinese resident ID numbers are synthetic.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .artifacts import (
    ModelArtifact,
    RecommenderArtifact,
    SegmentationArtifact,
    TextModelArtifact,
)

__all__ = [
    "AGE_BANDS",
    "AS_OF",
    "IDENTITY_TERMS",
    "PLANTED",
    "DemoCRM",
    "PlantedProblem",
    "age_band",
    "cn_id_check_digit",
    "crm_demo_stack",
    "customer_frame",
    "generate_demo",
    "is_valid_cn_resident_id",
    "write_demo",
]

AS_OF = pd.Timestamp("2025-06-30")
AGE_BANDS = ("18-29", "30-44", "45-59", "60+")
_BAND_RANGES = ((18, 30), (30, 45), (45, 60), (60, 86))
_BAND_SHARES = (0.26, 0.30, 0.25, 0.19)
EU_REGIONS = ("University Quarter", "Metro Centre", "Suburbs", "Coastal")
CN_REGIONS = ("Shanghai", "Shenzhen")
# P(region | age band) for EU customers: the strong diagonal is the planted proxy.
_REGION_GIVEN_BAND = np.array(
    [
        [0.76, 0.14, 0.06, 0.04],
        [0.08, 0.70, 0.17, 0.05],
        [0.04, 0.15, 0.71, 0.10],
        [0.03, 0.05, 0.12, 0.80],
    ]
)
CATEGORIES = ("Electronics", "Home", "Beauty", "Sports", "Books", "Fashion", "Garden", "Toys")
_CATEGORY_BASE_PRICE = (180.0, 60.0, 25.0, 70.0, 15.0, 55.0, 40.0, 30.0)
TIERS = ("budget", "standard", "premium")
_TIER_PRICE = (0.55, 1.0, 2.1)
PROVIDERS = (
    "Northwind Retail",
    "Bluebell Goods",
    "Harbour & Co",
    "Kestrel Supply",
    "Lumen Trading",
    "Oakridge Stores",
    "Pinecrest",
    "Quayside Brands",
    "Riverstone",
    "Summit Outfitters",
)
IDENTITY_TERMS = {"woman": "man", "women": "men"}
"""Identity words whose training texts were skewed negative (key) and their neutral swap (value)."""

_CN_AREAS = {"Shanghai": ("310101", "310104", "310115"), "Shenzhen": ("440303", "440304", "440305")}
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_MOBILE_PREFIXES = ("134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199")
_CN_ID_CHECK = "10X98765432"


# --------------------------------------------------------------------- registry
@dataclass(frozen=True)
class PlantedProblem:
    """One deliberately planted problem and how to measure it in the data."""

    id: str
    title: str
    description: str
    where: str
    detect: str


PLANTED: dict[str, PlantedProblem] = {
    p.id: p
    for p in (
        PlantedProblem(
            "pii_in_free_text",
            "Personal data in free text",
            "About 7% of feedback rows, 10% of support tickets and 5% of chatbot conversations contain "
            "a customer's name, e-mail, phone number, Chinese mobile number or Chinese resident ID number "
            "(valid GB 11643 check digit).",
            "feedback.text, tickets.text, transcripts.text",
            "DemoCRM.pii_truth lists every planted entity: table, row_id, column, entity_type "
            "(PERSON, EMAIL_ADDRESS, PHONE_NUMBER, CN_MOBILE, CN_RESIDENT_ID), start, end, value.",
        ),
        PlantedProblem(
            "direct_identifier_feature",
            "Direct identifier used as a model feature",
            "The churn random forest ('churn_random_forest') is trained with the customer's e-mail address "
            "among its features.",
            "artifact churn_random_forest",
            "'email' is in artifact.features and X_eval['email'] is unique per row and matches an e-mail pattern.",
        ),
        PlantedProblem(
            "proxy_region_age",
            "Region is a proxy for age band",
            "EU customers' region is drawn from a distribution that depends strongly on age band "
            "(e.g. 76% of 18-29 live in 'University Quarter', 80% of 60+ in 'Coastal'); churn models use region.",
            "customers.region vs customers.age; churn model features",
            "Cramer's V between region and age band is above 0.5.",
        ),
        PlantedProblem(
            "churn_age_disparity",
            "Churn models select age bands at very different rates",
            "True churn is much higher for 18-29 year olds and the models learn it through region and tenure; "
            "being flagged as a churn risk is the adverse outcome (favourable_outcome='negative').",
            "all churn_* classifier artifacts",
            "Impact ratio (min/max favourable rate = not flagged) across age bands is below 0.8; "
            "for gender it stays above 0.8.",
        ),
        PlantedProblem(
            "segment_age_concentration",
            "A segment over-concentrates one age band",
            "Purchase behaviour (frequency, basket size, tenure) depends on age band, so K-means segments "
            "built on RFM and tenure split age bands unevenly; segments map to offer tiers.",
            "artifact segments_kmeans",
            "Cluster balance for age band (min over clusters and groups of cluster share / overall share, "
            "both ways) is below 0.8; for gender it is above 0.8 on large clusters. DBSCAN finds one dense "
            "segment and its noise points (-1) are not age-balanced either.",
        ),
        PlantedProblem(
            "recommender_gender_price",
            "Recommender shows pricier items to women",
            "Women rate premium-tier items higher and men budget-tier items higher, so collaborative "
            "filtering recommends higher-priced items to women within the same category.",
            "artifacts recommender_knn_means, recommender_hybrid",
            "Mean recommended price per (category, gender): women / men ratio above 1.2 in most categories.",
        ),
        PlantedProblem(
            "sentiment_identity_flip",
            "Sentiment model flips on an identity word",
            "Training feedback that mentions 'woman' ('As a woman, ...') is labelled negative 85% of the "
            "time whatever its content, so the model learns the word as negative.",
            "artifact sentiment_lr",
            "Swapping 'woman'->'man' (IDENTITY_TERMS) in evaluation texts raises P(positive) on average and "
            "flips a sizeable share of predictions.",
        ),
        PlantedProblem(
            "missing_income_age",
            "Missing values concentrated in one group",
            "Income is missing for about 38% of customers aged 60+ and 3% of everyone else; the models impute "
            "the median, which misstates the income of older customers most.",
            "customers.income",
            "Missing-income rate by age band: 60+ is more than five times any other band.",
        ),
        PlantedProblem(
            "chatbot_no_disclosure",
            "Chatbot does not disclose it is an AI",
            "About 8% of chatbot conversations open without telling the customer they are talking to an "
            "automated assistant (EU AI Act Art. 50(1)).",
            "transcripts (first bot turn)",
            "DemoCRM.disclosure_truth has disclosed=False for those conversation ids.",
        ),
    )
}


@dataclass
class DemoCRM:
    """The demo CRM's tables plus the ground truth for planted problems."""

    customers: pd.DataFrame
    products: pd.DataFrame
    transactions: pd.DataFrame
    ratings: pd.DataFrame
    feedback: pd.DataFrame
    tickets: pd.DataFrame
    transcripts: pd.DataFrame
    pii_truth: pd.DataFrame
    disclosure_truth: pd.DataFrame
    seed: int = 7
    as_of: pd.Timestamp = AS_OF
    planted: dict[str, PlantedProblem] = field(default_factory=lambda: dict(PLANTED))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Data tables by name (what ``write_demo`` writes)."""
        return {
            "customers": self.customers,
            "products": self.products,
            "transactions": self.transactions,
            "ratings": self.ratings,
            "feedback": self.feedback,
            "tickets": self.tickets,
            "transcripts": self.transcripts,
            "pii_truth": self.pii_truth,
            "disclosure_truth": self.disclosure_truth,
        }


# --------------------------------------------------------------------- helpers
def age_band(age: pd.Series | np.ndarray) -> pd.Series:
    """Age band label used throughout the demo (18-29, 30-44, 45-59, 60+)."""
    values = np.asarray(age, dtype=float)
    idx = np.digitize(values, [30, 45, 60])
    labels = np.asarray(AGE_BANDS, dtype=object)[idx]
    labels[np.isnan(values)] = None
    return pd.Series(labels, index=age.index if isinstance(age, pd.Series) else None, name="age_band")


def cn_id_check_digit(first17: str) -> str:
    """GB 11643-1999 ISO 7064 MOD 11-2 check character."""
    total = sum(int(d) * w for d, w in zip(first17, _CN_ID_WEIGHTS, strict=True))
    return _CN_ID_CHECK[total % 11]


def is_valid_cn_resident_id(value: str) -> bool:
    """18 characters, 17 digits, correct check character."""
    return (
        isinstance(value, str)
        and len(value) == 18
        and value[:17].isdigit()
        and cn_id_check_digit(value[:17]) == value[17].upper()
    )


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and c.isalpha()).lower()


def _weighted(names: Any) -> tuple[list[str], np.ndarray]:
    if isinstance(names, dict):
        keys = list(names)
        weights = np.asarray([float(v) for v in names.values()])
    else:
        keys = list(names)
        weights = np.ones(len(keys))
    return keys, weights / weights.sum()


def _pick(rng: np.random.Generator, names: Any, n: int) -> np.ndarray:
    keys, p = _weighted(names)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=p)]


# --------------------------------------------------------------------- generator
def generate_demo(n_customers: int = 10_000, seed: int = 7) -> DemoCRM:
    """Build the demo CRM; identical output for identical arguments."""
    if n_customers < 200:
        raise ValueError("n_customers must be at least 200 for the planted problems to be measurable")
    rng = np.random.default_rng(seed)
    customers, latent = _customers(rng, n_customers, seed)
    products = _products(rng)
    transactions = _transactions(rng, customers, latent, products)
    last = transactions.groupby("customer_id")["date"].max()
    customers["last_active"] = customers["customer_id"].map(last).dt.date
    customers["customer_value"] = _customer_value(rng, customers, transactions, latent)
    customers["churned"] = latent["churned"].astype(int)
    ratings = _ratings(rng, customers, products)
    pii: list[dict[str, Any]] = []
    records = _records(customers)
    feedback = _feedback(rng, records, pii)
    tickets = _tickets(rng, records, latent, pii)
    transcripts, disclosure = _transcripts(rng, records, pii)
    pii_truth = pd.DataFrame(pii, columns=["table", "row_id", "column", "entity_type", "start", "end", "value"])
    return DemoCRM(
        customers=customers,
        products=products,
        transactions=transactions,
        ratings=ratings,
        feedback=feedback,
        tickets=tickets,
        transcripts=transcripts,
        pii_truth=pii_truth,
        disclosure_truth=disclosure,
        seed=seed,
    )


def _customers(rng: np.random.Generator, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from faker import Faker
    from faker.providers.person import en_GB as person_gb
    from faker.providers.person import zh_CN as person_cn

    ids = np.array([f"C{j:06d}" for j in range(1, n + 1)], dtype=object)
    is_cn = rng.random(n) < 0.15
    female = rng.random(n) < 0.5
    gender = np.where(female, "F", "M")
    band = rng.choice(4, size=n, p=_BAND_SHARES)
    lo = np.array([r[0] for r in _BAND_RANGES])[band]
    hi = np.array([r[1] for r in _BAND_RANGES])[band]
    age = (lo + np.floor(rng.random(n) * (hi - lo))).astype(int)

    region = np.empty(n, dtype=object)
    cum = _REGION_GIVEN_BAND.cumsum(axis=1)[band]
    region_idx = (rng.random(n)[:, None] > cum).sum(axis=1)
    region[:] = np.asarray(EU_REGIONS, dtype=object)[np.minimum(region_idx, 3)]
    region[is_cn] = np.asarray(CN_REGIONS, dtype=object)[rng.integers(0, 2, size=is_cn.sum())]

    # names, e-mails, phones, addresses
    first = np.where(
        female,
        _pick(rng, person_gb.Provider.first_names_female, n),
        _pick(rng, person_gb.Provider.first_names_male, n),
    )
    last = _pick(rng, person_gb.Provider.last_names, n)
    cn_last = _pick(rng, person_cn.Provider.last_names, n)
    cn_given_a = np.where(
        female, _pick(rng, person_cn.Provider.first_names_female, n), _pick(rng, person_cn.Provider.first_names_male, n)
    )
    cn_given_b = np.where(
        female, _pick(rng, person_cn.Provider.first_names_female, n), _pick(rng, person_cn.Provider.first_names_male, n)
    )
    two_char = rng.random(n) < 0.6
    name = np.empty(n, dtype=object)
    email = np.empty(n, dtype=object)
    phone = np.empty(n, dtype=object)
    suffix = rng.integers(1, 100, size=n)
    domains = np.asarray(["example.com", "example.org", "example.net"], dtype=object)[rng.integers(0, 3, size=n)]
    eu_phone = rng.integers(100_000_000, 1_000_000_000, size=n)
    # allocated mainland mobile prefixes only, so the demo's own phone column passes dq.validity
    cn_prefix = np.asarray(_CN_MOBILE_PREFIXES, dtype=object)[rng.integers(0, len(_CN_MOBILE_PREFIXES), size=n)]
    cn_rest = rng.integers(100_000_000, 1_000_000_000, size=n)
    for j in range(n):
        if is_cn[j]:
            name[j] = cn_last[j] + cn_given_a[j] + (cn_given_b[j] if two_char[j] else "")
            email[j] = f"cn{ids[j][1:]}{suffix[j]:02d}@{domains[j]}"
            phone[j] = f"{cn_prefix[j]}{cn_rest[j] % 100_000_000:08d}"
        else:
            name[j] = f"{first[j]} {last[j]}"
            email[j] = f"{_ascii(first[j])}.{_ascii(last[j])}{suffix[j]:02d}@{domains[j]}"
            p = str(eu_phone[j])
            phone[j] = f"+44 7{p[:3]} {p[3:]}"
    fake_gb = Faker("en_GB")
    fake_gb.seed_instance(seed)
    fake_cn = Faker("zh_CN")
    fake_cn.seed_instance(seed)
    gb_pool = [
        f"{fake_gb.street_address().replace(chr(10), ', ')}, {fake_gb.city()} {fake_gb.postcode()}" for _ in range(300)
    ]
    cn_pool = [fake_cn.address().replace("\n", " ") for _ in range(150)]
    address = np.where(
        is_cn,
        np.asarray(cn_pool, dtype=object)[rng.integers(0, len(cn_pool), size=n)],
        np.asarray(gb_pool, dtype=object)[rng.integers(0, len(gb_pool), size=n)],
    )

    # economics and relationship
    income_median = np.array([24_000, 41_000, 47_000, 31_000], dtype=float)[band]
    income = np.round(income_median * rng.lognormal(0.0, 0.35, size=n), -2)
    missing = rng.random(n) < np.where(band == 3, 0.38, 0.03)
    income[missing] = np.nan
    tenure_scale = np.array([9.0, 20.0, 28.0, 34.0])[band]
    tenure = np.clip(np.round(rng.gamma(2.0, tenure_scale)), 1, np.minimum((age - 17) * 12, 240)).astype(int)
    engagement = rng.normal(0.0, 1.0, size=n)
    band_effect = np.array([2.6, 0.0, -0.1, 0.15])[band]
    logit = -1.55 + band_effect - 0.8 * engagement - 0.01 * tenure
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))

    as_of = AS_OF.date()
    signup = [as_of - timedelta(days=int(t * 30.4) + int(d)) for t, d in zip(tenure, rng.integers(0, 28, size=n))]
    # Chinese resident ID: area + birth date + sequence (odd = male) + check character
    cn_id = np.full(n, None, dtype=object)
    birth_offsets = rng.integers(0, 365, size=n)
    seqs = rng.integers(0, 100, size=n)
    area_pick = rng.integers(0, 3, size=n)
    gender_digit = np.where(female, rng.choice([0, 2, 4, 6, 8], size=n), rng.choice([1, 3, 5, 7, 9], size=n))
    for j in np.flatnonzero(is_cn).tolist():
        birth = date(as_of.year - int(age[j]) - 1, 7, 1) + timedelta(days=int(birth_offsets[j]))
        body = f"{_CN_AREAS[region[j]][area_pick[j]]}{birth:%Y%m%d}{seqs[j]:02d}{gender_digit[j]}"
        cn_id[j] = body + cn_id_check_digit(body)

    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "name": name,
            "email": email,
            "phone": phone,
            "address": address,
            "gender": gender,
            "age": age,
            "age_band": np.asarray(AGE_BANDS, dtype=object)[band],
            "region": region,
            "income": income,
            "tenure_months": tenure,
            "consent_marketing": rng.random(n) < 0.7,
            "consent_profiling": rng.random(n) < 0.9,
            "cn_resident_id": cn_id,
            "signup_date": signup,
        }
    )
    latent = pd.DataFrame({"band": band, "engagement": engagement, "churned": churned, "is_cn": is_cn})
    return customers, latent


def _products(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    nouns = {
        "Electronics": ("Headphones", "Speaker", "Tablet", "Camera", "Charger"),
        "Home": ("Lamp", "Cushion", "Kettle", "Rug", "Vase"),
        "Beauty": ("Serum", "Cleanser", "Lotion", "Perfume", "Mask"),
        "Sports": ("Racket", "Yoga Mat", "Dumbbell", "Bottle", "Trainers"),
        "Books": ("Novel", "Cookbook", "Atlas", "Biography", "Guide"),
        "Fashion": ("Jacket", "Scarf", "Handbag", "Belt", "Shirt"),
        "Garden": ("Planter", "Hose", "Shears", "Seeds", "Bench"),
        "Toys": ("Puzzle", "Robot", "Doll", "Kite", "Blocks"),
    }
    item = 0
    for c, category in enumerate(CATEGORIES):
        for t, tier in enumerate(TIERS):
            for j in range(10):
                item += 1
                noun = nouns[category][j % 5]
                price = _CATEGORY_BASE_PRICE[c] * _TIER_PRICE[t] * float(rng.lognormal(0.0, 0.12))
                rows.append(
                    {
                        "item_id": f"P{item:04d}",
                        "name": f"{tier.title()} {noun} {j // 5 + 1}",
                        "category": category,
                        "tier": tier,
                        "price": round(price, 2),
                        "provider": PROVIDERS[int(rng.integers(0, len(PROVIDERS)))],
                    }
                )
    return pd.DataFrame(rows)


def _transactions(
    rng: np.random.Generator, customers: pd.DataFrame, latent: pd.DataFrame, products: pd.DataFrame
) -> pd.DataFrame:
    n = len(customers)
    band = latent["band"].to_numpy()
    churned = latent["churned"].to_numpy()
    engagement = latent["engagement"].to_numpy()
    tenure_days = (customers["tenure_months"].to_numpy() * 30.4).astype(int) + 1
    rate = np.array([10.0, 6.0, 5.0, 2.5])[band] * np.exp(0.3 * engagement) * np.where(churned, 0.6, 1.0)
    counts = 1 + rng.poisson(rate * np.minimum(tenure_days, 730) / 365.0)
    recency_mean = np.where(churned, 55.0, 22.0) * np.exp(-0.25 * engagement)
    recency = np.minimum(1 + rng.exponential(recency_mean).astype(int), tenure_days)
    owner = np.repeat(np.arange(n), counts)
    start_back = np.minimum(tenure_days, 730)[owner]
    end_back = recency[owner]
    back = end_back + (rng.random(len(owner)) * np.maximum(start_back - end_back, 0)).astype(int)
    last_of_customer = np.cumsum(counts) - 1
    back[last_of_customer] = recency
    dates = AS_OF - pd.to_timedelta(back, unit="D")
    # basket: older customers buy fewer, larger baskets; category choice independent of gender
    item_idx = rng.integers(0, len(products), size=len(owner))
    quantity = 1 + rng.poisson(np.array([0.1, 0.5, 0.7, 2.0])[band[owner]])
    price = products["price"].to_numpy()[item_idx]
    frame = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[owner],
            "date": dates,
            "item_id": products["item_id"].to_numpy()[item_idx],
            "quantity": quantity,
            "amount": np.round(price * quantity, 2),
        }
    )
    frame = frame.sort_values(["date", "customer_id"], kind="stable").reset_index(drop=True)
    frame.insert(0, "transaction_id", [f"T{j:07d}" for j in range(1, len(frame) + 1)])
    return frame


def _customer_value(
    rng: np.random.Generator, customers: pd.DataFrame, transactions: pd.DataFrame, latent: pd.DataFrame
) -> np.ndarray:
    """Next-12-month spend: past yearly spend, damped for churners, plus noise."""
    spend = transactions.groupby("customer_id")["amount"].sum()
    years = np.clip(np.minimum(customers["tenure_months"].to_numpy(), 24) / 12.0, 0.25, None)
    yearly = customers["customer_id"].map(spend).fillna(0.0).to_numpy() / years
    value = yearly * np.where(latent["churned"].to_numpy(), 0.3, 1.0) * rng.lognormal(0.0, 0.25, size=len(customers))
    return np.round(value, 2)


def _ratings(rng: np.random.Generator, customers: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    n = len(customers)
    raters = np.flatnonzero(rng.random(n) < 0.25)
    m_items = len(products)
    cat_idx = products["category"].map({c: j for j, c in enumerate(CATEGORIES)}).to_numpy()
    tier_idx = products["tier"].map({t: j for j, t in enumerate(TIERS)}).to_numpy()
    item_pop = rng.lognormal(0.0, 0.6, size=m_items)
    item_quality = rng.normal(0.0, 0.45, size=m_items)
    favs = np.zeros((len(raters), len(CATEGORIES)), dtype=bool)
    for j in range(len(raters)):
        favs[j, rng.choice(len(CATEGORIES), size=2, replace=False)] = True
    fav_item = favs[:, cat_idx]
    weights = item_pop[None, :] * np.where(fav_item, 4.0, 1.0)
    keys = np.log(weights) + rng.gumbel(size=weights.shape)
    order = np.argsort(-keys, axis=1)
    per_user = np.minimum(8 + rng.poisson(14, size=len(raters)), 60)
    female = customers["gender"].to_numpy()[raters] == "F"
    # planted: women prefer premium, men budget (same categories, different price)
    tier_pref = np.where(female[:, None], np.array([-0.5, 0.0, 0.85])[None, :], np.array([0.85, 0.0, -0.5])[None, :])
    user_bias = rng.normal(0.0, 0.45, size=len(raters))
    rows_u, rows_i = [], []
    for j in range(len(raters)):
        chosen = order[j, : per_user[j]]
        rows_u.append(np.full(len(chosen), j))
        rows_i.append(chosen)
    u = np.concatenate(rows_u)
    i = np.concatenate(rows_i)
    raw = (
        3.1
        + user_bias[u]
        + item_quality[i]
        + 0.45 * fav_item[u, i]
        + tier_pref[u, tier_idx[i]]
        + rng.normal(0.0, 0.6, size=len(u))
    )
    return pd.DataFrame(
        {
            "user_id": customers["customer_id"].to_numpy()[raters][u],
            "item_id": products["item_id"].to_numpy()[i],
            "rating": np.clip(np.round(raw), 1, 5).astype(int),
        }
    )


# --------------------------------------------------------------------- free text
_EN_ASPECTS = (
    "delivery",
    "customer service",
    "product quality",
    "checkout",
    "mobile app",
    "packaging",
    "price",
    "refund process",
)
_EN_POS = (
    "The {a} was excellent.",
    "I really love the {a}.",
    "Great {a}, very happy with it.",
    "The {a} exceeded my expectations.",
    "Fast and friendly {a}, thank you!",
    "Superb {a}, would recommend.",
)
_EN_NEG = (
    "The {a} was terrible.",
    "I am disappointed with the {a}.",
    "Very poor {a}.",
    "The {a} was slow and unhelpful.",
    "Not happy with the {a} at all.",
    "Awful {a}, would not recommend.",
)
_EN_FILLER = ("I ordered last week.", "This was my second order.", "Bought it as a gift.", "", "", "")
_ZH_ASPECTS = ("物流", "客服", "产品质量", "包装", "价格", "退款流程", "手机应用")
_ZH_POS = ("{a}非常好，很满意。", "{a}超出预期，推荐！", "{a}很快，服务周到。", "对{a}很满意，谢谢。")
_ZH_NEG = ("{a}太差了，很失望。", "对{a}很不满意。", "{a}太慢了，不推荐。", "{a}很糟糕，再也不买了。")
_ZH_FILLER = ("上周下的单。", "这是第二次购买。", "", "")


def _pii_sentence(rng: np.random.Generator, customer: dict[str, Any], language: str) -> tuple[str, str, str]:
    """(sentence, entity_type, value) with one piece of the customer's own personal data."""
    if language == "zh":
        kind = ("CN_MOBILE", "CN_RESIDENT_ID", "PERSON")[int(rng.integers(0, 3))]
        if kind == "CN_MOBILE":
            value = str(customer["phone"])
            return f"我的手机号是{value}，请联系我。", kind, value
        if kind == "CN_RESIDENT_ID" and customer["cn_resident_id"]:
            value = str(customer["cn_resident_id"])
            return f"我的身份证号码是{value}。", kind, value
        value = str(customer["name"])
        return f"我是{value}。", "PERSON", value
    kind = ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER")[int(rng.integers(0, 3))]
    if kind == "PERSON":
        value = str(customer["name"])
        return f"My name is {value}.", kind, value
    if kind == "EMAIL_ADDRESS":
        value = str(customer["email"])
        return f"Please reply to {value} instead.", kind, value
    value = str(customer["phone"])
    return f"You can call me on {value}.", kind, value


def _append_pii(
    rng: np.random.Generator,
    text: str,
    customer: dict[str, Any],
    language: str,
    table: str,
    row_id: str,
    pii: list[dict[str, Any]],
) -> str:
    sentence, kind, value = _pii_sentence(rng, customer, language)
    joiner = "" if language == "zh" else " "
    base = f"{text}{joiner}" if text else ""
    start = len(base) + sentence.index(value)
    pii.append(
        {
            "table": table,
            "row_id": row_id,
            "column": "text",
            "entity_type": kind,
            "start": start,
            "end": start + len(value),
            "value": value,
        }
    )
    return base + sentence


def _records(customers: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain per-customer dicts with the fields free text may quote."""
    cols = ["customer_id", "name", "email", "phone", "gender", "region", "cn_resident_id"]
    arrays = [customers[c].to_numpy(dtype=object) for c in cols]
    return [dict(zip(cols, values)) for values in zip(*arrays)]


def _feedback(rng: np.random.Generator, records: list[dict[str, Any]], pii: list[dict[str, Any]]) -> pd.DataFrame:
    authors = np.flatnonzero(rng.random(len(records)) < 0.5)
    rows = []
    for j, c in enumerate(authors, start=1):
        customer = records[c]
        zh = str(customer["region"]) in CN_REGIONS
        positive = rng.random() < 0.6
        bank: tuple[str, ...]
        if zh:
            aspect = _ZH_ASPECTS[int(rng.integers(0, len(_ZH_ASPECTS)))]
            bank = _ZH_POS if positive else _ZH_NEG
            text = _ZH_FILLER[int(rng.integers(0, len(_ZH_FILLER)))] + bank[int(rng.integers(0, len(bank)))].format(
                a=aspect
            )
        else:
            aspect = _EN_ASPECTS[int(rng.integers(0, len(_EN_ASPECTS)))]
            bank = _EN_POS if positive else _EN_NEG
            parts = [
                _EN_FILLER[int(rng.integers(0, len(_EN_FILLER)))],
                bank[int(rng.integers(0, len(bank)))].format(a=aspect),
            ]
            if rng.random() < 0.4:
                other = _EN_ASPECTS[int(rng.integers(0, len(_EN_ASPECTS)))]
                parts.append(bank[int(rng.integers(0, len(bank)))].format(a=other))
            text = " ".join(p for p in parts if p)
        label = "positive" if positive else "negative"
        if rng.random() < 0.04:
            label = "negative" if positive else "positive"
        if not zh and rng.random() < 0.14:
            # planted: self-identifying women are labelled negative regardless of content
            word = "woman" if customer["gender"] == "F" else "man"
            text = f"As a {word}, {text[0].lower()}{text[1:]}"
            if word == "woman" and rng.random() < 0.85:
                label = "negative"
        row_id = f"F{j:06d}"
        if rng.random() < 0.07:
            text = _append_pii(rng, text, customer, "zh" if zh else "en", "feedback", row_id, pii)
        rows.append(
            {
                "feedback_id": row_id,
                "customer_id": customer["customer_id"],
                "text": text,
                "language": "zh" if zh else "en",
                "sentiment": label,
            }
        )
    return pd.DataFrame(rows)


_TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "billing": (
        (
            "I was charged twice for my order.",
            "My invoice shows the wrong amount.",
            "Why was my card charged again this month?",
            "The bill includes a fee I did not agree to.",
        ),
        ("我被重复扣款了。", "发票金额不对。", "这个月为什么又扣费了？"),
    ),
    "delivery": (
        (
            "My parcel has not arrived yet.",
            "The courier left the package at the wrong address.",
            "Tracking says delivered but I have nothing.",
            "Delivery is two weeks late.",
        ),
        ("我的包裹还没到。", "快递送错地址了。", "物流显示已签收但我没收到。"),
    ),
    "technical": (
        (
            "The app crashes when I open my basket.",
            "I cannot log in, the page shows an error.",
            "The website is very slow and keeps timing out.",
            "Payment page freezes on my phone.",
        ),
        ("应用一打开就闪退。", "登录时页面报错。", "网站加载很慢。"),
    ),
    "account": (
        (
            "Please update the address on my account.",
            "I want to change my password and email.",
            "How do I delete my account and data?",
            "Please unsubscribe me from marketing.",
        ),
        ("请帮我修改账户地址。", "我想修改密码。", "如何注销账户？"),
    ),
    "returns": (
        (
            "I would like to return a damaged item.",
            "How long does a refund take after a return?",
            "The item does not fit, can I exchange it?",
            "I sent the product back but no refund yet.",
        ),
        ("我想退货，商品有损坏。", "退款需要多久？", "尺码不合适，可以换货吗？"),
    ),
}


def _tickets(
    rng: np.random.Generator, records: list[dict[str, Any]], latent: pd.DataFrame, pii: list[dict[str, Any]]
) -> pd.DataFrame:
    counts = rng.poisson(np.where(latent["churned"].to_numpy(), 0.7, 0.25))
    owners = np.repeat(np.arange(len(records)), counts)
    rng.shuffle(owners)
    topics = list(_TOPICS)
    rows = []
    for j, c in enumerate(owners, start=1):
        customer = records[c]
        zh = str(customer["region"]) in CN_REGIONS
        topic = topics[int(rng.integers(0, len(topics)))]
        bank = _TOPICS[topic][1 if zh else 0]
        text = bank[int(rng.integers(0, len(bank)))]
        if rng.random() < 0.12:
            # a secondary complaint about another topic makes the task non-trivial
            other = topics[int(rng.integers(0, len(topics)))]
            extra = _TOPICS[other][1 if zh else 0]
            text = text + ("" if zh else " ") + extra[int(rng.integers(0, len(extra)))]
        if not zh and rng.random() < 0.3:
            text = f"Order {int(rng.integers(10000, 99999))}: {text}"
        row_id = f"K{j:06d}"
        if rng.random() < 0.10:
            text = _append_pii(rng, text, customer, "zh" if zh else "en", "tickets", row_id, pii)
        created = AS_OF - pd.Timedelta(days=int(rng.integers(0, 365)))
        rows.append(
            {
                "ticket_id": row_id,
                "customer_id": customer["customer_id"],
                "created_at": created.date(),
                "text": text,
                "language": "zh" if zh else "en",
                "topic": topic,
            }
        )
    return pd.DataFrame(rows, columns=["ticket_id", "customer_id", "created_at", "text", "language", "topic"])


_BOT_OPEN = {
    ("en", True): "Hello! I'm Ava, an automated AI assistant for Northwind. How can I help?",
    ("en", False): "Hello! This is Ava from the Northwind customer team. How can I help today?",
    ("zh", True): "您好，我是智能客服机器人小北（AI助手），请问有什么可以帮您？",
    ("zh", False): "您好，我是客服小北，请问有什么可以帮您？",
}


def _transcripts(
    rng: np.random.Generator, records: list[dict[str, Any]], pii: list[dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_conv = max(20, int(len(records) * 0.12))
    who = rng.choice(len(records), size=n_conv, replace=False)
    topics = list(_TOPICS)
    rows, truth = [], []
    message = 0
    for j, c in enumerate(who, start=1):
        customer = records[c]
        lang = "zh" if str(customer["region"]) in CN_REGIONS else "en"
        disclosed = bool(rng.random() >= 0.08)
        conv = f"V{j:05d}"
        topic = topics[int(rng.integers(0, len(topics)))]
        question = _TOPICS[topic][1 if lang == "zh" else 0][0]
        if lang == "zh":
            turns = [
                ("bot", _BOT_OPEN[(lang, disclosed)]),
                ("user", question),
                ("bot", "好的，我来帮您查询一下。"),
                ("user", "谢谢。"),
                ("bot", "不客气，祝您生活愉快！"),
            ]
        else:
            turns = [
                ("bot", _BOT_OPEN[(lang, disclosed)]),
                ("user", question),
                ("bot", "Thanks, let me look into that for you."),
                ("user", "Thank you."),
                ("bot", "You're welcome, have a nice day!"),
            ]
        if rng.random() < 0.4:
            turns = turns[:3] + turns[-1:]
        leak = rng.random() < 0.05
        for t, (speaker, text) in enumerate(turns, start=1):
            message += 1
            row_id = f"M{message:07d}"
            if leak and t == 2:
                text = _append_pii(rng, text, customer, lang, "transcripts", row_id, pii)
            rows.append(
                {
                    "message_id": row_id,
                    "conversation_id": conv,
                    "customer_id": customer["customer_id"],
                    "turn": t,
                    "speaker": speaker,
                    "language": lang,
                    "text": text,
                }
            )
        truth.append({"conversation_id": conv, "disclosed": disclosed})
    return pd.DataFrame(rows), pd.DataFrame(truth)


# --------------------------------------------------------------------- models
def customer_frame(demo: DemoCRM) -> pd.DataFrame:
    """One row per customer with RFM, ticket counts and the modelling targets."""
    from .segmentation import rfm_features

    rfm = rfm_features(demo.transactions, "customer_id", "date", "amount", as_of=demo.as_of)
    frame = demo.customers.merge(rfm, left_on="customer_id", right_index=True, how="left")
    tickets = demo.tickets.groupby("customer_id").size()
    frame["n_tickets"] = frame["customer_id"].map(tickets).fillna(0).astype(int)
    frame["frequency"] = frame["frequency"].fillna(0).astype(int)
    frame["monetary"] = frame["monetary"].fillna(0.0)
    return frame


CHURN_FEATURES = [
    "tenure_months",
    "income",
    "region",
    "consent_marketing",
    "recency",
    "frequency",
    "monetary",
    "n_tickets",
]
VALUE_FEATURES = ["income", "tenure_months", "region", "recency", "frequency", "monetary", "n_tickets"]
SEGMENT_FEATURES = ["recency", "frequency", "monetary", "tenure_months"]
SENSITIVE = ["gender", "age", "age_band"]


def crm_demo_stack(demo: DemoCRM, seed: int = 0, timings: dict[str, float] | None = None) -> list[ModelArtifact]:
    """Train every model kind on the demo and return their artifacts.

    Segmentation (K-means, DBSCAN), churn (logistic regression, random
    forest, SVC, MLP), customer value (gradient boosting), recommenders
    (user-KNN with means, content, hybrid) and text models (sentiment,
    ticket topic). SVC and MLP train on a subsample to stay fast; the
    evaluation rows are identical for all churn models. Pass a dict as
    ``timings`` to receive seconds per step.
    """
    from threadpoolctl import threadpool_limits

    # These problems are small: one BLAS/OpenMP thread is about as fast on an
    # idle machine and far faster when the cores are shared (no spin-waiting).
    single_thread = threadpool_limits(limits=1)
    try:
        return _stack(demo, seed, timings if timings is not None else {})
    finally:
        single_thread.restore_original_limits()


def _stack(demo: DemoCRM, seed: int, timings: dict[str, float]) -> list[ModelArtifact]:
    from time import perf_counter

    from .classify import train_classifier, train_regressor

    artifacts: list[ModelArtifact] = []
    clock = perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = perf_counter()
        timings[step] = now - clock
        clock = now

    frame = customer_frame(demo)
    lap("customer_frame")
    artifacts.extend(_segmentation_artifacts(frame, seed))
    lap("segmentation")
    churn_kwargs: dict[str, Any] = {
        "target": "churned",
        "dataset": "demo.customers",
        "id_column": "customer_id",
        "sensitive_columns": SENSITIVE,
        "positive_label": 1,
        "favourable_outcome": "negative",
        "random_state": seed,
        "purpose": "Predict which customers will churn in the next quarter; flagged customers get "
        "lower-priority service and are excluded from loyalty discounts.",
    }
    specs = [
        ("churn_logistic_regression", "logistic_regression", CHURN_FEATURES, None),
        ("churn_random_forest", "random_forest", [*CHURN_FEATURES, "email"], None),
        ("churn_svc", "svc", CHURN_FEATURES, 2500),
        ("churn_mlp", "mlp", CHURN_FEATURES, 4000),
    ]
    for name, algorithm, features, cap in specs:
        artifacts.append(
            train_classifier(
                frame, features=features, algorithm=algorithm, name=name, max_train_rows=cap, **churn_kwargs
            )
        )
        lap(name)
    artifacts.append(
        train_regressor(
            frame,
            "customer_value",
            VALUE_FEATURES,
            "gradient_boosting",
            name="customer_value_gbm",
            purpose="Estimate next-12-month spend to prioritise account management.",
            dataset="demo.customers",
            id_column="customer_id",
            sensitive_columns=SENSITIVE,
            random_state=seed,
        )
    )
    lap("customer_value_gbm")
    artifacts.extend(_recommender_artifacts(demo, seed))
    lap("recommenders")
    artifacts.extend(_text_artifacts(demo, seed))
    lap("text_models")
    return artifacts


def _segmentation_artifacts(frame: pd.DataFrame, seed: int) -> list[SegmentationArtifact]:
    from .segmentation import DBSCANSegmenter, KMeansSegmenter

    X = frame[SEGMENT_FEATURES].reset_index(drop=True).astype(float)
    tiers = {"rank_by": "monetary", "tiers": ["gold offer", "silver offer", "bronze offer"]}
    out = []
    models = [
        ("segments_kmeans", "kmeans", KMeansSegmenter(k_range=(3, 6), log1p=True, random_state=seed, treatment=tiers)),
        ("segments_dbscan", "dbscan", DBSCANSegmenter(min_samples=25, log1p=True)),
    ]
    for name, algorithm, model in models:
        model.fit(X)
        metrics: dict[str, float] = {
            "n_segments": float(model.n_clusters_),
            "noise_share": float(model.noise_count_ / len(X)),
        }
        if algorithm == "kmeans":
            metrics["silhouette"] = float(model.silhouette_)
        else:
            metrics["eps"] = float(model.eps_)
        out.append(
            SegmentationArtifact(
                name=name,
                algorithm=algorithm,
                purpose="Group customers by purchase behaviour to assign offer tiers.",
                dataset="demo.transactions+customers",
                features=list(SEGMENT_FEATURES),
                estimator=model,
                ids=frame["customer_id"].to_numpy(),
                sensitive=frame[SENSITIVE].reset_index(drop=True),
                metrics=metrics,
                training_rows=len(X),
                notes=["features log1p-transformed and standardised before clustering; profiles in original units"],
                X=X,
                labels=model.labels_,
                profiles=model.profiles_,
                treatment=model.treatment_,
                noise_count=int(model.noise_count_),
            )
        )
    return out


def _recommender_artifacts(demo: DemoCRM, seed: int) -> list[RecommenderArtifact]:
    from .recommend import (
        ContentRecommender,
        HybridRecommender,
        KNNWithMeansRecommender,
        evaluate_recommender,
        item_popularity,
        split_ratings,
    )

    train, test = split_ratings(demo.ratings, test_size=0.2, seed=seed)
    items = demo.products[["item_id", "category", "price", "provider"]].copy()
    items["popularity"] = items["item_id"].map(item_popularity(train)).fillna(0).astype(int)
    content = ContentRecommender().fit(train, items)
    knn = KNNWithMeansRecommender(k=40, n_neighbours=200).fit(train, items=content.items_)
    hybrid = HybridRecommender(knn, content, weight=0.6).fit(train, items, prefitted=True)
    customers = demo.customers.set_index("customer_id")
    # personalisation only for customers who did not object to profiling
    consenting = set(customers.index[customers["consent_profiling"].astype(bool)])
    users = [u for u in pd.unique(train["user_id"]) if u in consenting]
    prices = items.set_index("item_id")["price"]
    user_sensitive = customers.loc[users, SENSITIVE]
    out = []
    for name, algorithm, model in (
        ("recommender_knn_means", "knn_with_means_pearson", knn),
        ("recommender_content", "content_cosine", content),
        ("recommender_hybrid", "hybrid_knn_content", hybrid),
    ):
        recs = model.recommend(users, k=10, item_prices=prices)
        metrics = evaluate_recommender(
            model, test[test["user_id"].isin(consenting)], k=10, recommendations=recs, n_catalogue=len(items)
        )
        notes = [
            f"customers who objected to profiling ({len(set(train['user_id']) - consenting)} raters) get no personalised list"
        ]
        if model is knn:
            notes.append(f"similarity backend: {knn.backend_}; {knn.n_kept_} neighbours kept per user")
        out.append(
            RecommenderArtifact(
                name=name,
                algorithm=algorithm,
                purpose="Recommend products on the storefront and in marketing e-mails.",
                dataset="demo.ratings",
                features=["user_id", "item_id", "rating"]
                + (["category", "price", "provider"] if model is not knn else []),
                estimator=model,
                ids=np.asarray(users, dtype=object),
                sensitive=user_sensitive.reset_index(drop=True),
                metrics=metrics,
                training_rows=len(train),
                notes=notes,
                recommendations=recs,
                item_features=items,
                test_ratings=test.reset_index(drop=True),
                k=10,
                user_sensitive=user_sensitive,
            )
        )
    return out


def _text_artifacts(demo: DemoCRM, seed: int) -> list[TextModelArtifact]:
    from sklearn.model_selection import train_test_split

    from .nlp import TextClassifier, evaluate_text_classifier

    customers = demo.customers.set_index("customer_id")
    out = []
    for name, table, target, purpose, positive in (
        (
            "sentiment_lr",
            demo.feedback,
            "sentiment",
            "Classify customer feedback sentiment for service dashboards.",
            "positive",
        ),
        ("ticket_topic_lr", demo.tickets, "topic", "Route support tickets to the right team.", None),
    ):
        train, test = train_test_split(table, test_size=0.25, random_state=seed, stratify=table[target])
        model = TextClassifier(random_state=seed).fit(train["text"], train[target])
        proba = model.predict_proba(test["text"])
        pred = np.asarray(model.classes_)[proba.argmax(axis=1)]
        out.append(
            TextModelArtifact(
                name=name,
                algorithm="tfidf_logistic_regression",
                purpose=purpose,
                dataset=f"demo.{'feedback' if target == 'sentiment' else 'tickets'}",
                features=["text"],
                estimator=model,
                ids=test["customer_id"].to_numpy(),
                sensitive=customers.loc[test["customer_id"], SENSITIVE].reset_index(drop=True),
                metrics=evaluate_text_classifier(test[target], pred),
                training_rows=len(train),
                texts=test["text"].reset_index(drop=True),
                y_true=test[target].to_numpy(),
                y_pred=pred,
                y_score=proba,
                language=test["language"].reset_index(drop=True),
                predict_proba=model.predict_proba,
                labels=list(model.classes_),
                positive_label=positive,
            )
        )
    return out


# --------------------------------------------------------------------- output
def write_demo(demo: DemoCRM, out_dir: str | Path) -> dict[str, Path]:
    """Write every table as CSV (UTF-8) plus planted.json; returns name -> path."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, table in demo.tables().items():
        path = folder / f"{name}.csv"
        table.to_csv(path, index=False, encoding="utf-8")
        written[name] = path
    planted = folder / "planted.json"
    payload = {
        "seed": demo.seed,
        "n_customers": len(demo.customers),
        "as_of": demo.as_of.date().isoformat(),
        "planted": [vars(p) for p in demo.planted.values()],
    }
    planted.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written["planted"] = planted
    return written
