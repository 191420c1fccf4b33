"""Python side of the checkpoint interop tests (Debian's /usr/bin/python3 with python3-torch).

  checkpoint_tool.py inspect IN            print a JSON summary of a C++-written checkpoint
  checkpoint_tool.py resave IN OUT         torch.load IN, torch.save it back (OrderedDict kept)
  checkpoint_tool.py dtypes OUT            tensors of every supported dtype, views, nesting
  checkpoint_tool.py to_original IN OUT    mmseg-layout state_dict -> authors' names + module.
  checkpoint_tool.py backbone IN OUT       backbone only, mmcv resnet*_v1c names (no prefix)
"""
import collections
import json
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


def dtypes(dst):
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
    torch.save(obj, dst)


# mmseg name prefix -> authors' torchcv name prefix (spec §2), written out independently of the
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


def main(argv):
    cmd = argv[0]
    if cmd == 'inspect':
        inspect(argv[1])
    elif cmd == 'resave':
        resave(argv[1], argv[2])
    elif cmd == 'dtypes':
        dtypes(argv[1])
    elif cmd == 'to_original':
        to_original(argv[1], argv[2])
    elif cmd == 'backbone':
        backbone(argv[1], argv[2])
    else:
        raise SystemExit('unknown command ' + cmd)


if __name__ == '__main__':
    main(sys.argv[1:])
