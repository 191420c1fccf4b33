"""Checks of ONNX exports, computed independently of the C++ code:

  onnx_check.py randomize IN.pth OUT.pth SEED [INPUT_SCALE]
                                                weights drawn at random (He-scaled convs, BN near
                                                the identity, attention out-projections non-zero;
                                                the first conv times INPUT_SCALE)
  onnx_check.py input IMAGE CONFIG_MEAN CONFIG_STD TO_RGB OUT.f32
                                                the normalised [1, 3, H, W] float32 input; prints
                                                N,C,H,W
  onnx_check.py compare ORT.logits.bin N,K,H,W REFERENCE.pt [LABELS.bin LABELS.png]
                                                max relative error of ORT's logits against a [K,H,W]
                                                reference (ann_test's .pt or torch's), argmax
                                                agreement, and ORT's labels against a label PNG
  onnx_check.py model MODEL.onnx                the file passes Python's onnx.checker (full check)
                                                and shape inference; prints its metadata as JSON
"""
import json
import sys

import numpy as np


def randomize(src, dst, seed, input_scale="1"):
    import torch
    checkpoint = torch.load(src, map_location="cpu")
    import re
    g = torch.Generator().manual_seed(int(seed))
    state = checkpoint["state_dict"]
    # The last BN of each residual block scaled down, so that activations stay of one scale
    # through the blocks (as trained networks keep them) and float32 rounding stays small.
    last_bn = "bn3" if any(".conv3." in k for k in state) else "bn2"
    residual_out = re.compile(r"backbone\.layer\d\.\d+\.%s\.weight" % last_bn)
    for name, t in state.items():
        if not t.is_floating_point():
            continue
        if residual_out.fullmatch(name):
            state[name] = 0.1 + 0.2 * torch.rand(t.shape, generator=g)
        elif t.dim() == 4:
            fan_in = t.shape[1] * t.shape[2] * t.shape[3]
            state[name] = torch.randn(t.shape, generator=g) * (2.0 / fan_in) ** 0.5
            # Moderate attention logits: a softmax near a tie between two anchors would turn
            # float32 rounding into large differences (ill-conditioned, unlike trained models).
            if "key_project" in name or "query_project" in name:
                state[name] *= 0.3
        elif name.endswith("running_var") or (name.endswith(".weight") and t.dim() == 1):
            state[name] = 0.75 + 0.5 * torch.rand(t.shape, generator=g)
        else:
            state[name] = 0.2 * torch.rand(t.shape, generator=g) - 0.1
    # The first conv scaled to the input's range (the authors' variant subtracts the mean only).
    state["backbone.stem.0.weight"] *= float(input_scale)
    torch.save(checkpoint, dst)
    return 0


def make_input(image, mean, std, to_rgb, out):
    import cv2
    img = cv2.imread(image, cv2.IMREAD_COLOR)
    if to_rgb == "true":
        img = img[:, :, ::-1]
    mean = np.array([float(v) for v in mean.split(",")], np.float32)
    std = np.array([float(v) for v in std.split(",")], np.float32)
    x = ((img.astype(np.float32) - mean) / std).transpose(2, 0, 1)[None]
    np.ascontiguousarray(x, np.float32).tofile(out)
    print(",".join(str(d) for d in x.shape))
    return 0


def compare(logits_bin, dims, reference, labels_bin=None, labels_png=None):
    import torch
    shape = [int(d) for d in dims.split(",")]
    ours = np.fromfile(logits_bin, np.float32).reshape(shape)[0]
    ref = torch.load(reference, map_location="cpu")
    ref = (ref[0] if ref.dim() == 4 else ref).numpy()
    assert ref.shape == ours.shape, (ref.shape, ours.shape)
    rel = np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-12)
    agree = (ours.argmax(0) == ref.argmax(0)).mean()
    out = {"max_rel_err": float(rel), "argmax_agreement": float(agree)}
    ok = rel <= 1e-4 and agree >= 0.9999
    if labels_bin:
        import cv2
        labels = np.fromfile(labels_bin, np.int64).reshape([shape[0]] + shape[2:])[0]
        png = cv2.imread(labels_png, cv2.IMREAD_UNCHANGED)
        out["labels_equal_png"] = bool((labels == png).all())
        ok = ok and out["labels_equal_png"]
    print(json.dumps(out))
    return 0 if ok else 1


def model(path):
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    meta = {p.key: p.value for p in m.metadata_props}
    meta["opset"] = m.opset_import[0].version
    meta["inputs"] = [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]
                      for i in m.graph.input]
    meta["outputs"] = [o.name for o in m.graph.output]
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    sys.exit({"randomize": randomize, "input": make_input, "compare": compare,
              "model": model}[command](*args))
