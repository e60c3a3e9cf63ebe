"""Evaluation evidence: single results, and imports of lm-evaluation-harness results JSON."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import User
from audit.services import record_event
from config.exceptions import DomainError, NotAllowed, Unprocessable
from config.uploads import PayloadTooLarge, too_large_message
from registry import permissions
from registry.models import EvalResult, EvalSourceKind, ModelVersion
from registry.services._validation import clean_text, full_clean

# Metrics reported as a percentage (0–100). Others (perplexity, MT-Bench score...) need only
# be finite numbers.
PERCENT_METRICS = frozenset(
    {
        "acc",
        "acc_norm",
        "accuracy",
        "exact_match",
        "em",
        "f1",
        "pass@1",
        "pass@10",
        "pass@100",
        "mc1",
        "mc2",
        "win_rate",
        "final_em",
        "em_maj1@1",
        "macro_avg/acc",
        "inst_level_strict_acc",
        "prompt_level_strict_acc",
        "inst_level_loose_acc",
        "prompt_level_loose_acc",
        "relaxed_accuracy",
        "anls",
    }
)
# lm-eval metrics that are fractions in [0, 1] (stored ×100 like every percentage here).
_LM_EVAL_FRACTION = PERCENT_METRICS
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@\- ()+\[\],]{0,99}$")
MAX_LM_EVAL_BYTES = 5 * 1024 * 1024


def _base_metric(metric: str) -> str:
    return metric.split("[", 1)[0].strip().lower()


def validate_score(benchmark: str, metric: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DomainError(
            f"{benchmark} {metric}: the value must be a number, got {value!r}.",
            fields={"value": ["A number."]},
        )
    number = float(value)
    if not math.isfinite(number):
        raise DomainError(
            f"{benchmark} {metric}: the value must be finite.", fields={"value": ["Finite."]}
        )
    if _base_metric(metric) in PERCENT_METRICS and not 0.0 <= number <= 100.0:
        raise DomainError(
            f"{benchmark} {metric}={number} is out of range: percentages must be within 0–100.",
            fields={"value": ["Out of range (0–100)."]},
        )
    return number


def _check_name(kind: str, value: str) -> str:
    value = (value or "").strip()
    if not value or not _NAME.match(value):
        raise DomainError(
            f"{kind} '{value}' is empty or has characters that are not allowed.",
            fields={kind: ["Letters, digits and - _ . : / @ ( ) + only; at most 100."]},
        )
    return value


def _check_editor(actor: User, version: ModelVersion) -> None:
    if not permissions.can_edit(actor, version.model):
        raise NotAllowed("Only the owner team's model owners and admins add evaluation results.")


@dataclass
class EvalInput:
    benchmark: str
    metric: str
    value: float
    n_shot: int | None = None
    source_kind: str = EvalSourceKind.INTERNAL
    evaluated_on: date | None = None
    evidence_url: str = ""
    stderr: float | None = None
    notes: str = ""


def _build(version: ModelVersion, item: EvalInput) -> EvalResult:
    benchmark = _check_name("benchmark", item.benchmark).lower()
    metric = _check_name("metric", item.metric)
    value = validate_score(benchmark, metric, item.value)
    if item.source_kind not in EvalSourceKind.values:
        raise DomainError(
            f"source_kind '{item.source_kind}' is not one of {', '.join(EvalSourceKind.values)}.",
            fields={"source_kind": ["Unknown source kind."]},
        )
    if item.stderr is not None and not (
        isinstance(item.stderr, int | float) and math.isfinite(item.stderr) and item.stderr >= 0
    ):
        raise DomainError(
            "stderr must be a finite, non-negative number.", fields={"stderr": ["Invalid."]}
        )
    if item.n_shot is not None and not 0 <= item.n_shot <= 1000:
        raise DomainError("n_shot must be between 0 and 1000.", fields={"n_shot": ["0–1000."]})
    result = EvalResult(
        version=version,
        benchmark=benchmark,
        metric=metric[:50],
        value=value,
        n_shot=item.n_shot,
        source_kind=item.source_kind,
        evaluated_on=item.evaluated_on,
        evidence_url=item.evidence_url or "",
        stderr=item.stderr,
        notes=clean_text(item.notes)[:300],
    )
    full_clean(result, exclude=["version", "evidence_file"])
    return result


@transaction.atomic
def eval_add(*, actor: User, version: ModelVersion, item: EvalInput) -> EvalResult:
    from registry.services.catalog import risk_assess

    _check_editor(actor, version)
    result = _build(version, item)
    result.save()
    record_event(
        actor=actor,
        action="eval_result.added",
        target=version,
        changes={
            "benchmark": result.benchmark,
            "metric": result.metric,
            "value": result.value,
            "n_shot": result.n_shot,
            "source_kind": result.source_kind,
            "evidence_url": result.evidence_url,
        },
    )
    risk_assess(actor=actor, version=version)
    return result


def parse_lm_eval(raw: bytes | str | dict[str, Any]) -> list[EvalInput]:
    """The results of an lm-evaluation-harness ``results_*.json`` (v0.4 format).

    ``{"results": {"<task>": {"acc,none": 0.68, "acc_stderr,none": 0.004, "alias": ...}},
    "n-shot": {"<task>": 5}, "versions": {...}, "config": {...}, "date": <epoch>}``.
    Fractions of percentage metrics are stored ×100. Raises Unprocessable naming what is
    wrong with the shape."""
    if isinstance(raw, bytes | str):
        size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "replace"))
        if size > MAX_LM_EVAL_BYTES:
            raise PayloadTooLarge(
                too_large_message("The lm-eval results file", MAX_LM_EVAL_BYTES, size)
            )
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            # RecursionError: a document nested thousands deep.
            raise Unprocessable(f"The lm-eval results are not valid JSON: {exc}") from exc
    else:
        data = raw
    if not isinstance(data, dict):
        raise Unprocessable("lm-eval results must be a JSON object with a 'results' object.")
    results = data.get("results")
    if not isinstance(results, dict) or not results:
        raise Unprocessable(
            "lm-eval results JSON has no 'results' object (expected "
            '{"results": {"task": {"acc,none": 0.5, ...}}, "n-shot": {...}, ...}).',
            fields={"results": ["Missing or empty."]},
        )
    n_shots_raw = data.get("n-shot")
    n_shots: dict[str, Any] = n_shots_raw if isinstance(n_shots_raw, dict) else {}
    evaluated_on = None
    if isinstance(data.get("date"), int | float) and not isinstance(data["date"], bool):
        try:
            evaluated_on = datetime.fromtimestamp(float(data["date"]), tz=UTC).date()
        except (OverflowError, OSError, ValueError) as exc:
            raise Unprocessable(
                f"lm-eval results: 'date' {data['date']!r} is not a Unix timestamp.",
                fields={"date": ["Not a Unix timestamp."]},
            ) from exc
    config_raw = data.get("config")
    config: dict[str, Any] = config_raw if isinstance(config_raw, dict) else {}
    model_args = str(config.get("model_args") or "")[:200]
    items: list[EvalInput] = []
    for task, metrics in results.items():
        if not isinstance(metrics, dict):
            raise Unprocessable(
                f"lm-eval results: task '{task}' must map 'metric,filter' keys to numbers.",
                fields={"results": [f"{task}: not an object."]},
            )
        for key, value in metrics.items():
            if key == "alias" or "_stderr" in key or "," not in key:
                continue
            metric, _, filter_name = key.partition(",")
            if value == "N/A":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise Unprocessable(
                    f"lm-eval results: {task} {key} is {value!r}, not a number.",
                    fields={"results": [f"{task}.{key}: not a number."]},
                )
            stderr = metrics.get(f"{metric}_stderr,{filter_name}")
            stderr = float(stderr) if isinstance(stderr, int | float) else None
            number = float(value)
            if metric.lower() in _LM_EVAL_FRACTION:
                if not 0.0 <= number <= 1.0:
                    raise Unprocessable(
                        f"lm-eval results: {task} {key}={number} is out of range: lm-eval "
                        "reports this metric as a fraction within 0–1.",
                        fields={"results": [f"{task}.{key}: out of range."]},
                    )
                number *= 100
                stderr = stderr * 100 if stderr is not None else None
            label = metric if filter_name in ("", "none") else f"{metric}[{filter_name}]"
            shot = n_shots.get(task)
            items.append(
                EvalInput(
                    benchmark=str(task)[:100],
                    metric=label[:50],
                    value=number,
                    n_shot=int(shot) if isinstance(shot, int) and shot >= 0 else None,
                    source_kind=EvalSourceKind.INTERNAL,
                    evaluated_on=evaluated_on,
                    stderr=stderr,
                    notes=f"lm-evaluation-harness {model_args}".strip()[:300],
                )
            )
    if not items:
        raise Unprocessable("lm-eval results contain no numeric metric.")
    return items


@transaction.atomic
def evals_import_lm_eval(
    *,
    actor: User,
    version: ModelVersion,
    raw: bytes | str | dict[str, Any],
    filename: str = "lm-eval-results.json",
) -> list[EvalResult]:
    """Import every metric of an lm-eval results JSON; all or nothing. The JSON is kept as
    the evidence file."""
    from registry.services.catalog import risk_assess

    _check_editor(actor, version)
    items = parse_lm_eval(raw)
    built = [_build(version, item) for item in items]
    payload = (
        raw
        if isinstance(raw, bytes)
        else (raw.encode() if isinstance(raw, str) else json.dumps(raw, indent=2).encode())
    )
    evidence = ContentFile(
        payload, name=re.sub(r"[^A-Za-z0-9_.-]", "_", filename)[:80] or "lm-eval.json"
    )
    first = built[0]
    first.evidence_file.save(evidence.name or "lm-eval.json", evidence, save=False)
    for result in built[1:]:
        result.evidence_file = first.evidence_file.name
    EvalResult.objects.bulk_create(built)
    record_event(
        actor=actor,
        action="eval_result.imported",
        target=version,
        changes={
            "format": "lm-evaluation-harness",
            "count": len(built),
            "benchmarks": sorted({r.benchmark for r in built}),
            "evidence_file": first.evidence_file.name,
        },
    )
    risk_assess(actor=actor, version=version)
    return built
