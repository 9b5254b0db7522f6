#!/usr/bin/python3
"""
Writes the DAT import conformance fixtures (test/fixtures/dat): DAT (Dual Aggregation
Transformer, Chen et al., ICCV 2023) built here in PyTorch with the released key names
(zhengchen1999/DAT basicsr/archs/dat_arch.py, as chaiNNer's spandrel reads it) and seeded
random weights, at tiny sizes, saved the ways the community ships it, with a test input and
PyTorch's output for each, a DAT-like file of a layout Restora does not know, and the
parameter count of the released DAT x2 configuration.

Run with Debian's torch: apt-get install -y python3-torch; /usr/bin/python3 scripts/make-dat-fixtures.py
Written from the paper and the behaviour of the public implementation, not copied. What the
TS port must reproduce:
  - input (x - rgb_mean) * img_range, output / img_range + rgb_mean (img_range 1 in every
    release); conv_first; before_RG = LayerNorm over channels; residual groups; norm;
    conv_after_body (+ conv_first's output); 'pixelshuffle' (conv_before_upsample + LeakyReLU
    0.01, (conv + PixelShuffle(2)) x log2(scale) or conv + PixelShuffle(3), conv_last, 64
    features) or 'pixelshuffledirect' (one conv + PixelShuffle).
  - Residual group: blocks, then its conv ('1conv': 3x3; '3conv': 3x3 to C/4, LeakyReLU 0.2,
    1x1, LeakyReLU 0.2, 3x3 back) plus the group's input.
  - Block b: x + attn(norm1(x)); x + SGFN(norm2(x)). Even b: adaptive spatial attention, odd b:
    adaptive channel attention.
  - Spatial attention: qkv linear; channels split in halves, branch 0 attends in windows of
    split_size[0] x split_size[1] (rows x cols), branch 1 in split_size[1] x split_size[0],
    each with num_heads // 2 heads, scale head_dim^-0.5, plus a dynamic position bias: an MLP
    (pos_proj; LN, ReLU, Linear x 3, not residual) of the relative offsets, gathered per pair.
    q/k/v are zero-padded at the bottom/right to a multiple of max(split_size) (after the qkv
    linear, so the pad tokens are zeros, not the bias) and the output cropped back. Blocks
    with b % 4 == 2 (even groups) or b % 4 == 0 (odd groups) roll the padded q/k/v by
    -(split // 2) (branch 1 transposed), mask the pairs from different regions with -100 and
    roll back. A depthwise 3x3 conv + BN + GELU runs on v (unpadded); channel interaction
    (avg pool, 1x1, BN, GELU, 1x1) of the conv branch gates the attention, spatial
    interaction (1x1, BN, GELU, 1x1 to one map) of the attention gates the conv branch; the
    sum goes through proj.
  - Channel attention: per head, q and k (channels x tokens) L2-normalised over tokens,
    (q k^T) * temperature, softmax over channels, times v; the same conv branch on v, but
    here the attention's channel interaction gates the conv branch and the conv's spatial
    interaction gates the attention.
  - SGFN: fc1, GELU, halves x1, x2; x2 = depthwise 3x3(LayerNorm(x2)); fc2(x1 * x2).
  - BatchNorm in eval mode (running statistics), GELU exact (erf), LayerNorm eps 1e-5.
Byte-identical on every run (seeded; torch.save's zip is deterministic here).
"""
import json, math, os, struct, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'dat')
os.makedirs(OUT, exist_ok=True)
RGB_MEAN = (0.4488, 0.4371, 0.4040)


def shifted(rg, b):
    """The blocks whose spatial attention works on shifted windows (the reference's rule)."""
    return (rg % 2 == 0 and b > 0 and (b - 2) % 4 == 0) or (rg % 2 == 1 and b % 4 == 0)


