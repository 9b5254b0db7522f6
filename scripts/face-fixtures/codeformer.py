#!/usr/bin/python3
"""
Writes the CodeFormer import conformance fixtures (test/fixtures/face-import/codeformer-*):
a small CodeFormer (Zhou et al. 2022, "Towards Robust Blind Face Restoration with
Codebook Lookup Transformer") built here in PyTorch with seeded random weights, saved the
way the released codeformer.pth is saved ({'params_ema': state_dict}), a test input and
PyTorch's output for two fidelity weights, and the full key list of the real released model.

Run with Debian's torch: apt-get install -y python3-torch; /usr/bin/python3 scripts/face-fixtures/codeformer.py [OUT]

The network is written here from the structure of the published model, not copied. The real
code hard-codes the per-resolution channel counts, the encoder/generator block index at which
each resolution is tapped / fused, the latent grid (16x16x256) and the GroupNorm group count
(32); here they are derived from the config (see plan()) and a self-check shows that the
derivation gives exactly the hard-coded values for the real config.

Files (all NHWC float32 little-endian in .io.bin):
  codeformer-small.pth     {'params_ema': state_dict} of the small config
  codeformer-small.io.bin  x [1,S,S,3] in [0,1]; then y(w=0.5); then y(w=1.0), each [1,S,S,3]
                           y = (net((x - 0.5) / 0.5, w=w, adain=True)[0] + 1) / 2, not clamped
  codeformer-cases.json    config, derived dicts, output ranges, chosen codes, real key list
"""
import json, math, os, re, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)  # one thread: reductions in a fixed order, output byte-stable across runs

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'face-import')
os.makedirs(OUT, exist_ok=True)

# The released model: CodeFormer(dim_embd=512, n_head=8, n_layers=9, codebook_size=1024,
# connect_list=['32','64','128','256']) on VQAutoEncoder(512, 64, [1,2,2,4,4,8], 'nearest', 2, [16], 1024), emb_dim 256.
REAL = dict(img_size=512, nf=64, ch_mult=[1, 2, 2, 4, 4, 8], res_blocks=2, attn_resolutions=[16], codebook_size=1024,
            emb_dim=256, dim_embd=512, n_head=8, n_layers=9, connect_list=['32', '64', '128', '256'], gn_groups=32)
# What the real code hard-codes (CodeFormer.__init__ / forward).
REAL_CHANNELS = {'16': 512, '32': 256, '64': 256, '128': 128, '256': 128, '512': 64}
REAL_FUSE_ENCODER_BLOCK = {'512': 2, '256': 5, '128': 8, '64': 11, '32': 14, '16': 18}
REAL_FUSE_GENERATOR_BLOCK = {'16': 6, '32': 9, '64': 12, '128': 15, '256': 18, '512': 21}
REAL_LATENT_SIZE = 256                # position_emb rows
REAL_CODEBOOK_SHAPE = [16, 16, 256]   # get_codebook_feat(shape=[b,16,16,256])
REAL_FEAT_EMB_IN = 256                # nn.Linear(256, dim_embd)

# The fixture. GroupNorm needs channels divisible by its group count; 32 groups would force
# >= 32 channels everywhere and > 2 MB of weights, so the fixture uses 4 groups (2..8 channels a group).
SMALL = dict(img_size=32, nf=8, ch_mult=[1, 2, 2, 4], res_blocks=2, attn_resolutions=[4], codebook_size=16,
             emb_dim=16, dim_embd=32, n_head=4, n_layers=2, connect_list=['8', '16', '32'], gn_groups=4)


