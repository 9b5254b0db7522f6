#!/usr/bin/python3
"""
Writes the SwinIR import conformance fixtures (test/fixtures/swinir): SwinIR (Liang et al.
2021, "SwinIR: Image Restoration Using Swin Transformer") built here in PyTorch with the
released files' key names (JingyunLiang/SwinIR models/network_swinir.py: conv_first,
patch_embed.norm, layers.i.residual_group.blocks.j.{norm1, attn.{qkv, proj,
relative_position_bias_table, relative_position_index}, norm2, mlp.fc1, mlp.fc2, attn_mask},
layers.i.conv, norm, conv_after_body, conv_before_upsample.0, upsample.k, conv_up1/2,
conv_hr, conv_last), tiny configs with seeded random weights, saved the ways the releases
are (.pth with params / params_ema wrappers, one .safetensors), with a test input and
PyTorch's output for each; plus a SwinIR-like file of a layout Restora does not know, and
the parameter count of the released classical x2 model (SwinIR-M, 001_classicalSR_*_x2).

Run with Debian's torch: apt-get install -y python3-torch; /usr/bin/python3 scripts/make-swinir-fixtures.py
Written from the paper and the released configuration, not copied:
  - Input normalised as (x - rgb_mean) * img_range, output / img_range + mean. img_range
    is no weight: 1.0 (the reference default) for every release except the colour JPEG
    models (window 7), which were trained at 255 (as spandrel reads them).
  - Sides are padded bottom/right to a multiple of the window with reflect padding and the
    output cropped back (the reference's check_image_size, as spandrel runs it).
  - Odd blocks of each stage shift their windows by window // 2 (a cyclic roll) and mask
    attention between pixels that the roll brought together from different image regions
    (-100 before the softmax); the mask is computed for the input's actual size. The stored
    attn_mask buffer is the one for the training patch (img_size) and never used here.
  - Attention adds the relative position bias, table[index[i, j]], index =
    (dy + w - 1) * (2w - 1) + (dx + w - 1) for the offset between tokens i and j.
  - MLP: fc1 -> exact (erf) GELU -> fc2. LayerNorm eps 1e-5.
  - conv_before_upsample's LeakyReLU has PyTorch's default slope 0.01; the 3conv
    connections' and nearest+conv's have 0.2.
  num_feat (the upsampler's width) is 64 in every release; the fixtures use 16 to stay
  small, and Restora reads it off the shapes.
Byte-identical on every run (seeded; zip .pth written by torch.save is deterministic here).
"""
import json, math, os, struct, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'swinir')
os.makedirs(OUT, exist_ok=True)
RGB_MEAN = (0.4488, 0.4371, 0.4040)


def relative_index(w):
    """index[i, j] for tokens i = (yi, xi), j = (yj, xj) of a w x w window, row-major."""
    ys, xs = torch.meshgrid(torch.arange(w), torch.arange(w), indexing='ij')
    ys, xs = ys.reshape(-1), xs.reshape(-1)
    dy = ys[:, None] - ys[None, :] + (w - 1)
    dx = xs[:, None] - xs[None, :] + (w - 1)
    return dy * (2 * w - 1) + dx


