"""The registries: an op's whole policy in its entry, registrations validated, evaluators unique."""

import logging

import pytest
from tvm import relax

import tvm_trt
from harness import assert_rejected, make_module
from tvm_trt.core import call_checks, registry
from tvm_trt.network import precision
from tvm_trt.reference import _common as reference

OP = "relax.trunc"  # no built-in converter (the README's example registers it)
X = {"x": ((2, 3, 5), "float32")}


@pytest.fixture
def free_op():
    if registry.get(OP) is not None:
        pytest.skip(f"{OP} has a built-in converter now; pick another op for this test")
    yield OP
    registry.unregister_op(OP)


def _trunc(ctx, node):
    x = node.args[0]
    return ctx.elementwise(ctx.unary(x, "SIGN"), ctx.unary(ctx.unary(x, "ABS"), "FLOOR"), "PROD")


@pytest.mark.parametrize("converter", [None, 5, "relax.trunc"], ids=["none", "int", "str"])
def test_converter_must_be_callable(free_op, converter):
    with pytest.raises(TypeError, match=r"register_op\('relax.trunc'\): the converter must be callable"):
        registry.register_op(free_op)(converter)
    assert registry.get(free_op) is None


def test_predicate_must_be_callable(free_op):
    with pytest.raises(TypeError, match=r"register_op\('relax.trunc'\): check must be a predicate"):
        registry.register_op(free_op, check="x.ndim > 0")


@pytest.mark.parametrize("returned", [5, False, True, ["reason"]], ids=["int", "false", "true", "list"])
def test_predicate_returning_no_reason_is_named(free_op, returned, caplog):
    """A predicate answers None or a reason string; anything else keeps the call in TVM with a
    reason naming the op and the predicate (the reason used to read "5")."""

    def bool_style(call, opts):
        return returned

    registry.register_op(free_op, check=bool_style)(_trunc)
    with caplog.at_level(logging.WARNING):
        assert_rejected(
            make_module(lambda x: relax.op.trunc(x), X),
            free_op,
            f"the predicate of relax.trunc (test_predicate_returning_no_reason_is_named.<locals>.bool_style) "
            f"returned {returned!r} ({type(returned).__name__}); a predicate returns None (supported) "
            "or a reason string",
        )
    assert "the predicate of relax.trunc" in caplog.text


def test_policy_reads_in_one_place(free_op):
    """The entry lists every check a call goes through: the generic ones, the op's version gate
    and dtypes (its data), then its predicate."""

    def innermost(call, opts):
        return None

    registry.register_op(free_op, check=innermost, min_version=(8, 6), dtypes=("float32", "int64"))(_trunc)
    names = [c.__qualname__ for c in registry.get(free_op).policy]
    assert names == [
        "output_shapes_from_inputs",
        "min_version_gate(8.6.0)",
        "tensor_arguments",
        "each_tensor(not_float64, dtype_in.<locals>.dtype_accepted, known_dims)",
        "dtype_gate.<locals>.check",
        "test_policy_reads_in_one_place.<locals>.innermost",
    ]
    mod = make_module(lambda x: relax.op.trunc(x), X)
    assert_rejected(mod, free_op, "relax.trunc needs TensorRT >= 8.6.0 (target 8.0.0)", version=(8, 0))
    assert_rejected(
        make_module(lambda x: relax.op.trunc(x), {"x": ((2, 3), "float16")}),
        free_op,
        "dtype float16 is not supported by the TensorRT converter for relax.trunc",
    )


def test_generic_checks_come_from_call_checks():
    entry = registry.get("relax.nn.relu")
    assert entry.policy[0] is call_checks.output_shapes_from_inputs
    assert entry.policy[2] is call_checks.tensor_arguments


def test_keep_float32_is_registration_data(free_op):
    """What the FP16 rewrite keeps in float32 is what registrations say: the built-in
    exponentials, norms and sums, and a user's op registered with keep_float32=True."""
    assert precision.kept_in_float32() == {
        "relax.nn.softmax",
        "relax.nn.log_softmax",
        "relax.nn.layer_norm",
        "relax.nn.group_norm",
        "relax.nn.rms_norm",
        "relax.nn.batch_norm",
        "relax.sum",
        "relax.mean",
        "relax.prod",
        "relax.cumsum",
        "relax.variance",
    }
    registry.register_op(free_op, keep_float32=True)(_trunc)
    out = [{"shape": [2, 3], "dtype": "float32"}]
    spec = {
        "inputs": [dict(out[0])],
        "weights": [],
        "nodes": [
            {"op": free_op, "args": [], "attrs": {}, "out": out},
            {"op": "relax.nn.relu", "args": [], "attrs": {}, "out": out},
        ],
    }
    half, _ = precision.to_fp16(spec, [])
    assert half["nodes"][0].get("compute_dtype") == "float32" and half["nodes"][0]["out"][0]["dtype"] == "float32"
    assert "compute_dtype" not in half["nodes"][1] and half["nodes"][1]["out"][0]["dtype"] == "float16"


def test_evaluator_registered_twice_raises():
    """Like register_op: a second evaluator for a layer type is refused (it used to overwrite)."""
    before = dict(reference.EVALUATORS)
    with pytest.raises(ValueError, match="reference evaluator for TensorRT UNARY layers is already registered"):
        reference.evaluates("UNARY", "IUnaryLayer")(lambda node: node.inputs[0])
    with pytest.raises(TypeError, match=r"evaluates\('NMS'\): the evaluator must be callable"):
        reference.evaluates("NMS", "INMSLayer")(None)
    assert reference.EVALUATORS == before


def test_reason_per_call():
    mod = make_module(lambda x: [relax.op.nn.relu(x), relax.op.nonzero(x)], {"x": ((2, 3), "float32")})
    relu, nonzero = [b.value for b in mod["main"].body.blocks[0].bindings]
    assert registry.reason(relu, tvm_trt.PartitionOptions()) is None
    assert registry.reason(nonzero, tvm_trt.PartitionOptions()) == "no TensorRT converter registered for relax.nonzero"