def plan(cfg):
    """Block lists of encoder and generator, appended in the order the published model appends them,
    and every value the real code hard-codes, derived from how the blocks are appended."""
    nf, mult, R, attn = cfg['nf'], cfg['ch_mult'], cfg['res_blocks'], cfg['attn_resolutions']
    n = len(mult)
    latent = cfg['img_size'] // 2 ** (n - 1)
    channels = {str(cfg['img_size'] // 2 ** i): nf * mult[i] for i in range(n)}
    enc, fuse_enc = [('conv_in', 3, nf)], {}
    res, cin = cfg['img_size'], nf
    for i in range(n):
        cout = nf * mult[i]
        for _ in range(R):
            enc.append(('res', cin, cout))
            cin = cout
            fuse_enc[str(res)] = len(enc) - 1          # the LAST ResBlock of the level (before its attn)
            if res in attn:
                enc.append(('attn', cin, cin))
        if i != n - 1:
            enc.append(('down', cin, cin))
            res //= 2
    enc += [('res', cin, cin), ('attn', cin, cin), ('res', cin, cin), ('norm', cin, cin), ('conv_out', cin, cfg['emb_dim'])]

    cin = nf * mult[-1]
    gen, fuse_gen = [('conv_in', cfg['emb_dim'], cin), ('res', cin, cin), ('attn', cin, cin), ('res', cin, cin)], {}
    res = latent
    for i in reversed(range(n)):
        cout = nf * mult[i]
        for r in range(R):
            gen.append(('res', cin, cout))
            cin = cout
            # fused after the FIRST ResBlock of a level above the latent, after the LAST one at the latent
            if (r == 0 and res != latent) or (r == R - 1 and res == latent):
                fuse_gen[str(res)] = len(gen) - 1
            if res in attn:
                gen.append(('attn', cin, cin))
        if i != 0:
            gen.append(('up', cin, cin))
            res *= 2
    gen += [('norm', cin, cin), ('conv_out', cin, 3)]
    return dict(enc=enc, gen=gen, latent=latent, channels=channels, fuse_encoder_block=fuse_enc, fuse_generator_block=fuse_gen,
                latent_size=latent * latent, codebook_shape=[latent, latent, cfg['emb_dim']], feat_emb_in=cfg['emb_dim'],
                dim_mlp=2 * cfg['dim_embd'])


def swish(x):
    return x * torch.sigmoid(x)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, groups, dev):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-6, device=dev)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, device=dev)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-6, device=dev)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, device=dev)
        self.skip = cin != cout
        if self.skip:
            self.conv_out = nn.Conv2d(cin, cout, 1, 1, 0, device=dev)

    def forward(self, x):
        h = self.conv2(swish(self.norm2(self.conv1(swish(self.norm1(x))))))
        return h + (self.conv_out(x) if self.skip else x)


class AttnBlock(nn.Module):
    """Single-head spatial self-attention with 1x1 q/k/v/proj convs, residual."""
    def __init__(self, c, groups, dev):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c, eps=1e-6, device=dev)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1, device=dev) for _ in range(4))

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.norm(x)
        q = self.q(t).reshape(b, c, h * w).transpose(1, 2)          # b, hw, c
        k = self.k(t).reshape(b, c, h * w)                          # b, c, hw
        v = self.v(t).reshape(b, c, h * w)
        a = torch.softmax(torch.bmm(q, k) * c ** -0.5, dim=2)       # b, hw(query), hw(key)
        o = torch.bmm(v, a.transpose(1, 2)).reshape(b, c, h, w)
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


def make_block(kind, cin, cout, groups, dev):
    if kind in ('conv_in', 'conv_out'):
        return nn.Conv2d(cin, cout, 3, 1, 1, device=dev)
    if kind == 'res':
        return ResBlock(cin, cout, groups, dev)
    if kind == 'attn':
        return AttnBlock(cin, groups, dev)
    if kind == 'down':
        return Downsample(cin, dev)
    if kind == 'up':
        return Upsample(cin, dev)
    return nn.GroupNorm(groups, cin, eps=1e-6, device=dev)


class Blocks(nn.Module):  # the VQGAN Encoder / Generator: just a `blocks` list
    def __init__(self, spec, groups, dev):
        super().__init__()
        self.blocks = nn.ModuleList([make_block(k, a, b, groups, dev) for k, a, b in spec])


class Quantizer(nn.Module):
    def __init__(self, n, dim, dev):
        super().__init__()
        self.embedding = nn.Embedding(n, dim, device=dev)


class SALayer(nn.Module):
    """Pre-norm transformer layer; the position embedding goes into q and k only."""
    def __init__(self, e, heads, mlp, dev):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(e, heads, dropout=0.0, device=dev)
        self.linear1 = nn.Linear(e, mlp, device=dev)
        self.linear2 = nn.Linear(mlp, e, device=dev)
        self.norm1 = nn.LayerNorm(e, device=dev)
        self.norm2 = nn.LayerNorm(e, device=dev)

    def forward(self, t, pos):
        h = self.norm1(t)
        t = t + self.self_attn(h + pos, h + pos, h, need_weights=False)[0]
        return t + self.linear2(F.gelu(self.linear1(self.norm2(t))))


