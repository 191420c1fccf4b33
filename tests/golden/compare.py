"""Compares two recordings of tests/golden/record.sh (before and after a change).

  /usr/bin/python3 tests/golden/compare.py OLD NEW

Prints one line per recorded output: `same` (bit-identical), `differs` with the largest absolute
difference and the share of argmax labels that agree, or `missing`. Exits 1 when an output that
must stay bit-identical (exact logits, FLOP tables, the calibration file, ONNX Runtime's logits,
the training run's weights) differs.
"""
import json
import os
import sys

import numpy as np
import torch

old, new = sys.argv[1], sys.argv[2]
failures = 0


def report(name, same, detail="", must_match=True):
    global failures
    if same:
        print(f"same     {name}")
        return
    print(f"differs  {name} {detail}")
    if must_match:
        failures += 1


def read(path):
    with open(path, "rb") as f:
        return f.read()


def compare_files(rel, must_match=True):
    a, b = os.path.join(old, rel), os.path.join(new, rel)
    if not os.path.exists(a):
        return
    if not os.path.exists(b):
        report(rel, False, "(missing)", must_match)
        return
    report(rel, read(a) == read(b), "", must_match)


def compare_logits(rel, must_match):
    a, b = os.path.join(old, rel), os.path.join(new, rel)
    if not os.path.isdir(a):
        return
    for name in sorted(os.listdir(a)):
        pa, pb = os.path.join(a, name), os.path.join(b, name)
        if not os.path.exists(pb):
            report(f"{rel}/{name}", False, "(missing)", True)
            continue
        ta = torch.load(pa) if name.endswith(".pt") else None
        tb = torch.load(pb) if name.endswith(".pt") else None
        if isinstance(ta, dict):
            ta, tb = next(iter(ta.values())), next(iter(tb.values()))
        same = torch.equal(ta, tb)
        detail = ""
        if not same:
            diff = (ta.double() - tb.double()).abs().max().item()
            agree = (ta.argmax(-3) == tb.argmax(-3)).double().mean().item()
            detail = f"max |diff| {diff:.3g}, labels agree {100 * agree:.4f}%"
        report(f"{rel}/{name}", same, detail, must_match)


for model in sorted(os.listdir(old)):
    d = os.path.join(old, model)
    if not os.path.isdir(d) or model in ("images", "train"):
        continue
    compare_logits(f"{model}/logits_exact", True)
    compare_logits(f"{model}/logits_fp32", False)
    compare_logits(f"{model}/logits_bf16", False)
    compare_logits(f"{model}/logits_int8", False)
    for f in sorted(os.listdir(d)):
        if f.startswith("ort_") and f.endswith(".bin") or f.startswith("flops"):
            compare_files(f"{model}/{f}")
        if f.startswith("refused_") or f == "calibration.json":
            compare_files(f"{model}/{f}")
for f in sorted(os.listdir(old)):
    if f.startswith("block_") or f == "paper_table.txt":
        compare_files(f)

a = torch.load(os.path.join(old, "train/work/iter_6.pth"), map_location="cpu")
b = torch.load(os.path.join(new, "train/work/iter_6.pth"), map_location="cpu")
same = a["state_dict"].keys() == b["state_dict"].keys() and all(
    torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
report("train/work/iter_6.pth weights", same)
print(f"{failures} must-match output(s) differ")
sys.exit(1 if failures else 0)
