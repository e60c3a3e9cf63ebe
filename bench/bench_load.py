"""Bounded load on loopback: gunicorn on the bench database, N concurrent keep-alive clients.

Mixes the API calls the product's users make, weighted: policy checks (CI), model reads
(UI and CI), audit queries (compliance), plus who-am-I and the readiness probe. A scenario
whose endpoint does not exist yet (its feature is not merged) is left out and named in the
output, so the mix grows as features land: add a ``Scenario`` below, nothing else.

Goal: zero errors (any non-2xx answer or a failed connection). Reported: throughput, p50
and p99 latency overall and per scenario. Bounded by ``STEWARD_LOAD_SECONDS`` (default 60)
and ``STEWARD_LOAD_CLIENTS`` (default 32); ``STEWARD_LOAD_WORKERS`` gunicorn workers
(default 4, 2 threads each).
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECONDS = float(os.environ.get("STEWARD_LOAD_SECONDS", "60"))
CLIENTS = int(os.environ.get("STEWARD_LOAD_CLIENTS", "32"))
WORKERS = int(os.environ.get("STEWARD_LOAD_WORKERS", "4"))

# Demo facts the feature scenarios use (seed_demo). Check them after merging the features.
DEMO = {"model": "llama-3-1-8b-instruct", "eu_region": "eu-west-1"}


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str  # may use {model} etc. from DEMO
    weight: int = 1
    body: dict[str, Any] | None = None
    token: bool = True  # send the bench token

    @property
    def url(self) -> str:
        return self.path.format(**DEMO)


SCENARIOS = [
    Scenario(
        "policy check",
        "POST",
        "/api/v1/policy/check",
        weight=4,
        body={
            "model": DEMO["model"],
            "environment": "prod",
            "region": DEMO["eu_region"],
            "data_classification": ["pii"],
        },
    ),
    Scenario("model list", "GET", "/api/v1/models/", weight=2),
    Scenario("model detail", "GET", "/api/v1/models/{model}/", weight=2),
    Scenario("audit query", "GET", "/api/v1/audit/events/?action=decision.denied", weight=1),
    Scenario("me", "GET", "/api/v1/me/", weight=1),
    Scenario("readyz", "GET", "/readyz", weight=1, token=False),
]


def _exists(path: str) -> bool:
    from django.urls import Resolver404, resolve

    from config.views import api_not_found

    try:
        return resolve(path.split("?", 1)[0]).func is not api_not_found
    except Resolver404:
        return False


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(name, []).append(seconds)
            if error:
                self.errors.setdefault(name, []).append(error)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _setup_data() -> str:
    """Demo data (every merged app's), and a token with every scope for an admin."""
    from django.core.management import call_command

    from accounts.models import User
    from accounts.scopes import SCOPES
    from accounts.services import token_create

    call_command("seed_demo", "--force", verbosity=0)
    admin = User.objects.get(username="admin")
    _, secret = token_create(
        actor=admin, owner=admin, name=f"bench-load-{time.time_ns()}", scopes=list(SCOPES)
    )
    return secret


def _client(
    index: int,
    base_url: str,
    token: str,
    plan: list[Scenario],
    deadline: float,
    samples: Samples,
) -> None:
    from tests.harness import HttpSession

    http = HttpSession(base_url, timeout=30)
    auth = {"Authorization": f"Bearer {token}"}
    for scenario in itertools.islice(itertools.cycle(plan), index, None):
        if time.monotonic() >= deadline:
            break
        headers = {**(auth if scenario.token else {}), "Accept": "application/json"}
        body = None
        if scenario.body is not None:
            body = json.dumps(scenario.body).encode()
            headers["Content-Type"] = "application/json"
        result = http.request(scenario.method, scenario.url, body=body, headers=headers)
        error = None
        if not 200 <= result.status < 300:
            error = f"{result.status} {result.body[:200]!r}"
        samples.add(scenario.name, result.seconds, error)
    http.close()


def run() -> list[dict[str, Any]]:
    from django.conf import settings

    from tests.harness import GunicornServer, base_env

    token = _setup_data()
    active = [s for s in SCENARIOS if _exists(s.url)]
    skipped = [s.name for s in SCENARIOS if s not in active]
    if skipped:
        print(f"load: not merged yet, left out of the mix: {', '.join(skipped)}")
    plan = [s for s in active for _ in range(s.weight)]

    env = base_env(
        DJANGO_SETTINGS_MODULE="bench.settings",
        LOG_LEVEL="ERROR",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
    )
    log = Path(tempfile.mkdtemp(prefix="steward-bench-load-")) / "gunicorn.log"
    samples = Samples()
    with GunicornServer(env, log, workers=WORKERS, threads=2) as server:
        # Warm up: every worker imports, connects and compiles its caches before timing.
        _client(0, server.url, token, plan, time.monotonic() + 2, Samples())
        started = time.monotonic()
        deadline = started + SECONDS
        threads = [
            threading.Thread(
                target=_client, args=(i, server.url, token, plan, deadline, samples), daemon=True
            )
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 60)
        elapsed = time.monotonic() - started

    everything = [v for values in samples.latencies.values() for v in values]
    errors = sum(len(e) for e in samples.errors.values())
    for name, errs in samples.errors.items():
        print(f"load: {len(errs)} errors in {name!r}, first: {errs[0]}")
    figures: list[dict[str, Any]] = [
        {
            "metric": f"mixed load, {CLIENTS} clients, {elapsed:.0f} s ({len(active)} endpoints)",
            "value": len(everything) / elapsed,
            "unit": "req/s",
        },
        {"metric": "p50 latency, all", "value": _percentile(everything, 0.50) * 1000, "unit": "ms"},
        {"metric": "p99 latency, all", "value": _percentile(everything, 0.99) * 1000, "unit": "ms"},
        {
            "metric": "errors (non-2xx or no answer)",
            "value": errors,
            "unit": "requests",
            "goal": "== 0",
            "met": errors == 0 and bool(everything),
        },
    ]
    for scenario in active:
        values = samples.latencies.get(scenario.name, [])
        figures.append(
            {
                "metric": f"{scenario.name}: p50 / p99 ms ({len(values)} req)",
                "value": _percentile(values, 0.50) * 1000,
                "unit": f"/ {_percentile(values, 0.99) * 1000:.1f}",
            }
        )
    return figures
