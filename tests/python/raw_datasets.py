"""Builds small raw dataset trees (as downloaded) and checks ann_preprocess's output against
labels computed here, independently of the C++ code (PIL, numpy, scipy, own RLE encoder).

  raw_datasets.py make  DATASET ROOT [--break KIND]
  raw_datasets.py check DATASET SRC DST
  raw_datasets.py mmseg_convert voc_aug ROOT   (mmseg 0.30's converter, in place)
  raw_datasets.py mmseg_dump DATASET DATA_ROOT SPLIT   (mmseg's reading, as tests/dataset_dump)
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


# A miniature of the real downloads: VOC2012 (JPEGImages, palette PNGs with 255 object borders,
# ImageSets/Segmentation/{train,val}.txt) and SBD (cls/*.mat as MATLAB v5 GTcls structs with
# Boundaries cells of sparse matrices, Segmentation and CategoriesPresent; train.txt, val.txt)
# where mmseg's docs put it (VOCdevkit/VOCaug/dataset). 13 ids at odd sizes; SBD's lists hold VOC
# train and VOC val ids too, as the real ones do.
VOC_TRAIN = ["2007_000032", "2007_000039", "2007_000063", "2008_000008"]
VOC_VAL = ["2007_000033", "2007_000042", "2008_000009"]
SBD_TRAIN = ["2007_000033", "2007_000063", "2008_000002", "2008_000003", "2008_000010",
             "2009_000001"]
SBD_VAL = ["2007_000039", "2008_000004", "2008_000005", "2007_000042"]


def sbd_dir(root):
    return f"{root}/VOCdevkit/VOCaug/dataset"


def make_voc_aug(root, brk):
    from scipy.io import savemat
    from scipy.sparse import csc_matrix
    voc = f"{root}/VOCdevkit/VOC2012"
    sbd = sbd_dir(root)
    all_ids = sorted(set(VOC_TRAIN + VOC_VAL + SBD_TRAIN + SBD_VAL))
    assert len(all_ids) == 13
    for n, name in enumerate(all_ids):
        h, w = 21 + 2 * n, 33 + 4 * (n % 5)
        save_jpg(f"{voc}/JPEGImages/{name}.jpg", h, w, n)
        label = blocks(h, w, [0, 1, 15, 20, 255], n)
        if name in VOC_TRAIN + VOC_VAL:
            os.makedirs(f"{voc}/SegmentationClass", exist_ok=True)
            im = Image.fromarray(label, "P")
            im.putpalette(voc_palette())
            im.save(f"{voc}/SegmentationClass/{name}.png")
        if name in SBD_TRAIN + SBD_VAL:
            os.makedirs(f"{sbd}/cls", exist_ok=True)
            # SBD has no 255 borders, and its masks differ from VOC's where both label an image.
            seg = np.where(label == 255, (n % 20) + 1, label).astype(np.uint8)
            boundaries = np.empty((20, 1), dtype=object)
            for c in range(20):
                boundaries[c, 0] = csc_matrix((seg == c + 1).astype(np.uint8))
            savemat(f"{sbd}/cls/{name}.mat",
                    {"GTcls": {"Boundaries": boundaries, "Segmentation": seg,
                               "CategoriesPresent": np.unique(seg[seg > 0]).astype(np.uint8)}},
                    do_compression=(n % 2 == 0))
    os.makedirs(f"{voc}/ImageSets/Segmentation", exist_ok=True)
    open(f"{voc}/ImageSets/Segmentation/train.txt", "w").write("\n".join(VOC_TRAIN) + "\n")
    open(f"{voc}/ImageSets/Segmentation/val.txt", "w").write("\n".join(VOC_VAL) + "\n")
    open(f"{sbd}/train.txt", "w").write("\n".join(SBD_TRAIN) + "\n")
    open(f"{sbd}/val.txt", "w").write("\n".join(SBD_VAL) + "\n")
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


def sbd_label(path):
    from scipy.io import loadmat
    return loadmat(path)["GTcls"][0][0]["Segmentation"]


def check_voc_aug(src, dst):
    """Our tree must be mmseg 0.30's: VOC's PNGs kept, every SBD .mat converted, its lists."""
    voc = f"{src}/VOCdevkit/VOC2012"
    sbd = sbd_dir(src)
    out = f"{dst}/VOCdevkit/VOC2012"
    read = lambda p: open(p).read().split()
    lists = f"{out}/ImageSets/Segmentation"
    aug = sorted(set(SBD_TRAIN + SBD_VAL) - set(VOC_TRAIN + VOC_VAL))
    trainaug = sorted(set(VOC_TRAIN + SBD_TRAIN + SBD_VAL) - set(VOC_VAL))
    assert read(f"{lists}/train.txt") == VOC_TRAIN and read(f"{lists}/val.txt") == VOC_VAL
    assert read(f"{lists}/aug.txt") == aug, read(f"{lists}/aug.txt")
    assert read(f"{lists}/trainaug.txt") == trainaug and len(trainaug) == len(VOC_TRAIN) + len(aug)
    for name in VOC_TRAIN + VOC_VAL:
        assert open(f"{out}/SegmentationClass/{name}.png", "rb").read() == \
            open(f"{voc}/SegmentationClass/{name}.png", "rb").read(), name
    mats = sorted(f[:-4] for f in os.listdir(f"{sbd}/cls"))
    assert sorted(f[:-4] for f in os.listdir(f"{out}/SegmentationClassAug")) == mats
    for name in mats:
        got = np.array(Image.open(f"{out}/SegmentationClassAug/{name}.png"))
        assert got.ndim == 2 and (got == sbd_label(f"{sbd}/cls/{name}.mat")).all(), name
    for name in VOC_TRAIN + VOC_VAL + aug:
        assert os.path.exists(f"{out}/JPEGImages/{name}.jpg"), name
    return len(trainaug)


def mmseg_convert_voc_aug(root):
    """mmseg 0.30's tools/convert_datasets/voc_aug.py run in place, as its docs say
    (`voc_aug.py data/VOCdevkit data/VOCdevkit/VOCaug`): every cls/*.mat written with cv2 to
    VOC2012/SegmentationClassAug, trainaug.txt and aug.txt in the order of Python sets."""
    import random
    import cv2
    devkit, sbd = f"{root}/VOCdevkit", sbd_dir(root)
    out_dir = f"{devkit}/VOC2012/SegmentationClassAug"
    os.makedirs(out_dir, exist_ok=True)
    for mat in sorted(os.listdir(f"{sbd}/cls")):
        cv2.imwrite(f"{out_dir}/{mat[:-4]}.png", sbd_label(f"{sbd}/cls/{mat}"))
    read = lambda p: [line.strip() for line in open(p)]
    full_aug_list = read(f"{sbd}/train.txt") + read(f"{sbd}/val.txt")
    lists = f"{devkit}/VOC2012/ImageSets/Segmentation"
    ori_train_list, val_list = read(f"{lists}/train.txt"), read(f"{lists}/val.txt")
    unordered = lambda ids: random.Random(len(ids)).sample(sorted(ids), len(ids))
    aug_train_list = unordered(set(ori_train_list + full_aug_list) - set(val_list))
    open(f"{lists}/trainaug.txt", "w").writelines(line + "\n" for line in aug_train_list)
    aug_list = unordered(set(full_aug_list) - set(ori_train_list + val_list))
    assert len(aug_list) == len(aug_train_list) - len(ori_train_list)
    open(f"{lists}/aug.txt", "w").writelines(line + "\n" for line in aug_list)
    return 0


def mmseg_samples(dataset, data_root, split):
    """The samples of a split as mmseg 0.30 reads them (CustomDataset.load_annotations with
    each dataset's class and config, LoadAnnotations with pillow: a palette PNG gives its
    indices; reduce_zero_label: 0 -> 255, c -> c - 1): (id, image path relative to the data
    root, label array)."""
    import zlib  # noqa: F401
    def scan(img_dir, suffix):
        found = []
        for d, _, files in os.walk(f"{data_root}/{img_dir}"):
            for f in files:
                if f.endswith(suffix):
                    found.append(os.path.relpath(f"{d}/{f}", f"{data_root}/{img_dir}"))
        return [f[: -len(suffix)] for f in sorted(found)]

    def listed(path):
        return [line.strip() for line in open(f"{data_root}/{path}")]

    if dataset == "cityscapes":
        parts = [(scan(f"leftImg8bit/{split}", "_leftImg8bit.png"), f"leftImg8bit/{split}",
                  f"gtFine/{split}")]
        img_suffix, seg_suffix, reduce = "_leftImg8bit.png", "_gtFine_labelTrainIds.png", False
    elif dataset == "ade20k":
        folder = {"train": "training", "val": "validation"}[split]
        parts = [(scan(f"images/{folder}", ".jpg"), f"images/{folder}", f"annotations/{folder}")]
        img_suffix, seg_suffix, reduce = ".jpg", ".png", True
    elif dataset == "voc_aug":
        lists = "ImageSets/Segmentation"
        parts = [(listed(f"{lists}/{split}.txt"), "JPEGImages", "SegmentationClass")]
        if split == "train":  # configs/_base_/datasets/pascal_voc12_aug.py
            parts.append((listed(f"{lists}/aug.txt"), "JPEGImages", "SegmentationClassAug"))
        img_suffix, seg_suffix, reduce = ".jpg", ".png", False
    elif dataset == "pascal_context":
        parts = [(listed(f"ImageSets/SegmentationContext/{split}.txt"), "JPEGImages",
                  "SegmentationClassContext")]
        img_suffix, seg_suffix, reduce = ".jpg", ".png", True
    samples = []
    for ids, img_dir, ann_dir in parts:
        for name in ids:
            gt = np.array(Image.open(f"{data_root}/{ann_dir}/{name}{seg_suffix}")).squeeze()
            gt = gt.astype(np.uint8)
            if reduce:
                gt[gt == 0] = 255
                gt = gt - 1
                gt[gt == 254] = 255
            samples.append((name, f"{img_dir}/{name}{img_suffix}", gt))
    return samples


def mmseg_dump(dataset, data_root, split):
    """Prints mmseg_samples in tests/dataset_dump's format."""
    import zlib
    for name, image, gt in mmseg_samples(dataset, data_root, split):
        gt = np.ascontiguousarray(gt)
        print(f"{name}\t{image}\t{gt.shape[1]}x{gt.shape[0]}\t{zlib.crc32(gt.tobytes()):08x}")
    return 0


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
    parser.add_argument("command", choices=["make", "check", "mmseg_convert", "mmseg_dump"])
    parser.add_argument("dataset")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--break", dest="brk", default="")
    args = parser.parse_args()
    if args.command == "make":
        print(globals()["make_" + args.dataset](args.paths[0], args.brk))
    elif args.command == "mmseg_convert":
        globals()["mmseg_convert_" + args.dataset](args.paths[0])
    elif args.command == "mmseg_dump":
        mmseg_dump(args.dataset, args.paths[0], args.paths[1])
    else:
        n = globals()["check_" + args.dataset](args.paths[0], args.paths[1])
        print(f"ok {n}")


if __name__ == "__main__":
    sys.exit(main())
