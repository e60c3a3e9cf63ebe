"""A minimal JSON-over-HTTP client on the standard library (no requests, no Django)."""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


class TransportError(Exception):
    """The server could not be reached or did not answer with JSON."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, Any]) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields


@dataclass
class Client:
    base_url: str
    token: str
    timeout: float = 30.0

    @classmethod
    def from_env(cls, url: str | None = None, token: str | None = None) -> Client:
        base_url = url or os.environ.get("STEWARD_URL", "")
        secret = token or os.environ.get("STEWARD_TOKEN", "")
        if not base_url:
            raise TransportError("STEWARD_URL is not set (e.g. https://steward.example.com).")
        if not secret:
            raise TransportError(
                "STEWARD_TOKEN is not set (create one under Settings → API tokens)."
            )
        return cls(base_url.rstrip("/"), secret)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        try:
            request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own server
                self.base_url + path,
                data=data,
                method=method,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Accept": "application/json",
                    **({"Content-Type": "application/json"} if data is not None else {}),
                    "User-Agent": "steward-client/0.1",
                },
            )
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                error = json.loads(payload)["error"]
            except (ValueError, KeyError, TypeError):
                raise TransportError(
                    f"HTTP {exc.code} from {self.base_url}: {payload[:200]!r}"
                ) from exc
            raise ApiError(
                exc.code, error.get("code", ""), error.get("message", ""), error.get("fields") or {}
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TransportError(f"cannot reach {self.base_url}: {exc}") from exc
        except (ValueError, http.client.HTTPException) as exc:
            # A malformed STEWARD_URL, a token that cannot be sent in a header, a garbled
            # answer: exit 2, never a traceback whose exit status 1 reads as "deny".
            raise TransportError(f"cannot call {self.base_url}: {exc}") from exc
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise TransportError(f"{self.base_url} did not answer JSON: {payload[:200]!r}") from exc
