#!/usr/bin/python3
"""
Writes the RealPLKSR import conformance fixtures (test/fixtures/realplksr): RealPLKSR (the
community's "Real" variant of PLKSR, Lee et al. 2024, "Partial Large Kernel CNNs for
Efficient Super-Resolution", as neosr and traiNNer-redux train it and chaiNNer's spandrel
loads it) built here in PyTorch with the released key names and seeded random weights,
saved the ways the community ships it, with a test input and PyTorch's output for each,
plus a RealPLKSR-like file of a layout Restora does not know (a 3x3 -> 1x1 channel mixer).

Run with Debian's torch: apt-get install -y python3-torch; /usr/bin/python3 scripts/make-realplksr-fixtures.py
Written from the paper and the behaviour of the public implementations (neosr
realplksr_arch.py, traiNNer-redux realplksr_arch.py, spandrel architectures/PLKSR and its
DySample helper), not copied:
  - feats = [conv 3x3 3 -> dim, n_blocks PLKBlocks, Dropout2d (identity at eval),
    conv 3x3 dim -> 3 * scale^2]; out = to_img(feats(x) + repeat_interleave(x, scale^2, dim=1)).
  - PLKBlock(x) = x + norm(refine(attn(lk(channel_mixer(layer_norm(x)))))):
    layer_norm: channels-first LayerNorm (eps 1e-6) only when layer_norm is on (traiNNer-redux);
    channel_mixer (DCCM): conv 3x3 dim -> 2 dim, Mish, conv 3x3 2 dim -> dim;
    lk (PLKConv2d): a k x k conv over the first pdim = int(dim * split_ratio) channels, the
    rest passed through (at eval the reference writes it into x[:, :pdim] in place);
    attn (EA, when use_ea): x * sigmoid(conv 3x3 (x));
    refine: conv 1x1; norm: GroupNorm(4, dim) (eps 1e-5) when layer_norm is off.
    The two norms have their own keys (feats.N.norm.* vs feats.N.layer_norm.*).
  - to_img: PixelShuffle(scale), or DySample (upsampler 'dysample'): offsets from a 1x1
    conv times sigmoid(1x1 'scope' conv, no bias) * 0.5 plus the fixed init_pos grid, a
    bilinear grid_sample of each channel group (border padding, align_corners False, as
    the DySample paper's code), then a 1x1 end_conv to RGB. Groups: 3 at odd scales, else 4.
Byte-identical on every run (seeded; zip .pth written by torch.save is deterministic here).
"""
import json, os, struct, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'realplksr')
os.makedirs(OUT, exist_ok=True)
torch.set_num_threads(1)


class ChannelsFirstLayerNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        return self.weight[:, None, None] * ((x - mu) / torch.sqrt(var + self.eps)) + self.bias[:, None, None]


