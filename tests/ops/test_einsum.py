"""relax.einsum -> IEinsumLayer, and the Einsum / Clip / Tile kernels of TVM's ONNX importer lifted
back to Relax ops before partitioning (whole offload, a TensorRT plan, numbers vs onnxruntime)."""

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from harness import (
    _plans_made,
    assert_offloaded,
    assert_rejected,
    check_op,
    make_module,
    random_inputs,
    run_llvm,
    run_offloaded,
)

R = relax.op
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize(
    "equation,shapes",
    [
        pytest.param("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], id="batch-matmul"),
        pytest.param("bhqd,bhkd->bhqk", [(1, 2, 4, 8), (1, 2, 6, 8)], id="attention-scores"),
        pytest.param("ij->ji", [(3, 4)], id="transpose"),
        pytest.param("ij->i", [(3, 4)], id="sum"),
        pytest.param("i,i->", [(5,), (5,)], id="inner-product"),
        pytest.param("i,j->ij", [(3,), (4,)], id="outer-product"),
        # an ellipsis is spelled out as fresh subscripts, right-aligned across operands as numpy does
        pytest.param("...ij->...ji", [(2, 3, 4)], id="ellipsis-transpose"),
        pytest.param("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)], id="ellipsis-batch-matmul"),
        pytest.param("...ij,...jk->...ik", [(6, 2, 2, 3), (2, 3, 4)], id="ellipsis-of-unequal-ranks"),
        pytest.param("...ij", [(2, 4, 3)], id="ellipsis-implicit-output"),
        pytest.param("...zz->...z", [(3, 3)], id="ellipsis-of-no-dims-diagonal"),
        pytest.param("...zz->...z", [(2, 3, 3)], id="ellipsis-diagonal"),
    ],
)
def test_einsum(equation, shapes):
    inputs = {f"x{i}": (s, "float32") for i, s in enumerate(shapes)}
    check_op(lambda *xs: R.einsum(relax.Tuple(list(xs)), equation), inputs)


@pytest.mark.parametrize(
    "equation,shapes,reason",
    [
        # the diagonal of a size-1 and a size-3 dim: Relax broadcasts it, TensorRT refuses the layer
        pytest.param("ii->i", [(1, 3)], "broadcasts subscript 'i' (1 vs 3)", id="diagonal-of-unequal-dims"),
        pytest.param("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)], "einsum of 3 operands", id="three-operands"),
        pytest.param("ij,ij->ij", [(2, 3), (1, 3)], "broadcasts subscript 'i'", id="broadcast"),
    ],
)
def test_einsum_refused_stays_in_tvm(equation, shapes, reason):
    inputs = {f"x{i}": (s, "float32") for i, s in enumerate(shapes)}
    mod = make_module(lambda *xs: R.einsum(relax.Tuple(list(xs)), equation), inputs)
    assert_rejected(mod, "relax.einsum", reason, use_implicit_batch=False)


# A subscript repeated within one operand takes a diagonal; TensorRT-RTX builds each of these forms.
DIAGONALS = [
    pytest.param("ii->i", [(4, 4)], id="diagonal"),
    pytest.param("ii->", [(4, 4)], id="trace"),
    pytest.param("ii", [(4, 4)], id="trace-implicit-output"),
    pytest.param("bii->bi", [(2, 4, 4)], id="batch-diagonal"),
    pytest.param("bii->b", [(2, 4, 4)], id="batch-trace"),
    pytest.param("iji->ji", [(3, 5, 3)], id="diagonal-of-outer-dims"),
    pytest.param("iii->i", [(3, 3, 3)], id="diagonal-of-three-dims"),
    pytest.param("ii,i->i", [(4, 4), (4,)], id="diagonal-times-vector"),
    pytest.param("ii,ij->j", [(4, 4), (4, 5)], id="diagonal-contracted"),
    pytest.param("bii,bi->bi", [(2, 4, 4), (2, 4)], id="batch-diagonal-times-vector"),
]


@pytest.mark.parametrize("equation,shapes", DIAGONALS)
def test_einsum_diagonal_offloaded(equation, shapes):
    """Offloaded whole, a plan built, numbers of the built network vs numpy.einsum and TVM-LLVM."""
    inputs = {f"x{i}": (s, "float32") for i, s in enumerate(shapes)}
    mod = make_module(lambda *xs: R.einsum(relax.Tuple(list(xs)), equation), inputs)
    pmod = assert_offloaded(mod, use_implicit_batch=False)
    args = random_inputs(inputs, seed=3)
    built_before = _plans_made()
    got = run_offloaded(pmod, args)[0]
    assert _plans_made() > built_before, "no TensorRT plan was built"
    want = np.einsum(equation, *args)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got, run_llvm(mod, args)[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_einsum_batch_diagonal_narrow_float(dtype):
    check_op(lambda x: R.einsum(relax.Tuple([x]), "bii->bi"), {"x": ((2, 4, 4), dtype)}, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("equation", ["bii->bi", "bii->"], ids=["batch-diagonal", "batch-trace"])
def test_einsum_diagonal_symbolic_dims(equation):
    """The batch and the diagonal's size symbolic: one plan runs at two shapes."""
    n, s = tvm.tirx.Var("n", "int64"), tvm.tirx.Var("s", "int64")
    mod = make_module(lambda x: R.einsum(relax.Tuple([x]), equation), {"x": ((n, s, s), "float32")})
    pmod = assert_offloaded(mod, use_implicit_batch=False)
    vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm", fallback=False), tvm.cpu())
    for shape in [(2, 3, 3), (1, 6, 6)]:
        x = np.random.default_rng(sum(shape)).standard_normal(shape).astype("float32")
        got = vm["main"](tvm.runtime.tensor(x)).numpy()
        want = np.einsum(equation, x)
        assert got.shape == want.shape, (shape, got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_einsum_diagonal_below_tensorrt_10_stays_in_tvm():
    mod = make_module(lambda x: R.einsum(relax.Tuple([x]), "bii->bi"), {"x": ((2, 3, 3), "float32")})
    assert_rejected(mod, "relax.einsum", "a diagonal): TensorRT < 10.0.0 refuses it", tensorrt_version=(8, 6, 0))


def _onnx_model(node, inputs, output, initializers=()):
    from onnx import TensorProto, helper

    tensor = helper.make_tensor_value_info
    graph = helper.make_graph(
        [node],
        "g",
        [tensor(name, TensorProto.FLOAT, shape) for name, shape in inputs.items()],
        [tensor(output, TensorProto.FLOAT, None)],
        initializer=list(initializers),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _case(model, feeds):
    """TVM's importer leaves call_tir kernels; partitioning lifts them and offloads the graph whole."""
    from tvm.relax.frontend.onnx import from_onnx

    mod = from_onnx(model)
    assert "R.call_tir" in mod["main"].script(), "the importer no longer emits a kernel: the case tests nothing"
    pmod = assert_offloaded(mod, use_implicit_batch=False)
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)
    args = list(feeds.values())
    for got in (run_offloaded(pmod, args), run_llvm(mod, args)):
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-5)


def _rand(*shape):
    return np.random.default_rng(7).standard_normal(shape).astype("float32")


def test_onnx_einsum_kernel_lifted():
    from onnx import helper

    node = helper.make_node("Einsum", ["q", "k"], ["y"], equation="bhqd,bhkd->bhqk")
    model = _onnx_model(node, {"q": [1, 2, 4, 8], "k": [1, 2, 6, 8]}, "y")
    _case(model, {"q": _rand(1, 2, 4, 8), "k": _rand(1, 2, 6, 8)})


def test_onnx_clip_with_tensor_bounds_lifted():
    from onnx import helper

    node = helper.make_node("Clip", ["x", "lo", "hi"], ["y"])
    model = _onnx_model(node, {"x": [2, 3, 4], "lo": [], "hi": []}, "y")
    _case(model, {"x": _rand(2, 3, 4), "lo": np.array(-0.5, "float32"), "hi": np.array(0.7, "float32")})


@pytest.mark.parametrize(
    "shape,reps",
    [
        pytest.param([2, 3, 4], [2, 1, 3], id="every-dim"),
        # topi.tile reads a size-1 dim at index 0 (ViTMAE tiles (1, n, 1) kept-patch ids over the hidden size).
        pytest.param([1, 4, 1], [1, 1, 64], id="size-1-dims"),
        pytest.param([3, 1], [2, 5], id="size-1-last-dim"),
    ],
)
def test_onnx_tile_with_constant_repeats_lifted(shape, reps):
    from onnx import helper, numpy_helper

    node = helper.make_node("Tile", ["x", "reps"], ["y"])
    model = _onnx_model(node, {"x": shape}, "y", [numpy_helper.from_array(np.array(reps, "int64"), "reps")])
    _case(model, {"x": _rand(*shape)})


@pytest.mark.parametrize(
    "name,shape",
    [
        ("diagonal", (2, 4, 4)),
        ("trace", (4, 4)),
        ("diag", (4, 4)),
        ("diagonal-offset", (4, 4)),  # two slices, then '...zz->...z'
        ("diagonal-non-square", (3, 5)),
    ],
)
def test_torch_diagonal_and_trace_offloaded(name, shape):
    """TVM's exported-program frontend emits torch.diagonal / trace / diag as einsum diagonals ('azz->az',
    'zz->z' + sum, '...zz->...z' after slices): offloaded whole, numbers vs PyTorch."""
    torch = pytest.importorskip("torch")
    from tvm.relax.frontend.torch import from_exported_program

    fn = {
        "diagonal": lambda x: torch.diagonal(x, dim1=1, dim2=2),
        "trace": torch.trace,
        "diag": torch.diag,
        "diagonal-offset": lambda x: torch.diagonal(x, offset=1),
        "diagonal-non-square": torch.diagonal,
    }[name]

    class Model(torch.nn.Module):
        def forward(self, x):
            return fn(x)

    x = np.random.default_rng(5).standard_normal(shape).astype("float32")
    mod = from_exported_program(torch.export.export(Model(), (torch.from_numpy(x),)))
    assert "R.einsum" in mod["main"].script(), "the frontend no longer emits einsum: the case tests nothing"
    got = run_offloaded(assert_offloaded(mod, use_implicit_batch=False), [x])[0]
    np.testing.assert_allclose(got, fn(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-5)