class FuseSFT(nn.Module):
    def __init__(self, c, groups, dev):
        super().__init__()
        self.encode_enc = ResBlock(2 * c, c, groups, dev)
        self.scale = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, device=dev), nn.LeakyReLU(0.2), nn.Conv2d(c, c, 3, 1, 1, device=dev))
        self.shift = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, device=dev), nn.LeakyReLU(0.2), nn.Conv2d(c, c, 3, 1, 1, device=dev))

    def forward(self, enc, dec, w):
        e = self.encode_enc(torch.cat([enc, dec], 1))
        return dec + w * (dec * self.scale(e) + self.shift(e))


def adain(content, style, eps=1e-5):
    """Per-channel mean/std over H*W; std = sqrt(unbiased var + 1e-5), for both tensors."""
    def stats(t):
        f = t.flatten(2)
        return f.mean(2)[..., None, None], (f.var(2) + eps).sqrt()[..., None, None]
    cm, cs = stats(content)
    sm, ss = stats(style)
    return (content - cm) / cs * ss + sm


class CodeFormer(nn.Module):
    def __init__(self, cfg, dev='cpu'):
        super().__init__()
        self.cfg, self.p = cfg, plan(cfg)
        g, p = cfg['gn_groups'], self.p
        # registration order reproduces the released file's key order
        self.position_emb = nn.Parameter(torch.zeros(p['latent_size'], cfg['dim_embd'], device=dev))
        self.encoder = Blocks(p['enc'], g, dev)
        self.quantize = Quantizer(cfg['codebook_size'], cfg['emb_dim'], dev)
        self.generator = Blocks(p['gen'], g, dev)
        self.feat_emb = nn.Linear(p['feat_emb_in'], cfg['dim_embd'], device=dev)
        self.ft_layers = nn.Sequential(*[SALayer(cfg['dim_embd'], cfg['n_head'], p['dim_mlp'], dev) for _ in range(cfg['n_layers'])])
        self.idx_pred_layer = nn.Sequential(nn.LayerNorm(cfg['dim_embd'], device=dev),
                                            nn.Linear(cfg['dim_embd'], cfg['codebook_size'], bias=False, device=dev))
        self.fuse_convs_dict = nn.ModuleDict({s: FuseSFT(p['channels'][s], g, dev) for s in cfg['connect_list']})

    def logits(self, x):
        p, taps = self.p, {}
        tap_at = {p['fuse_encoder_block'][s]: s for s in self.cfg['connect_list']}
        for i, blk in enumerate(self.encoder.blocks):
            x = blk(x)
            if i in tap_at:
                taps[str(x.shape[-1])] = x
        lq = x
        tokens = self.feat_emb(lq.flatten(2).permute(2, 0, 1))        # (hw, b, dim_embd), row-major h then w
        pos = self.position_emb.unsqueeze(1)                          # (hw, 1, dim_embd)
        for layer in self.ft_layers:
            tokens = layer(tokens, pos)
        return self.idx_pred_layer(tokens).permute(1, 0, 2), lq, taps  # (b, hw, codebook)

    def forward(self, x, w=0.0, use_adain=True):
        logits, lq, taps = self.logits(x)
        idx = torch.softmax(logits, 2).topk(1, dim=2)[1][..., 0]       # (b, hw) == argmax of logits
        b, (lh, lw, c) = x.shape[0], self.p['codebook_shape']
        z = self.quantize.embedding.weight[idx].reshape(b, lh, lw, c).permute(0, 3, 1, 2)
        if use_adain:
            z = adain(z, lq)
        fuse_at = {self.p['fuse_generator_block'][s]: s for s in self.cfg['connect_list']}
        for i, blk in enumerate(self.generator.blocks):
            z = blk(z)
            if i in fuse_at and w > 0:
                s = str(z.shape[-1])
                z = self.fuse_convs_dict[s](taps[s], z, w)
        return z, logits, lq, idx


