#!/usr/bin/python3
"""
Writes the GFPGAN import conformance fixtures (test/fixtures/face-import): small
GFPGANv1Clean networks (the "clean" architecture of GFPGAN v1.3 / v1.4, no
compiled CUDA ops) built here in PyTorch with seeded random weights, saved the
way the released files are saved (torch.save of {'params_ema': state_dict}, zip
format), with a test input and PyTorch's output for each, plus a state dict that
looks like a face restorer but is not GFPGAN.

Run with Debian's torch: apt-get install -y python3-torch; /usr/bin/python3 scripts/face-fixtures/gfpgan.py

The network follows the GFP-GAN paper (U-Net encoder, a StyleGAN2 decoder whose
middle features are modulated by spatial feature transforms) and the layer
layout / key names of the public GFPGANv1Clean configuration; it is written
here, not copied.

Each <name>.io.bin holds the input x (uniform [0, 1], NHWC [1, S, S, 3] float32
little-endian) followed by the output (NHWC [1, S, S, 3] float32), where
output = (net((x - 0.5) / 0.5) + 1) / 2, NOT clamped, computed with the noise
buffers stored in the file (randomize_noise=False) and input_is_latent=True.
"""
import json, math, os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'face-import')
os.makedirs(OUT, exist_ok=True)


def lrelu(x):
    return F.leaky_relu(x, 0.2)


def resize(x, factor):
    return F.interpolate(x, scale_factor=factor, mode='bilinear', align_corners=False)


# ---------------------------------------------------------------- U-Net side

class ResBlock(nn.Module):
    """conv3x3 (in->in), lrelu, bilinear resample, conv3x3 (in->out), lrelu; plus a 1x1 conv (no bias) of the resampled input."""
    def __init__(self, cin, cout, mode):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cin, 3, 1, 1)
        self.conv2 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1, bias=False)
        self.factor = 0.5 if mode == 'down' else 2

    def forward(self, x):
        y = resize(lrelu(self.conv1(x)), self.factor)
        y = lrelu(self.conv2(y))
        return y + self.skip(resize(x, self.factor))


# ---------------------------------------------------------------- StyleGAN2 side

class ModulatedConv2d(nn.Module):
    """Weight scaled per input channel by a linear map of the style, optionally demodulated per output channel; no bias."""
    def __init__(self, cin, cout, k, nsf, demodulate, upsample):
        super().__init__()
        self.cout, self.k, self.demodulate, self.upsample = cout, k, demodulate, upsample
        self.modulation = nn.Linear(nsf, cin)
        self.weight = nn.Parameter(torch.zeros(1, cout, cin, k, k))

    def forward(self, x, style):
        b, c = x.shape[:2]
        w = self.weight * self.modulation(style).view(b, 1, c, 1, 1)          # [b, out, in, k, k]
        if self.demodulate:
            w = w * torch.rsqrt(w.pow(2).sum(dim=(2, 3, 4)) + 1e-8).view(b, self.cout, 1, 1, 1)
        if self.upsample:
            x = resize(x, 2)
        h, wd = x.shape[2:]
        y = F.conv2d(x.reshape(1, b * c, h, wd), w.reshape(b * self.cout, c, self.k, self.k), padding=self.k // 2, groups=b)
        return y.view(b, self.cout, *y.shape[2:])


class StyleConv(nn.Module):
    def __init__(self, cin, cout, nsf, upsample):
        super().__init__()
        self.modulated_conv = ModulatedConv2d(cin, cout, 3, nsf, True, upsample)
        self.weight = nn.Parameter(torch.zeros(1))              # noise strength
        self.bias = nn.Parameter(torch.zeros(1, cout, 1, 1))

    def forward(self, x, style, noise):
        y = self.modulated_conv(x, style) * math.sqrt(2)
        return lrelu(y + self.weight * noise + self.bias)


class ToRGB(nn.Module):
    def __init__(self, cin, nsf, upsample):
        super().__init__()
        self.upsample = upsample
        self.modulated_conv = ModulatedConv2d(cin, 3, 1, nsf, False, False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style, skip=None):
        y = self.modulated_conv(x, style) + self.bias
        if skip is not None:
            y = y + (resize(skip, 2) if self.upsample else skip)
        return y


class NormStyleCode(nn.Module):
    """Index 0 of style_mlp: no weights (the MLP is not run when the input is already a latent)."""
    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class ConstantInput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, c, 4, 4))


