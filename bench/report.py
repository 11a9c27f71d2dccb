"""Writing and printing benchmark results: bench/results/<name>.json."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def write_result(name: str, value: float, unit: str, baseline: float, params: dict) -> dict:
    result = {"name": name, "value": round(value, 1), "unit": unit, "baseline": round(baseline, 1),
              "ratio": round(value / baseline, 4) if baseline else None, "params": params}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    print()
