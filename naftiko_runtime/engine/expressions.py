"""``${{ … }}`` expressions as Humanitec pipelines (and GitHub Actions) use them.

A small tokenizer and recursive-descent evaluator: literals, context paths
(``inputs.x``, ``steps.id.outputs.k``, ``needs.job.outputs.k``), ``!``, ``&&``, ``||``,
comparisons, parentheses and a few functions. No ``eval`` anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>-?\d+(?:\.\d+)?)
      | (?P<str>'(?:[^']|'')*')
      | (?P<op>==|!=|<=|>=|&&|\|\||[!<>().,\[\]*])
      | (?P<name>[A-Za-z_][A-Za-z0-9_\-]*)
    )""",
    re.X,
)


class ExpressionError(ValueError):
    """The expression does not parse or refers to something unusable."""


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"cannot parse expression near {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        assert kind is not None
        tokens.append((kind, m.group(kind)))
    return tokens


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", 0.0) and value != [] and value != {}


def _loose_eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


def _to_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _fmt(template: str, *args: Any) -> str:
    out = str(template)
    for i, arg in enumerate(args):
        out = out.replace("{" + str(i) + "}", _to_str(arg))
    return out


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "tojson": lambda v: json.dumps(v, indent=2),
    "fromjson": lambda v: json.loads(v),
    "contains": lambda hay, needle: (
        str(needle).lower() in str(hay).lower() if isinstance(hay, str) else needle in (hay or [])
    ),
    "startswith": lambda s, p: str(s).lower().startswith(str(p).lower()),
    "endswith": lambda s, p: str(s).lower().endswith(str(p).lower()),
    "format": _fmt,
    "join": lambda items, sep=",": str(sep).join(_to_str(i) for i in (items or [])),
}


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], context: Mapping[str, Any]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.ctx = context

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExpressionError(f"expected {value or 'a value'}, got {tok[1] if tok else 'end of expression'}")
        self.pos += 1
        return tok

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return value

    def or_(self) -> Any:
        left = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            left = left if _truthy(left) else right
        return left

    def and_(self) -> Any:
        left = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.cmp()
            left = right if _truthy(left) else left
        return left

    def cmp(self) -> Any:
        left = self.unary()
        while (tok := self.peek()) and tok[1] in ("==", "!=", "<", ">", "<=", ">="):
            op = self.take()[1]
            right = self.unary()
            if op == "==":
                left = _loose_eq(left, right)
            elif op == "!=":
                left = not _loose_eq(left, right)
            else:
                try:
                    left = {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
                except TypeError:
                    left = False
        return left

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while (tok := self.peek()) and tok[1] in (".", "["):
            if self.take()[1] == ".":
                kind, key = self.take()
                if kind not in ("name", "num") and key != "*":
                    raise ExpressionError(f"bad property name {key!r}")
                value = _index(value, key)
            else:
                key = self.or_()
                self.take("]")
                value = _index(value, key)
        return value

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "op" and text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind == "name":
            low = text.lower()
            if low in ("true", "false"):
                return low == "true"
            if low == "null":
                return None
            if self.peek() == ("op", "("):
                return self.call(low)
            return self.ctx.get(text)
        raise ExpressionError(f"unexpected {text!r}")

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        if self.peek() != ("op", ")"):
            args.append(self.or_())
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.or_())
        self.take(")")
        fn = self.ctx.get("__functions__", {}).get(name) or FUNCTIONS.get(name)
        if fn is None:
            raise ExpressionError(f"unknown function {name}()")
        try:
            return fn(*args)
        except (TypeError, ValueError) as exc:
            raise ExpressionError(f"{name}(): {exc}") from exc


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get(key if key in value else str(key))
    if isinstance(value, list):
        try:
            return value[int(key)]
        except (ValueError, IndexError):
            return None
    return None


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """Evaluate a bare expression (no ``${{ }}``) against a context mapping."""
    return _Parser(_tokenize(expression), context).parse()


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Substitute ``${{ }}`` in strings, recursively in lists and mappings.

    A string that is exactly one expression keeps the expression's type
    (so ``${{ inputs.count }}`` stays a number); otherwise results are stringified.
    """
    if isinstance(value, str):
        whole = _EXPR.fullmatch(value.strip())
        if whole:
            return evaluate(whole.group(1), context)
        return _EXPR.sub(lambda m: _to_str(evaluate(m.group(1), context)), value)
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if isinstance(value, Mapping):
        return {k: render(v, context) for k, v in value.items()}
    return value


def condition(expr: Any, context: Mapping[str, Any]) -> bool:
    """Evaluate an ``if:`` value, with or without the ``${{ }}`` wrapper."""
    if isinstance(expr, bool):
        return expr
    text = str(expr).strip()
    whole = _EXPR.fullmatch(text)
    if whole:
        text = whole.group(1)
    elif "${{" in text:
        return _truthy(render(text, context))
    return _truthy(evaluate(text, context))


def uses_status_function(expr: Any) -> bool:
    """Whether an ``if:`` mentions success()/failure()/always()/cancelled() (GHA rule)."""
    return bool(re.search(r"\b(success|failure|always|cancelled)\s*\(", str(expr), re.I))
