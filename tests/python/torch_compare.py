"""Compares .pth files with Python's torch.load: tensors of 'state_dict' (and optionally the
optimizer's momentum buffers) must be bit-identical; prints a summary.

  torch_compare.py A.pth B.pth [--optimizer]
  torch_compare.py --inspect A.pth   (prints meta.iter and the key count)
"""
import argparse
import sys

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--optimizer", action="store_true")
    parser.add_argument("--inspect", action="store_true")
    args = parser.parse_args()
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
