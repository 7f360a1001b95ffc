"""Monitoring over time: a decision log read in calendar windows and compared with a reference."""

from __future__ import annotations

from audit.monitoring.data import DecisionLogData, WindowSpec, load_log, parse_reference, parse_window
from audit.monitoring.stats import psi, robust_z

__all__ = ["DecisionLogData", "WindowSpec", "load_log", "parse_reference", "parse_window", "psi", "robust_z"]
