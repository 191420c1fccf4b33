"""An independent Cityscapes evaluation written after cityscapesScripts'
evalPixelLevelSemanticLabeling (labelId space, its ignoreInEval / hasInstances flags and
avgClassSize), used to check ann_eval's metrics.json.

  cityscapes_eval.py GT_ROOT SPLIT PRED_DIR METRICS_JSON   (PRED_DIR: trainId PNGs <stem>.png)
"""
import glob
import json
import math
import os
import sys

import numpy as np
from PIL import Image

# (name, id, trainId, category, hasInstances, ignoreInEval)
LABELS = [
    ("unlabeled", 0, 255, "void", False, True), ("ego vehicle", 1, 255, "void", False, True),
    ("rectification border", 2, 255, "void", False, True), ("out of roi", 3, 255, "void", False, True),
    ("static", 4, 255, "void", False, True), ("dynamic", 5, 255, "void", False, True),
    ("ground", 6, 255, "void", False, True), ("road", 7, 0, "flat", False, False),
    ("sidewalk", 8, 1, "flat", False, False), ("parking", 9, 255, "flat", False, True),
    ("rail track", 10, 255, "flat", False, True), ("building", 11, 2, "construction", False, False),
    ("wall", 12, 3, "construction", False, False), ("fence", 13, 4, "construction", False, False),
    ("guard rail", 14, 255, "construction", False, True), ("bridge", 15, 255, "construction", False, True),
    ("tunnel", 16, 255, "construction", False, True), ("pole", 17, 5, "object", False, False),
    ("polegroup", 18, 255, "object", False, True), ("traffic light", 19, 6, "object", False, False),
    ("traffic sign", 20, 7, "object", False, False), ("vegetation", 21, 8, "nature", False, False),
    ("terrain", 22, 9, "nature", False, False), ("sky", 23, 10, "sky", False, False),
    ("person", 24, 11, "human", True, False), ("rider", 25, 12, "human", True, False),
    ("car", 26, 13, "vehicle", True, False), ("truck", 27, 14, "vehicle", True, False),
    ("bus", 28, 15, "vehicle", True, False), ("caravan", 29, 255, "vehicle", True, True),
    ("trailer", 30, 255, "vehicle", True, True), ("train", 31, 16, "vehicle", True, False),
    ("motorcycle", 32, 17, "vehicle", True, False), ("bicycle", 33, 18, "vehicle", True, False),
]
AVG = {"bicycle": 4672.3249222261, "caravan": 36771.8241758242, "motorcycle": 6298.7200839748,
       "rider": 3930.4788056518, "bus": 35732.1511111111, "train": 67583.7075812274,
       "car": 12794.0202738185, "person": 3462.4756337644, "truck": 27855.1264367816,
       "trailer": 16926.9763313609}
ID = {l[1]: l for l in LABELS}
EVAL = [l[1] for l in LABELS]  # evalLabels: every id >= 0
TRAIN_TO_ID = {l[2]: l[1] for l in LABELS if l[2] != 255}
CATS = {}
for l in LABELS:
    CATS.setdefault(l[3], []).append(l)


def nanmean(v):
    v = [x for x in v if not math.isnan(x)]
    return sum(v) / len(v) if v else float("nan")


