"""Spec -> TensorRT network, through the registry's converters.

Converters receive ``(ctx, node)``: ``node.args`` holds ITensors for tensor inputs, NumPy
arrays for weights, Python values for shapes/scalars; ``node.attrs`` the Relax attrs as a dict.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..core import tensorrt, registry, dim_expr
from ..core.parsed_marks import SPEC_KEY
from ..core.dtypes import held_dtype, np_dtype, trt_dims, trt_dtype  # noqa: F401  (converters' helpers, re-exported)
from . import precision


class ConversionError(RuntimeError):
    """A converter failed; the message names the subgraph, op, Relax node and input types."""


@dataclasses.dataclass
class SpecNode:
    """One op of a spec as a converter sees it (``node.args``: ITensors, arrays, Python values)."""

    op: str
    args: List[Any]
    attrs: Dict[str, Any]
    out: List[Dict[str, Any]]  # [{"shape": [...], "dtype": "float32"}] (several for tuple outputs)
    index: int
    arg_dims: List[Optional[List[Any]]] = dataclasses.field(default_factory=list)  # Relax dims of tensor args

    @property
    def out_shape(self):
        return self.out[0]["shape"]

    @property
    def out_dtype(self):
        return self.out[0]["dtype"]


class ConvertContext:
    """What converters build with: the network plus helpers shared by every op family."""

    def __init__(self, network, subgraph: str = ""):
        self.trt = tensorrt.trt()
        self.network = network
        self.subgraph = subgraph
        self._keep: List[np.ndarray] = []  # TensorRT's Weights point into these arrays
        self.weight_list: List[Any] = []  # (trt.Weights, array) in creation order: refit names them
        self.symbols: Dict[str, Any] = {}  # symbolic var -> (input ITensor, axis) that carries it
        self._dim_tensors: Dict[str, Any] = {}

    # --- constants ------------------------------------------------------------------------
    def weights(self, array: np.ndarray):
        """trt.Weights over an array kept alive for the network's lifetime."""
        array = np.ascontiguousarray(array)
        self._keep.append(array)
        weights = self.trt.Weights(array)
        self.weight_list.append((weights, array))
        return weights

    def constant(self, array, dtype: Optional[str] = None):
        array = np.asarray(array, dtype=dtype) if dtype else np.asarray(array)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        if array.dtype == np.uint8:  # held as FLOAT inside a network (core.dtypes.held_dtype)
            array = array.astype(held_dtype("uint8"))
        if array.dtype == np.int64 and not hasattr(self.trt.DataType, "INT64"):  # TensorRT < 9
            array = array.astype(np.int32)
        layer = self.network.add_constant(tuple(array.shape), self.weights(array))
        return layer.get_output(0)

    def tensor(self, value, like=None):
        """An ITensor for ``value``: ITensors pass through, arrays/scalars become constants
        (scalars take ``like``'s dtype)."""
        if isinstance(value, self.trt.ITensor):
            return value
        array = np.asarray(value)
        if like is not None and array.ndim == 0:
            array = array.astype(np_dtype(like.dtype))
        if array.dtype == np.int8:  # an INT8 constant means quantized data (allowed only before a DQ)
            return self.cast(self.constant(array.astype(np.int32)), "int8")
        return self.constant(array)

    def data_operand(self, value):
        """An op's data operand (argument 0) as ITensors: a constant there (an unfolded
        reshape/permute of a weight, a gather from a constant table, a concat of constants)
        becomes a constant layer. Other positions keep NumPy weights, which their converters
        take as TensorRT weights or turn into constants themselves."""
        if isinstance(value, np.ndarray):
            return self.constant(value)
        if isinstance(value, list):
            return [self.data_operand(v) for v in value]
        return value

    # --- shape helpers ---------------------------------------------------------------------
    def reshape(self, x, shape: Sequence, src: Optional[Sequence] = None):
        """Reshape to Relax dims. Symbolic dims become TensorRT placeholders where they can: 0
        ("copy the input's dim") where ``src`` (the input's Relax dims) has the same dim at that
        axis, -1 ("infer") for a single remaining one; otherwise the target is a shape tensor
        computed at run time."""
        dims = [
            0 if isinstance(d, str) and src is not None and i < len(src) and src[i] == d else d
            for i, d in enumerate(shape)
        ]
        layer = self.network.add_shuffle(x)
        symbolic_left = sum(isinstance(d, str) for d in dims)
        if symbolic_left == 0:
            layer.reshape_dims = tuple(dims)
        elif symbolic_left == 1 and 0 not in shape:  # a literal 0 would read as "copy"
            layer.reshape_dims = tuple(-1 if isinstance(d, str) else d for d in dims)
        else:
            layer.set_input(1, self.shape_tensor(shape))
            layer.zero_is_placeholder = False  # computed dims: a 0 is an empty axis, not "copy"
        return layer.get_output(0)

    def shape_dtype(self) -> np.dtype:
        """The integer type of TensorRT shape tensors (IShapeLayer's output)."""
        modern = tensorrt.flavour() == "tensorrt-rtx" or (tensorrt.version() or (0,)) >= (10, 0, 0)
        return np.dtype("int64" if modern else "int32")

    def dim_tensor(self, dim):
        """A 1-element shape tensor holding ``dim`` (an int or a symbolic dim) at run time."""
        if isinstance(dim, int):
            return self.constant(np.array([dim], self.shape_dtype()))
        if dim not in self._dim_tensors:
            self._dim_tensors[dim] = dim_expr.fold(
                dim_expr.parse(dim), self._var_tensor, lambda c: self.dim_tensor(int(c)), self._dim_op
            )
        return self._dim_tensors[dim]

    def shape_tensor(self, dims: Sequence):
        """A 1-D shape tensor of Relax dims (ints and symbolic dims), for layers that take their
        output shape as an input (shuffle, slice, resize, fill)."""
        if all(isinstance(d, int) for d in dims):
            return self.constant(np.array(dims, self.shape_dtype()))
        parts = [self.dim_tensor(d) for d in dims]
        return self.network.add_concatenation(parts).get_output(0) if len(parts) > 1 else parts[0]

    def _var_tensor(self, name: str):
        key = f"var:{name}"
        if key not in self._dim_tensors:
            if name not in self.symbols:
                raise ValueError(f"symbolic dim {name} is not a dim of any input of the subgraph")
            tensor, axis = self.symbols[name]
            if isinstance(axis, tuple):  # element k of a shape input's values
                element = self.network.add_slice(tensor, (axis[1],), (1,), (1,)).get_output(0)
                self._dim_tensors[key] = self.cast(element, str(self.shape_dtype()))
                return self._dim_tensors[key]
            shape = self.network.add_shape(tensor).get_output(0)
            self._dim_tensors[key] = self.network.add_slice(shape, (axis,), (1,), (1,)).get_output(0)
        return self._dim_tensors[key]

    def _dim_op(self, op: str, a, b):
        if op == "mod":  # a - (a // b) * b: TensorRT has no integer modulo
            return self._dim_op("sub", a, self._dim_op("mul", self._dim_op("floordiv", a, b), b))
        names = {"add": "SUM", "sub": "SUB", "mul": "PROD", "floordiv": "FLOOR_DIV", "min": "MIN", "max": "MAX"}
        op_type = getattr(self.trt.ElementWiseOperation, names[op])
        return self.network.add_elementwise(a, b, op_type).get_output(0)

    def transpose(self, x, perm: Sequence[int]):
        layer = self.network.add_shuffle(x)
        layer.first_transpose = tuple(perm)
        return layer.get_output(0)

    def expand_rank(self, x, rank: int):
        """Prepend size-1 dims (TensorRT elementwise needs equal ranks for broadcasting)."""
        if len(x.shape) >= rank:
            return x
        ones = (1,) * (rank - len(x.shape))
        layer = self.network.add_shuffle(x)
        if all(d >= 0 for d in x.shape):
            layer.reshape_dims = ones + tuple(x.shape)
        else:  # a 0 placeholder copies the input dim at the *same* index, so build the shape
            shape = self.network.add_shape(x).get_output(0)
            lead = self.constant(np.array(ones, np_dtype(shape.dtype)))
            layer.set_input(1, self.network.add_concatenation([lead, shape]).get_output(0))
            layer.zero_is_placeholder = False  # an empty axis (0) is kept, not read as "copy"
        return layer.get_output(0)

    def broadcast_pair(self, a, b):
        if isinstance(a, self.trt.ITensor):
            b = self.tensor(b, like=a)
        else:
            b = self.tensor(b)
            a = self.tensor(a, like=b)
        rank = max(len(a.shape), len(b.shape))
        return self.expand_rank(a, rank), self.expand_rank(b, rank)

    def elementwise(self, a, b, op: str):
        """``a <op> b`` (an ElementWiseOperation name), operands broadcast NumPy-style."""
        a, b = self.broadcast_pair(a, b)
        return self.network.add_elementwise(a, b, getattr(self.trt.ElementWiseOperation, op)).get_output(0)

    def unary(self, x, op: str):
        """``op(x)`` for a UnaryOperation name."""
        return self.network.add_unary(x, getattr(self.trt.UnaryOperation, op)).get_output(0)

    def cast(self, x, dtype: str):
        if x.dtype == trt_dtype(dtype):
            return x
        return self.network.add_cast(x, trt_dtype(dtype)).get_output(0)


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"weight{list(value.shape)}:{value.dtype}"
    if isinstance(value, tensorrt.trt().ITensor):
        return f"tensor{list(value.shape)}:{np_dtype(value.dtype)}"
    if isinstance(value, list):
        return "(" + ", ".join(_describe(v) for v in value) + ")"
    return repr(value)


