"""Fused attention (IAttention: an ATTENTION_INPUT / ATTENTION_OUTPUT layer pair) and rotary
position embedding, as ONNX's Attention and RotaryEmbedding define them.

Attention takes padded BHND query, key and value (key/value heads may divide the query heads:
grouped-query attention), an optional mask (boolean: True attends; float: added to the scores)
or a causal alignment, and optional per-batch key/value lengths; scores are q @ k^T (the scale
is folded into q and k by whoever builds the network), normalised by softmax over the keys.
"""

from __future__ import annotations

import numpy as np

from ._common import LayerEval, compute, evaluates, ints


def _input_named(node: LayerEval, tensor):
    """The array bound to `tensor` among the layer's inputs (the attention's optional tensors
    are inputs of the ATTENTION_INPUT layer), or None."""
    if tensor is None:
        return None
    for j in range(node.layer.num_inputs):
        bound = node.layer.get_input(j)
        if bound is not None and bound.name == tensor.name:
            return node.inputs[j]
    raise ValueError(f"reference executor: layer '{node.layer.name}': tensor '{tensor.name}' is not one of its inputs")


def _broadcasts(shape, target) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


@evaluates("ATTENTION_INPUT", "IAttentionInputLayer")
def _attention(node: LayerEval):
    attention = node.layer.attention
    for attribute in ("query_form", "key_value_form"):
        form = getattr(attention, attribute).name
        if form != "PADDED_BHND":
            raise node.unsupported(attribute, form)
    if attention.norm_op.name != "SOFTMAX":
        raise node.unsupported("norm_op", attention.norm_op.name)
    if attention.normalization_quantize_scale is not None:
        raise node.unsupported("normalization_quantize_scale", "set")
    q, k, v = (compute(t).astype(np.float64) for t in node.inputs[:3])
    heads, kv_heads = q.shape[1], k.shape[1]
    if heads % kv_heads:
        raise ValueError(f"reference executor: layer '{node.layer.name}': {heads} query heads, {kv_heads} kv heads")
    k, v = (np.repeat(t, heads // kv_heads, axis=1) for t in (k, v))
    scores = q @ np.swapaxes(k, -1, -2)  # (B, H, Sq, Skv)
    allowed = np.ones(scores.shape, bool)
    s_q, s_kv = scores.shape[-2:]
    kind = attention.causal_kind.name
    if kind == "NONE" and attention.causal:
        kind = "UPPER_LEFT"
    if kind != "NONE":
        offset = 0 if kind == "UPPER_LEFT" else s_kv - s_q  # LOWER_RIGHT aligns the last query with the last key
        allowed &= np.arange(s_kv)[None, :] <= np.arange(s_q)[:, None] + offset
    mask = _input_named(node, attention.mask)
    if mask is not None:
        if not _broadcasts(mask.shape, scores.shape):
            raise ValueError(
                f"reference executor: layer '{node.layer.name}': mask of shape {mask.shape} does not broadcast "
                f"to the scores' {scores.shape}"
            )
        if mask.dtype == np.bool_:
            allowed &= mask
        else:
            scores = scores + compute(mask).astype(np.float64)
    lengths = _input_named(node, attention.key_value_lengths)
    if lengths is not None:
        valid = np.arange(s_kv)[None, :] < np.array(ints(lengths))[:, None]  # (B, Skv)
        allowed &= valid[:, None, None, :]
    scores = np.where(allowed, scores, -np.inf)
    if np.any(np.all(np.isneginf(scores), axis=-1)):
        raise NotImplementedError(
            f"reference executor: layer '{node.layer.name}' of type ATTENTION_INPUT: a query with no key to attend "
            "to (every score masked) has no documented result"
        )
    e = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
    return (e / np.sum(e, axis=-1, keepdims=True)) @ v


@evaluates("ATTENTION_OUTPUT", "IAttentionOutputLayer")
def _attention_output(node: LayerEval):
    return node.inputs[0]


@evaluates("ROTARY_EMBEDDING", "IRotaryEmbeddingLayer")
def _rotary_embedding(node: LayerEval):
    """x (B, H, S, D): the first rotary_embedding_dim features (all when 0) are rotated in pairs
    (interleaved: (0, 1), (2, 3), ...; otherwise (i, i + dim / 2)) by the angles whose cosines and
    sines are the caches' rows at position_ids (or the caches themselves, (B, S, dim / 2))."""
    layer = node.layer
    x = compute(node.inputs[0]).astype(np.float64)
    cos, sin = (compute(t).astype(np.float64) for t in node.inputs[1:3])
    positions = node.input(3)
    if x.ndim != 4:
        raise node.unsupported("input rank", x.ndim)
    if positions is not None:
        cos, sin = cos[positions.astype(np.int64)], sin[positions.astype(np.int64)]
    cos, sin = cos[:, None], sin[:, None]  # (B, 1, S, dim / 2): the same angles for every head
    dim = layer.rotary_embedding_dim or x.shape[-1]
    rotate, keep = x[..., :dim], x[..., dim:]
    if layer.interleaved:
        x1, x2 = rotate[..., 0::2], rotate[..., 1::2]
    else:
        x1, x2 = np.split(rotate, 2, axis=-1)
    real, imag = cos * x1 - sin * x2, sin * x1 + cos * x2
    if layer.interleaved:
        rotated = np.stack([real, imag], axis=-1).reshape(rotate.shape)
    else:
        rotated = np.concatenate([real, imag], axis=-1)
    return np.concatenate([rotated, keep], axis=-1)
