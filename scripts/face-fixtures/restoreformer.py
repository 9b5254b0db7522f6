#!/usr/bin/python3
"""
Writes the RestoreFormer++ import conformance fixtures (test/fixtures/face-import/restoreformer-*):
a small RestoreFormer++ (Wang et al., "RestoreFormer++: Towards Real-World Blind Face Restoration
from Undegraded Key-Value Pairs", TPAMI 2023) built here in PyTorch with seeded random weights,
saved the way the released RestoreFormer++.ckpt is saved (a PyTorch Lightning checkpoint:
{'state_dict': {'vqvae.' + key: tensor}, ...}), a test input and PyTorch's output, and the full
key list of the released configuration.

Run with Debian's torch: apt-get install -y python3-torch; /usr/bin/python3 scripts/face-fixtures/restoreformer.py [OUT]

The network is written here from the structure of the published model, not copied: a
taming-transformers VQVAE whose encoder keeps its features at every level, a nearest-code
(L2) vector quantiser, and a decoder whose attention blocks are multi-head CROSS-attention
blocks: queries from the (normed) encoder features of the same resolution, keys and values
from the decoder's own (normed) features. The released RestoreFormer++ is
VQVAEGANMultiHeadTransformer(head_size=4, ex_multi_scale_num=1) with the defaults
n_embed 1024, embed_dim 256, ch 64, ch_mult (1,2,2,4,4,8), num_res_blocks 2,
attn_resolutions [16], resolution 512, z_channels 256, enable_mid, GroupNorm(32, eps 1e-6);
ex_multi_scale_num=1 turns the decoder's attention resolutions into [16, 32]
(RestoreFormer, CVPR 2022, is head_size=8, ex_multi_scale_num=0: decoder attention at 16 only).
Which encoder feature each decoder attention level reads, the decoder's attention
resolutions and the GroupNorm group count are derived from the config here (plan()); a
self-check shows they give the released structure for the released config.

Files (all NHWC float32 little-endian in .io.bin):
  restoreformer-small.pth     {'state_dict': {'vqvae.' + k: v}, 'epoch', 'global_step', ...} of the small config
  restoreformer-small.io.bin  x [1,S,S,3] in [0,1]; then y [1,S,S,3], y = (net((x - 0.5) / 0.5)[0] + 1) / 2, not clamped
  restoreformer-cases.json    config, derived plan, output range, chosen codes and margins, released key list
"""
import json, os, re, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)  # one thread: reductions in a fixed order, output byte-stable across runs

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'face-import')
os.makedirs(OUT, exist_ok=True)

REAL = dict(resolution=512, ch=64, ch_mult=[1, 2, 2, 4, 4, 8], num_res_blocks=2, attn_resolutions=[16], ex_multi_scale_num=1,
            n_embed=1024, embed_dim=256, z_channels=256, head_size=4, gn_groups=32)
# Facts of the released structure, read off the published vqvae_arch.py / RestoreFormer.py:
REAL_DECODER_ATTN = [16, 32]           # ex_multi_scale_num=1: [attn[0], attn[-1] * 2]
REAL_Z_SHAPE = [1, 256, 16, 16]        # the decoder's printed "z of shape"
# decoder level -> the encoder feature its attention blocks read (hs key of the published encoder)
REAL_CROSS_SOURCE = {'mid': 'mid_atten', '5': 'block_5_atten', '4': 'block_4'}
REAL_KEYS = {  # a sample of key -> shape pairs the released file must have
    'encoder.conv_in.weight': [64, 3, 3, 3],
    'encoder.down.1.block.0.nin_shortcut.weight': [128, 64, 1, 1],
    'encoder.down.4.downsample.conv.weight': [256, 256, 3, 3],
    'encoder.down.5.attn.1.norm2.weight': [512],
    'encoder.down.5.block.1.conv2.weight': [512, 512, 3, 3],
    'encoder.mid.attn_1.q.weight': [512, 512, 1, 1],
    'encoder.conv_out.weight': [256, 512, 3, 3],
    'decoder.conv_in.weight': [512, 256, 3, 3],
    'decoder.mid.attn_1.norm2.bias': [512],
    'decoder.up.5.attn.2.proj_out.weight': [512, 512, 1, 1],
    'decoder.up.4.block.0.nin_shortcut.weight': [256, 512, 1, 1],
    'decoder.up.4.attn.2.k.weight': [256, 256, 1, 1],
    'decoder.up.1.upsample.conv.weight': [128, 128, 3, 3],
    'decoder.up.0.block.2.conv2.weight': [64, 64, 3, 3],
    'decoder.conv_out.weight': [3, 64, 3, 3],
    'quantize.embedding.weight': [1024, 256],
    'quant_conv.weight': [256, 256, 1, 1],
    'post_quant_conv.weight': [256, 256, 1, 1],
}
REAL_ABSENT = ['decoder.up.3.attn.0.q.weight', 'encoder.down.4.attn.0.q.weight', 'encoder.down.5.downsample.conv.weight',
               'decoder.up.0.upsample.conv.weight', 'encoder.mid.block_1.nin_shortcut.weight']

