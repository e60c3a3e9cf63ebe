"""A typed wrapper around cel-expr-python (Google's cel-cpp binding), the policy engine.

Facts about the binding that shape this module (measured in the cel spike, 0.1.3):

- Compile errors raise a bare ``RuntimeError`` whose text carries ``<input>:LINE:COL``;
  we parse it into ``CelCompileError(line, column)``.
- Runtime errors do NOT raise: ``eval`` returns a value of type ERROR. The one exception is
  an exhausted iteration budget (10,000 comprehension steps per evaluation, fixed).
- There is no cost limit, so Steward caps expression size and ``cel.bind`` nesting itself.
- Inside ``dyn`` values the binding accepts only exact dict/list/str/int/float/bool/None:
  no str subclasses (Django TextChoices), no datetimes. ``normalize`` converts.
- One ``Activation`` per decision: each top-level variable is converted lazily on first use
  and then cached, so N rules on one activation convert the input once. Its arena keeps
  every evaluation's temporaries alive, so it must not outlive the decision.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cel_expr_python import cel

VARIABLES: tuple[str, ...] = (
    "model",
    "version",
    "license",
    "risk",
    "approval",
    "deployment",
    "region",
    "use_case",
    "data",
    "params",
)

# No cost budget exists in the binding: these caps bound what one rule can cost.
MAX_EXPRESSION_CHARS = 4096
MAX_MESSAGE_CHARS = 1024
MAX_BINDS = 4
ITERATION_BUDGET = 10_000  # cel-cpp's default, not configurable from Python

_EXTENSIONS_YAML = """\
extensions:
  - name: strings
  - name: bindings
  - name: math
  - name: lists
  - name: sets