def to_windows(x, w):
    """[B, H, W, C] -> [B * H/w * W/w, w*w, C], windows row-major."""
    b, h, wd, c = x.shape
    return x.reshape(b, h // w, w, wd // w, w, c).transpose(2, 3).reshape(-1, w * w, c)


def from_windows(t, w, b, h, wd):
    c = t.shape[-1]
    return t.reshape(b, h // w, wd // w, w, w, c).transpose(2, 3).reshape(b, h, wd, c)


def shift_mask(h, wd, w, s):
    """[nW, N, N]: -100 between tokens of a shifted window that come from different regions."""
    def labels(n):
        lab = torch.zeros(n)
        lab[n - w:n - s] = 1
        lab[n - s:] = 2
        return lab
    region = (labels(h)[:, None] * 3 + labels(wd)[None, :])[None, :, :, None]
    r = to_windows(region, w)[..., 0]  # [nW, N]
    return (r[:, :, None] != r[:, None, :]).float() * -100.0


class WindowAttention(nn.Module):
    def __init__(self, dim, w, heads):
        super().__init__()
        self.heads, self.w = heads, w
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * w - 1) ** 2, heads))
        self.register_buffer('relative_position_index', relative_index(w))

    def forward(self, x, mask):
        n_b, n, c = x.shape
        d = c // self.heads
        q, k, v = self.qkv(x).reshape(n_b, n, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        scores = (q * d ** -0.5) @ k.transpose(-1, -2)
        bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)].reshape(n, n, self.heads)
        scores = scores + bias.permute(2, 0, 1)[None]
        if mask is not None:
            nw = mask.shape[0]
            scores = (scores.reshape(n_b // nw, nw, self.heads, n, n) + mask[None, :, None]).reshape(n_b, self.heads, n, n)
        return self.proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(n_b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class SwinBlock(nn.Module):
    def __init__(self, dim, heads, w, shift, mlp_ratio, img_size):
        super().__init__()
        self.w, self.s = w, (w // 2 if shift else 0)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, w, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        if self.s:  # the training patch's mask, as the releases store it
            self.register_buffer('attn_mask', shift_mask(img_size, img_size, w, self.s))

    def forward(self, x):  # x: [B, H, W, C]
        b, h, wd, c = x.shape
        t = self.norm1(x)
        if self.s:
            t = torch.roll(t, (-self.s, -self.s), (1, 2))
        a = self.attn(to_windows(t, self.w), shift_mask(h, wd, self.w, self.s) if self.s else None)
        a = from_windows(a, self.w, b, h, wd)
        if self.s:
            a = torch.roll(a, (self.s, self.s), (1, 2))
        x = x + a
        return x + self.mlp(self.norm2(x))


def resi_conv(dim, kind):
    if kind == '1conv':
        return nn.Conv2d(dim, dim, 3, 1, 1)
    return nn.Sequential(nn.Conv2d(dim, dim // 4, 3, 1, 1), nn.LeakyReLU(0.2), nn.Conv2d(dim // 4, dim // 4, 1), nn.LeakyReLU(0.2), nn.Conv2d(dim // 4, dim, 3, 1, 1))


class ResidualGroup(nn.Module):
    def __init__(self, dim, depth, heads, w, mlp_ratio, img_size):
        super().__init__()
        self.blocks = nn.ModuleList([SwinBlock(dim, heads, w, j % 2 == 1, mlp_ratio, img_size) for j in range(depth)])


class RSTB(nn.Module):
    def __init__(self, dim, depth, heads, w, mlp_ratio, img_size, resi):
        super().__init__()
        self.residual_group = ResidualGroup(dim, depth, heads, w, mlp_ratio, img_size)
        self.conv = resi_conv(dim, resi)

    def forward(self, x):  # NHWC
        y = x
        for blk in self.residual_group.blocks:
            y = blk(y)
        return x + self.conv(y.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class SwinIR(nn.Module):
    def __init__(self, upscale, embed_dim, depths, heads, window, mlp_ratio=2.0, upsampler='pixelshuffle',
                 resi='1conv', img_range=1.0, num_feat=16, img_size=None, patch_norm=True, ape=False):
        super().__init__()
        self.upscale, self.upsampler, self.w, self.img_range = upscale, upsampler, window, img_range
        img_size = img_size or 2 * window
        self.conv_first = nn.Conv2d(3, embed_dim, 3, 1, 1)
        self.patch_embed = nn.Module()
        self.patch_embed.norm = nn.LayerNorm(embed_dim) if patch_norm else None
        if ape:
            self.absolute_pos_embed = nn.Parameter(torch.zeros(1, img_size * img_size, embed_dim))
        self.layers = nn.ModuleList([RSTB(embed_dim, d, h, window, mlp_ratio, img_size, resi) for d, h in zip(depths, heads)])
        self.norm = nn.LayerNorm(embed_dim)
        self.conv_after_body = resi_conv(embed_dim, resi)
        if upsampler in ('pixelshuffle', 'nearest+conv'):
            self.conv_before_upsample = nn.Sequential(nn.Conv2d(embed_dim, num_feat, 3, 1, 1), nn.LeakyReLU())  # slope 0.01
        if upsampler == 'pixelshuffle':
            ups = []
            if upscale == 3:
                ups += [nn.Conv2d(num_feat, 9 * num_feat, 3, 1, 1), nn.PixelShuffle(3)]
            else:
                for _ in range(int(math.log2(upscale))):
                    ups += [nn.Conv2d(num_feat, 4 * num_feat, 3, 1, 1), nn.PixelShuffle(2)]
            self.upsample = nn.Sequential(*ups)
            self.conv_last = nn.Conv2d(num_feat, 3, 3, 1, 1)
        elif upsampler == 'pixelshuffledirect':
            self.upsample = nn.Sequential(nn.Conv2d(embed_dim, upscale * upscale * 3, 3, 1, 1), nn.PixelShuffle(upscale))
        elif upsampler == 'nearest+conv':
            assert upscale == 4
            self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_last = nn.Conv2d(num_feat, 3, 3, 1, 1)
        else:
            self.conv_last = nn.Conv2d(embed_dim, 3, 3, 1, 1)

    def body(self, x):  # NCHW -> NCHW: patch embed (+norm), the RSTBs, norm
        t = x.permute(0, 2, 3, 1)
        if self.patch_embed.norm is not None:
            t = self.patch_embed.norm(t)
        for layer in self.layers:
            t = layer(t)
        return self.norm(t).permute(0, 3, 1, 2)

    def forward(self, x):
        h, wd = x.shape[2:]
        x = F.pad(x, (0, (-wd) % self.w, 0, (-h) % self.w), 'reflect')
        mean = torch.tensor(RGB_MEAN).view(1, 3, 1, 1)
        x = (x - mean) * self.img_range
        f = self.conv_first(x)
        res = self.conv_after_body(self.body(f)) + f
        if self.upsampler == 'pixelshuffle':
            y = self.conv_last(self.upsample(self.conv_before_upsample(res)))
        elif self.upsampler == 'pixelshuffledirect':
            y = self.upsample(res)
        elif self.upsampler == 'nearest+conv':
            y = self.conv_before_upsample(res)
            y = F.leaky_relu(self.conv_up1(F.interpolate(y, scale_factor=2, mode='nearest')), 0.2)
            y = F.leaky_relu(self.conv_up2(F.interpolate(y, scale_factor=2, mode='nearest')), 0.2)
            y = self.conv_last(F.leaky_relu(self.conv_hr(y), 0.2))
        else:
            y = x + self.conv_last(res)
        y = y / self.img_range + mean
        return y[:, :, :h * self.upscale, :wd * self.upscale]


def randomise(net, seed, gain=0.5):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith('relative_position_bias_table'):
                p.copy_(torch.randn(p.shape, generator=g) * 1.0)
            elif p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=g) * (0.8 / p[0].numel() ** 0.5))
            elif 'norm' in name and name.endswith('weight'):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
        if net.img_range != 1:  # the head sees (x - mean) * img_range: bring it back to unit size
            net.conv_first.weight.mul_(1 / net.img_range)
        last = net.conv_last if hasattr(net, 'conv_last') else net.upsample[0]
        last.weight.mul_(gain)


def write_safetensors(path, sd):
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        v = v.detach().contiguous()
        dt = 'I64' if v.dtype == torch.int64 else 'F32'
        b = (v if dt == 'I64' else v.float()).numpy().tobytes()
        header[k] = {'dtype': dt, 'shape': list(v.shape), 'data_offsets': [off, off + len(b)]}
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


def write_io(name, net, h, w, quantised=False):
    """Input then PyTorch's output, NHWC float32. quantised: input values k / 65535 (exact as 16-bit pixels)."""
    net.eval()
    g = torch.Generator().manual_seed(7)
    x = torch.randint(0, 65536, (1, 3, h, w), generator=g).float() / 65535 if quantised else torch.rand(1, 3, h, w, generator=g)
    with torch.no_grad():
        y = net(x)
    with open(os.path.join(OUT, name + '.io.bin'), 'wb') as f:
        f.write(nhwc(x))
        f.write(nhwc(y))
    return {'input': [h, w], 'output': list(y.shape[2:]), 'range': [round(y.min().item(), 3), round(y.max().item(), 3)]}


def options(net, embed_dim, depths, heads, window, mlp_ratio, upsampler, resi, img_range, num_feat):
    return {'embedDim': embed_dim, 'depths': ','.join(map(str, depths)), 'heads': ','.join(map(str, heads)), 'window': window,
            'mlpRatio': mlp_ratio, 'upsampler': upsampler or 'none', 'resiConnection': resi, 'features': num_feat,
            'imgRange': img_range, 'patchNorm': True}


cases = {}
torch.manual_seed(0)


def case(file, wrapper, seed, scale, embed_dim, depths, heads, window, mlp_ratio, upsampler, resi, img_range, num_feat, size, padded=None, gain=0.5):
    net = SwinIR(scale, embed_dim, depths, heads, window, mlp_ratio, upsampler, resi, img_range, num_feat)
    randomise(net, seed, gain)
    sd = net.state_dict()
    path = os.path.join(OUT, file)
    if file.endswith('.safetensors'):
        write_safetensors(path, sd)
    else:
        torch.save({wrapper: sd} if wrapper else sd, path)
    stem = file.rsplit('.', 1)[0]
    entry = dict(scale=scale, wrapper=wrapper or 'none',
                 options=options(net, embed_dim, depths, heads, window, mlp_ratio, upsampler, resi, img_range, num_feat if upsampler in ('pixelshuffle', 'nearest+conv') else 64),
                 **write_io(stem, net, *size))
    if padded:  # a second input whose sides are no multiple of the window (16-bit exact, for upscaleTiled)
        entry['padded'] = write_io(stem + '.padded', net, *padded, quantised=True)
    cases[file] = entry


# Classical SR (SwinIR-M's layout at toy size): pixelshuffle, 1conv.
case('swinir-classical-x2.pth', 'params', 21, 2, 16, [2, 2], [2, 2], 4, 2.0, 'pixelshuffle', '1conv', 1.0, 16, (16, 24), padded=(13, 21))
case('swinir-classical-x3.safetensors', None, 22, 3, 12, [2, 2, 2], [3, 3, 3], 4, 2.0, 'pixelshuffle', '1conv', 1.0, 8, (12, 16))
# Lightweight SR (SwinIR-S): pixelshuffledirect, heads differing per stage.
case('swinir-lightweight-x4.pth', 'params', 23, 4, 12, [2, 2], [2, 3], 4, 2.0, 'pixelshuffledirect', '1conv', 1.0, 16, (16, 24))
# Real-world SR (SwinIR-L's layout): nearest+conv x4 with 3conv connections, mlp ratio 1.5.
case('swinir-realworld-x4.pth', 'params_ema', 24, 4, 16, [2, 2], [2, 2], 4, 1.5, 'nearest+conv', '3conv', 1.0, 16, (12, 16), gain=3.0)
# Colour denoising (x1, window 8) and colour JPEG (x1, window 7, img_range 255), residual to the input.
case('swinir-denoise-x1.pth', 'params', 25, 1, 12, [2], [2], 8, 2.0, '', '1conv', 1.0, 16, (16, 16))
case('swinir-jpeg-x1.pth', None, 26, 1, 12, [2], [3], 7, 2.0, '', '1conv', 255.0, 16, (14, 21), gain=0.1 * 255)  # a residual of ~0.1, in 255 units

# Looks like SwinIR, but carries an absolute position embedding (ape=True), tying it to one input size.
net = SwinIR(2, 8, [2], [2], 4, 2.0, 'pixelshuffledirect', '1conv', ape=True)
randomise(net, 27)
torch.save({'params': net.state_dict()}, os.path.join(OUT, 'swinir-unknown-ape.pth'))

# The released classical x2 model's size (001_classicalSR_DF2K_s64w8_SwinIR-M_x2.pth): parameters, not buffers.
released = SwinIR(2, 180, [6] * 6, [6] * 6, 8, 2.0, 'pixelshuffle', '1conv', 1.0, 64, img_size=64)
meta = {'releasedClassicalX2Params': sum(p.numel() for p in released.parameters())}

with open(os.path.join(OUT, 'cases.json'), 'w') as f:
    json.dump({'cases': cases, **meta}, f, indent=2)
    f.write('\n')
print('wrote', sorted(os.listdir(OUT)))
print(json.dumps(meta))
for k, v in cases.items():
    print(k, v['range'], v.get('padded', {}).get('range'))
