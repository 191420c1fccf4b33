"""Reference ANN (mmseg layout) in plain PyTorch, used by the tests as an independent check.

It follows mmsegmentation's modules (ResNetV1c, ANNHead with AFNB/APNB built on
_SelfAttentionBlock and PPMConcat, FCNHead) with the same attribute names, so its state_dict is
keyed exactly like an mmseg checkpoint. Run with Debian's /usr/bin/python3 (python3-torch).

  ann_reference.py make_checkpoint --depth 50 --classes 19 --seed 0 --out model.pth
  ann_reference.py logits --checkpoint model.pth --depth 50 --classes 19 --image x.png --out y.pt
"""
import argparse
import collections
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvModule(nn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0, dilation=1, bias=False, act=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding, dilation, bias=bias)
        self.bn = nn.BatchNorm2d(cout)
        self.act = act

    def forward(self, x):
        x = self.bn(self.conv(x))
        return F.relu(x) if self.act else x


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, dilation, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, dilation, dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + identity)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride, dilation, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, dilation, dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + identity)


STAGES = {18: (BasicBlock, (2, 2, 2, 2)), 34: (BasicBlock, (3, 4, 6, 3)),
          50: (Bottleneck, (3, 4, 6, 3)), 101: (Bottleneck, (3, 4, 23, 3))}


class ResNetV1c(nn.Module):
    def __init__(self, depth):
        super().__init__()
        block, blocks = STAGES[depth]
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for i, (n, planes, stride, dilation) in enumerate(
                zip(blocks, (64, 128, 256, 512), (1, 2, 1, 1), (1, 1, 2, 4))):
            downsample = None
            if stride != 1 or inplanes != planes * block.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes * block.expansion, 1, stride, bias=False),
                    nn.BatchNorm2d(planes * block.expansion))
            first = dilation // 2 if dilation > 1 else dilation
            layers = [block(inplanes, planes, stride, first, downsample)]
            inplanes = planes * block.expansion
            layers += [block(inplanes, planes, 1, dilation, None) for _ in range(1, n)]
            setattr(self, 'layer%d' % (i + 1), nn.Sequential(*layers))

    def forward(self, x):
        x = self.maxpool(self.stem(x))
        outs = []
        for name in ('layer1', 'layer2', 'layer3', 'layer4'):
            x = getattr(self, name)(x)
            outs.append(x)
        return outs


class PPMConcat(nn.ModuleList):
    def __init__(self, scales):
        super().__init__([nn.AdaptiveAvgPool2d(s) for s in scales])

    def forward(self, feats):
        return torch.cat([p(feats).view(*feats.shape[:2], -1) for p in self], dim=2)


class SelfAttentionBlock(nn.Module):
    def __init__(self, key_in, query_in, channels, out_channels, share_key_query, scales):
        super().__init__()
        self.key_project = ConvModule(key_in, channels, 1)
        self.query_project = self.key_project if share_key_query else ConvModule(
            query_in, channels, 1)
        self.value_project = nn.Conv2d(key_in, channels, 1)
        self.out_project = nn.Conv2d(channels, out_channels, 1)
        self.key_downsample = PPMConcat(scales)
        self.channels = channels

    def forward(self, query_feats, key_feats):
        b = query_feats.size(0)
        key_map = self.key_project(key_feats)
        # A shared projection of the same input is computed once (same numbers as twice).
        shared = self.query_project is self.key_project and query_feats is key_feats
        query = key_map if shared else self.query_project(query_feats)
        query = query.reshape(*query.shape[:2], -1).permute(0, 2, 1).contiguous()
        key = self.key_downsample(key_map)
        value = self.key_downsample(self.value_project(key_feats))
        key = key.reshape(*key.shape[:2], -1)
        value = value.reshape(*value.shape[:2], -1).permute(0, 2, 1).contiguous()
        sim = torch.matmul(query, key) * (self.channels ** -.5)
        sim = F.softmax(sim, dim=-1)
        context = torch.matmul(sim, value).permute(0, 2, 1).contiguous()
        context = context.reshape(b, -1, *query_feats.shape[2:])
        return self.out_project(context)


class AFNB(nn.Module):
    def __init__(self, low, high, channels, out, scales):
        super().__init__()
        self.stages = nn.ModuleList([SelfAttentionBlock(low, high, channels, out, False, scales)])
        self.bottleneck = ConvModule(out + high, out, 1, act=False)

    def forward(self, low, high):
        context = torch.stack([s(high, low) for s in self.stages], dim=0).sum(dim=0)
        return self.bottleneck(torch.cat([context, high], 1))


class APNB(nn.Module):
    def __init__(self, cin, channels, out, scales):
        super().__init__()
        self.stages = nn.ModuleList([SelfAttentionBlock(cin, cin, channels, cin, True, scales)])
        self.bottleneck = ConvModule(2 * cin, out, 1)

    def forward(self, feats):
        context = torch.stack([s(feats, feats) for s in self.stages], dim=0).sum(dim=0)
        return self.bottleneck(torch.cat([context, feats], 1))