def reference_forward(sd, cfg, x, w):
    """The same forward written only from the state dict and plan(cfg): the spec a port follows."""
    p, G = plan(cfg), cfg['gn_groups']
    conv = lambda k, t, s=1, pad=1: F.conv2d(t, sd[k + '.weight'], sd[k + '.bias'], s, pad)
    gn = lambda k, t: F.group_norm(t, G, sd[k + '.weight'], sd[k + '.bias'], 1e-6)
    ln = lambda k, t: F.layer_norm(t, t.shape[-1:], sd[k + '.weight'], sd[k + '.bias'], 1e-5)
    lin = lambda k, t: t @ sd[k + '.weight'].T + (sd[k + '.bias'] if k + '.bias' in sd else 0)

    def res(k, t):
        h = conv(k + '.conv1', swish(gn(k + '.norm1', t)))
        h = conv(k + '.conv2', swish(gn(k + '.norm2', h)))
        return h + (conv(k + '.conv_out', t, 1, 0) if k + '.conv_out.weight' in sd else t)

    def attn(k, t):
        b, c, h, wd = t.shape
        n = gn(k + '.norm', t)
        q, kk, v = (conv(k + '.' + m, n, 1, 0).reshape(b, c, h * wd) for m in 'qkv')
        a = torch.softmax(q.transpose(1, 2) @ kk / math.sqrt(c), -1)     # [b, query, key]
        return t + conv(k + '.proj_out', (v @ a.transpose(1, 2)).reshape(b, c, h, wd), 1, 0)

    def block(pre, i, kind, t):
        k = '%s.blocks.%d' % (pre, i)
        if kind in ('conv_in', 'conv_out'):
            return conv(k, t)
        if kind == 'res':
            return res(k, t)
        if kind == 'attn':
            return attn(k, t)
        if kind == 'down':
            return conv(k + '.conv', F.pad(t, (0, 1, 0, 1)), 2, 0)
        if kind == 'up':
            return conv(k + '.conv', t.repeat_interleave(2, 2).repeat_interleave(2, 3))
        return gn(k, t)

    taps = {}
    for i, (kind, _, _) in enumerate(p['enc']):
        x = block('encoder', i, kind, x)
        if i in [p['fuse_encoder_block'][s] for s in cfg['connect_list']]:
            taps[str(x.shape[-1])] = x
    lq = x
    b, c, lh, lw = lq.shape
    t = lin('feat_emb', lq.permute(0, 2, 3, 1).reshape(b, lh * lw, c))   # [b, L, E], token = y*lw + x
    pos, E, H = sd['position_emb'], cfg['dim_embd'], cfg['n_head']
    D = E // H
    for l in range(cfg['n_layers']):
        k = 'ft_layers.%d.' % l
        h = ln(k + 'norm1', t)
        Wi, bi = sd[k + 'self_attn.in_proj_weight'], sd[k + 'self_attn.in_proj_bias']
        q = (h + pos) @ Wi[:E].T + bi[:E]
        kk = (h + pos) @ Wi[E:2 * E].T + bi[E:2 * E]
        v = h @ Wi[2 * E:].T + bi[2 * E:]
        split = lambda m: m.reshape(b, -1, H, D).transpose(1, 2)          # [b, H, L, D]
        a = torch.softmax((split(q) / math.sqrt(D)) @ split(kk).transpose(2, 3), -1)
        o = (a @ split(v)).transpose(1, 2).reshape(b, -1, E)
        t = t + lin(k + 'self_attn.out_proj', o)
        t = t + lin(k + 'linear2', F.gelu(lin(k + 'linear1', ln(k + 'norm2', t))))
    logits = lin('idx_pred_layer.1', ln('idx_pred_layer.0', t))
    idx = logits.argmax(-1)
    z = sd['quantize.embedding.weight'][idx].reshape(b, lh, lw, -1).permute(0, 3, 1, 2)
    zf, lf = z.flatten(2), lq.flatten(2)
    zs, ls = (zf.var(2, unbiased=True) + 1e-5).sqrt(), (lf.var(2, unbiased=True) + 1e-5).sqrt()
    z = (z - zf.mean(2)[..., None, None]) / zs[..., None, None] * ls[..., None, None] + lf.mean(2)[..., None, None]
    for i, (kind, _, _) in enumerate(p['gen']):
        z = block('generator', i, kind, z)
        hit = [s for s in cfg['connect_list'] if p['fuse_generator_block'][s] == i]
        if hit and w > 0:
            s = str(z.shape[-1])
            f = 'fuse_convs_dict.' + s
            e = res(f + '.encode_enc', torch.cat([taps[s], z], 1))
            sc = conv(f + '.scale.2', F.leaky_relu(conv(f + '.scale.0', e), 0.2))
            sh = conv(f + '.shift.2', F.leaky_relu(conv(f + '.shift.0', e), 0.2))
            z = z + w * (z * sc + sh)
    return z


