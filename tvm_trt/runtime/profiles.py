"""Optimization profiles of subgraphs with symbolic dims.

A profile gives each symbolic var of a subgraph's inputs a (min, opt, max) range; TensorRT needs
it per input as (min shape, opt shape, max shape), which follow by evaluating the input dims
(``n``, ``n * 2``...) at the ranges' ends. Where a range comes from, per var:

1. ``dynamic_shapes`` given to ``partition_for_tensorrt``: fixed; a value outside it is an error.
2. the ``tir_var_upper_bound`` attribute of ``main``: [1, bound], opt = the value that built it.
3. otherwise it grows: [1, largest value met so far], opt = the value that built it.

``TVM_TENSORRT_MULTI_ENGINE=1`` instead builds one engine per distinct input shape (min = opt =
max), still refusing values outside a user-given range.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from ..core import dim_expr

Shape = Tuple[int, ...]
Range = Tuple[int, int, int]
Profile = Dict[str, Range]  # symbolic var -> (min, opt, max)
InputRanges = List[Tuple[Shape, Shape, Shape]]  # per input: (min, opt, max) shapes


class ShapeOutOfRange(ValueError):
    """An input dim outside the range the user fixed with ``dynamic_shapes``."""


class Profiles:
    """The profile policy of one subgraph (its spec's inputs and config)."""

    def __init__(self, spec: Dict):
        self.symbol = spec["symbol"]
        self.inputs = spec["inputs"]
        self.vars: List[str] = []
        for inp in self.inputs:
            for d in inp["shape"]:
                for name in sorted(dim_expr.vars_of(d)):
                    if name not in self.vars:
                        self.vars.append(name)
        config = spec.get("config", {})
        self.user: Dict[str, Range] = {
            v: tuple(r) for v, r in (config.get("dynamic_shapes") or {}).items() if v in self.vars
        }
        self.bounds: Dict[str, int] = {
            v: int(b) for v, b in (config.get("tir_var_upper_bound") or {}).items() if v in self.vars
        }

    # --- values of the vars ----------------------------------------------------------------
    def bind(self, shapes: Sequence[Shape]) -> Dict[str, int]:
        """Var values read from input shapes; errors name the input, the dim and the range."""
        env: Dict[str, int] = {}
        for i, (inp, shape) in enumerate(zip(self.inputs, shapes)):
            for axis, (dim, value) in enumerate(zip(inp["shape"], shape)):
                if dim_expr.is_var(dim):
                    if dim in env and env[dim] != value:
                        raise ValueError(
                            f"subgraph {self.symbol}: input {i} ({inp['name']}) dim {axis} is {value}, but "
                            f"symbolic dim {dim} is {env[dim]} in another input"
                        )
                    env[dim] = int(value)
                    self._check_range(i, inp["name"], axis, dim, int(value))
        for i, (inp, shape) in enumerate(zip(self.inputs, shapes)):
            for axis, (dim, value) in enumerate(zip(inp["shape"], shape)):
                if isinstance(dim, str) and not dim_expr.is_var(dim) and dim_expr.evaluate(dim, env) != value:
                    raise ValueError(
                        f"subgraph {self.symbol}: input {i} ({inp['name']}) dim {axis} is {value}, "
                        f"expected {dim} = {dim_expr.evaluate(dim, env)}"
                    )
        return env

    def _check_range(self, index: int, name: str, axis: int, var: str, value: int) -> None:
        if var in self.user:
            lo, _, hi = self.user[var]
            if not lo <= value <= hi:
                raise ShapeOutOfRange(
                    f"subgraph {self.symbol}: input {index} ({name}) dim {axis} ({var}) is {value}, outside "
                    f"dynamic_shapes[{var!r}] = [{lo}, {hi}] given to partition_for_tensorrt"
                )

    # --- profiles --------------------------------------------------------------------------
    def exact(self, env: Dict[str, int]) -> Profile:
        """One engine per shape (TVM_TENSORRT_MULTI_ENGINE=1)."""
        return {v: (env[v], env[v], env[v]) for v in self.vars}

    def grown(self, env: Dict[str, int], current: Optional[Profile]) -> Profile:
        """One engine for every shape so far (TVM_TENSORRT_MULTI_ENGINE=0)."""
        profile = {}
        for v in self.vars:
            value = env[v]
            # ranges start at 1, or at 0 once an empty tensor was met (TensorRT refuses min > opt)
            low = min(1, value, current[v][0] if current and v in current else 1)
            if v in self.user:
                profile[v] = self.user[v]
            elif v in self.bounds and value <= self.bounds[v]:
                profile[v] = (low, value, self.bounds[v])
            else:  # beyond a tir_var_upper_bound too: the bound was a hint, the shape is real
                top = max(value, current[v][2]) if current and v in current else value
                profile[v] = (low, value, top)
        return profile

    @staticmethod
    def covers(profile: Profile, env: Dict[str, int]) -> bool:
        return all(lo <= env[v] <= hi for v, (lo, _, hi) in profile.items())

    def input_ranges(self, profile: Profile) -> InputRanges:
        """(min, opt, max) shape per input (dims are monotonic in their vars)."""
        ends = [{v: r[k] for v, r in profile.items()} for k in range(3)]
        out = []
        for inp in self.inputs:
            out.append(tuple(tuple(dim_expr.evaluate(d, env) for d in inp["shape"]) for env in ends))
        return out
