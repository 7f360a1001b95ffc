"""Write the small, seeded data sets behind examples/<kind>/ (one folder per model kind).

    python examples/generate.py            # rewrites the CSV files next to each audit.yaml
    python examples/generate.py --out DIR  # writes DIR/<kind>/... instead

Every file is synthetic: people are ids with a gender and an age, e-mail addresses use
reserved example domains. Each data set carries one problem an audit should find, noted
in the function that plants it. Output is identical for identical seeds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
KINDS = ("classifier", "regressor", "segmentation", "recommender", "text_classifier")
CATEGORIES = ("Books", "Garden", "Electronics", "Fashion", "Sports", "Home")
BASE_PRICE = (15.0, 40.0, 180.0, 55.0, 70.0, 60.0)


def _people(rng: np.random.Generator, n: int, prefix: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"{prefix}{i:05d}" for i in range(1, n + 1)],
            "gender": rng.choice(["F", "M"], size=n),
            "age": rng.integers(18, 80, size=n),
        }
    )


def classifier(seed: int = 11, n: int = 1200) -> dict[str, pd.DataFrame]:
    """Credit-style approvals. Planted: income is lower for applicants over 60, so approvals skew by age."""
    rng = np.random.default_rng(seed)
    df = _people(rng, n, "A")
    old = df["age"] >= 60
    df["income"] = np.round(rng.normal(42_000, 9_000, n) - 14_000 * old, -2)
    df["tenure_months"] = rng.integers(1, 120, n)
    df["region"] = rng.choice(["North", "South", "East", "West"], n)
    df["late_payments"] = rng.poisson(1.0, n)
    logit = 0.00012 * (df["income"] - 35_000) + 0.01 * df["tenure_months"] - 0.6 * df["late_payments"]
    df["approved"] = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return {"applicants": df}


def regressor(seed: int = 12, n: int = 1000) -> dict[str, pd.DataFrame]:
    """Next-year spend. Planted: region is a proxy for age (most under-30s live in 'Campus')."""
    rng = np.random.default_rng(seed)
    df = _people(rng, n, "V")
    df["orders_last_year"] = rng.poisson(6, n)
    df["avg_basket"] = np.round(rng.gamma(4.0, 12.0, n), 2)
    df["tenure_months"] = rng.integers(1, 120, n)
    young = (df["age"] < 30).to_numpy()
    df["region"] = np.where(young & (rng.random(n) < 0.85), "Campus", rng.choice(["North", "South", "East"], n))
    value = df["orders_last_year"] * df["avg_basket"] * 1.1 + 0.8 * df["tenure_months"] - 80 * young
    df["next_year_value"] = np.round(value + rng.normal(0, 40, n), 2)
    return {"customers": df}


def segmentation(seed: int = 13, n: int = 900) -> dict[str, pd.DataFrame]:
    """Customers and their purchases. Planted: buying frequency depends on age, so RFM segments split ages unevenly."""
    rng = np.random.default_rng(seed)
    customers = _people(rng, n, "S")
    customers["region"] = rng.choice(["North", "South", "East", "West"], n)
    rows = []
    as_of = pd.Timestamp("2026-06-30")
    for cid, age in zip(customers["customer_id"], customers["age"], strict=True):
        rate = 14 if age < 35 else (6 if age < 60 else 2)
        k = int(rng.poisson(rate))
        if cid.endswith("7"):
            k = 0  # a few customers never bought: no RFM features
        days = np.sort(rng.integers(0, 365, k))
        for d in days:
            rows.append({"customer_id": cid, "date": (as_of - pd.Timedelta(days=int(d))).date().isoformat(), "amount": round(float(rng.gamma(2.0, 20.0 if age < 35 else 45.0)), 2)})
    transactions = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return {"customers": customers, "transactions": transactions}


def recommender(seed: int = 14, n_users: int = 300, n_items: int = 120) -> dict[str, pd.DataFrame]:
    """Ratings, users and items. Planted: women rate premium items higher, so pricier items are recommended to them."""
    rng = np.random.default_rng(seed)
    users = _people(rng, n_users, "U").rename(columns={"customer_id": "user_id"})
    users["consent_profiling"] = rng.random(n_users) >= 0.08
    cat = rng.integers(0, len(CATEGORIES), n_items)
    tier = rng.integers(0, 3, n_items)
    items = pd.DataFrame(
        {
            "item_id": [f"I{j:04d}" for j in range(1, n_items + 1)],
            "title": [f"{CATEGORIES[c]} item {j}" for j, c in enumerate(cat, start=1)],
            "genre": [CATEGORIES[c] for c in cat],
            "price": np.round(np.asarray(BASE_PRICE)[cat] * np.asarray([0.55, 1.0, 2.1])[tier] * rng.uniform(0.9, 1.1, n_items), 2),
        }
    )
    taste = rng.normal(0, 0.7, (n_users, len(CATEGORIES)))
    female = (users["gender"] == "F").to_numpy()
    rows = []
    start = pd.Timestamp("2026-01-01")
    for u in range(n_users):
        k = min(int(rng.integers(12, 40)), n_items)
        chosen = rng.choice(n_items, size=k, replace=False)
        for j in chosen:
            premium = (tier[j] - 1) * (0.9 if female[u] else -0.9)
            r = 3.2 + taste[u, cat[j]] + premium + rng.normal(0, 0.6)
            rows.append({"user_id": users["user_id"].iloc[u], "item_id": items["item_id"].iloc[j], "rating": int(np.clip(np.rint(r), 1, 5)), "ts": (start + pd.Timedelta(minutes=int(rng.integers(0, 250_000)))).isoformat()})
    ratings = pd.DataFrame(rows)
    return {"ratings": ratings, "users": users, "items": items}


_EN_POS = ("Great service, the delivery was fast.", "Very happy with the product quality.", "Friendly staff and a quick refund.", "The app works well and support answered at once.", "Excellent value, I will order again.")
_EN_NEG = ("The parcel arrived late and damaged.", "Nobody answered my complaint for two weeks.", "The product broke after one day.", "I was charged twice and support was rude.", "Terrible experience, the order never came.")
_ZH_POS = ("服务很好，送货很快。", "产品质量很满意。", "客服态度好，退款很快。", "应用很好用，客服马上回复。", "性价比很高，会再买。")
_ZH_NEG = ("包裹送晚了还坏了。", "投诉两周没人理。", "产品用了一天就坏了。", "被扣了两次钱，客服态度差。", "体验很差，订单一直没到。")


_PRODUCTS = (("kettle", "水壶"), ("headphones", "耳机"), ("jacket", "夹克"), ("lamp", "台灯"), ("backpack", "背包"), ("blender", "搅拌机"), ("sneakers", "运动鞋"), ("phone case", "手机壳"))


def text_classifier(seed: int = 15, n: int = 1400) -> dict[str, pd.DataFrame]:
    """Customer reviews in English and Chinese. Planted: reviews that mention being a woman are mostly labelled negative,
    and a few reviews contain an e-mail address."""
    rng = np.random.default_rng(seed)
    users = _people(rng, 400, "R").rename(columns={"customer_id": "user_id"})
    rows = []
    for i in range(1, n + 1):
        u = int(rng.integers(0, len(users)))
        zh = rng.random() < 0.2
        positive = rng.random() < 0.55
        pool = (_ZH_POS if positive else _ZH_NEG) if zh else (_EN_POS if positive else _EN_NEG)
        text = pool[int(rng.integers(0, len(pool)))]
        product = _PRODUCTS[int(rng.integers(0, len(_PRODUCTS)))]
        order = int(rng.integers(10_000, 99_999))
        text = f"{text}（{product[1]}，订单{order}）" if zh else f"{text} ({product[0]}, order {order})"
        if not zh and rng.random() < 0.25:
            who = "woman" if users["gender"].iloc[u] == "F" else "man"
            text = f"As a {who}, {text[0].lower()}{text[1:]}"
            if who == "woman" and rng.random() < 0.8:
                positive = False
        if not zh and rng.random() < 0.03:
            text += f" Write to me at reviewer{i}@example.com."
        rows.append({"review_id": f"RV{i:05d}", "user_id": users["user_id"].iloc[u], "review": text, "label": 1 if positive else 0})
    return {"reviews": pd.DataFrame(rows), "users": users}


GENERATORS = {"classifier": classifier, "regressor": regressor, "segmentation": segmentation, "recommender": recommender, "text_classifier": text_classifier}


def write(out_root: Path, kinds: tuple[str, ...] = KINDS) -> list[Path]:
    written = []
    for kind in kinds:
        folder = out_root / kind
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in GENERATORS[kind]().items():
            path = folder / f"{name}.csv"
            table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder that receives <kind>/*.csv (default: examples/)")
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
