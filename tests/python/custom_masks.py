"""Users' own datasets, written with PIL and numpy, and expectations computed here:

  custom_masks.py forms ROOT            one label set saved as RGB colour, palette ("P" mode
                                        with a palette of its own), 8-bit and 16-bit index masks,
                                        in four trees ROOT/{rgb,palette,index8,index16} (+ JSON)
  custom_masks.py broken ROOT KIND      a tree broken one way; prints the file and the detail the
                                        error line must name
  custom_masks.py stats DST DESC        label statistics computed with numpy from DST's masks and
                                        split lists; exits 1 unless DST/label_stats.json equals it
  custom_masks.py median_freq DST DESC PTH
                                        --class_weight=auto's weights in PTH against numpy's
  custom_masks.py mmseg_dump DESC ROOT SPLIT
                                        the samples as mmseg 0.30's CustomDataset reads them
                                        (tests/dataset_dump's format)

Images and masks are odd-sized and asymmetric; class 4 is rare.
"""
import json
import os
import sys
import zlib

import numpy as np
from PIL import Image

CLASSES = ["background", "crack", "spall", "rust", "stain"]
PALETTE = [[0, 0, 0], [255, 0, 0], [0, 200, 0], [180, 90, 20], [30, 30, 250]]
IDS = ["a01", "b02", "c03", "d04", "e05", "f06", "g07", "h08"]


def description(extra=None):
    d = {"classes": CLASSES, "palette": PALETTE, "img_dir": "images", "ann_dir": "masks",
         "img_suffix": ".jpg", "seg_map_suffix": "_mask.png",
         "train": {"split": "splits/train.txt"}, "val": {"split": "splits/val.txt"}}
    d.update(extra or {})
    return d


