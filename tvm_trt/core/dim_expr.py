"""Symbolic dims as specs carry them: the printed TIR expression (``"n"``, ``"n * T.int64(128)"``,
``"T.min(seq, T.int64(512))"``), parsed with Python's ``ast`` into a small tree that is
evaluated on integers (profiles, checks) or into TensorRT shape-tensor arithmetic (converters).
"""

from __future__ import annotations

import ast
import functools
from typing import Callable, Dict, FrozenSet, Optional, Union

Dim = Union[int, str]

_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.FloorDiv: "floordiv", ast.Mod: "mod"}
_CALLS = {"min": "min", "max": "max", "Div": "floordiv", "floordiv": "floordiv", "floormod": "mod"}
_INT_CASTS = {"int64", "int32", "int16", "int8", "uint32", "uint64"}


class UnsupportedDim(ValueError):
    """A dim expression outside the arithmetic we can evaluate (+ - * // % min max)."""


@functools.lru_cache(maxsize=None)
def parse(dim: str):
    """-> ("var", name) | ("const", int) | (op, a, b); UnsupportedDim for anything else."""
    try:
        tree = ast.parse(dim, mode="eval").body
    except SyntaxError as err:
        raise UnsupportedDim(f"cannot read symbolic dim {dim!r}") from err
    return _convert(tree, dim)


def _convert(node, text: str):
    if isinstance(node, ast.Name):
        return ("var", node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return ("const", int(node.value))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return (_BINARY[type(node.op)], _convert(node.left, text), _convert(node.right, text))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        name = node.func.attr
        if name in _INT_CASTS and len(node.args) == 1:
            return _convert(node.args[0], text)
        if name in _CALLS and len(node.args) == 2:
            return (_CALLS[name], _convert(node.args[0], text), _convert(node.args[1], text))
    raise UnsupportedDim(f"symbolic dim {text!r} uses arithmetic TensorRT shapes are not built from here")


def vars_of(dim: Dim) -> FrozenSet[str]:
    if isinstance(dim, int):
        return frozenset()
    return _vars(parse(dim))


def _vars(tree) -> FrozenSet[str]:
    if tree[0] == "var":
        return frozenset([tree[1]])
    if tree[0] == "const":
        return frozenset()
    return _vars(tree[1]) | _vars(tree[2])


def is_var(dim: Dim) -> bool:
    return isinstance(dim, str) and parse(dim)[0] == "var"


_INT_OPS: Dict[str, Callable[[int, int], int]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "floordiv": lambda a, b: a // b,
    "mod": lambda a, b: a % b,
    "min": min,
    "max": max,
}


def evaluate(dim: Dim, env: Dict[str, int]) -> int:
    """The dim's value for the given var values (KeyError naming a var missing from ``env``)."""
    if isinstance(dim, int):
        return dim
    return fold(parse(dim), lambda name: env[name], lambda c: c, lambda op, a, b: _INT_OPS[op](a, b))


def fold(tree, var: Callable, const: Callable, binary: Callable):
    """Evaluate a parsed dim with callbacks (integers, or TensorRT shape tensors)."""
    kind = tree[0]
    if kind == "var":
        return var(tree[1])
    if kind == "const":
        return const(tree[1])
    return binary(kind, fold(tree[1], var, const, binary), fold(tree[2], var, const, binary))


def try_parse(dim: Dim) -> Optional[str]:
    """None when the dim can be evaluated, else the reason."""
    if isinstance(dim, int):
        return None
    try:
        parse(dim)
    except UnsupportedDim as err:
        return str(err)
    return None


def to_prim(dim: str, variables: Dict):
    """A symbolic dim as a TIR expression over ``variables`` ({name: tir var})."""
    import tvm

    ops = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "floordiv": tvm.tirx.floordiv,
        "mod": tvm.tirx.floormod,
        "min": tvm.tirx.min,
        "max": tvm.tirx.max,
    }
    return fold(
        parse(dim), lambda name: variables[name], lambda c: tvm.tirx.const(c, "int64"), lambda op, a, b: ops[op](a, b)
    )
