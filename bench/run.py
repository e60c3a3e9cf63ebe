"""Run every benchmark under bench/ and print one summary table.

A benchmark is a module ``bench/bench_<name>.py`` with ``run() -> list[dict]``; each dict is
one figure: ``{"metric": str, "value": float, "unit": str}`` plus optional ``"ratio"``
(against a baseline measured in the same process), ``"goal"`` (text such as ``"<= 3"``) and
``"met"`` (bool). Figures go to ``var/bench/<name>.json``.

Usage: ``python bench/run.py [name ...]`` (default: all).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")


def _fresh_database() -> None:
    """Drop and recreate the benchmark database, then migrate it."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(db["NAME"]) + suffix).unlink(missing_ok=True)
    else:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
    call_command("migrate", verbosity=0)


def main(argv: list[str]) -> int:
    import django

    django.setup()
    _fresh_database()
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    names = argv or sorted(
        p.stem.removeprefix("bench_") for p in (ROOT / "bench").glob("bench_*.py")
    )
    rows: list[tuple[str, dict[str, object]]] = []
    failed = 0
    for name in names:
        print(f"--- {name}", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            figures = module.run()
        except Exception:
            traceback.print_exc()
            failed += 1
            figures = [{"metric": "error", "value": float("nan"), "unit": "", "met": False}]
        elapsed = time.perf_counter() - started
        (out_dir / f"{name}.json").write_text(
            json.dumps(
                {"benchmark": name, "seconds": round(elapsed, 2), "figures": figures}, indent=2
            )
        )
        rows.extend((name, figure) for figure in figures)

    print()
    header = (
        f"{'benchmark':<12} {'metric':<58} {'value':>14} {'unit':<10} {'ratio':>8} {'goal':<10} met"
    )
    print(header)
    print("-" * len(header))
    for name, f in rows:
        ratio = f.get("ratio")
        ratio_s = f"{ratio:.2f}" if isinstance(ratio, int | float) else ""
        value = f.get("value")
        value_s = f"{value:,.2f}" if isinstance(value, int | float) else str(value)
        met = f.get("met")
        met_s = "" if met is None else ("yes" if met else "NO")
        print(
            f"{name:<12} {f.get('metric')!s:<58} {value_s:>14} {f.get('unit', '')!s:<10} "
            f"{ratio_s:>8} {f.get('goal', '')!s:<10} {met_s}"
        )
    print(f"\nFigures written to {out_dir.relative_to(ROOT)}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
