"""Compares .pth files with Python's torch.load: tensors of 'state_dict' (and optionally the
optimizer's momentum buffers) must be bit-identical; prints a summary.

  torch_compare.py A.pth B.pth [--optimizer] [--atol X]
      (--atol: the largest absolute difference of the weights, running statistics and momentum
      must be at most X instead of 0; prints it)
  torch_compare.py --inspect A.pth   (prints meta.iter and the key count)
  torch_compare.py --mmseg_meta A.pth
      loads A's classes and palette as mmseg's init_segmentor (0.x) / init_model (1.x) do, and
      checks them against mmseg's CityscapesDataset.CLASSES / PALETTE
"""
import argparse
import sys

import torch


# mmseg/datasets/cityscapes.py (0.30): CityscapesDataset.CLASSES and .PALETTE.
CITYSCAPES_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
                      'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car',
                      'truck', 'bus', 'train', 'motorcycle', 'bicycle')
CITYSCAPES_PALETTE = [[128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156],
                      [190, 153, 153], [153, 153, 153], [250, 170, 30], [220, 220, 0],
                      [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60],
                      [255, 0, 0], [0, 0, 142], [0, 0, 70], [0, 60, 100], [0, 80, 100],
                      [0, 0, 230], [119, 11, 32]]


def mmseg_meta(path):
    checkpoint = torch.load(path, map_location="cpu")
    # init_segmentor: model.CLASSES = checkpoint['meta']['CLASSES'];
    #                 model.PALETTE = checkpoint['meta']['PALETTE']
    classes = checkpoint["meta"]["CLASSES"]
    palette = checkpoint["meta"]["PALETTE"]
    if not isinstance(classes, tuple) or classes != CITYSCAPES_CLASSES:
        print(f"CLASSES is {classes!r}")
        return 1
    if not isinstance(palette, list) or palette != CITYSCAPES_PALETTE or \
            not all(isinstance(c, list) for c in palette):
        print(f"PALETTE is {palette!r}")
        return 1
    print(f"mmseg meta: {len(classes)} CLASSES (tuple), {len(palette)} PALETTE entries (lists)")
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--optimizer", action="store_true")
    parser.add_argument("--inspect", action="store_true")
    parser.add_argument("--mmseg_meta", action="store_true")
    parser.add_argument("--atol", type=float, default=None)
    args = parser.parse_args()
    if args.mmseg_meta:
        return mmseg_meta(args.paths[0])
    a = torch.load(args.paths[0], map_location="cpu")
    if args.inspect:
        opt = a.get("optimizer", {})
        print(f"iter={a['meta']['iter']} keys={len(a['state_dict'])} "
              f"momentum={len(opt.get('state', {}))} lr={opt.get('param_groups', [{}])[0].get('lr')}")
        return 0
    b = torch.load(args.paths[1], map_location="cpu")
    sa, sb = a["state_dict"], b["state_dict"]
    if list(sa) != list(sb):
        print("key lists differ")
        return 1
    if args.atol is not None:
        pairs = [(k, sa[k], sb[k]) for k in sa]
        if args.optimizer:
            oa, ob = a["optimizer"]["state"], b["optimizer"]["state"]
            if sorted(oa) != sorted(ob):
                print("optimizer states differ in keys")
                return 1
            pairs += [(f"optimizer.{k}", oa[k]["momentum_buffer"], ob[k]["momentum_buffer"])
                      for k in oa]
        worst_key, worst = None, 0.0
        for k, x, y in pairs:
            if x.shape != y.shape:
                print(f"{k}: shapes differ")
                return 1
            d = float((x.double() - y.double()).abs().max()) if x.numel() else 0.0
            if d > worst or worst_key is None:
                worst_key, worst = k, d
        print(f"max abs diff {worst:.3g} ({worst_key}) over {len(pairs)} tensors")
        return 0 if worst <= args.atol else 1
    diff = [k for k in sa if not torch.equal(sa[k], sb[k])]
    if args.optimizer:
        oa, ob = a["optimizer"]["state"], b["optimizer"]["state"]
        if sorted(oa) != sorted(ob):
            print("optimizer states differ in keys")
            return 1
        diff += [f"optimizer.{k}" for k in oa
                 if not torch.equal(oa[k]["momentum_buffer"], ob[k]["momentum_buffer"])]
    if diff:
        worst = max((float((sa[k].double() - sb[k].double()).abs().max()) for k in diff
                     if k in sa), default=0.0)
        print(f"{len(diff)} tensors differ (first {diff[:3]}, max abs diff {worst:g})")
        return 1
    print(f"identical: {len(sa)} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
