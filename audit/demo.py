"""The built-in demo CRM as an audit context: the main job when no config is given."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from audit.config.loader import sha256_frame
from audit.core.context import AuditContext, ColumnRoles, Dataset

DEFAULT_CUSTOMERS = 10_000
DEFAULT_SEED = 7
AGE_BANDS = [18, 30, 45, 60, 121]

# dataset name -> (table attribute on DemoCRM, roles)
DEMO_DATASETS: dict[str, tuple[str, ColumnRoles]] = {
    "demo.customers": (
        "customers",
        ColumnRoles(
            id="customer_id",
            protected=["gender", "age"],
            quasi_identifiers=["gender", "age", "region"],
            sensitive_values=["income"],
            timestamps=["signup_date", "last_active"],
            optional=["cn_resident_id"],
        ),
    ),
    "demo.feedback": ("feedback", ColumnRoles(id="feedback_id", text=["text"])),
    "demo.tickets": ("tickets", ColumnRoles(id="ticket_id", text=["text"])),
    "demo.transcripts": ("transcripts", ColumnRoles(id="message_id", text=["text"])),
}


def _datasets(demo: Any) -> dict[str, Dataset]:
    out = {}
    for name, (attr, roles) in DEMO_DATASETS.items():
        frame = getattr(demo, attr)
        roles = ColumnRoles(**{k: (list(v) if isinstance(v, list) else v) for k, v in roles.__dict__.items()})
        if roles.id and roles.id not in frame.columns:
            roles.id = None
        lang = "language" if "language" in frame.columns else None
        out[name] = Dataset(
            name=name,
            frame=frame,
            roles=roles,
            source="builtin:demo",
            sha256=sha256_frame(frame),
            bands={"age": AGE_BANDS},
            language_column=lang,
        )
    return out


def demo_context(*, n_customers: int | None = None, seed: int | None = None, progress: Callable[[str], None] | None = None) -> tuple[AuditContext, list[dict[str, Any]]]:
    from audit.crm.demo import crm_demo_stack, generate_demo

    n = n_customers or DEFAULT_CUSTOMERS
    s = DEFAULT_SEED if seed is None else seed
    if progress:
        progress(f"generating the demo CRM ({n} customers, seed {s})")
    demo = generate_demo(n_customers=n, seed=s)
    if progress:
        progress("training the demo CRM stack (segmentation, churn, value, recommenders, text models)")
    models = crm_demo_stack(demo, seed=s)
    datasets = _datasets(demo)
    ctx = AuditContext(datasets=datasets, models=models, seed=s, demo=demo)
    inputs = [
        {"role": "dataset", "kind": "generated", "name": name, "generator": "audit.crm.demo.generate_demo", "n_customers": n, "seed": s, "table": DEMO_DATASETS[name][0], "sha256": ds.sha256}
        for name, ds in datasets.items()
    ]
    return ctx, inputs


def regenerate_hash(item: dict[str, Any]) -> str | None:
    """Regenerate a demo table from its recorded seed and size and hash it (for `verify`)."""
    if item.get("generator") != "audit.crm.demo.generate_demo":
        return None
    from audit.crm.demo import generate_demo

    demo = _regen_cache.get((item["n_customers"], item["seed"]))
    if demo is None:
        demo = generate_demo(n_customers=int(item["n_customers"]), seed=int(item["seed"]))
        _regen_cache[(item["n_customers"], item["seed"])] = demo
    return sha256_frame(getattr(demo, item["table"]))


_regen_cache: dict[tuple[Any, Any], Any] = {}


def write_demo_data(out: str | Path, *, n_customers: int = DEFAULT_CUSTOMERS, seed: int | None = None) -> list[Path]:
    from audit.crm.demo import generate_demo, write_demo

    if n_customers < 200:
        from audit.core.errors import AuditInputError, ErrorItem

        raise AuditInputError(ErrorItem(file="<command line>", path="--customers", message="the demo needs at least 200 customers for its planted problems to be measurable"))
    demo = generate_demo(n_customers=n_customers, seed=DEFAULT_SEED if seed is None else seed)
    return list(write_demo(demo, out).values())
