#!/usr/bin/python3
"""
Writes the SPAN import conformance fixtures (test/fixtures/span): SPAN (Swift
Parameter-free Attention Network, Wan et al. 2024) built here in PyTorch with
the released key names and seeded random weights, saved the ways the community
ships it, with a test input and PyTorch's output for each, plus a SPAN-like file
of a layout Restora does not know (5 blocks).

Run with Debian's torch: apt-get install -y python3-torch; /usr/bin/python3 scripts/make-span-fixtures.py
Written from the paper and the behaviour of the public implementations (hongyuanyu/SPAN
basicsr/archs/span_arch.py, chaiNNer's spandrel architectures/SPAN), not copied:
  - Conv3XC keeps its training branches (sk: 1x1; conv.0 1x1 -> conv.1 3x3 -> conv.2 1x1,
    width x2) and a 3x3 eval_conv. In eval mode the reference re-fuses the branches into
    eval_conv on every forward (update_params), so what a file's eval_conv holds never
    reaches the output: the branches do. Here most files store the fused kernel (what a
    checkpoint saved after an eval pass holds); span-x3 stores a stale random eval_conv
    (what one saved mid-training may hold), so the test shows the importer fuses the
    branches as the reference does.
  - The input is normalised, (x - rgb_mean) * 255, unless the state dict has the
    'no_norm' buffer (spandrel's rule; traiNNer-redux / neosr save it for norm=False).
    The output is not de-normalised.
  - SPAB's SiLU is in place (nn.SiLU(inplace=True)), so the out1 a block returns is
    SiLU(c1_r(x)): block 6's out1 enters the final concatenation activated. span-x4 also
    stores the output of a forward that uses the raw conv there (span-x4.raw-block6.bin),
    which the test shows differs.
Byte-identical on every run (seeded; zip .pth written by torch.save is deterministic here).
"""
import json, os, struct, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'span')
os.makedirs(OUT, exist_ok=True)
RGB_MEAN = (0.4488, 0.4371, 0.4040)
IMG_RANGE = 255.0


class Conv3XC(nn.Module):
    """Re-parameterisable 3x3 conv: 1x1 skip plus a 1x1 -> 3x3 -> 1x1 chain; runs as one fused 3x3."""
    def __init__(self, cin, cout, gain=2):
        super().__init__()
        self.sk = nn.Conv2d(cin, cout, 1)
        self.conv = nn.Sequential(nn.Conv2d(cin, cin * gain, 1), nn.Conv2d(cin * gain, cout * gain, 3), nn.Conv2d(cout * gain, cout, 1))
        self.eval_conv = nn.Conv2d(cin, cout, 3, padding=1)

    def fused(self):
        a, b, c = self.conv
        wa, wc = a.weight[:, :, 0, 0], c.weight[:, :, 0, 0]
        w = torch.einsum('om,mnhw,ni->oihw', wc, b.weight, wa) + F.pad(self.sk.weight, [1, 1, 1, 1])
        bias = wc @ (b.bias + b.weight.sum((2, 3)) @ a.bias) + c.bias + self.sk.bias
        return w, bias

    def forward(self, x):
        # The reference fuses the branches on every eval forward; the stored eval_conv is overwritten.
        w, b = self.fused()
        return F.conv2d(x, w, b, padding=1)


