"""Hostile input files for tests/bad_input_test.sh (Debian's /usr/bin/python3 with python3-torch).

  bad_inputs.py OUT_DIR CHECKPOINT IMAGE_PNG

writes into OUT_DIR, from a real checkpoint and a real image:
  deep.pth        a zip checkpoint whose data.pkl nests 300,000 lists (a stack-overflow bomb)
  evil.pth        a zip checkpoint whose pickle calls os.system (must be refused, never run)
  short.pth       a tensor whose storage is smaller than its size says
  flipped.pth     the checkpoint with bytes flipped inside data.pkl
  random.pth      random bytes
  legacy_cut.pth  the checkpoint in the legacy format, cut in the middle of its storages
  big.png         a valid 30000x30000 1-bit PNG (about 110 KB on disk, 2.7 GB decoded as BGR)
  cut.jpg         the image as a JPEG with its last half missing
  cut.png         the image as a PNG with its last third missing
  crc.png         the image as a PNG with one byte of its pixel data changed
  empty.png       0 bytes
  text.png        text under an image name
  labels_k.png    a label map (same size as IMAGE_PNG) holding class 200 (beyond any dataset's K)
"""
import io
import os
import pickle
import struct
import sys
import zipfile
import zlib

import cv2
import numpy as np
import torch


def zip_with_pickle(path, payload, template):
    """A checkpoint zip laid out as torch.save's, with `payload` as its data.pkl."""
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith('/data.pkl'):
                data = payload
            dst.writestr(info, data)


def png_chunk(kind, data):
    return (struct.pack('>I', len(data)) + kind + data +
            struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))


def big_png(path, side=30000):
    row = b'\x00' + bytes(side // 8)
    comp = zlib.compressobj(9)
    idat = b''.join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack('>IIBBBBB', side, side, 1, 0, 0, 0, 0)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr) + png_chunk(b'IDAT', idat) +
                png_chunk(b'IEND', b''))


def main(out, checkpoint, image_png):
    os.makedirs(out, exist_ok=True)
    # 300,000 nested lists: PROTO 2, then EMPTY_LIST + MARK ... APPENDS, closed from the inside.
    depth = 300000
    deep = b'\x80\x02' + b']' * depth + b'a' * (depth - 1) + b'.'
    zip_with_pickle(f'{out}/deep.pth', deep, checkpoint)

    class Evil:
        def __reduce__(self):
            return (os.system, (f'touch {out}/PWNED',))
    zip_with_pickle(f'{out}/evil.pth', pickle.dumps({'state_dict': Evil()}, protocol=2),
                    checkpoint)

    sd = torch.load(checkpoint, map_location='cpu')
    name = next(iter(sd['state_dict']))
    small = torch.zeros(3)
    buf = io.BytesIO()
    torch.save({'state_dict': {name: small}}, buf)
    # Rewrite the tensor's size in the pickle: (3,) -> (3000000,).
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        pkl_name = [n for n in z.namelist() if n.endswith('data.pkl')][0]
        pkl = z.read(pkl_name)
    patched = pkl.replace(b'K\x03\x85', b'J\xc0\xc6\x2d\x00\x85', 1)
    assert patched != pkl
    with open(f'{out}/short.pth', 'wb') as f:
        f.write(buf.getvalue())
    tmp = f'{out}/short_src.pth'
    os.rename(f'{out}/short.pth', tmp)
    zip_with_pickle(f'{out}/short.pth', patched, tmp)
    os.remove(tmp)

    with zipfile.ZipFile(checkpoint) as z:
        pkl_name = [n for n in z.namelist() if n.endswith('data.pkl')][0]
        pkl = bytearray(z.read(pkl_name))
    for i in range(40, len(pkl) - 40, 97):
        pkl[i] ^= 0x5a
    zip_with_pickle(f'{out}/flipped.pth', bytes(pkl), checkpoint)

    with open(f'{out}/random.pth', 'wb') as f:
        f.write(np.random.RandomState(3).bytes(200000))

    legacy = io.BytesIO()
    torch.save(sd, legacy, _use_new_zipfile_serialization=False)
    data = legacy.getvalue()
    with open(f'{out}/legacy_cut.pth', 'wb') as f:
        f.write(data[:len(data) // 2])

    big_png(f'{out}/big.png')
    image = cv2.imread(image_png, cv2.IMREAD_COLOR)
    jpg = cv2.imencode('.jpg', image)[1].tobytes()
    with open(f'{out}/cut.jpg', 'wb') as f:
        f.write(jpg[:len(jpg) // 2])
    png = cv2.imencode('.png', image)[1].tobytes()
    with open(f'{out}/cut.png', 'wb') as f:
        f.write(png[:2 * len(png) // 3])
    idat = png.index(b'IDAT')
    crc = bytearray(png)
    crc[idat + 20] ^= 0xff
    with open(f'{out}/crc.png', 'wb') as f:
        f.write(bytes(crc))
    open(f'{out}/empty.png', 'wb').close()
    with open(f'{out}/text.png', 'w') as f:
        f.write('this is not an image\n')
    labels = np.zeros(image.shape[:2], np.uint8)
    labels[1:5, 2:9] = 200
    cv2.imwrite(f'{out}/labels_k.png', labels)


if __name__ == '__main__':
    main(*sys.argv[1:])
