"""Domain errors raised by services.

Services know nothing of HTTP; the API's exception handler maps each class to a status
code and the common error body, and HTML views show ``message`` as a form error — except
a refusal (``NotAllowed``), which HTML views turn into a 403 page with ``raise_if_refused``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(
        self, message: str, *, fields: dict[str, Any] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class NotAllowed(DomainError):
    """The actor may not do this (role, object permission or separation of duties)."""

    status_code = 403
    code = "permission_denied"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """Not allowed from the object's current state (e.g. approving a draft)."""

    status_code = 409
    code = "conflict"


class SeparationOfDuties(Conflict):
    """The actor requested this (an approval, a waiver) and so may not decide it, whatever
    their roles: a conflict with who asked, 409 everywhere. HTML views refuse it with 403."""

    code = "separation_of_duties"


class Unprocessable(DomainError):
    """Well-formed, but names something unknown or unusable (unknown model, region...)."""

    status_code = 422
    code = "unprocessable"


def raise_if_refused(exc: DomainError) -> None:
    """In an HTML view's ``except DomainError``: a refusal is a 403 page, not a form error.

    A form error or a flash message and a redirect would answer a forged or out-of-role
    POST like a handled form; the API answers 403 (409 for separation of duties, a conflict
    with who asked), and the page refuses with 403 and the reason.
    """
    if isinstance(exc, NotAllowed | SeparationOfDuties):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(exc.message) from exc
