"""A small VKScript interpreter for the fake `execute` method.

The code is tokenised, parsed into an AST and evaluated; nothing pattern-matches the text.
Supported: `var` (with several declarators), assignment (`=`, `+=`, `-=`, `*=`, `/=`, `++`,
`--`) to names, properties and indexes; numbers, strings ('..' and ".."), true/false/null,
arrays, objects; `+ - * / %`, comparisons, `== != === !==`, `&& || !`; `if/else`, `while`,
`return`; `.length`, `a[i]`, `a.b`, the `@.` field extraction (`items@.id`); array/string
methods push, pop, shift, unshift, slice, splice, indexOf, join, split, substr; parseInt and
parseDouble; `API.namespace.method({...})` calls.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

MAX_API_CALLS = 25
MAX_OPERATIONS = 100_000

# (ok, value): value is the call's `response`, or the error dict {error_code, error_msg}.
ApiCaller = Callable[[str, dict[str, str]], Awaitable[tuple[bool, Any]]]


class ScriptCompileError(Exception):
    """The code does not parse (VK error 12)."""


class ScriptRuntimeError(Exception):
    """The code failed while running (VK error 13)."""


# -- lexer -----------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<number>\d+\.\d*|\.\d+|\d+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||\+\+|--|\+=|-=|\*=|/=|@\.|[-+*/%<>=!.,;:()\[\]{}])
    """,
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = {"var", "if", "else", "while", "return", "true", "false", "null"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # number | string | name | keyword | op | end
    value: Any
    pos: int


def _unescape(body: str) -> str:
    def repl(match: re.Match[str]) -> str:
        char = match.group(1)
        if char.startswith("u"):
            return chr(int(char[1:], 16))
        return _ESCAPES.get(char, char)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", repl, body)


def tokenize(code: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(code):
        match = _TOKEN_RE.match(code, pos)
        if match is None:
            raise ScriptCompileError(f"unexpected character {code[pos]!r} at {pos}")
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "number":
            value: Any = float(text) if "." in text else int(text)
            tokens.append(Token("number", value, pos))
        elif kind == "string":
            tokens.append(Token("string", _unescape(text[1:-1]), pos))
        elif kind == "name":
            tokens.append(Token("keyword" if text in _KEYWORDS else "name", text, pos))
        elif kind == "op":
            tokens.append(Token("op", text, pos))
        pos = match.end()
    tokens.append(Token("end", None, pos))
    return tokens


# -- AST -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any


@dataclass(frozen=True, slots=True)
class Name:
    name: str


@dataclass(frozen=True, slots=True)
class ArrayLit:
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class ObjectLit:
    items: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Member:
    target: Any
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    target: Any
    index: Any


@dataclass(frozen=True, slots=True)
class Extract:  # items@.field
    target: Any
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    callee: Any
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Any


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Var:
    declarations: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Assign:
    target: Any
    op: str  # "=", "+=", ...
    value: Any


@dataclass(frozen=True, slots=True)
class ExprStmt:
    expr: Any


@dataclass(frozen=True, slots=True)
class If:
    test: Any
    then: Any
    otherwise: Any


@dataclass(frozen=True, slots=True)
class While:
    test: Any
    body: Any


@dataclass(frozen=True, slots=True)
class Return:
    value: Any


@dataclass(frozen=True, slots=True)
class Block:
    body: tuple[Any, ...]


# -- parser ----------------------------------------------------------------------------

_BINARY_LEVELS = (
    ("||",),
    ("&&",),
    ("==", "!=", "===", "!=="),
    ("<", ">", "<=", ">="),
    ("+", "-"),
    ("*", "/", "%"),
)
_ASSIGN_OPS = {"=", "+=", "-=", "*=", "/="}


class Parser:
    def __init__(self, code: str) -> None:
        self.tokens = tokenize(code)
        self.pos = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.pos]

    def _is(self, kind: str, value: Any = None) -> bool:
        token = self.current
        return token.kind == kind and (value is None or token.value == value)

    def _accept(self, kind: str, value: Any = None) -> Token | None:
        if self._is(kind, value):
            token = self.current
            self.pos += 1
            return token
        return None

    def _expect(self, kind: str, value: Any = None) -> Token:
        token = self._accept(kind, value)
        if token is None:
            found = self.current.value if self.current.kind != "end" else "end of code"
            wanted = value if value is not None else kind
            raise ScriptCompileError(f"expected {wanted!r}, found {found!r} at {self.current.pos}")
        return token

    def parse(self) -> Block:
        body = []
        while not self._is("end"):
            statement = self.statement()
            if statement is not None:
                body.append(statement)
        return Block(tuple(body))

    def _end_statement(self) -> None:
        if not self._accept("op", ";") and not self._is("op", "}") and not self._is("end"):
            raise ScriptCompileError(f"expected ';' at {self.current.pos}")

    def statement(self) -> Any:
        if self._accept("op", ";"):
            return None
        if self._accept("op", "{"):
            body = []
            while not self._accept("op", "}"):
                if self._is("end"):
                    raise ScriptCompileError("unclosed block")
                statement = self.statement()
                if statement is not None:
                    body.append(statement)
            return Block(tuple(body))
        if self._accept("keyword", "var"):
            declarations = []
            while True:
                name = self._expect("name").value
                value = self.expression() if self._accept("op", "=") else Literal(None)
                declarations.append((name, value))
                if not self._accept("op", ","):
                    break
            self._end_statement()
            return Var(tuple(declarations))
        if self._accept("keyword", "if"):
            self._expect("op", "(")
            test = self.expression()
            self._expect("op", ")")
            then = self.statement()
            otherwise = self.statement() if self._accept("keyword", "else") else None
            return If(test, then, otherwise)
        if self._accept("keyword", "while"):
            self._expect("op", "(")
            test = self.expression()
            self._expect("op", ")")
            return While(test, self.statement())
        if self._accept("keyword", "return"):
            value = None
            if not self._is("op", ";") and not self._is("op", "}") and not self._is("end"):
                value = self.expression()
            self._end_statement()
            return Return(value)
        for op in ("++", "--"):
            if self._accept("op", op):
                target = self._lvalue(self.postfix())
                self._end_statement()
                return Assign(target, "+=" if op == "++" else "-=", Literal(1))
        expr = self.expression()
        token = self.current
        if token.kind == "op" and token.value in _ASSIGN_OPS:
            self.pos += 1
            statement: Any = Assign(self._lvalue(expr), token.value, self.expression())
        elif token.kind == "op" and token.value in {"++", "--"}:
            self.pos += 1
            statement = Assign(
                self._lvalue(expr), "+=" if token.value == "++" else "-=", Literal(1)
            )
        else:
            statement = ExprStmt(expr)
        self._end_statement()
        return statement

    def _lvalue(self, expr: Any) -> Any:
        if not isinstance(expr, Name | Member | Index):
            raise ScriptCompileError(f"cannot assign to this expression at {self.current.pos}")
        return expr

    def expression(self, level: int = 0) -> Any:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        left = self.expression(level + 1)
        while self.current.kind == "op" and self.current.value in _BINARY_LEVELS[level]:
            op = self.current.value
            self.pos += 1
            left = Binary(op, left, self.expression(level + 1))
        return left

    def unary(self) -> Any:
        for op in ("!", "-", "+"):
            if self._accept("op", op):
                return Unary(op, self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        expr = self.primary()
        while True:
            if self._accept("op", "."):
                expr = Member(expr, self._expect("name").value)
            elif self._accept("op", "@."):
                expr = Extract(expr, self._expect("name").value)
            elif self._accept("op", "["):
                index = self.expression()
                self._expect("op", "]")
                expr = Index(expr, index)
            elif self._accept("op", "("):
                args = []
                if not self._accept("op", ")"):
                    while True:
                        args.append(self.expression())
                        if self._accept("op", ")"):
                            break
                        self._expect("op", ",")
                expr = Call(expr, tuple(args))
            else:
                return expr

    def primary(self) -> Any:
        token = self.current
        if token.kind in {"number", "string"}:
            self.pos += 1
            return Literal(token.value)
        if token.kind == "keyword" and token.value in {"true", "false", "null"}:
            self.pos += 1
            return Literal({"true": True, "false": False, "null": None}[token.value])
        if token.kind == "name":
            self.pos += 1
            return Name(token.value)
        if self._accept("op", "("):
            expr = self.expression()
            self._expect("op", ")")
            return expr
        if self._accept("op", "["):
            items = []
            if not self._accept("op", "]"):
                while True:
                    items.append(self.expression())
                    if self._accept("op", "]"):
                        break
                    self._expect("op", ",")
            return ArrayLit(tuple(items))
        if self._accept("op", "{"):
            pairs = []
            if not self._accept("op", "}"):
                while True:
                    key = self.current
                    if key.kind not in {"name", "string", "number", "keyword"}:
                        raise ScriptCompileError(f"bad object key at {key.pos}")
                    self.pos += 1
                    self._expect("op", ":")
                    pairs.append((str(key.value), self.expression()))
                    if self._accept("op", "}"):
                        break
                    self._expect("op", ",")
            return ObjectLit(tuple(pairs))
        found = token.value if token.kind != "end" else "end of code"
        raise ScriptCompileError(f"unexpected {found!r} at {token.pos}")


def parse(code: str) -> Block:
    """The AST of `code`, or ScriptCompileError."""
    return Parser(code).parse()


# -- evaluation ------------------------------------------------------------------------


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def to_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _number(value: Any, op: str) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if value is None:
        return 0
    raise ScriptRuntimeError(f"operator {op!r} needs numbers, got {to_text(value)!r}")


def _tidy(value: float) -> int | float:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def parse_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value)
    match = re.match(r"\s*([+-]?\d+)", str(value))
    return int(match.group(1)) if match else None


def parse_double(value: Any) -> int | float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    match = re.match(r"\s*([+-]?(?:\d+\.?\d*|\.\d+))", str(value))
    return _tidy(float(match.group(1))) if match else None


def api_param(value: Any) -> str | None:
    """How VK sees a parameter value passed from VKScript."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(to_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return to_text(value)


class Interpreter:
    """Runs one parsed VKScript program; API calls go through `call_api`."""

    def __init__(self, call_api: ApiCaller, *, max_calls: int = MAX_API_CALLS) -> None:
        self.call_api = call_api
        self.max_calls = max_calls
        self.calls = 0
        self.operations = 0
        self.errors: list[dict[str, Any]] = []
        self.env: dict[str, Any] = {}

    async def run(self, program: Block) -> Any:
        try:
            await self.execute(program)
        except _Return as done:
            return done.value
        return None

    def _tick(self) -> None:
        self.operations += 1
        if self.operations > MAX_OPERATIONS:
            raise ScriptRuntimeError("too many operations")

    async def execute(self, node: Any) -> None:
        self._tick()
        if isinstance(node, Block):
            for statement in node.body:
                await self.execute(statement)
        elif isinstance(node, Var):
            for name, value in node.declarations:
                self.env[name] = await self.evaluate(value)
        elif isinstance(node, Assign):
            await self._assign(node)
        elif isinstance(node, ExprStmt):
            await self.evaluate(node.expr)
        elif isinstance(node, If):
            if truthy(await self.evaluate(node.test)):
                await self.execute(node.then)
            elif node.otherwise is not None:
                await self.execute(node.otherwise)
        elif isinstance(node, While):
            while truthy(await self.evaluate(node.test)):
                await self.execute(node.body)
        elif isinstance(node, Return):
            raise _Return(await self.evaluate(node.value) if node.value is not None else None)
        elif node is not None:
            raise ScriptRuntimeError(f"cannot execute {type(node).__name__}")

    async def _assign(self, node: Assign) -> None:
        value = await self.evaluate(node.value)
        if node.op != "=":
            current = await self.evaluate(node.target)
            value = self._binary(node.op[0], current, value)
        target = node.target
        if isinstance(target, Name):
            self.env[target.name] = value
            return
        container = await self.evaluate(target.target)
        if isinstance(target, Member):
            if not isinstance(container, dict):
                raise ScriptRuntimeError(f"cannot set property {target.name!r} of a non-object")
            container[target.name] = value
            return
        key = await self.evaluate(target.index)
        if isinstance(container, dict):
            container[to_text(key)] = value
        elif isinstance(container, list) and isinstance(key, int) and 0 <= key <= len(container):
            if key == len(container):
                container.append(value)
            else:
                container[key] = value
        else:
            raise ScriptRuntimeError("bad index assignment")

    async def evaluate(self, node: Any) -> Any:
        self._tick()
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Name):
            if node.name not in self.env:
                raise ScriptRuntimeError(f"undefined variable {node.name!r}")
            return self.env[node.name]
        if isinstance(node, ArrayLit):
            return [await self.evaluate(item) for item in node.items]
        if isinstance(node, ObjectLit):
            return {key: await self.evaluate(value) for key, value in node.items}
        if isinstance(node, Member):
            return self._member(await self.evaluate(node.target), node.name)
        if isinstance(node, Index):
            return self._index(await self.evaluate(node.target), await self.evaluate(node.index))
        if isinstance(node, Extract):
            target = await self.evaluate(node.target)
            if not isinstance(target, list):
                return None
            return [item.get(node.name) if isinstance(item, dict) else None for item in target]
        if isinstance(node, Call):
            return await self._call(node)
        if isinstance(node, Unary):
            operand = await self.evaluate(node.operand)
            if node.op == "!":
                return not truthy(operand)
            number = _number(operand, node.op)
            return -number if node.op == "-" else number
        if isinstance(node, Binary):
            if node.op == "&&":
                left = await self.evaluate(node.left)
                return await self.evaluate(node.right) if truthy(left) else left
            if node.op == "||":
                left = await self.evaluate(node.left)
                return left if truthy(left) else await self.evaluate(node.right)
            left = await self.evaluate(node.left)
            return self._binary(node.op, left, await self.evaluate(node.right))
        raise ScriptRuntimeError(f"cannot evaluate {type(node).__name__}")

    @staticmethod
    def _member(target: Any, name: str) -> Any:
        if name == "length" and isinstance(target, list | str | dict):
            return len(target)
        if isinstance(target, dict):
            return target.get(name)
        return None

    @staticmethod
    def _index(target: Any, index: Any) -> Any:
        if isinstance(target, list | str):
            if isinstance(index, float) and index.is_integer():
                index = int(index)
            if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(target):
                return target[index]
            return None
        if isinstance(target, dict):
            return target.get(to_text(index))
        return None

    @staticmethod
    def _binary(op: str, left: Any, right: Any) -> Any:
        if op == "+":
            if isinstance(left, list):
                return left + (right if isinstance(right, list) else [right])
            if isinstance(left, str) or isinstance(right, str):
                return to_text(left) + to_text(right)
            return _number(left, op) + _number(right, op)
        if op in {"-", "*", "/", "%"}:
            a, b = _number(left, op), _number(right, op)
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if b == 0:
                raise ScriptRuntimeError("division by zero")
            if op == "/":
                return _tidy(a / b)
            return math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else a % b
        if op in {"==", "==="}:
            return _equal(left, right, strict=op == "===")
        if op in {"!=", "!=="}:
            return not _equal(left, right, strict=op == "!==")
        if op in {"<", ">", "<=", ">="}:
            if isinstance(left, str) and isinstance(right, str):
                a2, b2 = left, right
            else:
                a2, b2 = _number(left, op), _number(right, op)  # type: ignore[assignment]
            return {"<": a2 < b2, ">": a2 > b2, "<=": a2 <= b2, ">=": a2 >= b2}[op]
        raise ScriptRuntimeError(f"unknown operator {op!r}")

    async def _call(self, node: Call) -> Any:
        callee = node.callee
        args = [await self.evaluate(arg) for arg in node.args]
        api_method = _api_method_name(callee)
        if api_method is not None:
            return await self._call_api(api_method, args)
        if isinstance(callee, Name):
            if callee.name == "parseInt" and len(args) >= 1:
                return parse_int(args[0])
            if callee.name == "parseDouble" and len(args) >= 1:
                return parse_double(args[0])
            raise ScriptRuntimeError(f"unknown function {callee.name!r}")
        if isinstance(callee, Member):
            target = await self.evaluate(callee.target)
            return _call_method(target, callee.name, args)
        raise ScriptRuntimeError("this expression cannot be called")

    async def _call_api(self, method: str, args: list[Any]) -> Any:
        if len(args) > 1 or (args and not isinstance(args[0], dict)):
            raise ScriptRuntimeError(f"API.{method} takes one object of parameters")
        self.calls += 1
        if self.calls > self.max_calls:
            raise ScriptRuntimeError("too many API calls")
        params = {}
        for key, value in (args[0] if args else {}).items():
            text = api_param(value)
            if text is not None:
                params[key] = text
        ok, value = await self.call_api(method, params)
        if ok:
            return value
        self.errors.append(
            {"method": method, "error_code": value["error_code"], "error_msg": value["error_msg"]}
        )
        return False


def _equal(left: Any, right: Any, *, strict: bool) -> bool:
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers):
        if strict and isinstance(left, bool) != isinstance(right, bool):
            return False
        return left == right
    if not strict and isinstance(left, str) and isinstance(right, numbers):
        return parse_double(left) == right
    if not strict and isinstance(right, str) and isinstance(left, numbers):
        return parse_double(right) == left
    return type(left) is type(right) and left == right


def _api_method_name(callee: Any) -> str | None:
    if (
        isinstance(callee, Member)
        and isinstance(callee.target, Member)
        and isinstance(callee.target.target, Name)
        and callee.target.target.name == "API"
    ):
        return f"{callee.target.name}.{callee.name}"
    return None


def _call_method(target: Any, name: str, args: list[Any]) -> Any:
    if isinstance(target, list):
        if name == "push":
            target.extend(args)
            return len(target)
        if name == "pop":
            return target.pop() if target else None
        if name == "shift":
            return target.pop(0) if target else None
        if name == "unshift":
            target[:0] = args
            return len(target)
        if name == "slice":
            start = parse_int(args[0]) if args else 0
            end = parse_int(args[1]) if len(args) > 1 else None
            return target[start:end]
        if name == "splice":
            start = parse_int(args[0]) if args else 0
            count = parse_int(args[1]) if len(args) > 1 else len(target)
            removed = target[start : start + count]
            target[start : start + count] = args[2:]
            return removed
        if name == "indexOf":
            return next(
                (i for i, item in enumerate(target) if _equal(item, args[0], strict=True)), -1
            )
        if name == "join":
            separator = to_text(args[0]) if args else ","
            return separator.join(to_text(item) for item in target)
    if isinstance(target, str):
        if name == "split":
            separator = to_text(args[0]) if args else ","
            return target.split(separator) if separator else list(target)
        if name == "substr":
            start = parse_int(args[0]) if args else 0
            length = parse_int(args[1]) if len(args) > 1 else None
            return target[start : None if length is None else start + length]
        if name == "indexOf":
            return target.find(to_text(args[0]) if args else "")
    raise ScriptRuntimeError(f"no method {name!r} on {type(target).__name__}")


async def run_script(code: str, call_api: ApiCaller) -> tuple[Any, list[dict[str, Any]]]:
    """(returned value, execute_errors) of `code`; raises ScriptCompileError/RuntimeError."""
    program = parse(code)
    interpreter = Interpreter(call_api)
    value = await interpreter.run(program)
    return value, interpreter.errors


__all__ = [
    "MAX_API_CALLS",
    "MAX_OPERATIONS",
    "ApiCaller",
    "Interpreter",
    "ScriptCompileError",
    "ScriptRuntimeError",
    "parse",
    "run_script",
    "tokenize",
]
