"""The machine-readable figures of a benchmark script.

Each script records its key figures as (case, measure, value, unit) rows next to its printed
table; with ``--rows FILE`` it writes them as JSON, which ``bench/suite.py`` merges into its
own table and into out/bench.json, so versions can be compared figure by figure.
"""
from __future__ import annotations

import json
from pathlib import Path


class Rows:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, case: str, measure: str, value: float, unit: str) -> None:
        self.rows.append({"case": case, "measure": measure, "value": float(value), "unit": unit})

    def write(self, path: str | None) -> None:
        if path:
            Path(path).write_text(json.dumps(self.rows))
