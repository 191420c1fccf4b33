"""Independent Python implementations of the test-time augmentations, for the end-to-end tests.

Written from mmcv / mmseg and the authors' code (the README's ann_eval section), with Debian's python3-opencv (the
cv2.resize that mmcv and the authors call) and python3-torch:

  aug_reference.py passes --image IMG --ratios 0.5,1.0 [--flip] [--test_scale WxH]
                          --style mmseg0x|mmseg1x --out DIR
      the input of every single pass of mmseg's multi-scale + flip test, as PNGs (resized with
      cv2.resize bilinear to mmcv's keep-ratio size, mirrored for flipped passes) and a
      manifest; ann_test then predicts each one in one plain pass (--logits_dir).
  aug_reference.py average --image IMG --dir DIR --pass_logits DIR2 --style S [--align_corners]
                           --got AUG.pt [--tolerance 1e-5]
      mmseg's averaging of those passes (resize to the image, softmax, un-flip; 1.x un-flips
      before resizing) compared with what ann_test's multi-scale run wrote.
  aug_reference.py mscrop --checkpoint X.pth --depth 18 --classes 19 [--align_corners]
                          --image IMG --scales 0.75,1.0,1.25 [--flip] --crop WxH --stride WxH
                          --got MSCROP.pt [--tolerance 1e-4]
      the authors' mscrop_test on ann_reference.py's network, compared with ann_test's.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ann_reference  # noqa: E402


def rescale_size(old_size, scale):
    """mmcv.rescale_size with a (w, h) tuple scale: keep the ratio, fit both edges."""
    w, h = old_size
    max_long_edge, max_short_edge = max(scale), min(scale)
    factor = min(max_long_edge / max(h, w), max_short_edge / min(h, w))
    return int(w * float(factor) + 0.5), int(h * float(factor) + 0.5)


def pass_size(image_size, ratio, test_scale, style):
    w, h = image_size
    if style == 'mmseg1x':
        # mmcv 2.x Resize(scale_factor=r, keep_ratio=True): _scale_size, then imrescale.
        scale = (int(w * float(ratio) + 0.5), int(h * float(ratio) + 0.5))
    elif test_scale:
        # mmseg 0.x MultiScaleFlipAug: img_scale = (int(W * r), int(H * r)).
        scale = (int(test_scale[0] * ratio), int(test_scale[1] * ratio))
    else:
        # mmseg 0.x Resize with a scale factor: int(x * r) of the image shape.
        scale = (int(w * ratio), int(h * ratio))
    return rescale_size((w, h), scale)


def passes(a):
    img = cv2.imread(a.image, cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    test_scale = tuple(int(v) for v in a.test_scale.split('x')) if a.test_scale else None
    os.makedirs(a.out, exist_ok=True)
    manifest = []
    for ratio in [float(r) for r in a.ratios.split(',')]:
        size = pass_size((w, h), ratio, test_scale, a.style)
        scaled = img if size == (w, h) else cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)
        for flipped in ([False, True] if a.flip else [False]):
            view = np.ascontiguousarray(scaled[:, ::-1]) if flipped else scaled
            name = 'pass_%02d' % len(manifest)
            cv2.imwrite(os.path.join(a.out, name + '.png'), view)
            manifest.append({'name': name, 'ratio': ratio, 'flipped': flipped, 'size': size})
    with open(os.path.join(a.out, 'manifest.json'), 'w') as f:
        json.dump({'image_size': [w, h], 'passes': manifest}, f)
    print('%d passes: %s' % (len(manifest), ', '.join('%dx%d%s' % (p['size'][0], p['size'][1],
                                                                   ' flipped' if p['flipped'] else '')
                                                        for p in manifest)))


def average(a):
    with open(os.path.join(a.dir, 'manifest.json')) as f:
        manifest = json.load(f)
    w, h = manifest['image_size']
    total = None
    for p in manifest['passes']:
        logits = torch.load(os.path.join(a.pass_logits, p['name'] + '.pt')).unsqueeze(0)
        assert logits.shape[2:] == (p['size'][1], p['size'][0]), logits.shape
        if a.style == 'mmseg1x':
            if p['flipped']:
                logits = logits.flip(3)
            out = F.interpolate(logits, size=(h, w), mode='bilinear',
                                align_corners=a.align_corners).softmax(1)
        else:
            out = F.interpolate(logits, size=(h, w), mode='bilinear',
                                align_corners=a.align_corners).softmax(1)
            if p['flipped']:
                out = out.flip(3)
        total = out if total is None else total + out
    expected = (total / len(manifest['passes']))[0]
    got = torch.load(a.got)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    err = float((got - expected).abs().max())
    agree = float((got.argmax(0) == expected.argmax(0)).float().mean())
    print('%d passes: max |ann - python| = %.3g, argmax agreement %.4f' %
          (len(manifest['passes']), err, agree))
    return 0 if err <= a.tolerance else 1


def decide_intersection(total_length, crop_length, stride):
    times = (total_length - crop_length) // stride + 1
    starts = [stride * i for i in range(times)]
    if total_length - starts[-1] > crop_length:
        starts.append(total_length - crop_length)
    return starts


def mscrop(a):
    torch.set_num_threads(2)
    model = ann_reference.EncoderDecoder(a.depth, a.classes, align_corners=a.align_corners)
    model.load_state_dict(torch.load(a.checkpoint, map_location='cpu')['state_dict'])
    model.eval()
    crop_w, crop_h = (int(v) for v in a.crop.split('x'))
    stride_w, stride_h = (int(v) for v in a.stride.split('x'))
    x = ann_reference.read_image(a.image)
    height, width = x.shape[2:]
    total = np.zeros((height, width, a.classes), np.float32)
    crops = []
    with torch.no_grad():
        for flipped in ([False, True] if a.flip else [False]):
            for scale in [float(s) for s in a.scales.split(',')]:
                h, w = int(height * scale), int(width * scale)
                xs = F.interpolate(x, size=(h, w), mode='bilinear', align_corners=True)
                if flipped:
                    xs = xs.flip(3)
                if w < crop_w or h < crop_h:
                    out = model(xs)[0].permute(1, 2, 0).numpy()
                    crops.append(1)
                else:
                    acc = np.zeros((h, w, a.classes), np.float32)
                    count = np.zeros((h, w, a.classes), np.float32)
                    ys = decide_intersection(h, crop_h, stride_h)
                    xs_ = decide_intersection(w, crop_w, stride_w)
                    for y0 in ys:
                        for x0 in xs_:
                            piece = xs[:, :, y0:y0 + crop_h, x0:x0 + crop_w]
                            acc[y0:y0 + crop_h, x0:x0 + crop_w] += \
                                model(piece)[0].permute(1, 2, 0).numpy()
                            count[y0:y0 + crop_h, x0:x0 + crop_w] += 1
                    out = acc / count
                    crops.append(len(ys) * len(xs_))
                out = cv2.resize(out, (width, height), interpolation=cv2.INTER_CUBIC)
                if flipped:
                    out = out[:, ::-1]
                total += out
    expected = torch.from_numpy(np.ascontiguousarray(total)).permute(2, 0, 1)
    got = torch.load(a.got)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    rel = float((got - expected).abs().max() / expected.abs().max())
    agree = float((got.argmax(0) == expected.argmax(0)).float().mean())
    print('mscrop: crops per pass %s; max relative error %.3g, argmax agreement %.4f' %
          (crops, rel, agree))
    return 0 if rel <= a.tolerance and agree >= 0.999 else 1


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument('command', choices=['passes', 'average', 'mscrop'])
    p.add_argument('--image', required=True)
    p.add_argument('--ratios', default='1.0')
    p.add_argument('--scales', default='0.75,1.0,1.25')
    p.add_argument('--flip', action='store_true')
    p.add_argument('--test_scale', default='')
    p.add_argument('--style', default='mmseg0x', choices=['mmseg0x', 'mmseg1x'])
    p.add_argument('--out')
    p.add_argument('--dir')
    p.add_argument('--pass_logits')
    p.add_argument('--got')
    p.add_argument('--align_corners', action='store_true')
    p.add_argument('--tolerance', type=float, default=1e-5)
    p.add_argument('--checkpoint')
    p.add_argument('--depth', type=int, default=18)
    p.add_argument('--classes', type=int, default=19)
    p.add_argument('--crop', default='864x864')
    p.add_argument('--stride', default='576x576')
    a = p.parse_args(argv)
    if a.command == 'passes':
        passes(a)
        return 0
    if a.command == 'average':
        return average(a)
    return mscrop(a)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
