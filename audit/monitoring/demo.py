"""The demo decision log: six weeks of the demo churn model in service, with planted problems.

Customers are drawn from the demo CRM and scored by the demo churn model (logistic regression); each
decision is written through the same writer as ``crm-audit serve``. Planted, from the start of a week:

1. ``age_mix``: from week 3 a new acquisition channel brings three times as many 18-29 year olds
   (population drift by age);
2. ``approval_slide``: from week 3 a growing share of the 60+ band arrives with inflated ticket counts
   and stale activity dates (an upstream data fault), so the model flags more of them and the band's
   favourable-decision rate slides below four fifths of the best band's from week 4;
3. ``accuracy_decay``: from week 4 a growing share of outcomes no longer follows the customers' profile
   (the churn drivers changed), so AUC falls; the last week has no outcomes yet.

Week 1 is the reference. The generator is deterministic for a seed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.decisions.log import DecisionLogWriter
from audit.decisions.record import Pseudonymiser, build_record

START = date(2026, 10, 5)  # a Monday
WEEKS = 6
DAILY_MEAN = 400
SHIFT_WEEK = 3  # age mix and approval slide begin
DECAY_WEEK = 4  # outcomes stop following the profile
YOUNG = "18-29"
SLIDING = "60-120"
SLIDE_SHARE = {3: 0.10, 4: 0.30, 5: 0.40, 6: 0.50}
DECAY_SHARE = {4: 0.45, 5: 0.65}
OUTCOMES_UNTIL_WEEK = 5  # week 6 awaits its outcomes

PLANTED: dict[str, dict[str, Any]] = {
    "age_mix": {"check": "monitor.feature_drift", "subject": "group:age", "first_window": (START + timedelta(weeks=SHIFT_WEEK - 1)).isoformat()},
    "approval_slide": {"check": "monitor.decision_rate_trend", "subject": "group:age", "group": SLIDING, "first_window": (START + timedelta(weeks=SHIFT_WEEK)).isoformat()},
    "accuracy_decay": {"check": "monitor.performance_decay", "subject": "performance", "first_window": (START + timedelta(weeks=DECAY_WEEK - 1)).isoformat()},
}


@dataclass
class DemoLog:
    log_dir: Path
    outcomes: Path
    key_file: Path
    records: int
    as_of: date


def _week(day: date) -> int:
    return (day - START).days // 7 + 1


def write_demo_log(out: str | Path, *, seed: int = 7, daily_mean: int = DAILY_MEAN, weeks: int = WEEKS) -> DemoLog:
    """Write the demo log, its outcomes CSV and its key file under ``out`` (the key beside, not in, the log)."""
    from audit.decisions.scoring import Customer, demo_scorer

    out = Path(out)
    log_dir = out / "demo-decision-log"
    if log_dir.exists() and any(log_dir.iterdir()):
        raise FileExistsError(f"{log_dir} already holds a log")
    out.mkdir(parents=True, exist_ok=True)
    key_file = out / "demo-decision-log.key"
    # a fixed, published key keeps the demo reproducible; a real deployment keeps its key secret
    key = hashlib.sha256(f"crm-audit demo decision log key, seed {seed}".encode()).hexdigest().encode()
    key_file.write_bytes(key + b"\n")
    key_file.chmod(0o600)
    p = Pseudonymiser(key)
    scorer, frame = demo_scorer(seed=seed)
    bands = scorer.bands["age"]
    band = pd.cut(frame["age"], bins=bands, right=False, labels=[f"{bands[i]:g}-{bands[i + 1] - 1:g}" for i in range(len(bands) - 1)]).astype(str)
    rng = np.random.default_rng(seed + 1000)
    base_w = np.ones(len(frame))
    young = (band == YOUNG).to_numpy()
    old = (band == SLIDING).to_numpy()
    churn_rate = float(frame["churned"].mean())
    policy = {"packs": ["default@1.0.0"]}
    outcome_rows: list[tuple[str, int]] = []
    n_written = 0
    with DecisionLogWriter(log_dir) as writer:
        for d in range(weeks * 7):
            day = START + timedelta(days=d)
            week = _week(day)
            w = base_w.copy()
            if week >= SHIFT_WEEK:
                w[young] *= 3.0
            n = int(rng.poisson(daily_mean))
            idx = rng.choice(len(frame), size=n, replace=True, p=w / w.sum())
            rows = frame.iloc[idx].reset_index(drop=True)
            feats = rows[scorer.features].copy()
            faulty = np.zeros(n, dtype=bool)
            if week in SLIDE_SHARE:
                faulty = old[idx] & (rng.random(n) < SLIDE_SHARE[week])
                feats.loc[faulty, "n_tickets"] = feats.loc[faulty, "n_tickets"] + 6
                feats.loc[faulty, "recency"] = feats.loc[faulty, "recency"] + 240
            customers = []
            for i in range(n):
                cid = f"D{n_written + i + 1:07d}"
                fdict = {k: (None if (isinstance(v, float) and np.isnan(v)) else (v.item() if hasattr(v, "item") else v)) for k, v in feats.iloc[i].items()}
                customers.append(Customer(cid, fdict, {"age": str(band.iloc[idx[i]]), "gender": str(rows.at[i, "gender"])}))
            results = scorer.score(customers)
            seconds = np.sort(rng.uniform(0, 86_400, size=n))
            times = [datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(seconds=float(s)) for s in seconds]
            records = [
                build_record(
                    pseudonymiser=p,
                    customer_id=c.customer_id,
                    model_name=scorer.name,
                    model_version=scorer.version,
                    features=c.features,
                    score=r["score"],
                    decision=r["decision"],
                    reasons=r["reasons"],
                    excluded=scorer.excluded_reasons + scorer.protected,
                    groups=c.groups,
                    policy=policy,
                    request_id=f"demo-{day.isoformat()}",
                    favourable=r["decision"] == scorer.decision_labels[1],
                )
                for c, r in zip(customers, results)
            ]
            writer.append(records, times=times)
            # outcomes: the customer's real churn label, or (after the drivers changed) noise
            if week <= OUTCOMES_UNTIL_WEEK:
                truth = rows["churned"].to_numpy().astype(int)
                share = DECAY_SHARE.get(week, 0.0)
                noisy = rng.random(n) < share
                truth = np.where(noisy, (rng.random(n) < churn_rate).astype(int), truth)
                outcome_rows.extend((c.customer_id, int(t)) for c, t in zip(customers, truth))
            n_written += n
    outcomes = out / "demo-outcomes.csv"
    pd.DataFrame(outcome_rows, columns=["customer_id", "outcome"]).to_csv(outcomes, index=False)
    last = START + timedelta(days=weeks * 7 - 1)
    return DemoLog(log_dir=log_dir, outcomes=outcomes, key_file=key_file, records=n_written, as_of=last + timedelta(days=1))