# The fixture: 32 px, 4 levels (latent 4x4), encoder attention at 4, decoder cross-attention at 4 and 8.
# 32 GroupNorm groups would force >= 32 channels everywhere (megabytes of weights): 4 groups here,
# and 2 heads (a state dict records neither; the detector assumes the release's and takes overrides).
SMALL = dict(resolution=32, ch=8, ch_mult=[1, 2, 2, 4], num_res_blocks=2, attn_resolutions=[4], ex_multi_scale_num=1,
             n_embed=32, embed_dim=8, z_channels=12, head_size=2, gn_groups=4)


def plan(cfg):
    """Channels and resolution of each level, the decoder's attention resolutions and, for each decoder
    attention site, which encoder feature it reads."""
    n = len(cfg['ch_mult'])
    dec_attn = list(cfg['attn_resolutions'])
    for _ in range(cfg['ex_multi_scale_num']):
        dec_attn = [dec_attn[0], dec_attn[-1] * 2]
    res = [cfg['resolution'] // 2 ** i for i in range(n)]
    cross = {'mid': 'mid_atten'}
    for i in range(n):
        if res[i] in dec_attn:
            cross[str(i)] = 'block_%d_atten' % i if i == n - 1 else 'block_%d' % i
    return dict(levels=n, res=res, channels=[cfg['ch'] * m for m in cfg['ch_mult']], decoder_attn=sorted(dec_attn),
                encoder_attn=sorted(r for r in res if r in cfg['attn_resolutions']), cross=cross,
                z_shape=[1, cfg['z_channels'], res[-1], res[-1]])


def swish(x):
    return x * torch.sigmoid(x)


def norm(c, cfg, dev):
    return nn.GroupNorm(cfg['gn_groups'], c, eps=1e-6, affine=True, device=dev)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, cfg, dev):
        super().__init__()
        self.norm1 = norm(cin, cfg, dev)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, device=dev)
        self.norm2 = norm(cout, cfg, dev)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, device=dev)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0, device=dev)

    def forward(self, x):
        h = self.conv2(swish(self.norm2(self.conv1(swish(self.norm1(x))))))
        return (self.nin_shortcut(x) if hasattr(self, 'nin_shortcut') else x) + h


class MHCA(nn.Module):
    """Multi-head attention block: self-attention over norm1(x) alone, or cross-attention whose queries
    come from norm2(y) (the encoder's features) and keys / values from norm1(x). norm2 exists (and is
    saved) in every block, used only by the cross form. Residual: x + proj_out(attention)."""
    def __init__(self, c, cfg, dev):
        super().__init__()
        self.heads = cfg['head_size']
        self.norm1, self.norm2 = norm(c, cfg, dev), norm(c, cfg, dev)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1, device=dev) for _ in range(4))

    def forward(self, x, y=None):
        hx = self.norm1(x)
        hy = hx if y is None else self.norm2(y)
        b, c, h, w = x.shape
        d = c // self.heads
        split = lambda t: t.reshape(b, self.heads, d, h * w).transpose(2, 3)   # b, head, hw, d (channel = head * d + i)
        q, k, v = split(self.q(hy)), split(self.k(hx)), split(self.v(hx))
        a = torch.softmax(torch.matmul(q * d ** -0.5, k.transpose(2, 3)), dim=3)
        o = torch.matmul(a, v).transpose(2, 3).reshape(b, c, h, w)
        return x + self.proj_out(o)


