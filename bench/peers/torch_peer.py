"""PyTorch CPU peer for `npm run bench` (issue: speed). The same architectures as
Restora's `compact` default (conv3x3 stack, residual over a fixed bicubic anchor,
pixel shuffle) and `srresnet` (src/main/ml/archs/srresnet.ts), with the same batch,
patch and thread count. Prints one JSON line.

Run with Debian's torch: /usr/bin/python3 bench/peers/torch_peer.py --threads 2
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def cubic(x):
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax**3 - 2.5 * ax**2 + 1
    if ax <= 2:
        return -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
    return 0.0


def phase_taps(scale):
    # MATLAB bicubic upscale taps over LR offsets -2..2 for each output phase.
    taps = []
    for a in range(scale):
        u = (a + 1) / scale + 0.5 * (1 - 1 / scale) - 1  # 0-based source coordinate of phase a of pixel 0
        row = [cubic(u - d) for d in range(-2, 3)]
        s = sum(row)
        taps.append([w / s for w in row])
    return taps


class Compact(nn.Module):
    def __init__(self, scale, channels=32, blocks=5):
        super().__init__()
        self.scale = scale
        layers = [nn.Conv2d(3, channels, 3, padding=1), nn.ReLU()]
        for _ in range(blocks):
            layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU()]
        layers += [nn.Conv2d(channels, 3 * scale * scale, 3, padding=1)]
        self.body = nn.Sequential(*layers)
        t = phase_taps(scale)
        k = torch.zeros(3 * scale * scale, 3, 5, 5)
        for c in range(3):
            for a in range(scale):
                for b in range(scale):
                    for dy in range(5):
                        for dx in range(5):
                            # PyTorch pixel_shuffle reads channel c*s*s + a*s + b
                            k[c * scale * scale + a * scale + b, c, dy, dx] = t[a][dy] * t[b][dx]
        self.register_buffer("anchor", k)

    def forward(self, x):
        anchor = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), self.anchor)
        return F.pixel_shuffle(self.body(x) + anchor, self.scale)


class SRResNet(nn.Module):
    """Ledig et al. 2017, as Restora builds it: 9x9 head + PReLU, residual blocks
    (conv, BN, PReLU, conv, BN), conv + BN + long skip, conv x4 + shuffle + PReLU per
    2x, 9x9 tail. PReLU has one slope per channel (Restora shares it over H, W)."""

    def __init__(self, scale, channels=64, blocks=16):
        super().__init__()
        f = channels
        self.head = nn.Sequential(nn.Conv2d(3, f, 9, padding=4), nn.PReLU(f))
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.BatchNorm2d(f), nn.PReLU(f), nn.Conv2d(f, f, 3, padding=1), nn.BatchNorm2d(f))
            for _ in range(blocks)
        )
        self.body_tail = nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.BatchNorm2d(f))
        ups = []
        s = scale
        while s > 1:
            ups += [nn.Conv2d(f, f * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(f)]
            s //= 2
        self.up = nn.Sequential(*ups)
        self.tail = nn.Conv2d(f, 3, 9, padding=4)

    def forward(self, x):
        head = self.head(x)
        h = head
        for b in self.blocks:
            h = h + b(h)
        h = self.body_tail(h) + head
        return self.tail(self.up(h))


def time_train_step(net, batch, patch, scale, steps):
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(batch, 3, patch, patch)
    y = torch.rand(batch, 3, patch * scale, patch * scale)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.l1_loss(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    # Per-step times: on a shared 2-vCPU machine single steps vary a lot (50-160 ms seen
    # for the compact step), so the caller reports medians over interleaved rounds.
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(round((time.perf_counter() - t0) * 1000, 1))
    return times


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else round((s[n // 2 - 1] + s[n // 2]) / 2, 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--patch", type=int, default=48)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--srresnet-batch", type=int, default=4)
    p.add_argument("--srresnet-patch", type=int, default=24)
    p.add_argument("--srresnet-steps", type=int, default=5)
    p.add_argument("--width", type=int, default=1632)
    p.add_argument("--height", type=int, default=1224)
    p.add_argument("--train-only", action="store_true", help="only the compact training step (for interleaved rounds)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "threads": a.threads}

    steps = time_train_step(Compact(2), a.batch, a.patch, 2, a.steps)
    out["trainStepMs"] = median(steps)
    out["trainStepsMs"] = steps
    if a.train_only:
        print(json.dumps(out))
        return
    srresnet = time_train_step(SRResNet(4), a.srresnet_batch, a.srresnet_patch, 4, a.srresnet_steps)
    out["srresnetX4"] = {
        "batch": a.srresnet_batch,
        "patch": a.srresnet_patch,
        "trainStepMs": median(srresnet),
        "trainStepsMs": srresnet,
    }

    with torch.inference_mode():
        for scale in (2, 4):
            m = Compact(scale).eval()
            img = torch.rand(1, 3, a.height, a.width)
            m(img[:, :, :64, :64])
            t0 = time.perf_counter()
            m(img)
            sec = time.perf_counter() - t0
            out[f"inferX{scale}Sec"] = round(sec, 3)
            out[f"inferX{scale}OutputMPperSec"] = round(a.width * a.height * scale * scale / 1e6 / sec, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
