"""PyTorch peers of forward_vs_pytorch: the reference ANN (tests/python/ann_reference.py), eval,
no grad, timed in every configuration PyTorch offers on a CPU.

  forward_pytorch.py --depth 50 --height 512 --width 1024 --threads 2 --runs 3 --checkpoint OUT
writes the (seeded, randomised) weights to OUT for the C++ side, then prints one line per peer:
  "<peer> <min ms> <median ms>"
--peers a,b: time only those peers; --suffix S: append S to the printed names (the C++ side runs
the script again under other malloc settings). Without --checkpoint no weights are written.
Input: torch.manual_seed(0); torch.randn(1, 3, H, W) (the C++ side draws the same numbers).
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                'python'))
import ann_reference  # noqa: E402


def timed(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def fx_int8(model, depth, x):
    """PyTorch's own int8: FX graph-mode post-training static quantization with the onednn
    backend's default qconfig, calibrated on `x` (the image the C++ side calibrates on). The
    attention block is left in float (FX cannot trace its data-dependent reshapes)."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.fx.custom_config import PrepareCustomConfig
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = 'onednn'
    copy = ann_reference.EncoderDecoder(depth, 19).eval()
    copy.load_state_dict(model.state_dict())
    custom = PrepareCustomConfig().set_non_traceable_module_classes(
        [ann_reference.SelfAttentionBlock])
    prepared = prepare_fx(copy, get_default_qconfig_mapping('onednn'), example_inputs=(x,),
                          prepare_custom_config=custom)
    prepared(x)
    quantized = convert_fx(prepared)
    agree = (quantized(x).argmax(1) == model(x).argmax(1)).float().mean().item()
    print('pytorch_fx_int8_onednn vs pytorch_eager_fp32: argmax agreement %.4f%%' % (100 * agree),
          file=sys.stderr)
    return quantized


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--depth', type=int, default=50)
    p.add_argument('--height', type=int, default=512)
    p.add_argument('--width', type=int, default=1024)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--checkpoint')
    p.add_argument('--peers', help='comma-separated subset of the peers to time')
    p.add_argument('--suffix', default='')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = ann_reference.EncoderDecoder(a.depth, 19).eval()
    ann_reference.randomise(model, 0)
    if a.checkpoint:
        torch.save(ann_reference.mmseg_checkpoint(model, 19), a.checkpoint)
    torch.manual_seed(0)
    x = torch.randn(1, 3, a.height, a.width)
    peers = []
    wanted = a.peers.split(',') if a.peers else None
    with torch.no_grad():
        peers.append(('pytorch_eager_fp32', model, x, False))
        cl = ann_reference.EncoderDecoder(a.depth, 19).eval()
        cl.load_state_dict(model.state_dict())
        cl = cl.to(memory_format=torch.channels_last)
        x_cl = x.contiguous(memory_format=torch.channels_last)
        peers.append(('pytorch_channels_last_fp32', cl, x_cl, False))
        if wanted is None or 'pytorch_jit_freeze_fp32' in wanted:
            try:
                frozen = torch.jit.freeze(torch.jit.trace(model, x))
                peers.append(('pytorch_jit_freeze_fp32', frozen, x, False))
            except Exception as e:  # noqa: BLE001
                print('pytorch_jit_freeze_fp32 failed: %s' % str(e).splitlines()[0],
                      file=sys.stderr)
        peers.append(('pytorch_bf16_autocast', model, x, True))
        peers.append(('pytorch_bf16_autocast_channels_last', cl, x_cl, True))
        if wanted is None or 'pytorch_fx_int8_onednn' in wanted:
            try:
                peers.append(('pytorch_fx_int8_onednn', fx_int8(model, a.depth, x), x, False))
            except Exception as e:  # noqa: BLE001
                print('pytorch_fx_int8_onednn failed: %s' % str(e).splitlines()[0],
                      file=sys.stderr)
        for name, net, inp, bf16 in peers:
            if wanted is not None and name not in wanted:
                continue
            def run(net=net, inp=inp, bf16=bf16):
                with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
                    return net(inp)
            lo, med = timed(run, a.runs)
            print('%s%s %.1f %.1f' % (name, a.suffix, lo, med), flush=True)


if __name__ == '__main__':
    main()