def main():
    root, split, pred_dir, metrics = sys.argv[1:5]
    conf = np.zeros((34, 34), np.int64)
    inst_classes = {l[0]: {"tpW": 0.0, "fnW": 0.0} for l in LABELS if l[4] and not l[5]}
    inst_cats = {}
    for cat, ls in CATS.items():
        if all(l[4] for l in ls):
            inst_cats[cat] = {"tpW": 0.0, "fnW": 0.0, "ids": [l[1] for l in ls]}
    for gt_path in sorted(glob.glob(f"{root}/gtFine/{split}/*/*_gtFine_labelIds.png")):
        stem = os.path.basename(gt_path).replace("_gtFine_labelIds.png", "_leftImg8bit")
        gt = np.array(Image.open(gt_path)).astype(np.int64)
        train = np.array(Image.open(f"{pred_dir}/{stem}.png")).astype(np.int64)
        pred = np.zeros_like(train)
        for t, i in TRAIN_TO_ID.items():
            pred[train == t] = i
        for g, p in zip(gt.ravel(), pred.ravel()):
            conf[g, p] += 1
        inst = np.array(Image.open(gt_path.replace("labelIds", "instanceIds"))).astype(np.int64)
        for inst_id in np.unique(inst[inst > 1000]):
            label = ID[inst_id // 1000]
            if label[5]:
                continue
            mask = inst == inst_id
            size = mask.sum()
            tp = int((pred[mask] == label[1]).sum())
            w = AVG[label[0]] / size
            inst_classes[label[0]]["tpW"] += tp * w
            inst_classes[label[0]]["fnW"] += (size - tp) * w
            if label[3] in inst_cats:
                ctp = int(np.isin(pred[mask], inst_cats[label[3]]["ids"]).sum())
                inst_cats[label[3]]["tpW"] += ctp * w
                inst_cats[label[3]]["fnW"] += (size - ctp) * w

    def iou(label):
        if ID[label][5]:
            return float("nan")
        tp = conf[label, label]
        fn = conf[label, :].sum() - tp
        fp = sum(conf[l, label] for l in EVAL if not ID[l][5] and l != label)
        d = tp + fp + fn
        return float("nan") if d == 0 else tp / d

    def iiou(label):
        name = ID[label][0]
        if ID[label][5] or name not in inst_classes:
            return float("nan")
        tp, fn = inst_classes[name]["tpW"], inst_classes[name]["fnW"]
        fp = sum(conf[l, label] for l in EVAL if not ID[l][5] and l != label)
        d = tp + fp + fn
        return float("nan") if d == 0 else tp / d

    def cat_iou(cat):
        ids = [l[1] for l in CATS[cat] if not l[5]]
        tp = conf[np.ix_(ids, ids)].sum()
        other = [l for l in EVAL if not ID[l][5] and ID[l][3] != cat]
        fp = conf[np.ix_(other, ids)].sum()
        fn = conf[ids, :].sum() - tp
        d = tp + fp + fn
        return float("nan") if d == 0 else tp / d

    def cat_iiou(cat):
        if cat not in inst_cats:
            return float("nan")
        tp, fn = inst_cats[cat]["tpW"], inst_cats[cat]["fnW"]
        other = [l for l in EVAL if not ID[l][5] and ID[l][3] != cat]
        fp = conf[np.ix_(other, inst_cats[cat]["ids"])].sum()
        d = tp + fp + fn
        return float("nan") if d == 0 else tp / d

    train_labels = sorted((l for l in LABELS if l[2] != 255), key=lambda l: l[2])
    cats = ["flat", "construction", "object", "nature", "sky", "human", "vehicle"]
    ours = {"IoU_class": nanmean([iou(l[1]) for l in train_labels]),
            "iIoU_class": nanmean([iiou(l[1]) for l in train_labels]),
            "IoU_category": nanmean([cat_iou(c) for c in cats]),
            "iIoU_category": nanmean([cat_iiou(c) for c in cats])}
    for l in train_labels:
        ours["IoU." + l[0]] = iou(l[1])
        ours["iIoU." + l[0]] = iiou(l[1])
    got = json.load(open(metrics))
    cs = got["cityscapes"]
    bad = []
    for k, v in ours.items():
        g = cs[k] if k in cs else got[k]
        g = float("nan") if g is None else float(g)
        if (math.isnan(v) != math.isnan(g)) or (not math.isnan(v) and abs(v - g) > 1e-6):
            bad.append(f"{k}: python {v} vs ann_eval {g}")
    print("\n".join(bad) if bad else
          f"match: IoU_class {ours['IoU_class']:.4f} iIoU_class {ours['iIoU_class']:.4f} "
          f"IoU_category {ours['IoU_category']:.4f} iIoU_category {ours['iIoU_category']:.4f}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
