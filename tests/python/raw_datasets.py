"""Builds small raw dataset trees (as downloaded) and checks ann_preprocess's output against
labels computed here, independently of the C++ code (PIL, numpy, scipy, own RLE encoder).

  raw_datasets.py make  DATASET ROOT [--break KIND]
  raw_datasets.py check DATASET SRC DST
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

CITYSCAPES_TRAIN_IDS = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
                        23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18}
CONTEXT_IDS = [0, 2, 9, 18, 19, 22, 23, 25, 31, 33, 34, 44, 45, 46, 59, 65, 68, 72, 80, 85, 98,
               104, 105, 113, 115, 144, 158, 159, 162, 187, 189, 207, 220, 232, 258, 259, 260,
               284, 295, 296, 308, 324, 326, 347, 349, 354, 355, 360, 366, 368, 397, 415, 416,
               420, 424, 427, 440, 445, 454, 458]


def rng_for(name):
    return np.random.RandomState(abs(hash(name)) % (2 ** 31))


def save_png(path, array, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array, mode).save(path)


def save_jpg(path, h, w, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img = np.random.RandomState(seed).randint(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(img).save(path, quality=90)


def blocks(h, w, values, seed):
    r = np.random.RandomState(seed)
    grid = r.choice(values, size=((h + 7) // 8, (w + 7) // 8))
    return np.kron(grid, np.ones((8, 8), dtype=np.int64))[:h, :w].astype(np.uint8)


# ----------------------------------------------------------------------------- cityscapes
def make_cityscapes(root, brk):
    ids = {"train": ["aachen/aachen_000000_000019", "aachen/aachen_000001_000019",
                     "bremen/bremen_000000_000019"],
           "val": ["frankfurt/frankfurt_000000_000294", "lindau/lindau_000000_000019"],
           "test": ["berlin/berlin_000000_000019"]}
    n = 0
    for split, names in ids.items():
        for name in names:
            n += 1
            h, w = 32, 64
            img = np.random.RandomState(n).randint(0, 256, (h, w, 3), dtype=np.uint8)
            save_png(f"{root}/leftImg8bit/{split}/{name}_leftImg8bit.png", img)
            label = blocks(h, w, [0, 1, 4, 7, 8, 11, 21, 23, 24, 26, 29, 33], n)
            inst = label.astype(np.uint16)
            inst[label == 26] = 26000 + n
            gt = f"{root}/gtFine/{split}/{name}_gtFine_"
            save_png(gt + "labelIds.png", label)
            os.makedirs(os.path.dirname(gt), exist_ok=True)
            Image.fromarray(inst.astype(np.uint16)).save(gt + "instanceIds.png")
    bad = f"{root}/gtFine/train/aachen/aachen_000001_000019_gtFine_labelIds.png"
    bad_img = f"{root}/leftImg8bit/train/aachen/aachen_000001_000019_leftImg8bit.png"
    if brk == "missing_label":
        os.remove(bad)
    elif brk == "size":
        save_png(bad, np.zeros((16, 64), np.uint8))
    elif brk == "unknown_id":
        label = np.array(Image.open(bad))
        label[3, 3] = 40
        save_png(bad, label)
    elif brk == "corrupt":
        data = open(bad_img, "rb").read()
        open(bad_img, "wb").write(data[: len(data) // 2])
    elif brk == "empty":
        import shutil
        shutil.rmtree(f"{root}/leftImg8bit/val")
        shutil.rmtree(f"{root}/gtFine/val")
        return f"{root}/leftImg8bit/val"
    return bad_img if brk == "corrupt" else bad


def check_cityscapes(src, dst):
    for split in ["train", "val"]:
        listed = open(f"{dst}/{split}.txt").read().split()
        found = sorted(os.path.relpath(os.path.join(d, f), f"{src}/leftImg8bit/{split}")
                       .replace("_leftImg8bit.png", "")
                       for d, _, fs in os.walk(f"{src}/leftImg8bit/{split}") for f in fs)
        assert listed == found, (listed, found)
        for name in listed:
            label = np.array(Image.open(f"{src}/gtFine/{split}/{name}_gtFine_labelIds.png"))
            expected = np.full_like(label, 255)
            for k, v in CITYSCAPES_TRAIN_IDS.items():
                expected[label == k] = v
            got = np.array(Image.open(f"{dst}/gtFine/{split}/{name}_gtFine_labelTrainIds.png"))
            assert got.dtype == np.uint8 and (got == expected).all(), name
            assert os.path.exists(f"{dst}/leftImg8bit/{split}/{name}_leftImg8bit.png")
            inst = f"gtFine/{split}/{name}_gtFine_instanceIds.png"
            assert open(f"{src}/{inst}", "rb").read() == open(f"{dst}/{inst}", "rb").read()
    return 5


# ----------------------------------------------------------------------------- ade20k
def make_ade20k(root, brk):
    base = f"{root}/ADEChallengeData2016"
    n = 0
    for sub, count in [("training", 3), ("validation", 2)]:
        for i in range(count):
            n += 1
            name = f"ADE_{'train' if sub == 'training' else 'val'}_{i + 1:08d}"
            h, w = 24 + i, 40
            save_jpg(f"{base}/images/{sub}/{name}.jpg", h, w, n)
            save_png(f"{base}/annotations/{sub}/{name}.png", blocks(h, w, [0, 1, 5, 150], n))
    bad = f"{base}/annotations/training/ADE_train_00000002.png"
    bad_img = f"{base}/images/training/ADE_train_00000002.jpg"
    if brk == "missing_label":
        os.remove(bad)
    elif brk == "size":
        save_png(bad, np.zeros((10, 10), np.uint8))
    elif brk == "unknown_id":
        save_png(bad, np.full((25, 40), 200, np.uint8))
    elif brk == "corrupt":
        open(bad_img, "wb").write(b"\xff\xd8\xff\xe0 truncated")
    elif brk == "empty":
        import shutil
        shutil.rmtree(f"{base}/images/validation")
        shutil.rmtree(f"{base}/annotations/validation")
        return f"{base}/images/validation"
    return bad_img if brk == "corrupt" else bad


def check_ade20k(src, dst):
    base = f"{src}/ADEChallengeData2016"
    for split, sub in [("train", "training"), ("val", "validation")]:
        listed = open(f"{dst}/{split}.txt").read().split()
        found = sorted(f[:-4] for f in os.listdir(f"{base}/images/{sub}"))
        assert listed == found, (listed, found)
        for name in listed:
            a = np.array(Image.open(f"{base}/annotations/{sub}/{name}.png"))
            b = np.array(Image.open(f"{dst}/annotations/{sub}/{name}.png"))
            assert (a == b).all()
            assert os.path.exists(f"{dst}/images/{sub}/{name}.jpg")
    return 5


# ----------------------------------------------------------------------------- voc_aug
def voc_palette():
    palette = []
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    palette[255 * 3:] = [224, 224, 192]
    return palette


def make_voc_aug(root, brk):
    from scipy.io import savemat
    voc = f"{root}/VOCdevkit/VOC2012"
    sbd = f"{root}/benchmark_RELEASE/dataset"
    voc_train, voc_val = ["2007_000032", "2007_000039"], ["2007_000033", "2008_000001"]
    sbd_train, sbd_val = ["2007_000033", "2008_000002", "2008_000003"], ["2008_000004",
                                                                          "2007_000039"]
    all_ids = sorted(set(voc_train + voc_val + sbd_train + sbd_val))
    for n, name in enumerate(all_ids):
        h, w = 20 + n, 30
        save_jpg(f"{voc}/JPEGImages/{name}.jpg", h, w, n)
        label = blocks(h, w, [0, 1, 15, 20, 255], n)
        if name in voc_train + voc_val:
            os.makedirs(f"{voc}/SegmentationClass", exist_ok=True)
            im = Image.fromarray(label, "P")
            im.putpalette(voc_palette())
            im.save(f"{voc}/SegmentationClass/{name}.png")
        if name in sbd_train + sbd_val:
            os.makedirs(f"{sbd}/cls", exist_ok=True)
            seg = np.where(label == 255, 0, label).astype(np.uint8)
            savemat(f"{sbd}/cls/{name}.mat",
                    {"GTcls": {"Segmentation": seg, "Boundaries": np.zeros((1, 1)),
                               "CategoriesPresent": np.unique(seg).astype(np.uint8)}},
                    do_compression=(n % 2 == 0))
    os.makedirs(f"{voc}/ImageSets/Segmentation", exist_ok=True)
    open(f"{voc}/ImageSets/Segmentation/train.txt", "w").write("\n".join(voc_train) + "\n")
    open(f"{voc}/ImageSets/Segmentation/val.txt", "w").write("\n".join(voc_val) + "\n")
    open(f"{sbd}/train.txt", "w").write("\n".join(sbd_train) + "\n")
    open(f"{sbd}/val.txt", "w").write("\n".join(sbd_val) + "\n")
    bad = f"{sbd}/cls/2008_000003.mat"
    if brk == "truncated_mat":
        data = open(bad, "rb").read()
        open(bad, "wb").write(data[: len(data) // 2])
    elif brk == "missing_label":
        os.remove(bad)
    elif brk == "size":
        savemat(bad, {"GTcls": {"Segmentation": np.zeros((5, 5), np.uint8)}})
    elif brk == "unknown_id":
        savemat(bad, {"GTcls": {"Segmentation": np.full((26, 30), 40, np.uint8)}})
    elif brk == "corrupt":
        bad = f"{voc}/JPEGImages/2008_000003.jpg"
        open(bad, "wb").write(b"not a jpeg")
    elif brk == "empty":
        bad = f"{voc}/ImageSets/Segmentation/val.txt"
        open(bad, "w").write("")
    return bad


def check_voc_aug(src, dst):
    from scipy.io import loadmat
    voc = f"{src}/VOCdevkit/VOC2012"
    sbd = f"{src}/benchmark_RELEASE/dataset"
    out = f"{dst}/VOCdevkit/VOC2012"
    read = lambda p: open(p).read().split()
    trainaug = sorted((set(read(f"{voc}/ImageSets/Segmentation/train.txt")) |
                       set(read(f"{sbd}/train.txt")) | set(read(f"{sbd}/val.txt"))) -
                      set(read(f"{voc}/ImageSets/Segmentation/val.txt")))
    assert read(f"{out}/ImageSets/Segmentation/aug.txt") == trainaug
    for name in trainaug + read(f"{voc}/ImageSets/Segmentation/val.txt"):
        if os.path.exists(f"{voc}/SegmentationClass/{name}.png"):
            expected = np.array(Image.open(f"{voc}/SegmentationClass/{name}.png"))  # indices
        else:
            expected = loadmat(f"{sbd}/cls/{name}.mat")["GTcls"][0][0]["Segmentation"]
        got = np.array(Image.open(f"{out}/SegmentationClassAug/{name}.png"))
        assert got.ndim == 2 and (got == expected).all(), name
    return len(trainaug)


# ----------------------------------------------------------------------------- pascal context
def rle_encode(mask):
    """pycocotools' compressed RLE string of a binary mask (column-major)."""
    flat = mask.flatten(order="F")
    counts, prev, run = [], 0, 0
    for v in flat:
        if v != prev:
            counts.append(run)
            run, prev = 0, v
        run += 1
    counts.append(run)
    out = []
    for i, x in enumerate(counts):
        if i > 2:
            x -= counts[i - 2]
        more = True
        while more:
            c = x & 0x1f
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def make_pascal_context(root, brk):
    voc = f"{root}/VOCdevkit/VOC2010"
    images, annos, aid = [], [], 0
    expected = {}
    for n, (name, phase) in enumerate([("2008_000002", "train"), ("2008_000003", "train"),
                                       ("2008_000007", "val"), ("2008_000008", "val"),
                                       ("2008_000009", "test")]):
        h, w = 18 + n, 27
        save_jpg(f"{voc}/JPEGImages/{name}.jpg", h, w, n)
        image_id = int(name[:4] + name[5:])
        images.append({"image_id": image_id, "file_name": name + ".jpg", "height": h,
                       "width": w, "phase": phase})
        r = np.random.RandomState(n)
        category = np.zeros((h, w), np.int64)
        for k in range(6):  # Overlapping rectangles: later annotations paint over earlier ones.
            m = np.zeros((h, w), np.uint8)
            y0, x0 = r.randint(0, h - 4), r.randint(0, w - 4)
            m[y0:y0 + r.randint(3, h), x0:x0 + r.randint(3, w)] = 1
            cat = int(r.choice(CONTEXT_IDS[1:]))
            aid += 1
            annos.append({"id": aid, "image_id": image_id, "category_id": cat,
                          "segmentation": {"size": [h, w], "counts": rle_encode(m)}})
            category[m == 1] = cat
        expected[name] = np.searchsorted(CONTEXT_IDS, category).astype(np.uint8)
    bad = f"{voc}/trainval_merged.json"
    if brk == "unknown_id":
        annos[3]["category_id"] = 1
    elif brk == "size":
        images[1]["height"] = 99
    elif brk == "corrupt":
        bad = f"{voc}/JPEGImages/2008_000003.jpg"
        open(bad, "wb").write(b"garbage")
    elif brk == "missing_label":
        bad = f"{voc}/JPEGImages/2008_000003.jpg"
        os.remove(bad)
    elif brk == "empty":
        images = [i for i in images if i["phase"] != "val"]
        annos = [a for a in annos if a["image_id"] in {i["image_id"] for i in images}]
    data = {"images": images, "annos_segmentation": annos,
            "categories": [{"category_id": c, "name": f"c{c}"} for c in CONTEXT_IDS[1:]]}
    os.makedirs(voc, exist_ok=True)
    json.dump(data, open(f"{voc}/trainval_merged.json", "w"))
    np.savez(f"{root}/expected.npz", **expected)
    return bad


def check_pascal_context(src, dst):
    expected = np.load(f"{src}/expected.npz")
    out = f"{dst}/VOCdevkit/VOC2010"
    listed = {s: open(f"{out}/ImageSets/SegmentationContext/{s}.txt").read().split()
              for s in ["train", "val"]}
    assert listed == {"train": ["2008_000002", "2008_000003"],
                      "val": ["2008_000007", "2008_000008"]}, listed
    for name in listed["train"] + listed["val"]:
        got = np.array(Image.open(f"{out}/SegmentationClassContext/{name}.png"))
        assert (got == expected[name]).all(), name
    return 4


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["make", "check"])
    parser.add_argument("dataset")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--break", dest="brk", default="")
    args = parser.parse_args()
    if args.command == "make":
        print(globals()["make_" + args.dataset](args.paths[0], args.brk))
    else:
        n = globals()["check_" + args.dataset](args.paths[0], args.paths[1])
        print(f"ok {n}")


if __name__ == "__main__":
    sys.exit(main())
