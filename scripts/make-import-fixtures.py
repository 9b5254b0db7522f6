#!/usr/bin/python3
"""
Writes the model-import conformance fixtures (test/fixtures/import): small
community architectures built here in PyTorch with seeded random weights, saved
as the community ships them (.pth zip, legacy .pth, .safetensors, old and new
key layouts), with a test input and PyTorch's output for each, plus bad files.

Run with Debian's torch: apt-get install -y python3-torch; /usr/bin/python3 scripts/make-import-fixtures.py
The networks follow the papers' descriptions (ESRGAN's RRDB, Real-ESRGAN's
pixel-unshuffle input and SRVGGNetCompact); they are written here, not copied.
"""
import json, os, struct, sys, zipfile
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'import')
os.makedirs(OUT, exist_ok=True)


class DenseBlock(nn.Module):
    """Residual dense block: five 3x3 convs, each seeing all earlier outputs; out = x + 0.2 * conv5."""
    def __init__(self, nf, gc):
        super().__init__()
        self.conv1 = nn.Conv2d(nf, gc, 3, 1, 1)
        self.conv2 = nn.Conv2d(nf + gc, gc, 3, 1, 1)
        self.conv3 = nn.Conv2d(nf + 2 * gc, gc, 3, 1, 1)
        self.conv4 = nn.Conv2d(nf + 3 * gc, gc, 3, 1, 1)
        self.conv5 = nn.Conv2d(nf + 4 * gc, nf, 3, 1, 1)

    def forward(self, x):
        feats = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            feats.append(F.leaky_relu(conv(torch.cat(feats, 1)), 0.2))
        return x + 0.2 * self.conv5(torch.cat(feats, 1))


class RRDB(nn.Module):
    def __init__(self, nf, gc):
        super().__init__()
        self.rdb1, self.rdb2, self.rdb3 = DenseBlock(nf, gc), DenseBlock(nf, gc), DenseBlock(nf, gc)

    def forward(self, x):
        return x + 0.2 * self.rdb3(self.rdb2(self.rdb1(x)))


class RRDBNet(nn.Module):
    """Real-ESRGAN key layout. scale 2 / 1 pixel-unshuffle the input by 2 / 4, then upsample x4."""
    def __init__(self, scale, nf, nb, gc):
        super().__init__()
        self.scale = scale
        cin = 3 * {4: 1, 2: 4, 1: 16}[scale]
        self.conv_first = nn.Conv2d(cin, nf, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(nf, gc) for _ in range(nb)])
        self.conv_body = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, 3, 3, 1, 1)

    def forward(self, x):
        if self.scale != 4:
            x = F.pixel_unshuffle(x, 4 // self.scale)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = F.leaky_relu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode='nearest')), 0.2)
        feat = F.leaky_relu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode='nearest')), 0.2)
        return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))


def old_esrgan_keys(sd, nb, ups):
    """The original ESRGAN repo's sequential layout (model.0, model.1.sub.N.RDBk.convj.0, model.3, ...)."""
    out = {}
    for k, v in sd.items():
        p = k.split('.')
        if p[0] == 'conv_first':
            out['model.0.' + p[1]] = v
        elif p[0] == 'body':
            out['model.1.sub.%s.RDB%s.conv%s.0.%s' % (p[1], p[2][3:], p[3][4:], p[4])] = v
        elif p[0] == 'conv_body':
            out['model.1.sub.%d.%s' % (nb, p[1])] = v
        elif p[0].startswith('conv_up'):
            out['model.%d.%s' % (3 * int(p[0][7:]), p[1])] = v
        elif p[0] == 'conv_hr':
            out['model.%d.%s' % (3 * ups + 2, p[1])] = v
        elif p[0] == 'conv_last':
            out['model.%d.%s' % (3 * ups + 4, p[1])] = v
    return out


def esrgan_new_arch_keys(sd):
    """ESRGAN repo's later layout (RRDB_trunk, trunk_conv, upconv1/2, HRconv)."""
    names = {'conv_first': 'conv_first', 'conv_body': 'trunk_conv', 'conv_up1': 'upconv1', 'conv_up2': 'upconv2', 'conv_hr': 'HRconv', 'conv_last': 'conv_last'}
    out = {}
    for k, v in sd.items():
        p = k.split('.')
        if p[0] == 'body':
            out['RRDB_trunk.%s.RDB%s.%s.%s' % (p[1], p[2][3:], p[3], p[4])] = v
        else:
            out[names[p[0]] + '.' + p[1]] = v
    return out