def label_map(n, ignore=True):
    """An asymmetric label map of odd size with a diagonal crack, blobs, a rare class and (with
    `ignore`) a few ignored (255) pixels."""
    h, w = 23 + 2 * n, 37 + 3 * n
    y, x = np.mgrid[0:h, 0:w]
    lab = np.zeros((h, w), np.uint8)
    lab[np.abs(x - 1.3 * y - n) < 2] = 1
    lab[(x - w * 0.7) ** 2 + (y - h * 0.3) ** 2 < (h / 4) ** 2] = 2
    lab[(x < w // 3) & (y > 2 * h // 3)] = 3
    if n % 3 == 0:
        lab[1:3, w - 4:w - 1] = 4  # rare, and only in some images
    if ignore:
        lab[0, :5] = 255
    return lab


def save_image(path, h, w, n):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.RandomState(n)
    Image.fromarray(rng.randint(0, 256, (h, w, 3), dtype=np.uint8)).save(path, quality=92)


def save_mask(path, lab, form):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if form == "rgb":
        rgb = np.zeros(lab.shape + (3,), np.uint8)
        for c, colour in enumerate(PALETTE):
            rgb[lab == c] = colour
        assert (lab != 255).all(), "colour masks hold classes only"
        Image.fromarray(rgb).save(path)
    elif form == "palette":
        im = Image.fromarray(lab, "P")
        # A palette of its own: indices are what counts, as PIL and mmseg read them.
        im.putpalette([(i * 37 + k * 91) % 256 for i in range(256) for k in range(3)])
        im.save(path)
    elif form == "index8":
        Image.fromarray(lab, "L").save(path)
    elif form == "index16":
        Image.fromarray(lab.astype(np.uint16) * 1, "I;16").save(path)
    else:
        raise ValueError(form)


def make_tree(root, form, extra=None, with_lists=False):
    for n, name in enumerate(IDS):
        lab = label_map(n, ignore=form != "rgb")
        save_image(f"{root}/images/{name}.jpg", lab.shape[0], lab.shape[1], n)
        save_mask(f"{root}/masks/{name}_mask.png", lab, form)
    if with_lists:
        os.makedirs(f"{root}/splits", exist_ok=True)
        open(f"{root}/splits/train.txt", "w").write("\n".join(IDS[:6]) + "\n")
        open(f"{root}/splits/val.txt", "w").write("\n".join(IDS[6:]) + "\n")
    json.dump(description(extra), open(f"{root}/dataset.json", "w"), indent=1)


def forms(root):
    """The same labels (no ignored pixels: colour masks cannot hold them) in four forms."""
    for form in ["rgb", "palette", "index8", "index16"]:
        for n, name in enumerate(IDS):
            lab = label_map(n, ignore=False)
            save_image(f"{root}/{form}/images/{name}.jpg", lab.shape[0], lab.shape[1], n)
            save_mask(f"{root}/{form}/masks/{name}_mask.png", lab, form)
        json.dump(description(), open(f"{root}/{form}/dataset.json", "w"), indent=1)
    return 0


def broken(root, kind):
    make_tree(root, "index8" if kind != "colour" else "rgb", with_lists=True)
    if kind == "colour":
        path = f"{root}/masks/c03_mask.png"
        rgb = np.array(Image.open(path))
        rgb[5:7, 9:12] = [1, 2, 3]
        Image.fromarray(rgb).save(path)
        print(f"{path}: colour (1, 2, 3) (6 pixels, first at x=9, y=5)")
    elif kind == "value":
        path = f"{root}/masks/d04_mask.png"
        lab = np.array(Image.open(path))
        lab[4, 6:9] = 5
        Image.fromarray(lab).save(path)
        print(f"{path}: value 5 (3 pixels, first at x=6, y=4) is not a class (0..4)")
    elif kind == "missing_mask":
        path = f"{root}/masks/e05_mask.png"
        os.remove(path)
        print(f"{root}/images/e05.jpg: image without its mask")
    elif kind == "missing_image":
        os.remove(f"{root}/images/b02.jpg")
        open(f"{root}/splits/train.txt", "w").write("\n".join(["a01"] + IDS[2:6]) + "\n")
        print(f"{root}/masks/b02_mask.png: mask without its image")
    elif kind == "size":
        path = f"{root}/masks/f06_mask.png"
        Image.fromarray(np.zeros((11, 13), np.uint8)).save(path)
        print(f"{path}: size 13x11 differs from its image's")
    else:
        raise ValueError(kind)
    return 0


def read_mask(path):
    return np.array(Image.open(path))


def counts(dst, desc, split):
    d = json.load(open(desc))
    k = len(d["classes"])
    ids = [line.strip() for line in open(f"{dst}/{d[split]['split']}") if line.strip()]
    pixels, images_with, ignored = np.zeros(k, np.int64), np.zeros(k, np.int64), 0
    images_with_ignored = 0
    for name in ids:
        lab = read_mask(f"{dst}/{d['ann_dir']}/{name}{d['seg_map_suffix']}").astype(np.int64)
        if d.get("reduce_zero_label"):
            lab = np.where(lab == 0, 255, lab - 1)
        ignore = d.get("ignore_index", 255)
        lab = np.where(lab == ignore, 255, lab)
        ignored += int((lab == 255).sum())
        images_with_ignored += int((lab == 255).any())
        for c in range(k):
            n = int((lab == c).sum())
            pixels[c] += n
            images_with[c] += n > 0
    return {"images": len(ids), "ignored_pixels": ignored,
            "images_with_ignored": images_with_ignored, "pixels": pixels.tolist(),
            "images_with": images_with.tolist()}


def stats(dst, desc):
    got = json.load(open(f"{dst}/label_stats.json"))
    d = json.load(open(desc))
    expected = {s: counts(dst, desc, s) for s in ["train", "val"] if s in d}
    for split, e in expected.items():
        g = got["splits"][split]
        for key in e:
            if g[key] != e[key]:
                print(f"{split}.{key}: ours {g[key]}, numpy {e[key]}")
                return 1
    assert got["classes"] == d["classes"]
    print(json.dumps(expected["train"]))
    return 0


def median_freq(dst, desc, checkpoint):
    """Median frequency balancing (Eigen & Fergus) over train, computed with numpy, against the
    class weights a --class_weight=auto run recorded in its checkpoint."""
    import torch
    d = json.load(open(desc))
    k = len(d["classes"])
    pixels, of_images = np.zeros(k), np.zeros(k)
    for name in [l.strip() for l in open(f"{dst}/{d['train']['split']}") if l.strip()]:
        lab = read_mask(f"{dst}/{d['ann_dir']}/{name}{d['seg_map_suffix']}")
        for c in range(k):
            n = (lab == c).sum()
            pixels[c] += n
            of_images[c] += lab.size if n else 0
    freq = pixels / np.maximum(of_images, 1)
    expected = np.where(pixels > 0, np.median(freq[pixels > 0]) / np.maximum(freq, 1e-12), 1)
    meta = torch.load(checkpoint, map_location="cpu")["meta"]
    got = np.array(meta["class_weight"])
    if np.abs(got - expected).max() > 1e-5 or "--class_weight=auto computed" not in meta["config"]:
        print(f"checkpoint {got.tolist()}, numpy {expected.tolist()}")
        return 1
    print(" ".join(f"{w:.4f}" for w in got))
    return 0


def scandir(top, suffix):
    """mmcv's scandir(recursive=True), as mmseg 0.30's CustomDataset calls it: os.scandir, files
    not starting with '.', folders (links to folders too) entered through os.path.isdir."""
    def walk(path):
        for entry in os.scandir(path):
            if not entry.name.startswith(".") and entry.is_file():
                rel = os.path.relpath(entry.path, top)
                if rel.endswith(suffix):
                    yield rel
            elif os.path.isdir(entry.path):
                yield from walk(entry.path)
    return list(walk(top))


def mmseg_dump(desc, root, split):
    """mmseg 0.30's CustomDataset: img_dir / ann_dir / split (a list of names + img_suffix, or a
    scan sorted by file name), LoadAnnotations with pillow (palette PNGs as indices),
    reduce_zero_label; the dataset's ignore_index is written as 255, the value the losses and
    metrics ignore."""
    d = json.load(open(desc))
    part = d[split]
    img_dir, ann_dir = part.get("img_dir", d["img_dir"]), part.get("ann_dir", d["ann_dir"])
    img_suffix = d.get("img_suffix", ".jpg")
    seg_suffix = d.get("seg_map_suffix", ".png")
    if part.get("split"):
        names = [line.strip() for line in open(f"{root}/{part['split']}")]
    else:
        names = [f[: -len(img_suffix)] for f in sorted(scandir(f"{root}/{img_dir}", img_suffix))]
    for name in names:
        gt = read_mask(f"{root}/{ann_dir}/{name}{seg_suffix}").squeeze().astype(np.uint8)
        ignore = d.get("ignore_index", 255)
        if d.get("reduce_zero_label"):
            assert ignore == 255, "mmseg would compare ignore_index with the reduced labels"
            gt[gt == 0] = 255
            gt = gt - 1
            gt[gt == 254] = 255
        elif ignore != 255:
            gt[gt == ignore] = 255
        gt = np.ascontiguousarray(gt)
        print(f"{name}\t{img_dir}/{name}{img_suffix}\t{gt.shape[1]}x{gt.shape[0]}\t"
              f"{zlib.crc32(gt.tobytes()):08x}")
    return 0


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    sys.exit({"forms": forms, "broken": broken, "stats": stats, "median_freq": median_freq,
              "mmseg_dump": mmseg_dump}[command](*args))