class SPAB(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1_r, self.c2_r, self.c3_r = Conv3XC(c, c), Conv3XC(c, c), Conv3XC(c, c)
        self.raw_out1 = False  # True: return c1_r's raw output (what an out-of-place SiLU would give)

    def forward(self, x):
        out1 = self.c1_r(x)
        raw = out1.clone() if self.raw_out1 else None
        out1_act = F.silu(out1, inplace=True)  # as the reference: out1 itself becomes SiLU(out1)
        out2_act = F.silu(self.c2_r(out1_act), inplace=True)
        out3 = self.c3_r(out2_act)
        att = torch.sigmoid(out3) - 0.5
        return (out3 + x) * att, (raw if raw is not None else out1), att


class SPAN(nn.Module):
    def __init__(self, scale, feat, norm=True, blocks=6):
        super().__init__()
        self.norm = norm
        if not norm:
            self.register_buffer('no_norm', torch.zeros(1))
        self.conv_1 = Conv3XC(3, feat)
        for i in range(1, blocks + 1):
            setattr(self, 'block_%d' % i, SPAB(feat))
        self.conv_cat = nn.Conv2d(feat * 4, feat, 1)
        self.conv_2 = Conv3XC(feat, feat)
        self.upsampler = nn.Sequential(nn.Conv2d(feat, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, x):
        if self.norm:
            x = (x - torch.tensor(RGB_MEAN).view(1, 3, 1, 1)) * IMG_RANGE
        f = self.conv_1(x)
        b1, _, _ = self.block_1(f)
        y = b1
        for i in range(2, 6):
            y, _, _ = getattr(self, 'block_%d' % i)(y)
        b6, b6_out1, _ = self.block_6(y)
        return self.upsampler(self.conv_cat(torch.cat([f, self.conv_2(b6), b1, b6_out1], 1)))


def conv3xcs(net):
    return [m for m in net.modules() if isinstance(m, Conv3XC)]


def randomise(net, seed, stale_eval_conv=False):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            fan_in = p[0].numel() if p.dim() > 1 else 1
            p.copy_(torch.randn(p.shape, generator=g) * (0.7 / fan_in ** 0.5 if p.dim() > 1 else 0.1))
        if net.norm:  # the head sees (x - mean) * 255: bring it back to unit size
            for p in net.conv_1.parameters():
                if p.dim() > 1:
                    p.mul_(1 / 64)
        for m in conv3xcs(net):
            w, b = m.fused()
            if stale_eval_conv:
                m.eval_conv.weight.copy_(torch.randn(w.shape, generator=g) * 0.2)
                m.eval_conv.bias.copy_(torch.randn(b.shape, generator=g) * 0.2)
            else:
                m.eval_conv.weight.copy_(w)
                m.eval_conv.bias.copy_(b)


def check_fusion(m, seed):
    """Away from the border (where conv.0's bias meets the zero padding), the fused 3x3 equals the branches."""
    x = torch.rand(1, m.sk.in_channels, 9, 9, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        branches = m.conv(F.pad(x, [1, 1, 1, 1])) + m.sk(x)
        fused = m(x)
    err = (branches - fused)[:, :, 1:-1, 1:-1].abs().max().item()
    assert err < 1e-4, err


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


def write_case(name, file, net, save, h=12, w=16, raw_block6=False):
    net.eval()
    x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y = net(x)
        if raw_block6:
            net.block_6.raw_out1 = True
            y_raw = net(x)
            net.block_6.raw_out1 = False
            with open(os.path.join(OUT, name + '.raw-block6.bin'), 'wb') as f:
                f.write(nhwc(y_raw))
    save(os.path.join(OUT, file))
    with open(os.path.join(OUT, name + '.io.bin'), 'wb') as f:  # input then output, NHWC float32
        f.write(nhwc(x))
        f.write(nhwc(y))
    extra = {'rawBlock6MaxDiff': round((y - y_raw).abs().max().item(), 4)} if raw_block6 else {}
    return {'input': [h, w], 'output': list(y.shape[2:]), 'range': [round(y.min().item(), 3), round(y.max().item(), 3)], **extra}


cases = {}
torch.manual_seed(0)

net = SPAN(4, 8, norm=True); randomise(net, 11)
for i, m in enumerate(conv3xcs(net)[:3]):
    check_fusion(m, 100 + i)
cases['span-x4.pth'] = dict(scale=4, features=8, norm=True, evalConv='fused', wrapper='params_ema', **write_case(
    'span-x4', 'span-x4.pth', net, lambda p: torch.save({'params_ema': net.state_dict()}, p), raw_block6=True))

net = SPAN(2, 6, norm=False); randomise(net, 12)
cases['span-x2.safetensors'] = dict(scale=2, features=6, norm=False, evalConv='fused', wrapper='none', **write_case(
    'span-x2', 'span-x2.safetensors', net, lambda p: write_safetensors(p, net.state_dict())))

net = SPAN(3, 4, norm=True); randomise(net, 13, stale_eval_conv=True)
cases['span-x3.pth'] = dict(scale=3, features=4, norm=True, evalConv='stale', wrapper='none', **write_case(
    'span-x3', 'span-x3.pth', net, lambda p: torch.save(net.state_dict(), p)))

net = SPAN(1, 4, norm=False); randomise(net, 14)
cases['span-x1.pth'] = dict(scale=1, features=4, norm=False, evalConv='fused', wrapper='params', **write_case(
    'span-x1', 'span-x1.pth', net, lambda p: torch.save({'params': net.state_dict()}, p)))

# Looks like SPAN (Conv3XC keys, block_N.cK_r, conv_cat, upsampler) but has five blocks.
net = SPAN(2, 2, norm=True, blocks=5); randomise(net, 15)
torch.save(net.state_dict(), os.path.join(OUT, 'span-unknown-variant.pth'))

with open(os.path.join(OUT, 'cases.json'), 'w') as f:
    json.dump(cases, f, indent=2)
    f.write('\n')
print('wrote', sorted(os.listdir(OUT)))
print(json.dumps(cases))
