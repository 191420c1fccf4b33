"""Python side of the checkpoint interop tests (Debian's /usr/bin/python3 with python3-torch).

  checkpoint_tool.py inspect IN            print a JSON summary of a C++-written checkpoint
  checkpoint_tool.py resave IN OUT         torch.load IN, torch.save it back (OrderedDict kept)
  checkpoint_tool.py dtypes OUT            tensors of every supported dtype, views, nesting
  checkpoint_tool.py to_original IN OUT    mmseg-layout state_dict -> authors' names + module.
  checkpoint_tool.py backbone IN OUT       backbone only, mmcv resnet*_v1c names (no prefix)
  checkpoint_tool.py legacy IN OUT [--bare] [--cuda] [--cuda_class]
                                           IN re-saved in the legacy (pre-1.6) format, by torch
                                           itself; --bare: the state_dict alone; --cuda: storages
                                           tagged 'cuda:0'; --cuda_class: torch.cuda.*Storage
  checkpoint_tool.py legacy_handmade OUT OUT_ZIP
                                           a legacy file written by hand as PyTorch < 1.0 did:
                                           storage views (view_metadata), _rebuild_tensor, a GPU
                                           storage; OUT_ZIP is what torch.load makes of it
  checkpoint_tool.py dtypes OUT [--legacy]
"""
import collections
import io
import json
import pickle
import pickletools
import struct
import sys

import numpy as np
import torch


def inspect(path):
    ckpt = torch.load(path, map_location='cpu')
    sd = ckpt['state_dict']
    q = 'decode_head.context.stages.0.query_project.conv.weight'
    k = 'decode_head.context.stages.0.key_project.conv.weight'
    out = {
        'top_keys': sorted(ckpt.keys()),
        'state_dict_type': type(sd).__name__,
        'num_keys': len(sd),
        'first_key': next(iter(sd)),
        'dtypes': sorted({str(v.dtype) for v in sd.values()}),
        'meta': {key: value for key, value in ckpt['meta'].items()
                 if isinstance(value, (str, int, float, list, tuple))},
        'shared_key_query': bool(q in sd and sd[q].data_ptr() == sd[k].data_ptr()),
        'sum': float(sum(v.double().sum() for v in sd.values())),
    }
    print(json.dumps(out, sort_keys=True))


def resave(src, dst):
    ckpt = torch.load(src, map_location='cpu')
    sd = ckpt['state_dict']
    # A real state_dict as nn.Module.state_dict() returns it, with its _metadata attribute.
    new_sd = collections.OrderedDict((k, v.clone()) for k, v in sd.items())
    new_sd._metadata = collections.OrderedDict([('', {'version': 1}),
                                                ('backbone', {'version': 1})])
    ckpt['state_dict'] = new_sd
    ckpt['meta']['resaved_by'] = 'python'
    ckpt['meta']['score'] = np.float64(0.5)
    ckpt['optimizer'] = {'state': {0: {'momentum_buffer': torch.ones(3)}},
                         'param_groups': [{'lr': 0.01, 'params': [0]}]}
    torch.save(ckpt, dst)


def dtypes(dst, legacy=False):
    base = torch.arange(24, dtype=torch.float32)
    d = collections.OrderedDict()
    d['f32'] = torch.linspace(-1, 1, 6).view(2, 3)
    d['f16'] = torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16)
    d['bf16'] = torch.tensor([1.5, -3.0, 256.0], dtype=torch.bfloat16)
    d['f64'] = torch.tensor([[1e-300, 3.141592653589793]], dtype=torch.float64)
    d['i64'] = torch.tensor([-(2 ** 40), 7, 0], dtype=torch.int64)
    d['u8'] = torch.tensor([0, 128, 255], dtype=torch.uint8)
    d['scalar'] = torch.tensor(42, dtype=torch.int64)
    d['base'] = base
    d['slice'] = base[5:15]                 # view with a storage offset
    d['transposed'] = base.view(4, 6).t()   # non-contiguous view of the same storage
    d['empty'] = torch.zeros(0, 3)
    obj = {'one': {'only': d['u8']},        # one-entry dicts
           'list': [1, 2.5, None, 'text', (3, 4)],
           'tuple': (True, False),
           'tensors': d,
           'big': 2 ** 62,
           'neg': -5}
    torch.save(obj, dst, _use_new_zipfile_serialization=not legacy)


