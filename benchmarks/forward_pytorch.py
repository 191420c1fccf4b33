"""PyTorch eager timing of the reference ANN forward (eval, no grad), for forward_vs_pytorch.

  forward_pytorch.py --depth 50 --height 512 --width 1024 --threads 2 --runs 3
Prints one line: "pytorch_ms <mean milliseconds per forward>".
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                'python'))
import ann_reference  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--depth', type=int, default=50)
    p.add_argument('--height', type=int, default=512)
    p.add_argument('--width', type=int, default=1024)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--runs', type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = ann_reference.EncoderDecoder(a.depth, 19).eval()
    x = torch.randn(1, 3, a.height, a.width)
    with torch.no_grad():
        model(x)  # warm-up
        start = time.perf_counter()
        for _ in range(a.runs):
            model(x)
        elapsed = (time.perf_counter() - start) / a.runs
    print('pytorch_ms %.1f' % (elapsed * 1000))


if __name__ == '__main__':
    main()