class Downsample(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0, device=dev)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c, dev):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1, device=dev)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode='nearest'))


class Mid(nn.Module):
    def __init__(self, c, cfg, dev):
        super().__init__()
        self.block_1 = ResnetBlock(c, c, cfg, dev)
        self.attn_1 = MHCA(c, cfg, dev)
        self.block_2 = ResnetBlock(c, c, cfg, dev)


class Level(nn.Module):
    def __init__(self, cin, cout, blocks, attn, cfg, dev):
        super().__init__()
        self.block = nn.ModuleList(ResnetBlock(cin if j == 0 else cout, cout, cfg, dev) for j in range(blocks))
        self.attn = nn.ModuleList(MHCA(cout, cfg, dev) for _ in range(blocks if attn else 0))


class Encoder(nn.Module):
    def __init__(self, cfg, p, dev):
        super().__init__()
        ch, n, R = cfg['ch'], p['levels'], cfg['num_res_blocks']
        self.conv_in = nn.Conv2d(3, ch, 3, 1, 1, device=dev)
        self.down = nn.ModuleList()
        cin = ch
        for i in range(n):
            lv = Level(cin, p['channels'][i], R, p['res'][i] in cfg['attn_resolutions'], cfg, dev)
            cin = p['channels'][i]
            if i != n - 1:
                lv.downsample = Downsample(cin, dev)
            self.down.append(lv)
        self.mid = Mid(cin, cfg, dev)
        self.norm_out = norm(cin, cfg, dev)
        self.conv_out = nn.Conv2d(cin, cfg['z_channels'], 3, 1, 1, device=dev)

    def forward(self, x):
        hs = {}
        h = self.conv_in(x)
        n = len(self.down)
        for i, lv in enumerate(self.down):
            for j, blk in enumerate(lv.block):
                h = blk(h)
                if len(lv.attn) > 0:
                    h = lv.attn[j](h)
            if i != n - 1:
                hs['block_%d' % i] = h
                h = lv.downsample(h)
        h = self.mid.block_1(h)
        hs['block_%d_atten' % (n - 1)] = h
        h = self.mid.block_2(self.mid.attn_1(h))
        hs['mid_atten'] = h
        hs['out'] = self.conv_out(swish(self.norm_out(h)))
        return hs


class Decoder(nn.Module):
    def __init__(self, cfg, p, dev):
        super().__init__()
        n, R = p['levels'], cfg['num_res_blocks']
        cin = p['channels'][-1]
        self.conv_in = nn.Conv2d(cfg['z_channels'], cin, 3, 1, 1, device=dev)
        self.mid = Mid(cin, cfg, dev)
        levels = [None] * n
        for i in reversed(range(n)):
            lv = Level(cin, p['channels'][i], R + 1, p['res'][i] in p['decoder_attn'], cfg, dev)
            cin = p['channels'][i]
            if i != 0:
                lv.upsample = Upsample(cin, dev)
            levels[i] = lv
        self.up = nn.ModuleList(levels)   # up[i] is level i, as the published model's prepending gives
        self.norm_out = norm(cin, cfg, dev)
        self.conv_out = nn.Conv2d(cin, 3, 3, 1, 1, device=dev)
        self.cross = p['cross']

    def forward(self, z, hs):
        h = self.conv_in(z)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h), hs[self.cross['mid']]))
        for i in reversed(range(len(self.up))):
            lv = self.up[i]
            for j, blk in enumerate(lv.block):
                h = blk(h)
                if len(lv.attn) > 0:
                    h = lv.attn[j](h, hs[self.cross[str(i)]])
            if i != 0:
                h = lv.upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