# mmseg name prefix -> authors' torchcv name prefix (the README: `f_key` / `W` / `dsn` names), written out independently of the
# C++ table.
def to_original_name(k):
    rules = [
        ('backbone.stem.0.', 'backbone.prefix.conv1.'), ('backbone.stem.1.', 'backbone.prefix.bn1.'),
        ('backbone.stem.3.', 'backbone.prefix.conv2.'), ('backbone.stem.4.', 'backbone.prefix.bn2.'),
        ('backbone.stem.6.', 'backbone.prefix.conv3.'), ('backbone.stem.7.', 'backbone.prefix.bn3.'),
        ('decode_head.fusion.bottleneck.conv.', 'fusion.conv_bn_dropout.0.'),
        ('decode_head.fusion.bottleneck.bn.', 'fusion.conv_bn_dropout.1.'),
        ('decode_head.bottleneck.conv.', 'context.0.'),
        ('decode_head.bottleneck.bn.', 'context.1.0.'),
        ('decode_head.context.bottleneck.conv.', 'context.2.conv_bn_dropout.0.'),
        ('decode_head.context.bottleneck.bn.', 'context.2.conv_bn_dropout.1.0.'),
        ('decode_head.conv_seg.', 'cls.'),
        ('auxiliary_head.convs.0.conv.', 'dsn.0.'),
        ('auxiliary_head.convs.0.bn.', 'dsn.1.0.'),
        ('auxiliary_head.conv_seg.', 'dsn.3.'),
    ]
    for block, theirs in (('decode_head.fusion.stages.0.', 'fusion.stages.0.'),
                          ('decode_head.context.stages.0.', 'context.2.stages.0.')):
        rules += [(block + 'key_project.conv.', theirs + 'f_key.0.'),
                  (block + 'key_project.bn.', theirs + 'f_key.1.0.'),
                  (block + 'query_project.conv.', theirs + 'f_query.0.'),
                  (block + 'query_project.bn.', theirs + 'f_query.1.0.'),
                  (block + 'value_project.', theirs + 'f_value.'),
                  (block + 'out_project.', theirs + 'W.')]
    for ours, theirs in rules:
        if k.startswith(ours):
            return theirs + k[len(ours):]
    return k


def to_original(src, dst):
    sd = torch.load(src, map_location='cpu')['state_dict']
    out = collections.OrderedDict(('module.' + to_original_name(k), v) for k, v in sd.items())
    torch.save({'state_dict': out, 'config_dict': {'network': 'asymmetric_non_local_network'}},
               dst)


def backbone(src, dst):
    sd = torch.load(src, map_location='cpu')['state_dict']
    out = collections.OrderedDict((k[len('backbone.'):], v) for k, v in sd.items()
                                  if k.startswith('backbone.'))
    out['fc.weight'] = torch.zeros(1000, 2048)
    out['fc.bias'] = torch.zeros(1000)
    torch.save({'state_dict': out}, dst)


def same(a, b):
    """Structural equality of two torch.load results (tensors bit for bit, dtype included)."""
    if isinstance(a, torch.Tensor):
        return (isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and
                a.stride() == b.stride() and torch.equal(a, b))
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a.keys()) == list(b.keys()) and
                all(same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return type(a) == type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def pickles_end(data, count):
    """Byte offset just past the first `count` pickles of a legacy file."""
    pos = 0
    for _ in range(count):
        for op, _, at in pickletools.genops(io.BytesIO(data[pos:])):
            if op.name == 'STOP':
                end = at + 1
        pos += end
    return pos


def legacy(src, dst, bare=False, cuda=False, cuda_class=False):
    obj = torch.load(src, map_location='cpu')
    if bare:
        obj = obj['state_dict']
    torch.save(obj, dst, _use_new_zipfile_serialization=False)
    if cuda or cuda_class:
        # What a GPU run of PyTorch < 1.6 writes: the location 'cuda:0' (and, before 1.x,
        # torch.cuda.*Storage classes). Only the pickles are touched, never the raw storages.
        data = open(dst, 'rb').read()
        end = pickles_end(data, 5)
        head, tail = data[:end], data[end:]
        if cuda:
            head = head.replace(b'X\x03\x00\x00\x00cpu', b'X\x06\x00\x00\x00cuda:0')
        if cuda_class:
            head = head.replace(b'ctorch\nFloatStorage\n', b'ctorch.cuda\nFloatStorage\n')
        assert head != data[:end], 'nothing to rewrite'
        open(dst, 'wb').write(head + tail)
    back = torch.load(dst, map_location='cpu')
    assert same(obj, back), 'torch.load does not read the legacy file back'


class _Storage:
    def __init__(self, pid):
        self.pid = pid


class _Tensor:
    def __init__(self, rebuild, args):
        self.rebuild, self.args = rebuild, args

    def __reduce__(self):
        return self.rebuild, self.args


class _LegacyPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _Storage) else None


