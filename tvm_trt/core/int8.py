"""INT8 weights through partitioning: Relax's FoldConstant would fold ``dequantize(int8 weight)``
into a float32 constant, and TensorRT needs the DQ on the weights to pick INT8 kernels.

* ``hide_quantized_weights`` / ``restore_quantized_weights``: the int8 constants become parameters
  while partitioning simplifies, and are bound back afterwards.
* ``weight_source``: the constant behind a (dequantized, reshaped, transposed) weight operand.

The spec rewrites of calibration are in ``int8_spec``.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import tvm
from tvm import relax

from . import ir

QUANTIZED_WEIGHT_TYPES = ("int8", "float8_e4m3fn")


@relax.expr_functor.mutator
class _HideWeights(relax.expr_functor.PyExprMutator):
    def __init__(self, mod):
        super().__init__(mod)
        self.hidden: Dict[str, relax.Var] = {}
        self.values: Dict[str, np.ndarray] = {}
        self.rewritten = False

    def _hide(self, call, data: np.ndarray, axis: int):
        name = f"tvm_trt_qweight_{len(self.hidden)}"
        var = relax.Var(name, relax.TensorType(list(data.shape), str(data.dtype)))
        self.hidden[name] = var
        self.values[name] = data
        attrs = dict(axis=axis, out_dtype=str(call.attrs.out_dtype))
        return relax.op.dequantize(var, call.args[1], call.args[2], **attrs)

    def _weight_dq(self, expr):
        """(dequantize call, int8 array) when ``expr`` is a dequantized int8 constant."""
        value = self.lookup_binding(expr) if isinstance(expr, relax.Var) else expr
        if not _is_op(value, "relax.dequantize"):
            return None
        data = value.args[0]
        if ir.is_constant(data) and str(data.ty.dtype) in QUANTIZED_WEIGHT_TYPES:
            return value, data.value.numpy()
        if isinstance(data, relax.Var) and data.name in self.values:
            return value, self.values[data.name]
        quantized = self._quantized_constant(data)
        return (value, quantized) if quantized is not None else None

    def _quantized_constant(self, expr) -> Optional[np.ndarray]:
        """``quantize(float constant)`` (ModelOpt stores weights in float with a Q/DQ pair) as the
        int8 array TensorRT's quantize would make: round half to even, saturate."""
        value = self.lookup_binding(expr) if isinstance(expr, relax.Var) else None
        if not _is_op(value, "relax.quantize") or str(value.attrs.out_dtype) != "int8":
            return None
        w, scale, zp = value.args
        if not all(ir.is_constant(a) for a in (w, scale, zp)) or np.any(ir.const_value(zp) != 0):
            return None
        w, scale = ir.const_value(w).astype(np.float32), ir.const_value(scale).astype(np.float32)
        if scale.size > 1:
            shape = [1] * w.ndim
            shape[int(value.attrs.axis) % w.ndim] = -1
            scale = scale.reshape(shape)
        self.rewritten = True  # the quantize binding goes dead
        return np.clip(np.rint(w / scale), -128, 127).astype(np.int8)

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if _is_op(call, "relax.dequantize"):
            found = self._weight_dq(call)
            if found is not None and not (isinstance(call.args[0], relax.Var) and call.args[0].name in self.values):
                return self._hide(call, found[1], int(call.attrs.axis))
        if _is_op(call, "relax.permute_dims"):
            # permute_dims(dequantize(W)) -> dequantize(W transposed): ONNX Gemm's transB leaves a
            # transpose on the weights that would otherwise stay in TVM under the batch rule.
            found = self._weight_dq(call.args[0])
            if found is not None:
                dq, data = found
                axes = list(range(data.ndim))[::-1] if call.attrs.axes is None else [int(a) for a in call.attrs.axes]
                axis = int(dq.attrs.axis) % data.ndim
                self.rewritten = True
                return self._hide(dq, np.ascontiguousarray(np.transpose(data, axes)), axes.index(axis))
        return call


def _is_op(expr, name: str) -> bool:
    return isinstance(expr, relax.Call) and isinstance(expr.op, tvm.ir.Op) and expr.op.name == name


def hide_quantized_weights(mod: tvm.IRModule) -> Tuple[tvm.IRModule, Dict]:
    """``dequantize(int8 constant)`` -> ``dequantize(param)`` in main, so constant folding keeps it."""
    if "main" not in [gv.name_hint for gv in mod.get_global_vars()]:
        return mod, {}
    func = mod["main"]
    hider = _HideWeights(mod)
    body = hider.visit_expr(func.body)
    if not hider.hidden:
        return mod, {}
    mod = tvm.IRModule(dict(mod.functions), attrs=mod.attrs)
    params = list(func.params) + list(hider.hidden.values())
    mod["main"] = relax.Function(params, body, func.ret_ty, func.is_pure, func.attrs)
    if hider.rewritten:  # the dequantize that fed a folded transpose is dead now
        mod = relax.transform.DeadCodeElimination(["main"])(mod)
        used = {v.name for v in relax.analysis.free_vars(mod["main"].body)}
        func = mod["main"]
        params = [p for p in func.params if p.name not in hider.hidden or p.name in used]
        mod["main"] = relax.Function(params, func.body, func.ret_ty, func.is_pure, func.attrs)
    names = {p.name for p in mod["main"].params}
    values = {k: tvm.runtime.tensor(v) for k, v in hider.values.items() if k in names}
    return mod, values


def restore_quantized_weights(mod: tvm.IRModule, values: Dict) -> tvm.IRModule:
    return relax.transform.BindParams("main", values)(mod) if values else mod


def weight_source(expr, bindings) -> Optional[relax.Expr]:
    """The constant behind ``expr`` when it is one, or a dequantize (possibly reshaped or
    transposed) of a constant: what TensorRT takes as (quantized) weights. None otherwise."""
    seen = 0
    while seen < 4:
        if ir.is_constant(expr):
            return expr
        value = bindings.get(expr) if bindings is not None and isinstance(expr, relax.Var) else None
        if not isinstance(value, relax.Call) or not isinstance(value.op, tvm.ir.Op):
            return None
        if value.op.name not in ("relax.dequantize", "relax.permute_dims", "relax.reshape"):
            return None
        expr, seen = value.args[0], seen + 1
    return None