class ANNHead(nn.Module):
    def __init__(self, low, high, classes, scales, channels=512, project=256):
        super().__init__()
        self.conv_seg = nn.Conv2d(channels, classes, 1)
        self.dropout = nn.Dropout2d(0.1)
        self.fusion = AFNB(low, high, project, high, scales)
        self.bottleneck = ConvModule(high, channels, 3, padding=1)
        self.context = APNB(channels, project, channels, scales)

    def forward(self, inputs):
        out = self.fusion(inputs[2], inputs[3])
        out = self.bottleneck(self.dropout(out))
        out = self.context(out)
        return self.conv_seg(self.dropout(out))


class FCNHead(nn.Module):
    def __init__(self, cin, classes, channels=256):
        super().__init__()
        self.conv_seg = nn.Conv2d(channels, classes, 1)
        self.dropout = nn.Dropout2d(0.1)
        self.convs = nn.Sequential(ConvModule(cin, channels, 3, padding=1))

    def forward(self, inputs):
        return self.conv_seg(self.dropout(self.convs(inputs[2])))


class EncoderDecoder(nn.Module):
    def __init__(self, depth=50, classes=19, scales=(1, 3, 6, 8), align_corners=False):
        super().__init__()
        c4, c5 = (1024, 2048) if depth >= 50 else (256, 512)
        self.backbone = ResNetV1c(depth)
        self.decode_head = ANNHead(c4, c5, classes, scales)
        self.auxiliary_head = FCNHead(c4, classes)
        self.align_corners = align_corners

    def forward(self, x):
        logits = self.decode_head(self.backbone(x))
        return F.interpolate(logits, size=x.shape[2:], mode='bilinear',
                             align_corners=self.align_corners)


MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)


def randomise(model, seed):
    """Random weights with non-trivial BN statistics and attention outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith('num_batches_tracked'):
                t.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
            elif name.endswith('running_var'):
                t.copy_(torch.rand(t.shape, generator=g) * 0.5 + 0.75)
            elif name.endswith('running_mean'):
                t.copy_((torch.rand(t.shape, generator=g) - 0.5) * 0.2)
            elif name.endswith('bn.weight') or '.bn' in name and name.endswith('weight'):
                t.copy_(torch.rand(t.shape, generator=g) * 0.5 + 0.75)
            elif t.dim() == 4:
                fan_in = t.shape[1] * t.shape[2] * t.shape[3]
                t.copy_(torch.randn(t.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            else:
                t.copy_((torch.rand(t.shape, generator=g) - 0.5) * 0.2)


def mmseg_checkpoint(model, classes):
    return {'meta': {'mmseg_version': '0.30.0', 'CLASSES': tuple('c%d' % i for i in range(classes)),
                     'PALETTE': [[i, i, i] for i in range(classes)], 'iter': 40000,
                     'epoch': None},
            'state_dict': model.state_dict(),
            'optimizer': {'state': {}, 'param_groups': [{'lr': 0.01, 'momentum': 0.9,
                                                         'params': [0, 1]}]}}


def read_image(path):
    import torchvision.io as io
    img = io.read_image(path, io.ImageReadMode.RGB).float().unsqueeze(0)  # RGB, [1,3,H,W]
    return (img - MEAN) / STD


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument('command', choices=['make_checkpoint', 'logits', 'write_png'])
    p.add_argument('--depth', type=int, default=50)
    p.add_argument('--classes', type=int, default=19)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--checkpoint')
    p.add_argument('--image')
    p.add_argument('--height', type=int, default=0)
    p.add_argument('--width', type=int, default=0)
    p.add_argument('--align_corners', action='store_true')
    p.add_argument('--out', required=True)
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    if a.command == 'write_png':
        import torchvision.io as io
        g = torch.Generator().manual_seed(a.seed)
        img = torch.randint(0, 256, (3, a.height, a.width), generator=g, dtype=torch.uint8)
        # Smooth structure plus noise, so the network sees more than white noise.
        ramp = torch.linspace(0, 200, a.width).to(torch.uint8).view(1, 1, -1)
        img = (img // 2 + ramp // 2).to(torch.uint8)
        io.write_png(img, a.out)
        return 0
    model = EncoderDecoder(a.depth, a.classes, align_corners=a.align_corners)
    if a.command == 'make_checkpoint':
        randomise(model, a.seed)
        torch.save(mmseg_checkpoint(model, a.classes), a.out)
        return 0
    ckpt = torch.load(a.checkpoint, map_location='cpu')
    model.load_state_dict(ckpt.get('state_dict', ckpt), strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(read_image(a.image))[0]
    torch.save(logits, a.out)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