def decoder_channels(cm, narrow):
    return {4: int(512 * narrow), 8: int(512 * narrow), 16: int(512 * narrow), 32: int(512 * narrow),
            64: int(256 * cm * narrow), 128: int(128 * cm * narrow), 256: int(64 * cm * narrow),
            512: int(32 * cm * narrow), 1024: int(16 * cm * narrow)}


class StyleDecoderSFT(nn.Module):
    """StyleGAN2 generator (clean) whose first conv of every level gets an SFT (scale, shift) from the U-Net."""
    def __init__(self, out_size, nsf, num_mlp, cm, narrow, sft_half):
        super().__init__()
        self.sft_half = sft_half
        layers = [NormStyleCode()]
        for _ in range(num_mlp):
            layers += [nn.Linear(nsf, nsf), nn.LeakyReLU(0.2)]
        self.style_mlp = nn.Sequential(*layers)
        ch = decoder_channels(cm, narrow)
        self.log_size = int(math.log2(out_size))
        self.num_layers = 2 * (self.log_size - 2) + 1
        self.constant_input = ConstantInput(ch[4])
        self.style_conv1 = StyleConv(ch[4], ch[4], nsf, False)
        self.to_rgb1 = ToRGB(ch[4], nsf, False)
        self.style_convs, self.to_rgbs, self.noises = nn.ModuleList(), nn.ModuleList(), nn.Module()
        for l in range(self.num_layers):
            r = 2 ** ((l + 5) // 2)
            self.noises.register_buffer('noise%d' % l, torch.zeros(1, 1, r, r))
        cin = ch[4]
        for lvl in range(3, self.log_size + 1):
            cout = ch[2 ** lvl]
            self.style_convs.append(StyleConv(cin, cout, nsf, True))
            self.style_convs.append(StyleConv(cout, cout, nsf, False))
            self.to_rgbs.append(ToRGB(cout, nsf, True))
            cin = cout

    def forward(self, latent, conditions):
        noise = [getattr(self.noises, 'noise%d' % l) for l in range(self.num_layers)]
        out = self.style_conv1(self.constant_input.weight.repeat(latent.shape[0], 1, 1, 1), latent[:, 0], noise[0])
        skip = self.to_rgb1(out, latent[:, 1])
        i = 1
        for k, to_rgb in enumerate(self.to_rgbs):
            out = self.style_convs[2 * k](out, latent[:, i], noise[2 * k + 1])
            if i < len(conditions):
                scale, shift = conditions[i - 1], conditions[i]
                if self.sft_half:
                    same, sft = torch.split(out, out.shape[1] // 2, dim=1)
                    out = torch.cat([same, sft * scale + shift], dim=1)
                else:
                    out = out * scale + shift
            out = self.style_convs[2 * k + 1](out, latent[:, i + 1], noise[2 * k + 2])
            skip = to_rgb(out, latent[:, i + 2], skip)
            i += 2
        return skip


class GFPGANClean(nn.Module):
    def __init__(self, out_size, nsf, cm, narrow, different_w, sft_half, num_mlp=8):
        super().__init__()
        self.nsf, self.different_w = nsf, different_w
        self.log_size = int(math.log2(out_size))
        self.num_latent = 2 * self.log_size - 2
        ch = decoder_channels(cm, narrow * 0.5)   # the U-Net is half as wide as the decoder
        self.conv_body_first = nn.Conv2d(3, ch[out_size], 1)
        self.conv_body_down = nn.ModuleList()
        cin = ch[out_size]
        for i in range(self.log_size - 2):
            cout = ch[2 ** (self.log_size - 1 - i)]
            self.conv_body_down.append(ResBlock(cin, cout, 'down'))
            cin = cout
        self.final_conv = nn.Conv2d(cin, ch[4], 3, 1, 1)
        self.conv_body_up, self.toRGB = nn.ModuleList(), nn.ModuleList()
        cin = ch[4]
        for lvl in range(3, self.log_size + 1):
            self.conv_body_up.append(ResBlock(cin, ch[2 ** lvl], 'up'))
            cin = ch[2 ** lvl]
        for lvl in range(3, self.log_size + 1):
            self.toRGB.append(nn.Conv2d(ch[2 ** lvl], 3, 1))      # in the file, not used for the restored face
        self.final_linear = nn.Linear(ch[4] * 16, nsf * self.num_latent if different_w else nsf)
        self.stylegan_decoder = StyleDecoderSFT(out_size, nsf, num_mlp, cm, narrow, sft_half)
        self.condition_scale, self.condition_shift = nn.ModuleList(), nn.ModuleList()
        for lvl in range(3, self.log_size + 1):
            c = ch[2 ** lvl]
            cs = c if sft_half else 2 * c     # U-Net width is half the decoder's: c covers half its channels, 2c all
            for lst in (self.condition_scale, self.condition_shift):
                lst.append(nn.Sequential(nn.Conv2d(c, c, 3, 1, 1), nn.LeakyReLU(0.2), nn.Conv2d(c, cs, 3, 1, 1)))

    def forward(self, x):
        feat = lrelu(self.conv_body_first(x))
        skips = []
        for down in self.conv_body_down:
            feat = down(feat)
            skips.insert(0, feat)
        feat = lrelu(self.final_conv(feat))
        style = self.final_linear(feat.reshape(feat.shape[0], -1))   # NCHW flatten
        if self.different_w:
            latent = style.view(style.shape[0], -1, self.nsf)
        else:
            latent = style.unsqueeze(1).repeat(1, self.num_latent, 1)
        conditions = []
        for i, up in enumerate(self.conv_body_up):
            feat = up(feat + skips[i])
            conditions += [self.condition_scale[i](feat), self.condition_shift[i](feat)]
        return self.stylegan_decoder(latent, conditions)


def randomise(net, seed):
    """Every parameter and buffer from one seeded generator, scaled so activations stay O(1)."""
    g = torch.Generator().manual_seed(seed)
    rn = lambda shape: torch.randn(shape, generator=g)
    un = lambda shape, lo, hi: lo + (hi - lo) * torch.rand(shape, generator=g)
    done = set()
    with torch.no_grad():
        for name, t in list(net.named_parameters()) + list(net.named_buffers()):
            if '.noises.noise' in name:
                v = rn(t.shape)                                           # stored noise
            elif name.endswith('constant_input.weight'):
                v = rn(t.shape)
            elif 'modulated_conv.modulation.bias' in name:
                v = un(t.shape, 0.7, 1.3)                                 # styles scale weights around 1
            elif 'modulated_conv.modulation.weight' in name:
                v = rn(t.shape) * 0.3 / math.sqrt(t.shape[1])
            elif name.endswith('modulated_conv.weight'):
                v = rn(t.shape) * (0.5 if '.to_rgb' in name else 1) / math.sqrt(t[0, 0].numel())
            elif name.startswith('stylegan_decoder.') and name.endswith('.weight') and t.shape == (1,):
                v = un(t.shape, 0.1, 0.5)                                   # noise strength, clearly non-zero
            elif name.startswith('condition_scale.') and '.2.' in name:
                v = un(t.shape, 0.7, 1.3) if name.endswith('bias') else rn(t.shape) * 0.3 / math.sqrt(t[0].numel())
            elif name.startswith('condition_shift.') and '.2.' in name:   # SFT: scale around 1, modest shift
                v = rn(t.shape) * (0.1 if name.endswith('bias') else 0.3 / math.sqrt(t[0].numel()))
            elif name.endswith('.bias'):
                v = rn(t.shape) * 0.1
            elif '.skip.' in name:
                v = rn(t.shape) * 0.6 / math.sqrt(t[0].numel())
            elif name.endswith('.weight'):
                v = rn(t.shape) * 0.9 / math.sqrt(t[0].numel())          # convs and linears: fan-in scaled
            else:
                raise ValueError('no rule for ' + name)
            t.copy_(v)
            done.add(name)
    every = {n for n, _ in net.named_parameters()} | {n for n, _ in net.named_buffers()}
    assert done == every


def write_case(name, net, save, size):
    g = torch.Generator().manual_seed(7)
    x = torch.rand(1, 3, size, size, generator=g)
    net.eval()
    with torch.no_grad():
        y = (net((x - 0.5) / 0.5) + 1) / 2
    assert torch.isfinite(y).all()
    lo, hi = float(y.min()), float(y.max())
    assert hi - lo > 0.5, (name, lo, hi)
    save(net.state_dict())
    # NHWC float32 little-endian, the layout Restora's tensors use.
    with open(os.path.join(OUT, name + '.io.bin'), 'wb') as f:
        f.write(x.permute(0, 2, 3, 1).contiguous().numpy().astype('<f4').tobytes())
        f.write(y.permute(0, 2, 3, 1).contiguous().numpy().astype('<f4').tobytes())
    return {'input': [size, size], 'output': list(y.shape[2:]), 'outputRange': [lo, hi]}


def case(name, seed, wrap, out_size, nsf, cm, narrow, different_w, sft_half):
    torch.manual_seed(0)
    net = GFPGANClean(out_size, nsf, cm, narrow, different_w, sft_half)
    randomise(net, seed)
    path = os.path.join(OUT, name + '.pth')
    save = (lambda sd: torch.save({wrap: sd}, path)) if wrap else (lambda sd: torch.save(sd, path))
    io = write_case(name, net, save, out_size)
    ch = decoder_channels(cm, narrow)
    return name + '.pth', dict(arch='gfpgan', size=out_size, numStyleFeat=nsf, channelMultiplier=cm, narrow=narrow,
                               differentW=different_w, sftHalf=sft_half, numMlp=8, channels=ch[4],
                               decoderChannels={str(2 ** l): ch[2 ** l] for l in range(2, int(math.log2(out_size)) + 1)},
                               stateKey=wrap, **io)


cases = dict([
    # v1.3/v1.4 layout (different_w, sft_half, channel_multiplier 2), 1/16 the width, 64 px.
    case('gfpgan-clean-64', 11, 'params_ema', 64, 32, 2, 1 / 16, True, True),
    # one latent repeated for every layer, SFT on all channels.
    case('gfpgan-clean-32-full-sft', 12, 'params', 32, 16, 1, 1 / 32, False, False),
    # channel_multiplier 1 narrows the 64 px level (decoder 16 -> 8, U-Net 8 -> 4): catches level/channel mix-ups
    # that the cases above, whose widths are the same at every level, cannot.
    case('gfpgan-clean-64-c1', 13, None, 64, 16, 1, 1 / 32, True, True),
])

# Not GFPGAN: a StyleGAN decoder plus a VQ codebook, no final_linear (the 'unsupported variant' test).
g = torch.Generator().manual_seed(21)
unknown = {
    'conv_body_first.weight': torch.randn(8, 3, 1, 1, generator=g),
    'conv_body_first.bias': torch.randn(8, generator=g),
    'quantize.embedding.weight': torch.randn(64, 16, generator=g),
    'stylegan_decoder.constant_input.weight': torch.randn(1, 16, 4, 4, generator=g),
    'stylegan_decoder.style_conv1.modulated_conv.weight': torch.randn(1, 16, 16, 3, 3, generator=g),
    'stylegan_decoder.style_conv1.modulated_conv.modulation.weight': torch.randn(16, 16, generator=g),
    'stylegan_decoder.style_conv1.modulated_conv.modulation.bias': torch.ones(16),
    'stylegan_decoder.style_conv1.weight': torch.full((1,), 0.2),
    'stylegan_decoder.style_conv1.bias': torch.zeros(1, 16, 1, 1),
    'stylegan_decoder.to_rgb1.modulated_conv.weight': torch.randn(1, 3, 16, 1, 1, generator=g),
    'stylegan_decoder.to_rgb1.modulated_conv.modulation.weight': torch.randn(16, 16, generator=g),
    'stylegan_decoder.to_rgb1.modulated_conv.modulation.bias': torch.ones(16),
    'stylegan_decoder.to_rgb1.bias': torch.zeros(1, 3, 1, 1),
    'stylegan_decoder.noises.noise0': torch.randn(1, 1, 4, 4, generator=g),
}
torch.save({'params_ema': unknown}, os.path.join(OUT, 'unknown-face.pth'))

with open(os.path.join(OUT, 'gfpgan-cases.json'), 'w') as f:
    json.dump(cases, f, indent=2)
    f.write('\n')
for n in sorted(os.listdir(OUT)):
    print('%-36s %8d' % (n, os.path.getsize(os.path.join(OUT, n))))
print(json.dumps({k: (v['outputRange'], v['channels']) for k, v in cases.items()}))
