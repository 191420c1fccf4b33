"""An independent FLOP count of the reference ANN (tests/python/ann_reference.py) in the fvcore
convention of the README's ann_efficiency section, from forward hooks and wrapped ops while the model really runs:
conv N·Cout·(Cin/g)·kh·kw·Hout·Wout, matmul prod(A)·B[-1], BN 2·numel, adaptive pooling input
numel, bilinear 4·output numel.

  count_flops.py --depth 50 --height 512 --width 1024
Prints "total <n> conv <n> matmul <n> bn <n> pool <n> upsample <n>".
"""
import argparse
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ann_reference  # noqa: E402

COUNTS = {"conv": 0, "matmul": 0, "bn": 0, "pool": 0, "upsample": 0}


def conv_hook(m, inputs, out):
    n, cout, h, w = out.shape
    COUNTS["conv"] += n * cout * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1] * h * w


def bn_hook(m, inputs, out):
    COUNTS["bn"] += 2 * out.numel()


def pool_hook(m, inputs, out):
    COUNTS["pool"] += inputs[0].numel()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--depth", type=int, default=50)
    p.add_argument("--height", type=int, default=512)
    p.add_argument("--width", type=int, default=1024)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = ann_reference.EncoderDecoder(a.depth, 19).eval()
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, nn.BatchNorm2d):
            m.register_forward_hook(bn_hook)
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            m.register_forward_hook(pool_hook)
    matmul, interpolate = torch.matmul, ann_reference.F.interpolate

    def counted_matmul(x, y):
        COUNTS["matmul"] += x.numel() * y.shape[-1]
        return matmul(x, y)

    def counted_interpolate(x, size=None, **kw):
        out = interpolate(x, size=size, **kw)
        COUNTS["upsample"] += 4 * out.numel()
        return out

    torch.matmul = counted_matmul
    ann_reference.F.interpolate = counted_interpolate
    with torch.no_grad():
        model(torch.randn(1, 3, a.height, a.width))
    print("total %d %s" % (sum(COUNTS.values()),
                           " ".join("%s %d" % (k, v) for k, v in COUNTS.items())))


if __name__ == "__main__":
    main()