def _check_shapes(symbol: str, node: SpecNode, out) -> None:
    """A converter's static output dims must be Relax's: a mismatch is a mistranslation, caught
    here instead of surfacing as wrong numbers."""
    outs = out if isinstance(out, (list, tuple)) else [out]
    for tensor, want in zip(outs, node.out):
        if not isinstance(tensor, tensorrt.trt().ITensor) or want["shape"] is None:
            continue
        got = tuple(tensor.shape)
        expected = want["shape"]
        if len(got) != len(expected) or any(isinstance(e, int) and g >= 0 and g != e for g, e in zip(got, expected)):
            raise ConversionError(
                f"subgraph {symbol}: converter for {node.op} (node {node.index}) produced shape "
                f"{list(got)}, Relax infers {expected}"
            )


def _check_returned(spec: Dict, node: SpecNode, out, converter) -> None:
    """A converter returns the op's ITensor (a list of them for tuple outputs): anything else is
    a bug of the converter, named here rather than failing later inside another op or TensorRT."""
    itensor = tensorrt.trt().ITensor
    outs = out if isinstance(out, (list, tuple)) else [out]
    if outs and all(isinstance(t, itensor) for t in outs):
        return
    var = spec["nodes"][node.index].get("var")
    raise ConversionError(
        f"subgraph {spec['symbol']}: converter {getattr(converter, '__module__', '?')}."
        f"{getattr(converter, '__qualname__', converter)} for {node.op} (Relax variable {var or '?'}, node {node.index}) "
        f"returned {type(out).__name__ if not isinstance(out, (list, tuple)) else _kinds(outs)}; "
        "a converter returns the output ITensor (a list of ITensors for tuple outputs)"
    )