def randomise(net, seed):
    """Every parameter drawn from one seeded generator, in state-dict order, scaled so activations stay O(1)."""
    g = torch.Generator().manual_seed(seed)
    kinds = {}
    for name, m in net.named_modules():
        kinds[name] = m
    with torch.no_grad():
        for k, v in net.state_dict(keep_vars=True).items():
            owner = kinds[k.rsplit('.', 1)[0]] if '.' in k else net
            r = torch.randn(v.shape, generator=g)
            if isinstance(owner, (nn.GroupNorm, nn.LayerNorm)):
                v.copy_(1 + 0.25 * r if k.endswith('weight') else 0.1 * r)
            elif k == 'position_emb':
                v.copy_(0.5 * r)
            elif k == 'quantize.embedding.weight':
                v.copy_(r)
            elif k == 'idx_pred_layer.1.weight':          # wide logits: clear top-1 margins
                v.copy_(r * 4 / math.sqrt(v.shape[1]))
            elif k.endswith('in_proj_weight'):
                v.copy_(r * 1.5 / math.sqrt(v.shape[1]))
            elif v.dim() >= 2:
                fan_in = v[0].numel()
                # dec * scale is multiplicative: keep the SFT scale small so three fusions do not blow up
                gain = 0.15 if '.scale.2.' in k else 0.5 if '.shift.2.' in k else 1.0
                v.copy_(r * gain / math.sqrt(fan_in))
            else:
                v.copy_(0.1 * r)


def check_real():
    """Derived dicts vs the real hard-coded ones, and the real key list from a meta-device skeleton."""
    p = plan(REAL)
    checks = {
        'channels': (p['channels'], REAL_CHANNELS),
        'fuse_encoder_block': (p['fuse_encoder_block'], REAL_FUSE_ENCODER_BLOCK),
        'fuse_generator_block': (p['fuse_generator_block'], REAL_FUSE_GENERATOR_BLOCK),
        'latent_size': (p['latent_size'], REAL_LATENT_SIZE),
        'codebook_shape': (p['codebook_shape'], REAL_CODEBOOK_SHAPE),
        'feat_emb_in': (p['feat_emb_in'], REAL_FEAT_EMB_IN),
        'encoder_blocks': (len(p['enc']), 25),
        'generator_blocks': (len(p['gen']), 25),
    }
    ok = True
    for name, (got, want) in checks.items():
        same = got == want
        ok &= same
        print('self-check real %-22s %s  derived=%s' % (name, 'OK  ' if same else 'FAIL', got))
    if not ok:
        sys.exit('derived values differ from the real hard-coded ones')
    skel = CodeFormer(REAL, dev='meta')
    sd = skel.state_dict()
    n = sum(v.numel() for v in sd.values())
    print('real config skeleton (meta device): %d keys, %d parameters' % (len(sd), n))
    return skel, sd, n