class Quantize(nn.Module):
    """Nearest code by squared L2 distance, |z|^2 + |e|^2 - 2 z.e as the published quantiser computes it."""
    def __init__(self, cfg, dev):
        super().__init__()
        self.embedding = nn.Embedding(cfg['n_embed'], cfg['embed_dim'], device=dev)

    def distances(self, z):
        flat = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        e = self.embedding.weight
        return (flat ** 2).sum(1, keepdim=True) + (e ** 2).sum(1) - 2 * flat @ e.t()

    def forward(self, z):
        idx = self.distances(z).argmin(1)
        zq = self.embedding.weight[idx].reshape(z.shape[0], z.shape[2], z.shape[3], -1).permute(0, 3, 1, 2)
        return z + (zq - z).detach(), idx


class RestoreFormerPP(nn.Module):
    def __init__(self, cfg, dev='cpu'):
        super().__init__()
        self.p = plan(cfg)
        self.encoder = Encoder(cfg, self.p, dev)
        self.decoder = Decoder(cfg, self.p, dev)
        self.quantize = Quantize(cfg, dev)
        self.quant_conv = nn.Conv2d(cfg['z_channels'], cfg['embed_dim'], 1, device=dev)
        self.post_quant_conv = nn.Conv2d(cfg['embed_dim'], cfg['z_channels'], 1, device=dev)

    def encode(self, x):
        hs = self.encoder(x)
        return self.quant_conv(hs['out']), hs

    def forward(self, x):
        z, hs = self.encode(x)
        zq, idx = self.quantize(z)
        return self.decoder(self.post_quant_conv(zq), hs), idx


def randomise(net, seed):
    """Every parameter drawn from one seeded generator, in state-dict order, scaled so activations stay O(1)."""
    g = torch.Generator().manual_seed(seed)
    mods = dict(net.named_modules())
    with torch.no_grad():
        for k, v in net.state_dict(keep_vars=True).items():
            owner = mods[k.rsplit('.', 1)[0]]
            r = torch.randn(v.shape, generator=g)
            if isinstance(owner, nn.GroupNorm):
                v.copy_(1 + 0.25 * r if k.endswith('weight') else 0.1 * r)
            elif k == 'quantize.embedding.weight':
                v.copy_(r)
            elif v.dim() >= 2:
                # attention logits wide enough that the softmax is not flat
                gain = 2.0 if re.search(r'\.(q|k)\.weight$', k) else 1.0
                v.copy_(r * gain / v[0].numel() ** 0.5)
            else:
                v.copy_(0.1 * r)


def check_real():
    p = plan(REAL)
    ok = True
    for name, got, want in [('decoder attention resolutions', p['decoder_attn'], REAL_DECODER_ATTN),
                            ('z shape', p['z_shape'], REAL_Z_SHAPE), ('cross-attention sources', p['cross'], REAL_CROSS_SOURCE)]:
        same = got == want
        ok &= same
        print('self-check real %-30s %s  derived=%s' % (name, 'OK  ' if same else 'FAIL', got))
    skel = RestoreFormerPP(REAL, dev='meta')
    sd = skel.state_dict()
    for k, shape in REAL_KEYS.items():
        same = k in sd and list(sd[k].shape) == shape
        ok &= same
        print('self-check real %-45s %s  %s' % (k, 'OK  ' if same else 'FAIL', list(sd[k].shape) if k in sd else 'missing'))
    for k in REAL_ABSENT:
        ok &= k not in sd
        print('self-check real %-45s %s' % (k, 'absent OK' if k not in sd else 'PRESENT: FAIL'))
    if not ok:
        sys.exit('the derived structure differs from the released one')
    n = sum(v.numel() for v in sd.values())
    print('real config skeleton (meta device): %d keys, %d parameters' % (len(sd), n))
    return sd, n


