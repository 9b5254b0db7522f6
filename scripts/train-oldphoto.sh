#!/usr/bin/env bash
# The recipe of the bundled restora-oldphoto-x2 (npm run train:oldphoto), phase by
# phase. Every phase checkpoints under runs/ and resumes when this is run again;
# a finished phase's model is the next one's --init. Needs data/photos
# (scripts/fetch-training-photos.sh). About 5 hours on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=train-lib.sh
. scripts/train-lib.sh
train() { restora_train --arch unet --opt channels=32 --opt midBlocks=4 --preset old-photo --threads 2 "$@"; }

# 1. Plain unet from random weights: L1, batch 16, LR patch 48, lr 1e-3 under a
#    3000-step cosine plan, stopped at step 700 (its checkpoint seeds phase 2).
train --name restora-oldphoto-unet-x2 --run runs/restora-oldphoto-unet-x2 --out resources/models/restora-oldphoto-unet-x2 \
  --steps 3000 --until 700 --lr 0.001
# 2. The conditioned unet (whole-image statistics, conditioning layers start at
#    zero), each patch cut from a degraded 96 px region whose statistics condition it.
train --name restora-oldphoto-x2 --run runs/restora-oldphoto-x2-phase2 --opt global=true --context 96 \
  --init runs/restora-oldphoto-unet-x2/checkpoint --steps 1800 --lr 0.0005 --out runs/restora-oldphoto-x2-phase2/model
# 3. A warm restart: 6000 more steps, lr 3e-4 cosine, same data and loss.
train --name restora-oldphoto-x2 --run runs/restora-oldphoto-x2-phase3 --opt global=true --context 96 \
  --init runs/restora-oldphoto-x2-phase2/model --steps 6000 --lr 0.0003 --out runs/restora-oldphoto-x2-phase3/model
# 4. 4000 steps with MSE (the loss PSNR measures), an EMA of the weights (0.999,
#    the average is what is written), lr 2e-4 cosine, and 64 px LR patches (batch 12)
#    cut from 128 px degraded regions, so more of each patch sees its full ~30 px
#    context instead of the zero padding at the patch edge.
notes="unet {channels 32, midBlocks 4, global: true} (whole-image conditioning, src/main/ml/core/conditioning.ts). \
Phase 1: plain unet from random weights, batch 16, LR patch 48, L1, Adam lr 1e-3 under a 3000-step cosine plan, stopped at step 700. \
Phase 2: the conditioned unet initialised from it (conditioning layers at zero), 1800 steps, Adam lr 5e-4 cosine to 1e-5, each patch cut from a degraded 96 px region whose statistics condition the net. \
Phase 3: 6000 more steps from phase 2's model, Adam lr 3e-4 cosine (a warm restart), same data and loss. \
Phase 4: 4000 more steps, MSE, EMA 0.999, Adam lr 2e-4 cosine, batch 12, LR patch 64 from 128 px degraded regions. \
Phase 5: 2000 more steps as phase 4 (EMA shipped), the clean photos colour-jittered (gain, gamma, saturation) before degradation. \
Seed 1. Phases 1-2 ran with one wasm thread and the per-sample RNG of the code before the loader thread; phases 3-5 with two threads. \
scripts/train-oldphoto.sh (npm run train:oldphoto) reproduces the recipe."
train --name restora-oldphoto-x2 --run runs/restora-oldphoto-x2-phase4 --opt global=true --context 128 \
  --init runs/restora-oldphoto-x2-phase3/model --steps 4000 --batch 12 --patch 64 --lr 0.0002 --loss mse --ema 0.999 \
  --out runs/restora-oldphoto-x2-phase4/model
# 5. Into the bundle: 2000 steps as phase 4, with the clean photos colour-jittered
#    before they are degraded (--jitter), so the tone correction stops taking warm
#    or soft photos for faded ones.
train --name restora-oldphoto-x2 --run runs/restora-oldphoto-x2-phase5 --opt global=true --context 128 \
  --init runs/restora-oldphoto-x2-phase4/model --steps 2000 --batch 12 --patch 64 --lr 0.0002 --loss mse --ema 0.999 --jitter \
  --prior-steps 12500 --notes "$notes" --out resources/models/restora-oldphoto-x2
npx tsx scripts/measure-bundled.ts restora-oldphoto-x2 --degrade old-photo --seed 1