class SRVGGNetCompact(nn.Module):
    """Plain conv + PReLU body at LR size, pixel shuffle, plus the nearest-upsampled input."""
    def __init__(self, scale, nf, num_conv):
        super().__init__()
        self.scale = scale
        layers = [nn.Conv2d(3, nf, 3, 1, 1), nn.PReLU(nf)]
        for _ in range(num_conv):
            layers += [nn.Conv2d(nf, nf, 3, 1, 1), nn.PReLU(nf)]
        layers.append(nn.Conv2d(nf, 3 * scale * scale, 3, 1, 1))
        self.body = nn.ModuleList(layers)

    def forward(self, x):
        y = x
        for layer in self.body:
            y = layer(y)
        return F.pixel_shuffle(y, self.scale) + F.interpolate(x, scale_factor=self.scale, mode='nearest')


def randomise(net, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            # Weights big enough that every layer matters; PReLU slopes spread around 0.25.
            p.copy_(torch.randn(p.shape, generator=g) * (0.25 if p.dim() == 1 else 0.12))


def write_safetensors(path, sd):
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        b = v.detach().contiguous().float().numpy().tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(v.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_case(name, net, sd, save, h=12, w=16):
    g = torch.Generator().manual_seed(7)
    x = torch.rand(1, 3, h, w, generator=g)
    with torch.no_grad():
        y = net(x)
    save(sd)
    # NHWC float32, the layout Restora's tensors use.
    with open(os.path.join(OUT, name + '.io.bin'), 'wb') as f:
        f.write(x.permute(0, 2, 3, 1).contiguous().numpy().tobytes())
        f.write(y.permute(0, 2, 3, 1).contiguous().numpy().tobytes())
    return {'input': [h, w], 'output': list(y.shape[2:])}


cases = {}
torch.manual_seed(0)

net = RRDBNet(4, 8, 2, 4); randomise(net, 1)
cases['rrdb-x4.pth'] = dict(arch='rrdbnet', scale=4, nf=8, nb=2, gc=4, **write_case(
    'rrdb-x4', net, None, lambda _: torch.save({'params_ema': net.state_dict()}, os.path.join(OUT, 'rrdb-x4.pth'))))

net = RRDBNet(2, 8, 1, 4); randomise(net, 2)
cases['rrdb-x2.safetensors'] = dict(arch='rrdbnet', scale=2, nf=8, nb=1, gc=4, **write_case(
    'rrdb-x2', net, None, lambda _: write_safetensors(os.path.join(OUT, 'rrdb-x2.safetensors'), net.state_dict())))

net = RRDBNet(4, 8, 1, 4); randomise(net, 3)
cases['esrgan-old-x4.pth'] = dict(arch='rrdbnet', scale=4, nf=8, nb=1, gc=4, **write_case(
    'esrgan-old-x4', net, None, lambda _: torch.save(old_esrgan_keys(net.state_dict(), 1, 2), os.path.join(OUT, 'esrgan-old-x4.pth'),
                                                      _use_new_zipfile_serialization=False)))

net = RRDBNet(4, 8, 1, 4); randomise(net, 4)
cases['esrgan-newarch-x4.pth'] = dict(arch='rrdbnet', scale=4, nf=8, nb=1, gc=4, **write_case(
    'esrgan-newarch-x4', net, None, lambda _: torch.save(esrgan_new_arch_keys(net.state_dict()), os.path.join(OUT, 'esrgan-newarch-x4.pth'))))

net = SRVGGNetCompact(4, 8, 3); randomise(net, 5)
cases['srvgg-x4.pth'] = dict(arch='srvgg', scale=4, nf=8, numConv=3, **write_case(
    'srvgg-x4', net, None, lambda _: torch.save({'params': net.state_dict()}, os.path.join(OUT, 'srvgg-x4.pth'))))

net = SRVGGNetCompact(2, 8, 2); randomise(net, 6)
half = {k: v.half() for k, v in net.state_dict().items()}
with torch.no_grad():  # the reference output uses the fp16-rounded weights the file holds
    net.load_state_dict({k: v.float() for k, v in half.items()})
cases['srvgg-x2-fp16.pth'] = dict(arch='srvgg', scale=2, nf=8, numConv=2, **write_case(
    'srvgg-x2-fp16', net, None, lambda _: torch.save(half, os.path.join(OUT, 'srvgg-x2-fp16.pth'))))


class NcnnWriter:
    """Writes an ncnn .param/.bin pair layer by layer (format per ncnn's wiki); blobs named by counter."""
    def __init__(self, fp16):
        self.lines, self.bin, self.blobs, self.fp16, self.n = [], bytearray(), 0, fp16, 0

    def blob(self):
        self.blobs += 1
        return 'b%d' % self.blobs

    def layer(self, kind, bottoms, ntops, params=''):
        tops = [self.blob() for _ in range(ntops)]
        self.n += 1
        self.lines.append('%-16s %-16s %d %d %s %s' % (kind, '%s_%d' % (kind, self.n), len(bottoms), len(tops), ' '.join(bottoms + tops), params))
        return tops

    def conv(self, x, conv, lrelu=False):
        w = conv.weight.detach()
        if self.fp16:
            self.bin += struct.pack('<I', 0x01306B47) + w.half().numpy().tobytes()
            self.bin += b'\0' * (-len(self.bin) % 4)
        else:
            self.bin += struct.pack('<I', 0) + w.float().numpy().tobytes()
        self.bin += conv.bias.detach().float().numpy().tobytes()
        act = ' 9=2 -23310=1,2.000000e-01' if lrelu else ''
        return self.layer('Convolution', [x], 1, '0=%d 1=3 4=1 5=1 6=%d%s' % (w.shape[0], w.numel(), act))[0]

    def split(self, x, n):
        return self.layer('Split', [x], n) if n > 1 else [x]

    def save(self, base):
        with open(base + '.param', 'w') as f:
            f.write('7767517\n%d %d\n' % (len(self.lines), self.blobs) + '\n'.join(self.lines) + '\n')
        with open(base + '.bin', 'wb') as f:
            f.write(bytes(self.bin))


def ncnn_srvgg(net, base):
    w = NcnnWriter(fp16=True)
    inp = w.layer('Input', [], 1, '0=3')[0]
    a, b = w.split(inp, 2)
    x = a
    for m in net.body:
        if isinstance(m, nn.Conv2d):
            x = w.conv(x, m)
        else:
            w.bin += m.weight.detach().float().numpy().tobytes()
            x = w.layer('PReLU', [x], 1, '0=%d' % m.weight.numel())[0]
    x = w.layer('PixelShuffle', [x], 1, '0=%d' % net.scale)[0]
    up = w.layer('Interp', [b], 1, '0=1 1=%f 2=%f' % (net.scale, net.scale))[0]
    w.layer('BinaryOp', [x, up], 1)
    w.save(base)


def ncnn_rrdb(net, base):
    w = NcnnWriter(fp16=False)
    x = w.layer('Input', [], 1, '0=3')[0]
    head, x = w.split(w.conv(x, net.conv_first), 2)
    for rrdb in net.body:
        block_in, x = w.split(x, 2)
        for rdb in (rrdb.rdb1, rrdb.rdb2, rrdb.rdb3):
            rdb_in, x0 = w.split(x, 2)
            feats = [x0]
            for conv in (rdb.conv1, rdb.conv2, rdb.conv3, rdb.conv4):
                splits = [w.split(f, 2) for f in feats]
                keep = [s[0] for s in splits]
                inp = keep[0] if len(keep) == 1 else w.layer('Concat', keep, 1)[0]
                feats = [s[1] for s in splits] + [w.conv(inp, conv, lrelu=True)]
            out = w.conv(w.layer('Concat', feats, 1)[0], rdb.conv5)
            x = w.layer('Eltwise', [out, rdb_in], 1, '0=1 -23301=2,2.000000e-01,1.000000e+00')[0]
        x = w.layer('Eltwise', [x, block_in], 1, '0=1 -23301=2,2.000000e-01,1.000000e+00')[0]
    x = w.layer('BinaryOp', [w.conv(x, net.conv_body), head], 1)[0]
    for conv in (net.conv_up1, net.conv_up2):
        x = w.conv(w.layer('Interp', [x], 1, '0=1 1=2.000000e+00 2=2.000000e+00')[0], conv, lrelu=True)
    x = w.conv(w.conv(x, net.conv_hr, lrelu=True), net.conv_last)
    w.save(base)


net = SRVGGNetCompact(4, 8, 3); randomise(net, 8)
with torch.no_grad():  # the .bin holds fp16 conv weights: the reference uses the same rounding
    for m in net.body:
        if isinstance(m, nn.Conv2d):
            m.weight.copy_(m.weight.half().float())
cases['srvgg-x4-ncnn.param'] = dict(arch='srvgg', scale=4, nf=8, numConv=3, **write_case(
    'srvgg-x4-ncnn', net, None, lambda _: ncnn_srvgg(net, os.path.join(OUT, 'srvgg-x4-ncnn'))))

net = RRDBNet(4, 8, 2, 4); randomise(net, 9)
cases['rrdb-x4-ncnn.param'] = dict(arch='rrdbnet', scale=4, nf=8, nb=2, gc=4, **write_case(
    'rrdb-x4-ncnn', net, None, lambda _: ncnn_rrdb(net, os.path.join(OUT, 'rrdb-x4-ncnn'))))


class Evil:
    """A pickle that asks to run a shell command when loaded."""
    def __reduce__(self):
        return (os.system, ('echo restora-pwned',))


torch.save({'conv_first.weight': torch.zeros(1), 'x': Evil()}, os.path.join(OUT, 'evil.pth'))
# A real state dict of an architecture nobody supports (a tiny U-Net-ish thing).
torch.save(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 3, 1)).state_dict(), os.path.join(OUT, 'unknown-arch.pth'))

with open(os.path.join(OUT, 'cases.json'), 'w') as f:
    json.dump(cases, f, indent=2)
print('wrote', sorted(os.listdir(OUT)))