def legacy_handmade(dst, dst_zip):
    """The legacy layout of PyTorch 0.3-1.0, written field by field (torch/serialization.py's _legacy_save)."""
    import torch._utils as tu
    root = torch.arange(24, dtype=torch.float32) * 0.5 - 3
    longs = torch.tensor([7, -1, 1 << 40], dtype=torch.int64)
    # Storage 'r' (24 floats, on 'cuda:0'); storage view 'v' = elements 4..13 of it.
    r = _Storage(('storage', torch.cuda.FloatStorage, 'r', 'cuda:0', 24, None))
    v = _Storage(('storage', torch.cuda.FloatStorage, 'r', 'cuda:0', 24, ('v', 4, 10)))
    l = _Storage(('storage', torch.LongStorage, 'l', 'cpu', 3, None))
    obj = collections.OrderedDict([
        ('whole', _Tensor(tu._rebuild_tensor_v2,
                          (r, 0, (4, 6), (6, 1), False, collections.OrderedDict()))),
        ('in_view', _Tensor(tu._rebuild_tensor_v2,
                            (v, 2, (3,), (1,), False, collections.OrderedDict()))),
        ('view_again', _Tensor(tu._rebuild_tensor_v2,
                               (v, 0, (2, 5), (5, 1), False, collections.OrderedDict()))),
        ('old_rebuild', _Tensor(tu._rebuild_tensor, (r, 1, (3, 2), (1, 6)))),
        ('longs', _Tensor(tu._rebuild_tensor, (l, 0, (3,), (1,)))),
    ])
    out = io.BytesIO()
    for value in (0x1950a86a20f9469cfc6c, 1001,
                  {'protocol_version': 1001, 'little_endian': True,
                   'type_sizes': {'short': 2, 'int': 4, 'long': 8}}):
        pickle.dump(value, out, protocol=2)
    _LegacyPickler(out, protocol=2).dump(obj)
    pickle.dump(['r', 'l'], out, protocol=2)
    for key, tensor in (('r', root), ('l', longs)):
        out.write(struct.pack('<q', tensor.numel()))
        out.write(tensor.numpy().tobytes())
    open(dst, 'wb').write(out.getvalue())
    loaded = torch.load(dst, map_location='cpu')
    assert torch.equal(loaded['in_view'], root[6:9])
    assert torch.equal(loaded['old_rebuild'], root.as_strided((3, 2), (1, 6), 1))
    torch.save(loaded, dst_zip)


def flip(src, dst, record, count=16):
    """Copies SRC to DST with COUNT bytes (at most the record's size) flipped in the middle of
    zip record RECORD (e.g.
    'data/3', a tensor's storage); prints the record's full name and what Python's
    zipfile.testzip() says of DST (the first record failing its CRC), then whether torch.load
    still loads it (PyTorch does not check)."""
    import shutil
    import zipfile
    shutil.copyfile(src, dst)
    with zipfile.ZipFile(src) as z:
        info = next(i for i in z.infolist() if i.filename.endswith('/' + record))
    with open(dst, 'r+b') as f:
        f.seek(info.header_offset)
        header = f.read(30)
        name_len, extra_len = struct.unpack('<HH', header[26:30])
        count = min(count, info.file_size)  # a record of 2 bytes (the version) gets 2
        start = info.header_offset + 30 + name_len + extra_len + (info.file_size - count) // 2
        f.seek(start)
        data = bytearray(f.read(count))
        f.seek(start)
        f.write(bytes(b ^ 0xFF for b in data))
    with zipfile.ZipFile(dst) as z:
        bad = z.testzip()
    try:
        torch.load(dst, map_location='cpu')
        loads = 'torch.load loads it'
    except Exception as e:  # noqa: BLE001
        loads = 'torch.load fails: ' + (str(e).splitlines() or [type(e).__name__])[0]
    print(f'{info.filename} testzip={bad} {loads}')


def main(argv):
    cmd = argv[0]
    if cmd == 'inspect':
        inspect(argv[1])
    elif cmd == 'resave':
        resave(argv[1], argv[2])
    elif cmd == 'dtypes':
        dtypes(argv[1], legacy='--legacy' in argv)
    elif cmd == 'legacy':
        legacy(argv[1], argv[2], bare='--bare' in argv, cuda='--cuda' in argv,
               cuda_class='--cuda_class' in argv)
    elif cmd == 'legacy_handmade':
        legacy_handmade(argv[1], argv[2])
    elif cmd == 'to_original':
        to_original(argv[1], argv[2])
    elif cmd == 'flip':
        flip(argv[1], argv[2], argv[3])
    elif cmd == 'backbone':
        backbone(argv[1], argv[2])
    else:
        raise SystemExit('unknown command ' + cmd)


if __name__ == '__main__':
    main(sys.argv[1:])