class PosMLP(nn.Module):
    def __init__(self, dim, heads, residual=False):
        super().__init__()
        p = dim // 4
        self.residual = residual
        self.pos_proj = nn.Linear(2, p)
        self.pos1 = nn.Sequential(nn.LayerNorm(p), nn.ReLU(), nn.Linear(p, p))
        self.pos2 = nn.Sequential(nn.LayerNorm(p), nn.ReLU(), nn.Linear(p, p))
        self.pos3 = nn.Sequential(nn.LayerNorm(p), nn.ReLU(), nn.Linear(p, heads))

    def forward(self, c):
        h = self.pos_proj(c)
        if self.residual:
            h = h + self.pos1(h)
            h = h + self.pos2(h)
        else:
            h = self.pos2(self.pos1(h))
        return self.pos3(h)


class WindowBranch(nn.Module):
    """One branch of the spatial attention: windows of hs rows x ws columns."""
    def __init__(self, dim, heads, hs, ws):
        super().__init__()
        self.heads, self.hs, self.ws = heads, hs, ws
        self.scale = (dim // heads) ** -0.5
        self.pos = PosMLP(dim // 4, heads)
        dh, dw = torch.meshgrid(torch.arange(1 - hs, hs), torch.arange(1 - ws, ws), indexing='ij')
        self.register_buffer('rpe_biases', torch.stack([dh.flatten(), dw.flatten()], 1).float())
        ys, xs = torch.meshgrid(torch.arange(hs), torch.arange(ws), indexing='ij')
        ys, xs = ys.flatten(), xs.flatten()
        rel = (ys[:, None] - ys[None, :] + hs - 1) * (2 * ws - 1) + (xs[:, None] - xs[None, :] + ws - 1)
        self.register_buffer('relative_position_index', rel)

    def windows(self, t):  # [B, H, W, C] -> [B * nWin, heads, N, hd]
        b, h, w, c = t.shape
        t = t.reshape(b, h // self.hs, self.hs, w // self.ws, self.ws, c).permute(0, 1, 3, 2, 4, 5)
        return t.reshape(-1, self.hs * self.ws, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, q, k, v, mask=None):  # [B, H, W, C] each
        b, h, w, c = q.shape
        n = self.hs * self.ws
        qw, kw, vw = self.windows(q), self.windows(k), self.windows(v)
        a = (qw * self.scale) @ kw.transpose(-2, -1)
        bias = self.pos(self.rpe_biases)[self.relative_position_index.reshape(-1)].reshape(n, n, -1).permute(2, 0, 1)
        a = a + bias[None]
        if mask is not None:
            a = (a.reshape(b, -1, self.heads, n, n) + mask[None, :, None]).reshape(-1, self.heads, n, n)
        o = a.softmax(-1) @ vw  # [B*nWin, heads, N, hd]
        o = o.transpose(1, 2).reshape(b, h // self.hs, w // self.ws, self.hs, self.ws, c)
        return o.permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)


def region_mask(h, w, wh, ww, sh, sw):
    """-100 between tokens of a window that the roll brought from different regions, else 0."""
    lab = torch.zeros(h, w)
    k = 0
    for ys in (slice(0, h - wh), slice(h - wh, h - sh), slice(h - sh, h)):
        for xs in (slice(0, w - ww), slice(w - ww, w - sw), slice(w - sw, w)):
            lab[ys, xs] = k
            k += 1
    lab = lab.reshape(h // wh, wh, w // ww, ww).permute(0, 2, 1, 3).reshape(-1, wh * ww)
    d = lab[:, None, :] - lab[:, :, None]
    return torch.where(d != 0, torch.tensor(-100.0), torch.tensor(0.0))


def conv_branch(dim):
    return nn.Sequential(nn.Conv2d(dim, dim, 3, padding=1, groups=dim), nn.BatchNorm2d(dim), nn.GELU())


def channel_inter(dim):
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, dim // 8, 1), nn.BatchNorm2d(dim // 8), nn.GELU(), nn.Conv2d(dim // 8, dim, 1))


def spatial_inter(dim):
    return nn.Sequential(nn.Conv2d(dim, dim // 16, 1), nn.BatchNorm2d(dim // 16), nn.GELU(), nn.Conv2d(dim // 16, 1, 1))


def nchw(t):
    return t.permute(0, 3, 1, 2)


def nhwc_(t):
    return t.permute(0, 2, 3, 1)


class SpatialAttn(nn.Module):
    def __init__(self, dim, heads, split, shift, reso, qkv_bias):
        super().__init__()
        self.split, self.shift = split, shift
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        s0, s1 = split
        self.attns = nn.ModuleList([WindowBranch(dim // 2, heads // 2, s0, s1), WindowBranch(dim // 2, heads // 2, s1, s0)])
        if shift:
            self.register_buffer('attn_mask_0', region_mask(reso, reso, s0, s1, s0 // 2, s1 // 2))
            self.register_buffer('attn_mask_1', region_mask(reso, reso, s1, s0, s1 // 2, s0 // 2))
        self.dwconv = conv_branch(dim)
        self.channel_interaction = channel_inter(dim)
        self.spatial_interaction = spatial_inter(dim)

    def forward(self, x):  # [B, H, W, C]
        b, h, w, c = x.shape
        q, k, v = self.qkv(x).chunk(3, -1)
        m = max(self.split)
        ph, pw = (m - h % m) % m, (m - w % m) % m
        pad = lambda t: F.pad(t, (0, 0, 0, pw, 0, ph))
        qp, kp, vp = pad(q), pad(k), pad(v)
        H, W = h + ph, w + pw
        s0, s1 = self.split
        outs = []
        for i, br in enumerate(self.attns):
            part = [t[..., i * c // 2:(i + 1) * c // 2] for t in (qp, kp, vp)]
            if self.shift:
                sh, sw = (s0 // 2, s1 // 2) if i == 0 else (s1 // 2, s0 // 2)
                wh, ww = (s0, s1) if i == 0 else (s1, s0)
                part = [torch.roll(t, (-sh, -sw), (1, 2)) for t in part]
                o = br(*part, mask=region_mask(H, W, wh, ww, sh, sw))
                o = torch.roll(o, (sh, sw), (1, 2))
            else:
                o = br(*part)
            outs.append(o[:, :h, :w])
        att = torch.cat(outs, -1)
        conv = self.dwconv(nchw(v))
        cmap = self.channel_interaction(conv)  # [B, C, 1, 1]
        smap = self.spatial_interaction(nchw(att))  # [B, 1, H, W]
        att = att * torch.sigmoid(nhwc_(cmap))
        conv = nhwc_(torch.sigmoid(smap) * conv)
        return self.proj(att + conv)


class ChannelAttn(nn.Module):
    def __init__(self, dim, heads, qkv_bias):
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.dwconv = conv_branch(dim)
        self.channel_interaction = channel_inter(dim)
        self.spatial_interaction = spatial_inter(dim)

    def forward(self, x):
        b, h, w, c = x.shape
        q, k, v = self.qkv(x).chunk(3, -1)
        per_head = lambda t: t.reshape(b, h * w, self.heads, c // self.heads).permute(0, 2, 3, 1)  # [B, heads, hd, L]
        qh, kh, vh = per_head(q), per_head(k), per_head(v)
        qh, kh = F.normalize(qh, dim=-1), F.normalize(kh, dim=-1)
        a = ((qh @ kh.transpose(-2, -1)) * self.temperature).softmax(-1)
        att = (a @ vh).permute(0, 3, 1, 2).reshape(b, h, w, c)
        conv = self.dwconv(nchw(v))
        cmap = self.channel_interaction(nchw(att))
        smap = self.spatial_interaction(conv)
        att = att * nhwc_(torch.sigmoid(smap))
        conv = nhwc_(conv * torch.sigmoid(cmap))
        return self.proj(att + conv)


class SpatialGate(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.conv = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)

    def forward(self, x):
        x1, x2 = x.chunk(2, -1)
        return x1 * nhwc_(self.conv(nchw(self.norm(x2))))


class SGFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.sg = SpatialGate(hidden // 2)
        self.fc2 = nn.Linear(hidden // 2, dim)

    def forward(self, x):
        return self.fc2(self.sg(F.gelu(self.fc1(x))))


class Block(nn.Module):
    def __init__(self, dim, heads, split, expansion, reso, qkv_bias, rg, b):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SpatialAttn(dim, heads, split, shifted(rg, b), reso, qkv_bias) if b % 2 == 0 else ChannelAttn(dim, heads, qkv_bias)
        self.ffn = SGFN(dim, int(dim * expansion))
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


def resi_conv(dim, kind):
    if kind == '1conv':
        return nn.Conv2d(dim, dim, 3, padding=1)
    return nn.Sequential(nn.Conv2d(dim, dim // 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(dim // 4, dim // 4, 1), nn.LeakyReLU(0.2), nn.Conv2d(dim // 4, dim, 3, padding=1))


class Group(nn.Module):
    def __init__(self, dim, depth, heads, split, expansion, reso, qkv_bias, resi, rg):
        super().__init__()
        self.blocks = nn.ModuleList([Block(dim, heads, split, expansion, reso, qkv_bias, rg, b) for b in range(depth)])
        self.conv = resi_conv(dim, resi)

    def forward(self, x):
        y = x
        for blk in self.blocks:
            y = blk(y)
        return x + nhwc_(self.conv(nchw(y)))


class DAT(nn.Module):
    def __init__(self, scale, embed_dim, depth, heads, split, expansion, resi='1conv', upsampler='pixelshuffle', qkv_bias=True, img_size=64, nf=64):
        super().__init__()
        e = embed_dim
        self.upsampler = upsampler
        self.conv_first = nn.Conv2d(3, e, 3, padding=1)
        self.before_RG = nn.Sequential(nn.Identity(), nn.LayerNorm(e))  # index 0 is the reference's Rearrange
        self.layers = nn.ModuleList([Group(e, d, h, split, expansion, img_size, qkv_bias, resi, i) for i, (d, h) in enumerate(zip(depth, heads))])
        self.norm = nn.LayerNorm(e)
        self.conv_after_body = resi_conv(e, resi)
        if upsampler == 'pixelshuffle':
            self.conv_before_upsample = nn.Sequential(nn.Conv2d(e, nf, 3, padding=1), nn.LeakyReLU())
            ups = []
            if scale & (scale - 1) == 0:
                for _ in range(int(math.log2(scale))):
                    ups += [nn.Conv2d(nf, 4 * nf, 3, padding=1), nn.PixelShuffle(2)]
            else:
                ups += [nn.Conv2d(nf, 9 * nf, 3, padding=1), nn.PixelShuffle(3)]
            self.upsample = nn.Sequential(*ups)
            self.conv_last = nn.Conv2d(nf, 3, 3, padding=1)
        elif upsampler == 'pixelshuffledirect':
            self.upsample = nn.Sequential(nn.Conv2d(e, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))
        else:  # 'nearest+conv', as SwinIR's real-world models: a layout Restora does not take
            self.conv_before_upsample = nn.Sequential(nn.Conv2d(e, nf, 3, padding=1), nn.LeakyReLU())
            self.conv_up1 = nn.Conv2d(nf, nf, 3, padding=1)
            self.conv_hr = nn.Conv2d(nf, nf, 3, padding=1)
            self.conv_last = nn.Conv2d(nf, 3, 3, padding=1)

    def forward(self, x):
        mean = torch.tensor(RGB_MEAN).view(1, 3, 1, 1)
        x = x - mean  # img_range 1
        f = self.conv_first(x)
        y = self.before_RG[1](nhwc_(f))
        for g in self.layers:
            y = g(y)
        y = nchw(self.norm(y))
        f = self.conv_after_body(y) + f
        if self.upsampler == 'pixelshuffle':
            out = self.conv_last(self.upsample(self.conv_before_upsample(f)))
        else:
            out = self.upsample(f)
        return out + mean


def randomise(net, seed):
    """Weights large enough that the attention, the position bias and the gates matter."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda shape: torch.randn(shape, generator=g)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith('temperature'):
                p.copy_(0.5 + 2 * torch.rand(p.shape, generator=g))
            elif p.dim() == 1 and ('norm' in name or '.pos' in name or 'before_RG' in name) and name.endswith('weight'):
                p.copy_(1 + 0.3 * rnd(p.shape))  # LayerNorm gains
            elif p.dim() == 1:
                p.copy_(0.1 * rnd(p.shape))
            else:
                p.copy_(rnd(p.shape) / p[0].numel() ** 0.5)
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + 0.3 * rnd(m.weight.shape))
                m.bias.copy_(0.1 * rnd(m.bias.shape))
                m.running_mean.copy_(0.2 * rnd(m.running_mean.shape))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
                m.num_batches_tracked.fill_(1000)
            elif isinstance(m, PosMLP):
                # Each LayerNorm over a few features all but saturates, so a random MLP tends to
                # give one bias for every offset. This one keeps the sign of (a - b) from an
                # unbiased pos_proj through the stages (diagonal-heavy hidden layers): the bias
                # differs between the half-planes of offsets, and the diagonal, with 2 or more
                # features (64 channels and up; at 32 to 63 the single feature's LayerNorm makes it
                # a constant whatever the weights).
                pd = m.pos_proj.out_features
                m.pos_proj.bias.zero_()
                for lin in (m.pos1[2], m.pos2[2]):
                    lin.weight.copy_(2 * torch.eye(pd) + 0.3 * rnd((pd, pd)))
                m.pos3[2].weight.mul_(2 * pd ** 0.5)


def write_safetensors(path, sd):
    dt = {torch.float32: 'F32', torch.float16: 'F16', torch.int64: 'I64'}
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        b = v.detach().contiguous().numpy().tobytes()
        header[k] = {'dtype': dt[v.dtype], 'shape': list(v.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def halved(sd):
    """The state dict in float16, as some community files are (integer buffers stay int64)."""
    return {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous().numpy().tobytes()


def run(net, h, w, seed):
    x = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        y = net(x)
    return x, y


def write_io(name, x, y):
    with open(os.path.join(OUT, name), 'wb') as f:  # input then output, NHWC float32
        f.write(nhwc(x))
        f.write(nhwc(y))


cases = {}


def case(file, net, seed, opts, save, size, odd=None, half=False):
    randomise(net, seed)
    net.eval()
    if half:  # the file holds float16: run PyTorch on the same rounded weights
        with torch.no_grad():
            for t in list(net.parameters()) + list(net.buffers()):
                if t.is_floating_point():
                    t.copy_(t.half().float())
    stem = file.rsplit('.', 1)[0]
    x, y = run(net, size[0], size[1], 7)
    write_io(stem + '.io.bin', x, y)
    sd = net.state_dict()
    save(os.path.join(OUT, file), halved(sd) if half else sd)
    entry = dict(opts, input=list(size), output=list(y.shape[2:]), range=[round(y.min().item(), 3), round(y.max().item(), 3)], dtype='f16' if half else 'f32')
    if odd:  # an input that is not a multiple of the windows: the reference pads q/k/v inside each block
        xo, yo = run(net, odd[0], odd[1], 8)
        write_io(stem + '.odd.io.bin', xo, yo)
        entry['odd'] = {'input': list(odd), 'output': list(yo.shape[2:])}
    cases[file] = entry
    params = sum(p.numel() for p in net.parameters())
    print(f'{file}: {params} params, output {tuple(y.shape)}, range {entry["range"]}')


def opts(e, depth, heads, split, expansion, resi, up, scale, qkv_bias=True):
    return dict(scale=scale, archOptions=dict(embedDim=e, depths=','.join(map(str, depth)), heads=','.join(map(str, heads)), splitSize=f'{split[0]},{split[1]}',
                                              expansion=expansion, qkvBias=qkv_bias, resiConnection=resi, upsampler=up, features=64, imgRange=1))


torch.manual_seed(0)
save_pth = lambda wrapper: (lambda p, sd: torch.save({wrapper: sd} if wrapper else sd, p))

# DAT / DAT-2 style: pixelshuffle x2, expansion 4, 1conv, rectangular windows; float16 file.
o = opts(32, [2, 2], [4, 2], [4, 8], 4, '1conv', 'pixelshuffle', 2)
case('dat-x2.pth', DAT(2, 32, [2, 2], [4, 2], [4, 8], 4, img_size=8), 21, dict(o, wrapper='params_ema'), save_pth('params_ema'), (16, 32), odd=(13, 21), half=True)

# DAT-light style: one group, pixelshuffledirect x3, expansion 2, 3conv; 64 features so the position MLP
# is 2 wide (at 32 to 63 features it is 1 wide, and its LayerNorm makes the bias a constant).
o = opts(64, [2], [4], [4, 8], 2, '3conv', 'pixelshuffledirect', 3)
case('dat-light-x3.pth', DAT(3, 64, [2], [4], [4, 8], 2, resi='3conv', upsampler='pixelshuffledirect', img_size=8), 22, dict(o, wrapper='params'), save_pth('params'), (16, 16), half=True)

# DAT-S style windows (1:2), expansion 2, 1conv, three heads (odd: one per spatial branch); pixelshuffledirect x4;
# float16 safetensors.
o = opts(36, [2, 2], [3, 3], [2, 4], 2, '1conv', 'pixelshuffledirect', 4)
case('dat-s-x4.safetensors', DAT(4, 36, [2, 2], [3, 3], [2, 4], 2, upsampler='pixelshuffledirect', img_size=4), 23, dict(o, wrapper='none'), write_safetensors, (8, 12), half=True)

# Three blocks then one (a shifted block in group 0 too; group 1's heads read off the position MLP), square windows,
# no qkv bias, expansion 3, 3conv, pixelshuffledirect x2, bare state dict.
o = opts(32, [3, 1], [2, 2], [4, 4], 3, '3conv', 'pixelshuffledirect', 2, qkv_bias=False)
case('dat-sq-x2.pth', DAT(2, 32, [3, 1], [2, 2], [4, 4], 3, resi='3conv', upsampler='pixelshuffledirect', qkv_bias=False, img_size=4), 24, dict(o, wrapper='none'), save_pth(None), (16, 12), odd=(13, 19), half=True)

# Looks like DAT, but upsamples as SwinIR's real-world models do (nearest + conv): not a DAT layout Restora knows.
net = DAT(2, 32, [1], [2], [4, 4], 2, upsampler='nearest+conv', img_size=4, nf=16)
randomise(net, 25)
torch.save(halved(net.state_dict()), os.path.join(OUT, 'dat-unknown-variant.pth'))

# The released DAT x2 (DAT_x2.pth): its parameter count, for the TS build to match.
released = DAT(2, 180, [6] * 6, [6] * 6, [8, 32], 4, img_size=64)
cases['released'] = {'model': 'DAT x2 (embed 180, depth 6x6, heads 6x6, split 8x32, expansion 4, 1conv, pixelshuffle)',
                     'params': sum(p.numel() for p in released.parameters())}

with open(os.path.join(OUT, 'cases.json'), 'w') as f:
    json.dump(cases, f, indent=2)
    f.write('\n')
print('wrote', sorted(os.listdir(OUT)))
print('released DAT x2 params', cases['released']['params'])