"""


class CelError(Exception):
    """Base class for every engine error."""


@dataclass(frozen=True)
class CelIssue:
    message: str
    line: int | None  # 1-based; None when cel-cpp gave no position
    column: int | None  # 1-based, in code points

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}, column {self.column}: {self.message}"


class CelCompileError(CelError):
    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        issues: Sequence[CelIssue] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.issues = list(issues) or [CelIssue(message, line, column)]

    def __str__(self) -> str:
        return "; ".join(str(issue) for issue in self.issues)


class CelEvalError(CelError):
    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


_ISSUE_RE = re.compile(r"ERROR: <input>:(-?\d+):(-?\d+): ([^\n]*)")
_STATUS_RE = re.compile(r"^([A-Z_]+): (.*?)(?: \[[A-Z_]+\])?$", re.S)
_BIND_RE = re.compile(r"\bcel\s*\.\s*bind\s*\(")


def _split_status(text: str) -> tuple[str | None, str]:
    match = _STATUS_RE.match(text.strip())
    if match:
        return match.group(1), match.group(2)
    return None, text.strip()


def _compile_error_from(exc: BaseException) -> CelCompileError:
    raw = str(exc)
    issues = []
    for match in _ISSUE_RE.finditer(raw):
        line, col = int(match.group(1)), int(match.group(2))
        issues.append(
            CelIssue(
                re.sub(r" \[[A-Z_]+\]$", "", match.group(3)),
                line if line > 0 else None,
                col if col > 0 else None,
            )
        )
    if not issues:  # limit errors such as the parser's recursion limit carry no position
        issues.append(CelIssue(_split_status(raw)[1], None, None))
    first = issues[0]
    return CelCompileError(first.message, first.line, first.column, issues)


def normalize(value: Any) -> Any:
    """Deep-convert a value into the plain types the binding accepts."""
    kind = type(value)
    if kind is str or kind is bool or kind is int or kind is float or value is None:
        return value
    if kind is dict:
        return {str(k): normalize(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [normalize(v) for v in value]
    if isinstance(value, enum.Enum):
        return normalize(value.value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(normalize(v) for v in value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()  # read with timestamp(x) in CEL
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"a value of type {kind.__name__} cannot be given to CEL")


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    expression: Any = field(repr=False, compare=False)


@dataclass(frozen=True)
class CompiledMessage:
    """A message template: literal text and ``{cel}`` placeholders, in order."""

    source: str
    parts: tuple[str | CompiledExpression, ...]


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _format(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return ", ".join(_format(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{_format(k)}: {_format(v)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


_ERROR = cel.Type.ERROR


class Engine:
    """One process-wide CEL environment with Steward's input variables declared."""

    def __init__(self) -> None:
        dyn_map = cel.Type.Map(cel.Type.STRING, cel.Type.DYN)
        self.variables: dict[str, Any] = {name: dyn_map for name in VARIABLES}
        self.variables["now"] = cel.Type.TIMESTAMP
        self.env = cel.NewEnv(
            config=cel.NewEnvConfigFromYaml(_EXTENSIONS_YAML), variables=self.variables
        )

    # -- compiling -------------------------------------------------------------------------
    def _compile(self, source: str) -> CompiledExpression:
        try:
            expression = self.env.compile(source)
        except RuntimeError as exc:
            raise _compile_error_from(exc) from None
        # The runtime plan is built lazily on the first eval (~20 µs); build it now, against
        # an empty activation, so no decision pays for it.
        try:
            expression.eval(self.env.Activation({}))
        except RuntimeError as exc:
            if "budget" not in str(exc):
                raise _compile_error_from(exc) from None
        return CompiledExpression(source, expression)

    @staticmethod
    def _check_size(source: str, limit: int, what: str) -> None:
        if not source.strip():
            raise CelCompileError(f"the {what} is empty", 1, 1)
        if len(source) > limit:
            raise CelCompileError(f"the {what} is longer than {limit} characters", 1, limit + 1)
        binds = list(_BIND_RE.finditer(source))
        if len(binds) > MAX_BINDS:
            line, column = _position(source, binds[MAX_BINDS].start())
            raise CelCompileError(f"at most {MAX_BINDS} cel.bind() per {what}", line, column)

    def compile_rule(self, source: str) -> CompiledExpression:
        self._check_size(source, MAX_EXPRESSION_CHARS, "expression")
        compiled = self._compile(source)
        kind = compiled.expression.return_type().name()
        if kind not in ("BOOL", "DYN"):
            raise CelCompileError(
                f"a rule must evaluate to a bool, but this evaluates to {kind.lower()}", 1, 1
            )
        return compiled

    def compile_message(self, template: str) -> CompiledMessage:
        """``"Region {region.code} is not allowed"``: each ``{...}`` is a CEL expression;
        ``{{`` and ``}}`` are literal braces. Errors name the template's line and column."""
        if len(template) > MAX_MESSAGE_CHARS:
            raise CelCompileError(
                f"the message is longer than {MAX_MESSAGE_CHARS} characters",
                1,
                MAX_MESSAGE_CHARS + 1,
            )
        parts: list[str | CompiledExpression] = []
        buf: list[str] = []
        i, n = 0, len(template)
        while i < n:
            char = template[i]
            if template.startswith("{{", i) or template.startswith("}}", i):
                buf.append(char)
                i += 2
                continue
            if char == "}":
                raise CelCompileError("single '}' in the message", *_position(template, i))
            if char != "{":
                buf.append(char)
                i += 1
                continue
            j, depth, quote = i + 1, 1, ""
            while j < n and depth:  # balance braces, ignoring those inside string literals
                ch = template[j]
                if quote:
                    if ch == "\\":
                        j += 1
                    elif ch == quote:
                        quote = ""
                elif ch in "'\"":
                    quote = ch
                elif ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                j += 1
            if depth:
                raise CelCompileError("unclosed '{' in the message", *_position(template, i))
            inner = template[i + 1 : j - 1]
            try:
                self._check_size(inner, MAX_MESSAGE_CHARS, "placeholder")
                compiled = self._compile(inner)
            except CelCompileError as exc:
                line, column = _position(template, i + 1)
                if exc.line is not None:
                    if exc.line == 1:
                        column += (exc.column or 1) - 1
                    else:
                        line, column = line + exc.line - 1, exc.column or 1
                raise CelCompileError(exc.message, line, column) from None
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(compiled)
            i = j
        if buf:
            parts.append("".join(buf))
        return CompiledMessage(template, tuple(parts))

    # -- evaluating ------------------------------------------------------------------------
    def activation(self, data: Mapping[str, Any]) -> Any:
        """One activation per decision (and per parameter set); ``data`` must be plain."""
        return self.env.Activation(data)

    @staticmethod
    def run(compiled: CompiledExpression, activation: Any) -> Any:
        """The plain result, or raise ``CelEvalError`` (fail closed happens in the caller)."""
        try:
            value = compiled.expression.eval(activation)
        except RuntimeError as exc:  # only an exhausted iteration budget raises
            code, message = _split_status(str(exc))
            raise CelEvalError(message, code) from None
        out = value.plain_value()
        if type(out) is bool:  # fast path: the type() check costs ~0.6 µs
            return out
        if value.type() == _ERROR:
            code, message = _split_status(str(out))
            raise CelEvalError(message, code)
        return out

    def holds(self, compiled: CompiledExpression, activation: Any) -> bool:
        out = self.run(compiled, activation)
        if type(out) is not bool:
            raise CelEvalError(
                f"the rule returned {type(out).__name__}, not a bool", "INVALID_ARGUMENT"
            )
        return out

    def render(self, message: CompiledMessage, activation: Any) -> str:
        chunks = []
        for part in message.parts:
            if isinstance(part, str):
                chunks.append(part)
            else:
                try:
                    chunks.append(_format(self.run(part, activation)))
                except CelEvalError:
                    chunks.append("?")
        return "".join(chunks)


_engine: Engine | None = None


def engine() -> Engine:
    """The process's engine (built once; compiled programs belong to its environment)."""
    global _engine
    if _engine is None:
        _engine = Engine()
    return _engine


def now_value() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