def main():
    real_sd, real_n = check_real()
    cfg = SMALL
    S = cfg['resolution']
    g = torch.Generator().manual_seed(11)
    x01 = torch.rand(1, 3, S, S, generator=g)
    x = (x01 - 0.5) / 0.5
    for seed in range(100, 300):
        torch.manual_seed(0)
        net = RestoreFormerPP(cfg).eval()
        randomise(net, seed)
        with torch.no_grad():
            z, _ = net.encode(x)
            d = net.quantize.distances(z)
            two = d.topk(2, dim=1, largest=False)[0]
            gap = (two[:, 1] - two[:, 0]).min().item()
            # float error of d grows with |z|^2 + |e|^2: the gap must be clear of it by far
            scale = ((z ** 2).sum(1).max() + (net.quantize.embedding.weight ** 2).sum(1).max()).item()
            out, idx = net(x)
        distinct = len(set(idx.tolist()))
        rng = (out.max() - out.min()).item() / 2
        big = out.abs().max().item()
        print('seed %d: min nearest/second-nearest distance gap %.4f (%.2e of |z|^2+|e|^2 %.1f), %d distinct codes, output range %.2f, max |out| %.2f'
              % (seed, gap, gap / scale, scale, distinct, rng, big))
        if gap / scale > 2e-3 and distinct >= 6 and rng > 0.5 and big < 10:
            break
    else:
        sys.exit('no seed gave clear nearest-code margins')

    sd = net.state_dict()
    nparams = sum(v.numel() for v in sd.values())
    mask = lambda k: re.sub(r'\.(down|up|block|attn)\.\d+', r'.\1.#', k)
    assert set(map(mask, sd)) <= set(map(mask, real_sd)), 'key patterns not in the released file: %s' % (set(map(mask, sd)) - set(map(mask, real_sd)))
    top = lambda dd: list(dict.fromkeys(k.split('.')[0] for k in dd))
    assert top(sd) == top(real_sd) == ['encoder', 'decoder', 'quantize', 'quant_conv', 'post_quant_conv']

    ckpt = {'epoch': 0, 'global_step': 0, 'pytorch-lightning_version': '1.0.8',
            'state_dict': {'vqvae.' + k: v for k, v in sd.items()}}
    torch.save(ckpt, os.path.join(OUT, 'restoreformer-small.pth'))
    y = (out + 1) / 2
    with open(os.path.join(OUT, 'restoreformer-small.io.bin'), 'wb') as f:
        for t in [x01, y]:
            f.write(t.permute(0, 2, 3, 1).contiguous().numpy().astype('<f4').tobytes())

    def derived(pl):
        return {'decoderAttn': pl['decoder_attn'], 'encoderAttn': pl['encoder_attn'], 'cross': pl['cross'], 'zShape': pl['z_shape']}

    cases = {
        'restoreformer-small.pth': {
            'arch': 'restoreformer', 'stateDictKey': 'state_dict', 'keyPrefix': 'vqvae.', 'config': cfg, 'S': S, 'seed': seed,
            'inputSeed': 11, 'parameters': nparams,
            'ioBin': 'restoreformer-small.io.bin: x [1,S,S,3] in [0,1], then y; NHWC float32; y = (net((x-0.5)/0.5)[0] + 1) / 2, not clamped',
            'outputRange': {'min': y.min().item(), 'max': y.max().item()},
            'codes': idx.tolist(), 'minCodeGap': gap, 'codeGapScale': scale, 'derived': derived(net.p)},
        'real': {'config': REAL, 'parameters': real_n, 'derived': derived(plan(REAL)),
                 'keys': list(real_sd.keys()), 'shapes': [list(v.shape) for v in real_sd.values()]},
    }
    with open(os.path.join(OUT, 'restoreformer-cases.json'), 'w') as f:
        json.dump(cases, f, indent=1)
        f.write('\n')
    for name in sorted(os.listdir(OUT)):
        if name.startswith('restoreformer'):
            print('wrote %-28s %8d bytes' % (name, os.path.getsize(os.path.join(OUT, name))))
    print('small: %d keys, %d parameters; codes %s; output [%.3f, %.3f]' % (len(sd), nparams, idx.tolist(), y.min().item(), y.max().item()))


if __name__ == '__main__':
    main()
