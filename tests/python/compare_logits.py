"""Checks ann_test's outputs against the Python reference model for the same weights and images.

  compare_logits.py --checkpoint X.pth --depth 50 --classes 19 --images DIR --logits_dir L
                    --pred_dir P [--align_corners] [--tolerance 1e-4]

For every image: reference logits from ann_reference.py's model, ours from L/<stem>.pt (read
with torch.load); prints the max relative error (max |ours - ref| / max |ref|) and fails above
the tolerance. Also checks P/<stem>.png equals the argmax of our logits.
"""
import argparse
import glob
import os
import sys

import torch
import torchvision.io as io

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ann_reference  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--depth', type=int, default=50)
    p.add_argument('--classes', type=int, default=19)
    p.add_argument('--images', required=True)
    p.add_argument('--logits_dir', required=True)
    p.add_argument('--pred_dir', required=True)
    p.add_argument('--align_corners', action='store_true')
    p.add_argument('--tolerance', type=float, default=1e-4)
    a = p.parse_args()
    torch.set_num_threads(2)
    model = ann_reference.EncoderDecoder(a.depth, a.classes, align_corners=a.align_corners)
    model.load_state_dict(torch.load(a.checkpoint, map_location='cpu')['state_dict'])
    model.eval()
    paths = sorted(glob.glob(os.path.join(a.images, '*.png')))
    assert paths, 'no images'
    worst = 0.0
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        with torch.no_grad():
            ref = model(ann_reference.read_image(path))[0]
        ours = torch.load(os.path.join(a.logits_dir, stem + '.pt'))
        assert ours.dtype == torch.float32, ours.dtype
        assert ours.shape == ref.shape, (ours.shape, ref.shape)
        rel = float((ours - ref).abs().max() / ref.abs().max())
        worst = max(worst, rel)
        pred = io.read_image(os.path.join(a.pred_dir, stem + '.png'))
        assert pred.shape == (1,) + tuple(ours.shape[1:]), pred.shape
        agree = float((pred[0].long() == ours.argmax(0)).float().mean())
        print('%s: shape %s max relative error %.3g, PNG == argmax on %.4f of pixels'
              % (stem, tuple(ours.shape), rel, agree))
        assert agree == 1.0
    print('worst max relative error %.3g (tolerance %g)' % (worst, a.tolerance))
    return 0 if worst <= a.tolerance else 1


if __name__ == '__main__':
    sys.exit(main())
