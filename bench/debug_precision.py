"""tvm_trt.debug.compare on real model families (random weights), for README "Debugging precision":
a BERT whose first feed-forward output exceeds FP16's range (its weights scaled up to exceed it, as the large
activations of trained transformers do), in FP16; and ResNet-50 in INT8 with run-time calibration.

    python bench/debug_precision.py [--layers 2] [--seq 64] [--image 224] [--out docs]
"""

import argparse
import os
import time

import torch

from tvm_trt.debug import compare
from tvm_trt.testing import torch_zoo


def bert(layers: int, seq: int, out: str) -> None:
    model, inputs = torch_zoo.build("bert", seq=seq, layers=layers)
    with torch.no_grad():  # large activations: the first FFN output dense, x1e5 (outputs beyond 65504)
        model.inner.encoder.layer[0].output.dense.weight.mul_(1e5)
    exported = _export(model, inputs)
    mod, params = torch_zoo.import_onnx(exported)
    start = time.perf_counter()
    report = compare(mod, params, [v.numpy() for v in inputs.values()], precision="fp16")
    print(f"== BERT ({layers} layers, seq {seq}), FP16, {time.perf_counter() - start:.0f} s ==")
    print(report)
    report.plot(os.path.join(out, "debug_precision_bert_fp16.png"))
    report.to_json(os.path.join(out, "debug_precision_bert_fp16.json"))


def resnet50(image: int, out: str) -> None:
    model, inputs = torch_zoo.build("resnet50", image=image)
    mod, params = torch_zoo.import_onnx(_export(model, inputs))
    start = time.perf_counter()
    report = compare(mod, params, [v.numpy() for v in inputs.values()], precision="int8")
    print(f"== ResNet-50 ({image}x{image}), INT8 with run-time calibration, {time.perf_counter() - start:.0f} s ==")
    print(report)
    print(
        "largest errors:", [(layer.name, layer.relax_op, round(layer.max_rel_err, 4)) for layer in report.ranked()[:5]]
    )
    report.plot(os.path.join(out, "debug_precision_resnet50_int8.png"))
    report.to_json(os.path.join(out, "debug_precision_resnet50_int8.json"))


def _export(model, inputs):
    import io

    import onnx

    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            model,
            tuple(inputs.values()),
            buf,
            input_names=list(inputs),
            output_names=["out"],
            opset_version=17,
            dynamo=False,
        )
    return onnx.load_from_string(buf.getvalue())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--image", type=int, default=224)
    parser.add_argument("--out", default="docs")
    parser.add_argument("--only", choices=("bert", "resnet50"))
    args = parser.parse_args()
    if args.only in (None, "bert"):
        bert(args.layers, args.seq, args.out)
    if args.only in (None, "resnet50"):
        resnet50(args.image, args.out)
