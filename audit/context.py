"""Who and where an audit event comes from, without threading ``request`` through services.

The web middleware binds the request's ip, user agent and request id; token authentication
adds the token; Celery tasks and management commands bind a worker or system actor. Services
then just call ``record_event(actor=user, ...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class AuditContext:
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    token_id: int | None = None
    token_label: str | None = None
    # "web", "api", "worker:<task>", "command:<name>", "system"
    channel: str = "system"
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"channel": self.channel}
        for key in ("ip", "user_agent", "request_id"):
            value = getattr(self, key)
            if value:
                data[key] = value
        if self.token_id is not None:
            data["token"] = self.token_label
        data.update(self.extra)
        return data


_EMPTY = AuditContext()
_current: ContextVar[AuditContext] = ContextVar("audit_context", default=_EMPTY)


def current_context() -> AuditContext:
    return _current.get()


@contextmanager
def audit_context(**changes: Any) -> Iterator[AuditContext]:
    """Temporarily extend the current context (``with audit_context(channel="command:x")``)."""
    ctx = replace(_current.get(), **changes)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def bind(**changes: Any) -> None:
    """Extend the current context until the enclosing ``audit_context`` ends."""
    _current.set(replace(_current.get(), **changes))