def _kinds(values) -> str:
    return "[" + ", ".join(type(v).__name__ for v in values) + "]"


def build_network(spec: Dict, weights: Sequence[np.ndarray], builder, input_shapes=None):
    """Adds the spec's ops to a new network. ``input_shapes`` overrides the spec's input dims."""
    if SPEC_KEY in spec:  # the network is TensorRT's ONNX parser's (core/parsed_marks.py)
        from . import parsed_network

        return parsed_network.build(spec, weights, builder, input_shapes)
    trt = tensorrt.trt()
    flags = 0
    if (
        tensorrt.flavour() == "tensorrt"
        and hasattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH")
        and tensorrt.version() < (10, 0, 0)
    ):
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    ctx = ConvertContext(network, spec["symbol"])
    values: List[Any] = []
    inputs = []
    for i, inp in enumerate(spec["inputs"]):
        shape = input_shapes[i] if input_shapes is not None else trt_dims(inp["shape"])
        tensor = network.add_input(f"input_{i}", trt_dtype(inp.get("io_dtype", inp["dtype"])), tuple(shape))
        # io_dtype: set by the fp16 rewrite (precision.py); uint8 is held as FLOAT inside
        inputs.append(ctx.cast(tensor, held_dtype(inp["dtype"])))
        for axis, dim in enumerate(inp["shape"]):  # where each symbolic var can be read at run time
            if dim_expr.is_var(dim):
                ctx.symbols.setdefault(dim, (tensor, axis))
        for k, var in enumerate(inp.get("value_dims") or []):  # vars bound from the input's values
            if var is not None:
                ctx.symbols.setdefault(var, (tensor, ("value", k)))

    def resolve(ref):
        if "input" in ref:
            return inputs[ref["input"]]
        if "weight" in ref:
            return weights[ref["weight"]]
        if "node" in ref:
            out = values[ref["node"]]
            return out[ref["item"]] if "item" in ref else out
        if "tuple" in ref:
            return [resolve(r) for r in ref["tuple"]]
        if "shape" in ref:
            return list(ref["shape"])
        return ref["value"]

    def dims_of(ref):
        if "input" in ref:
            return spec["inputs"][ref["input"]]["shape"]
        if "node" in ref:
            return spec["nodes"][ref["node"]]["out"][ref.get("item", 0)]["shape"]
        if "weight" in ref:
            return list(weights[ref["weight"]].shape)
        return None

    for index, desc in enumerate(spec["nodes"]):
        node = SpecNode(
            desc["op"],
            [resolve(a) for a in desc["args"]],
            desc["attrs"],
            desc["out"],
            index,
            [dims_of(a) for a in desc["args"]],
        )
        entry = registry.get(node.op)
        first_layer = network.num_layers
        if node.args:
            node.args[0] = ctx.data_operand(node.args[0])
        keep = desc.get("compute_dtype")  # an op the fp16 rewrite keeps in float32 (precision.py)
        try:
            if entry is None:
                raise NotImplementedError("no converter registered")
            if keep:
                node.args = precision.cast_tree(ctx, node.args, "float16", keep)
            elif spec.get("precision") == "float16":  # a float32 result of an fp32_ops node feeds a half op
                node.args = precision.cast_tree(ctx, node.args, "float32", "float16")
            out = entry.converter(ctx, node)
            if keep and not desc.get("float32_out"):
                out = precision.cast_tree(ctx, out, keep, "float16")
        except Exception as err:
            raise ConversionError(
                f"subgraph {spec['symbol']}: converting {node.op} (node {index}) with inputs "
                f"{_describe(node.args)}: {type(err).__name__}: {err}"
            ) from err
        _check_returned(spec, node, out, entry.converter)
        for k in range(first_layer, network.num_layers):
            network.get_layer(k).name = f"{index}:{node.op}:{k - first_layer}"
        _check_shapes(spec["symbol"], node, out)
        values.append(out if desc.get("tuple_out") else (out[0] if isinstance(out, (list, tuple)) else out))

    for i, ref in enumerate(spec["results"]):
        tensor = resolve(ref)
        if isinstance(tensor, np.ndarray):
            tensor = ctx.constant(tensor)
        if tensor.is_network_input or tensor.is_network_output:  # an output twice: a copy per name
            tensor = network.add_identity(tensor).get_output(0)
        want = spec["outputs"][i]["dtype"]
        tensor = ctx.cast(tensor, want)
        tensor.name = f"output_{i}"
        network.mark_output(tensor)
    return network, ctx  # ctx keeps the weight arrays TensorRT points into alive
