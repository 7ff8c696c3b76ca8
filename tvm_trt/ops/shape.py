"""Shape ops: reshape, flatten, concat, permute_dims, squeeze, expand_dims."""
from __future__ import annotations

from .. import ir
from ..registry import register_op
from ._common import batch_axis_rule, norm_axis, rank_of


def _same_batch(call, opts):
    if not opts.use_implicit_batch:
        return None
    src, dst = ir.dims(call.args[0].ty), ir.dims(call.ty)
    if not src or not dst or src[0] != dst[0]:
        return f"changes the batch axis ({src[0] if src else '-'} -> {dst[0] if dst else '-'}) with use_implicit_batch=True"
    return None


def _reshape_dims(node):
    """Target dims; a symbolic batch dim becomes 0 ('copy from input')."""
    return tuple(0 if isinstance(d, str) else int(d) for d in node.out_shape)


@register_op("relax.reshape", check=_same_batch)
def reshape(ctx, node):
    return ctx.reshape(node.args[0], _reshape_dims(node))


def _concat_check(call, opts):
    rank = len(ir.dims(call.ty))
    return batch_axis_rule([norm_axis(int(call.attrs.axis), rank)], opts, "concat")


@register_op("relax.concat", check=_concat_check)
def concat(ctx, node):
    tensors = [ctx.tensor(t) for t in node.args[0]]
    layer = ctx.network.add_concatenation(tensors)
    layer.axis = norm_axis(int(node.attrs["axis"]), len(tensors[0].shape))
    return layer.get_output(0)


def _perm(attrs_axes, rank):
    return list(range(rank))[::-1] if attrs_axes is None else [norm_axis(int(a), rank) for a in attrs_axes]


def _permute_check(call, opts):
    perm = _perm(call.attrs.axes, rank_of(call.args[0]))
    if opts.use_implicit_batch and perm[0] != 0:
        return "moves the batch axis with use_implicit_batch=True"
    return None


@register_op("relax.permute_dims", check=_permute_check)
def permute_dims(ctx, node):
    x = node.args[0]
    return ctx.transpose(x, _perm(node.attrs["axes"], len(x.shape)))