def main():
    real_net, real_sd, real_n = check_real()
    cfg = SMALL
    S = cfg['img_size']
    g = torch.Generator().manual_seed(7)
    x01 = torch.rand(1, 3, S, S, generator=g)
    x = (x01 - 0.5) / 0.5
    ws = [0.5, 1.0]
    for seed in range(100, 200):
        torch.manual_seed(0)
        net = CodeFormer(cfg).eval()
        randomise(net, seed)
        with torch.no_grad():
            logits, lq, _ = net.logits(x)
            top2 = logits.topk(2, dim=2)[0]
            gap = (top2[..., 0] - top2[..., 1]).min().item()
            idx = logits.argmax(2)[0]
            z = net.quantize.embedding.weight[idx]
            zstd = z.std(0).min().item()
            outs = [net(x, w=w)[0] for w in ws]
        distinct = len(set(idx.tolist()))
        big = max(o.abs().max().item() for o in outs)
        print('seed %d: min top1-top2 logit gap %.4f, %d distinct codes, min code-channel std %.3f, max |out| %.2f'
              % (seed, gap, distinct, zstd, big))
        if gap > 1e-2 and distinct >= 6 and zstd > 0.1 and big < 10:
            break
    else:
        sys.exit('no seed gave clear logit margins')

    sd = net.state_dict()
    nparams = sum(v.numel() for v in sd.values())
    # same key patterns as the real file once block / layer / resolution numbers are masked, same top-level order
    mask = lambda k: re.sub(r'(blocks|fuse_convs_dict|ft_layers)\.\d+', r'\1.#', k)
    assert set(map(mask, sd)) == set(map(mask, real_sd)), 'key patterns differ from the real ones'
    top = lambda d: list(dict.fromkeys(k.split('.')[0] for k in d))
    assert top(sd) == top(real_sd), 'top-level key order differs from the real one'
    with torch.no_grad():
        for w, o in zip(ws, outs):
            r = reference_forward({k: v.detach() for k, v in sd.items()}, cfg, x, w)
            d = (r - o).abs().max().item()
            print('reference_forward vs module, w=%.1f: max abs diff %.2e' % (w, d))
            assert d < 1e-4
        # w=0 skips every fuse block; check that the fuse path matters at all
        o0 = net(x, w=0.0)[0]
        print('max |out(w=1) - out(w=0)| %.3f, max |out(w=1) - out(w=0.5)| %.3f, adain on/off diff %.3f' % (
            (outs[1] - o0).abs().max().item(), (outs[1] - outs[0]).abs().max().item(),
            (net(x, w=1.0, use_adain=False)[0] - outs[1]).abs().max().item()))

    torch.save({'params_ema': sd}, os.path.join(OUT, 'codeformer-small.pth'))
    ys = [(o + 1) / 2 for o in outs]
    with open(os.path.join(OUT, 'codeformer-small.io.bin'), 'wb') as f:
        for t in [x01] + ys:
            f.write(t.permute(0, 2, 3, 1).contiguous().numpy().astype('<f4').tobytes())

    def dicts(pl):
        return {'channels': pl['channels'], 'fuseEncoderBlock': pl['fuse_encoder_block'],
                'fuseGeneratorBlock': pl['fuse_generator_block'], 'latentRes': pl['latent'],
                'latentSize': pl['latent_size'], 'encoderBlocks': [k for k, _, _ in pl['enc']],
                'generatorBlocks': [k for k, _, _ in pl['gen']]}

    cases = {
        'codeformer-small.pth': {
            'arch': 'codeformer', 'stateDictKey': 'params_ema', 'config': cfg, 'S': S, 'input': [S, S],
            'output': [S, S], 'w': ws, 'adain': True, 'seed': seed, 'inputSeed': 7, 'parameters': nparams,
            'ioBin': 'codeformer-small.io.bin: x [1,S,S,3] in [0,1], then y(w=%s), then y(w=%s); NHWC float32; '
                     'y = (net((x-0.5)/0.5, w, adain=True)[0] + 1) / 2, not clamped' % (ws[0], ws[1]),
            'outputRanges': [{'w': w, 'min': y.min().item(), 'max': y.max().item()} for w, y in zip(ws, ys)],
            'codes': idx.tolist(), 'minLogitGap': gap, 'derived': dicts(net.p)},
        'real': {'config': REAL, 'parameters': real_n, 'derived': dicts(real_net.p),
                 'keys': list(real_sd.keys()), 'shapes': [list(v.shape) for v in real_sd.values()]},
    }
    with open(os.path.join(OUT, 'codeformer-cases.json'), 'w') as f:
        json.dump(cases, f, indent=1)
        f.write('\n')
    for name in sorted(os.listdir(OUT)):
        if name.startswith('codeformer'):
            print('wrote %-26s %8d bytes' % (name, os.path.getsize(os.path.join(OUT, name))))
    print('small: %d keys, %d parameters; codes %s; outputs %s' % (
        len(sd), nparams, idx.tolist(), [(round(y.min().item(), 3), round(y.max().item(), 3)) for y in ys]))


if __name__ == '__main__':
    main()
