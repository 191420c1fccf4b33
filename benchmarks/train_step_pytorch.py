"""PyTorch eager timing of one ANN training step (forward of both heads in train mode, mmseg's
CE ignore 255 on the decode head + 0.4 x aux, backward, torch.optim.SGD), for
train_step_vs_pytorch.

  train_step_pytorch.py --depth 50 --crop 512 --batch 2 --threads 2 --runs 2 [--bf16]
      [--channels_last]
--bf16: the forward under torch.autocast('cpu', dtype=torch.bfloat16), logits back to float32.
--channels_last: the model and the input in torch.channels_last (PyTorch's advice for CPU).
Prints one line: "pytorch_ms <min> <median>" (milliseconds per step).
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                'python'))
import ann_reference  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--depth', type=int, default=50)
    p.add_argument('--crop', type=int, default=512)
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--runs', type=int, default=2)
    p.add_argument('--bf16', action='store_true')
    p.add_argument('--channels_last', action='store_true')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ann_reference.EncoderDecoder(a.depth, 19).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(a.batch, 3, a.crop, a.crop)
    y = torch.randint(0, 19, (a.batch, a.crop, a.crop))
    y[:, :8] = 255
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        opt.zero_grad()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
            feats = model.backbone(x)
            dec = model.decode_head(feats)
            aux = model.auxiliary_head(feats)
        size = y.shape[1:]
        dec = F.interpolate(dec.float(), size=size, mode='bilinear', align_corners=False)
        aux = F.interpolate(aux.float(), size=size, mode='bilinear', align_corners=False)
        loss = (F.cross_entropy(dec, y, ignore_index=255, reduction='none').mean() +
                0.4 * F.cross_entropy(aux, y, ignore_index=255, reduction='none').mean())
        loss.backward()
        opt.step()

    step()  # warm-up
    ms = []
    for _ in range(a.runs):
        start = time.perf_counter()
        step()
        ms.append((time.perf_counter() - start) * 1000)
    ms.sort()
    print('pytorch_ms %.1f %.1f' % (ms[0], ms[len(ms) // 2]))


if __name__ == '__main__':
    main()
