"""Checks an ONNX model written by `examples/export.rs` with ONNX's own
checker and shape inference, then runs it in ONNX Runtime on the 10,000
MNIST test images against staticnet's scores.

    python onnx-check.py MODEL.onnx SCORES.npy MNIST_DIR [--probabilities]

Passes when: `onnx.checker.check_model(full_check=True)` accepts the model;
strict shape inference infers, for every value the model declares, the
shape the declaration gave it; ONNX Runtime gives the same class for every
image, and its outputs are within 1e-5 of staticnet's, relative to the
largest.
"""
import gzip
import sys

import numpy as np
import onnx
import onnxruntime as ort


def shapes(values):
    out = {}
    for v in values:
        dims = [d.dim_param if d.HasField("dim_param") else d.dim_value
                for d in v.type.tensor_type.shape.dim]
        out[v.name] = dims
    return out


def test_images(mnist_dir):
    with gzip.open(f"{mnist_dir}/t10k-images-idx3-ubyte.gz") as f:
        data = f.read()
    return np.frombuffer(data, np.uint8, offset=16).reshape(10000, 784).astype(np.float32) / 255


def main():
    model_path, scores_path, mnist_dir = sys.argv[1:4]
    probabilities = "--probabilities" in sys.argv[4:]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    declared = shapes(list(model.graph.value_info) + list(model.graph.output))
    stripped = onnx.ModelProto()
    stripped.CopyFrom(model)
    del stripped.graph.value_info[:]
    inferred = onnx.shape_inference.infer_shapes(stripped, check_type=True, strict_mode=True)
    found = shapes(list(inferred.graph.value_info) + list(inferred.graph.output))
    wrong = [(name, dims, found.get(name)) for name, dims in declared.items() if found.get(name) != dims]
    if wrong:
        sys.exit(f"shape inference disagrees with the declaration: {wrong[:5]}")
    print(f"{model_path}: checker passed; shape inference agrees on {len(declared)} values "
          f"(opset {model.opset_import[0].version}, {len(model.graph.node)} nodes)")

    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0]
    sample = [d for d in feed.shape[1:]]
    images = test_images(mnist_dir).reshape([10000] + sample)
    got = np.concatenate([session.run(None, {feed.name: images[k:k + 1000]})[0]
                          for k in range(0, 10000, 1000)])
    expected = np.load(scores_path)
    if probabilities:
        e = np.exp(expected - expected.max(axis=1, keepdims=True))
        expected = e / e.sum(axis=1, keepdims=True)
    classes = (got.argmax(axis=1) == expected.argmax(axis=1)).sum()
    gap = np.abs(got - expected).max()
    relative = gap / max(np.abs(expected).max(), 1e-30)
    print(f"ONNX Runtime {ort.__version__}: {classes} of 10000 classes the same; "
          f"largest gap {gap:.3g} ({relative:.3g} of the largest output)")
    if classes != 10000 or relative > 1e-5:
        sys.exit("ONNX Runtime disagrees with staticnet")


main()