class PartialConv(nn.Module):
    def __init__(self, pdim, k):
        super().__init__()
        self.conv = nn.Conv2d(pdim, pdim, k, 1, k // 2)
        self.pdim = pdim

    def forward(self, x):
        x = x.clone()
        x[:, :self.pdim] = self.conv(x[:, :self.pdim])
        return x


class Attention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.f = nn.Sequential(nn.Conv2d(dim, dim, 3, 1, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.f(x)


class Block(nn.Module):
    def __init__(self, dim, k, split_ratio, use_ea, layer_norm, mixer_second_kernel=3):
        super().__init__()
        if layer_norm:
            self.layer_norm = ChannelsFirstLayerNorm(dim)
        self.channel_mixer = nn.Sequential(
            nn.Conv2d(dim, dim * 2, 3, 1, 1), nn.Mish(), nn.Conv2d(dim * 2, dim, mixer_second_kernel, 1, mixer_second_kernel // 2))
        self.lk = PartialConv(int(dim * split_ratio), k)
        if use_ea:
            self.attn = Attention(dim)
        self.refine = nn.Conv2d(dim, dim, 1)
        if not layer_norm:
            self.norm = nn.GroupNorm(4, dim)

    def forward(self, x):
        y = self.layer_norm(x) if hasattr(self, 'layer_norm') else x
        y = self.lk(self.channel_mixer(y))
        if hasattr(self, 'attn'):
            y = self.attn(y)
        y = self.refine(y)
        if hasattr(self, 'norm'):
            y = self.norm(y)
        return y + x


class DySampleUp(nn.Module):
    def __init__(self, cin, cout, s, groups):
        super().__init__()
        self.s, self.g = s, groups
        self.end_conv = nn.Conv2d(cin, cout, 1)
        self.offset = nn.Conv2d(cin, 2 * groups * s * s, 1)
        self.scope = nn.Conv2d(cin, 2 * groups * s * s, 1, bias=False)
        self.register_buffer('init_pos', self.grid())

    def grid(self):
        # Sub-pixel centres of the s x s outputs of an LR pixel, in LR pixels: x offset by column j, y by row i.
        h = (torch.arange(self.s, dtype=torch.float32) - (self.s - 1) / 2) / self.s
        xs = h.view(1, 1, self.s).expand(self.g, self.s, self.s)
        ys = h.view(1, self.s, 1).expand(self.g, self.s, self.s)
        return torch.cat([xs.reshape(-1), ys.reshape(-1)]).view(1, -1, 1, 1)

    def forward(self, x):
        b, c, hh, ww = x.shape
        s, g = self.s, self.g
        off = self.offset(x) * torch.sigmoid(self.scope(x)) * 0.5 + self.init_pos  # [b, 2*g*s*s, h, w]: (xy, group, i, j)
        off = off.view(b, 2, g * s * s, hh, ww)
        gy, gx = torch.meshgrid(torch.arange(hh, dtype=torch.float32) + 0.5, torch.arange(ww, dtype=torch.float32) + 0.5, indexing='ij')
        base = torch.stack([gx, gy]).view(1, 2, 1, hh, ww)
        norm = torch.tensor([ww, hh], dtype=torch.float32).view(1, 2, 1, 1, 1)
        grid = 2 * (base + off) / norm - 1
        grid = F.pixel_shuffle(grid.reshape(b, -1, hh, ww), s).view(b, 2, g, s * hh, s * ww)
        grid = grid.permute(0, 2, 3, 4, 1).reshape(b * g, s * hh, s * ww, 2)
        y = F.grid_sample(x.reshape(b * g, c // g, hh, ww), grid, mode='bilinear', padding_mode='border', align_corners=False)
        return self.end_conv(y.reshape(b, c, s * hh, s * ww))


class RealPLKSR(nn.Module):
    def __init__(self, scale, dim, n_blocks, k=17, split_ratio=0.25, use_ea=True, layer_norm=False, dysample=False, mixer_second_kernel=3):
        super().__init__()
        self.scale = scale
        self.feats = nn.Sequential(
            nn.Conv2d(3, dim, 3, 1, 1),
            *[Block(dim, k, split_ratio, use_ea, layer_norm, mixer_second_kernel) for _ in range(n_blocks)],
            nn.Dropout2d(0.0),
            nn.Conv2d(dim, 3 * scale * scale, 3, 1, 1))
        self.to_img = DySampleUp(3 * scale * scale, 3, scale, 3 if scale % 2 else 4) if dysample else nn.PixelShuffle(scale)

    def forward(self, x, net_only=False):
        f = self.feats(x)
        if net_only:
            return f
        return self.to_img(f + torch.repeat_interleave(x, self.scale ** 2, dim=1))


def randomise(net, seed, offset_gain=1.0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                gain = offset_gain if name.startswith('to_img.offset') or name.startswith('to_img.scope') else 1.0
                p.copy_(torch.randn(p.shape, generator=g) * (0.8 * gain / fan_in ** 0.5))
            elif name.endswith('norm.weight'):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)


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


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous().numpy().tobytes()


def write_case(name, file, net, save, h=20, w=24):
    net.eval()
    x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y = net(x)
        f = net(x, net_only=True)
    save(os.path.join(OUT, file))
    with open(os.path.join(OUT, name + '.io.bin'), 'wb') as fh:  # input then output, NHWC float32
        fh.write(nhwc(x))
        fh.write(nhwc(y))
    return {'input': [h, w], 'output': list(y.shape[2:]), 'range': [round(y.min().item(), 3), round(y.max().item(), 3)],
            # How far the trunk moves the output from the repeated input (the net is not a pass-through).
            'trunkSpread': round((f.max() - f.min()).item(), 3)}


def options(dim, n_blocks, k, split_ratio, use_ea, layer_norm, dysample, groups=4):
    return {'dim': dim, 'n_blocks': n_blocks, 'kernel_size': k, 'split_ratio': split_ratio, 'use_ea': use_ea,
            'layer_norm': layer_norm, 'norm_groups': 4, 'upsampler': 'dysample' if dysample else 'pixelshuffle', 'dysample_groups': groups}


cases = {}
torch.manual_seed(0)

net = RealPLKSR(4, 16, 3, k=17, split_ratio=0.25, use_ea=True, layer_norm=False); randomise(net, 21)
cases['realplksr-x4.pth'] = dict(scale=4, options=options(16, 3, 17, 0.25, True, False, False), wrapper='params_ema', **write_case(
    'realplksr-x4', 'realplksr-x4.pth', net, lambda p: torch.save({'params_ema': net.state_dict()}, p)))

net = RealPLKSR(2, 12, 2, k=7, split_ratio=0.5, use_ea=False, layer_norm=True); randomise(net, 22)
cases['realplksr-x2.safetensors'] = dict(scale=2, options=options(12, 2, 7, 0.5, False, True, False), wrapper='none', **write_case(
    'realplksr-x2', 'realplksr-x2.safetensors', net, lambda p: write_safetensors(p, net.state_dict())))

net = RealPLKSR(1, 8, 2, k=9, split_ratio=0.25, use_ea=True, layer_norm=True); randomise(net, 23)
cases['realplksr-x1.pth'] = dict(scale=1, options=options(8, 2, 9, 0.25, True, True, False), wrapper='params', **write_case(
    'realplksr-x1', 'realplksr-x1.pth', net, lambda p: torch.save({'params': net.state_dict()}, p)))

# DySample at x3 (3 groups of 9 channels) and x2 (4 groups of 3); large offsets so samples cross pixels and the border.
net = RealPLKSR(3, 8, 2, k=17, split_ratio=0.25, use_ea=True, layer_norm=False, dysample=True); randomise(net, 24, offset_gain=6.0)
cases['realplksr-x3-dysample.pth'] = dict(scale=3, options=options(8, 2, 17, 0.25, True, False, True, 3), wrapper='params_ema', **write_case(
    'realplksr-x3-dysample', 'realplksr-x3-dysample.pth', net, lambda p: torch.save({'params_ema': net.state_dict()}, p)))

net = RealPLKSR(2, 8, 2, k=5, split_ratio=0.5, use_ea=False, layer_norm=True, dysample=True); randomise(net, 25, offset_gain=6.0)
cases['realplksr-x2-dysample.pth'] = dict(scale=2, options=options(8, 2, 5, 0.5, False, True, True, 4), wrapper='none', **write_case(
    'realplksr-x2-dysample', 'realplksr-x2-dysample.pth', net, lambda p: torch.save(net.state_dict(), p)))

# Looks like RealPLKSR (feats.N.channel_mixer / lk / refine / norm) but its channel mixer ends in a 1x1 conv.
net = RealPLKSR(2, 8, 2, k=5, mixer_second_kernel=1); randomise(net, 26)
torch.save(net.state_dict(), os.path.join(OUT, 'realplksr-unknown-variant.pth'))

# The released x4 configuration (dim 64, 28 blocks, 17x17, split 0.25, EA, GroupNorm): its parameter count.
released = RealPLKSR(4, 64, 28, k=17, split_ratio=0.25, use_ea=True, layer_norm=False)
summary = {
    'cases': cases,
    'releasedX4': {'scale': 4, 'options': options(64, 28, 17, 0.25, True, False, False),
                   'params': sum(p.numel() for p in released.parameters())},
}
with open(os.path.join(OUT, 'cases.json'), 'w') as f:
    json.dump(summary, f, indent=2)
    f.write('\n')
print('wrote', sorted(os.listdir(OUT)))
print(json.dumps(summary))
