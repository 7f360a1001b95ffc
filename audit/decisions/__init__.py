"""The decision log: one tamper-evident record per automated decision (EU AI Act Art. 12, 19, 26(6)).

Public API::

    from audit.decisions import DecisionLogger, Pseudonymiser, DecisionLogWriter, verify_log

See ``audit.decisions.api`` for the decorator that makes an existing Flask or FastAPI
service write the same log.
"""

from __future__ import annotations

from audit.decisions.log import DecisionLogWriter, log_files
from audit.decisions.record import GENESIS, Pseudonymiser, build_record, canonical, load_key, record_hash
from audit.decisions.verify import Break, Verification, scan_log, verify_log

__all__ = [
    "GENESIS",
    "Break",
    "DecisionLogWriter",
    "Pseudonymiser",
    "Verification",
    "build_record",
    "canonical",
    "load_key",
    "log_files",
    "record_hash",
    "scan_log",
    "verify_log",
]
