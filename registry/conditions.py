"""The values an approval's conditions may name, and the one check of them.

Conditions are matched exactly against a deployment's facts: its environment, region code,
region jurisdiction, data classes and use case slug. A value outside that vocabulary ("moon",
"eu-west1") would be a condition no deployment can satisfy: an approval that silently denies
every deployment. So every value must be one the vocabulary holds.

The vocabulary is the policy app's (its Environment, Jurisdiction and DataClass choices and its
Region and UseCase catalogs). The registry sits below policy and does not import it: the policy
app hands its vocabulary in at start-up (``provide``, from ``PolicyConfig.ready``), as it
subscribes to ``registry.signals.approval_changed``. The service (every door: API, UI, seed)
and the approval form both check values with ``canonical``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.exceptions import ImproperlyConfigured

from registry.models import CONDITION_KEYS

Choices = list[tuple[str, str]]
# key (one of CONDITION_KEYS) → its (value, label) pairs
Provider = Callable[[str], Choices]

# key → (singular, plural)
NOUNS = {
    "environments": ("environment", "environments"),
    "regions": ("region", "regions"),
    "jurisdictions": ("jurisdiction", "jurisdictions"),
    "data_classes": ("data class", "data classes"),
    "use_cases": ("use case", "use cases"),
}
# Catalog rows, too many to list in an error (GET /api/v1/policy/regions/ and use-cases/
# list them); the other vocabularies are short and fixed, and the error lists them.
_CATALOGS = ("regions", "use_cases")

_provider: Provider | None = None


def provide(provider: Provider) -> None:
    """Install the function that answers ``choices(key)`` (the policy app does, once)."""
    global _provider
    _provider = provider


def choices(key: str) -> Choices:
    """The (value, label) pairs condition ``key`` may take."""
    if key not in CONDITION_KEYS:
        raise KeyError(key)
    if _provider is None:
        raise ImproperlyConfigured(
            "No app provides the vocabulary of approval conditions: the policy app, which "
            "installs it in its AppConfig.ready(), must be in INSTALLED_APPS."
        )
    return _provider(key)


class UnknownValues(ValueError):
    """Values a condition may not take. ``message`` names them and the condition's noun."""

    def __init__(self, key: str, unknown: list[str], message: str) -> None:
        super().__init__(message)
        self.key = key
        self.unknown = unknown
        self.message = message


def _message(key: str, unknown: list[str], known: list[str]) -> str:
    noun, nouns = NOUNS[key]
    message = f"Unknown {noun if len(unknown) == 1 else nouns}: {', '.join(unknown)}."
    if key == "regions":
        jurisdictions = {value.lower() for value, _label in choices("jurisdictions")}
        misplaced = [value for value in unknown if value.lower() in jurisdictions]
        if misplaced:
            rest = [value for value in unknown if value not in misplaced]
            also = (
                f" Unknown {noun if len(rest) == 1 else nouns}: {', '.join(rest)}." if rest else ""
            )
            return (
                f"{', '.join(misplaced)} is a jurisdiction, not a region: choose it under "
                f"jurisdictions. Regions are region codes such as eu-west-1.{also}"
            )
    if key not in _CATALOGS:
        message += f" Known: {', '.join(known)}."
    elif not known:
        message += f" No {noun} is in the catalog yet."
    return message


def canonical(key: str, values: Iterable[str]) -> list[str]:
    """``values`` as the vocabulary spells them ("PROD" → "prod", "eu" → "EU"), in order,
    without duplicates. Raises ``UnknownValues`` naming every value the vocabulary lacks."""
    wanted = [value for value in values if value]
    if not wanted:
        return []
    known = [str(value) for value, _label in choices(key)]
    exact = set(known)
    folded: dict[str, str | None] = {}
    for value in known:
        # A spelling two catalog entries share whatever their case is no match.
        folded[value.lower()] = None if value.lower() in folded else value
    clean: list[str] = []
    unknown: list[str] = []
    for value in wanted:
        match = value if value in exact else folded.get(value.lower())
        if match is None:
            if value not in unknown:
                unknown.append(value)
        elif match not in clean:
            clean.append(match)
    if unknown:
        raise UnknownValues(key, unknown, _message(key, unknown, known))
    return clean
