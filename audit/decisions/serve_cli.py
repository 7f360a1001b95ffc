"""`crm-audit serve`: build the scorer from audit.yaml (or the demo) and run the HTTP service."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from audit.core.errors import AuditInputError, ErrorItem
from audit.core.gate import EXIT_PASS
from audit.decisions.record import KEY_ENV, Pseudonymiser, load_key
from audit.decisions.scoring import Scorer, demo_scorer, model_version, proxy_features


def _policy_stamp(names: list[str], relative_to: Path | None) -> dict[str, Any]:
    from audit.checks import load_builtin_checks
    from audit.policy.loader import load_policies

    load_builtin_checks()
    pol = load_policies(names, relative_to=relative_to)
    return {"packs": [f"{p['id']}@{p['version']}" for p in pol.packs]}


def scorer_from_config(config: str, model: str | None, *, trust_pickle: bool = False) -> tuple[Scorer, dict[str, Any]]:
    from audit.config.loader import load_config
    from audit.config.project import context_from_config

    cfg, _doc = load_config(config)
    base = Path(config).resolve().parent
    classifiers = [m for m in cfg.models if m.kind == "classifier" and m.source != "predictions"]
    if model is None:
        if len(classifiers) != 1:
            names = ", ".join(m.name for m in classifiers) or "(none)"
            raise AuditInputError(ErrorItem(file=config, path="models", message=f"choose the model to serve with --model NAME; classifiers with an estimator: {names}"))
        model = classifiers[0].name
    mc = next((m for m in cfg.models if m.name == model), None)
    if mc is None:
        raise AuditInputError(ErrorItem(file=config, path="models", message=f"no model named {model!r}", hint="models: " + ", ".join(m.name for m in cfg.models)))
    if mc not in classifiers:
        raise AuditInputError(ErrorItem(file=config, path=f"models[{cfg.models.index(mc)}]", message=f"model {model!r} is a {mc.kind} from {mc.source}; serve needs a classifier with an estimator (source train, skops or pickle)"))
    # only the served model is built
    cfg_one = cfg.model_copy(update={"models": [mc]})
    ctx, _inputs = context_from_config(cfg_one, base=base, config_file=config, trust_pickle=trust_pickle)
    artifact = ctx.model(model)
    ds = ctx.datasets.get(mc.dataset)
    protected = list(ds.roles.protected) if ds is not None else []
    bands = dict(ds.bands) if ds is not None else {}
    model_file = (base / mc.path).resolve() if mc.path and mc.source in ("skops", "pickle") else None
    version, source = model_version(artifact, model_file)
    labels = ("adverse", "favourable")
    scorer = Scorer(
        artifact=artifact,
        version=version,
        version_source=source,
        protected=[p for p in protected if p not in artifact.features],
        bands=bands,
        excluded_reasons=proxy_features(artifact, protected, bands),
        decision_labels=labels,
        reason_texts=dict(cfg.reason_codes),
    )
    return scorer, _policy_stamp(list(cfg.policies), base)


def _demo_key(log_dir: Path) -> tuple[bytes, str]:
    path = log_dir.resolve().parent / f"{log_dir.name}.demo-key"
    if not path.exists():
        path.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        os.chmod(path, 0o600)
    return load_key(path, log_dir=log_dir), str(path)


def serve_command(args: argparse.Namespace) -> int:
    from audit.decisions.server import ScoringService, make_server

    err = sys.stderr
    log_dir = Path(args.log) if not args.no_log else None
    if args.config:
        scorer, policy = scorer_from_config(args.config, args.model, trust_pickle=args.trust_pickle)
        key = load_key(args.key_file, log_dir=log_dir) if log_dir is not None or args.key_file or os.environ.get(KEY_ENV) else secrets.token_bytes(32)
    else:
        if args.model and args.model != "churn_logistic_regression":
            raise AuditInputError(ErrorItem(file="<command line>", path="--model", message=f"the demo serves churn_logistic_regression, not {args.model!r}", hint="give --config audit.yaml to serve your own model"))
        err.write("training the demo churn model...\n")
        scorer, _frame = demo_scorer()
        policy = _policy_stamp(["default"], None)
        if args.key_file or os.environ.get(KEY_ENV):
            key = load_key(args.key_file, log_dir=log_dir)
        elif log_dir is not None:
            key, where = _demo_key(log_dir)
            err.write(f"demo: pseudonymisation key kept in {where} (outside the log); set {KEY_ENV} or --key-file in production\n")
        else:
            key = secrets.token_bytes(32)
    service = ScoringService(scorer, log_dir, pseudonymiser=Pseudonymiser(key), policy=policy, features_mode=args.features)
    try:
        server = make_server(service, args.host, args.port)
    except OSError as exc:
        raise AuditInputError(ErrorItem(file="<command line>", path="--port", message=f"cannot listen on {args.host}:{args.port}: {exc.strerror}", hint="choose a free port")) from None
    host, port = server.server_address[:2]
    err.write(f"serving {scorer.name} ({scorer.version[:19]}...) on http://{host}:{port}  POST /predict  GET /health\n")
    err.write(f"decision log: {log_dir if log_dir is not None else 'OFF (--no-log)'}\n")
    err.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_PASS
