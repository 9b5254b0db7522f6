#!/usr/bin/env bash
# The recipe of the bundled damage nets (restora-scratch-detect, restora-inpaint), then
# their measurement on Set14 with synthetic damage. Every phase checkpoints under runs/
# and resumes when this is run again. Needs data/photos (scripts/fetch-training-photos.sh).
# About 45 minutes on two cores for phases 1-2 (side by side, about 2 steps/s each), about
# 40 more for phases 3-4. (Phases 1-2 ran with the defects of their time: see the card's notes.)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=train-lib.sh
. scripts/train-lib.sh
train() { restora_train --arch unet --opt channels=16 --opt midBlocks=2 --scale 1 --batch 8 --patch 64 --context 128 --threads 1 "$@"; }

# 1. Both nets from random weights, 2,500 steps, Adam lr 1e-3 cosine, on old-photo-aged,
#    (the bundled phase 1 ran before the clean/undamaged shares of phase 2 existed: all aged, all damaged)
#    damaged 128 px regions (patches of 64 px): the detector with weighted BCE + Dice
#    against the mask, the inpainter with L1 inside the mask.
train --name restora-scratch-detect --run runs/restora-scratch-detect --task detect --steps 2500 --lr 0.001 --out resources/models/restora-scratch-detect &
train --name restora-inpaint --run runs/restora-inpaint --task inpaint --steps 2500 --lr 0.001 --out resources/models/restora-inpaint
wait
# 2. The detector again from phase 1's weights, 3,000 steps at lr 5e-4, with 30 % of the
#    regions not aged and 15 % not damaged (src/main/ml/train/damageData.ts): phase 1
#    marked 3 % of a clean photo's pixels (highlights, fine texture) as damage.
train --name restora-scratch-detect --run runs/restora-scratch-detect-phase2 --task detect --init runs/restora-scratch-detect/checkpoint \
  --steps 3000 --lr 0.0005 --prior-steps 2500 --out resources/models/restora-scratch-detect \
  --notes "unet {channels 16, midBlocks 2, head mask}. Phase 1: 2,500 steps from random weights, batch 8, 64 px patches from damaged 128 px regions, weighted BCE (damage x10) + Dice, Adam lr 1e-3 cosine. Phase 2: 3,000 steps from phase 1, lr 5e-4 cosine, 30 % of regions not aged and 15 % not damaged. Threshold picked on the held-out photos by scripts/measure-damage.ts. scripts/train-damage.sh reproduces it."
# 3. (issue 23) The detector again, 2,000 steps at lr 5e-4: crack networks and foxing in the defects,
#    real thin structures drawn before aging in 60 % of regions (hard negatives); the inpainter
#    again, 2,000 steps at lr 5e-4, with the same defects (crack halos masked and filled).
train --name restora-scratch-detect --run runs/detect-phase3 --task detect --init resources/models/restora-scratch-detect \
  --steps 2000 --lr 0.0005 --prior-steps 5500 --out runs/out/restora-scratch-detect &
train --name restora-inpaint --run runs/inpaint-phase2 --task inpaint --init resources/models/restora-inpaint \
  --steps 2000 --lr 0.0005 --prior-steps 2500 --out resources/models/restora-inpaint
wait
# 4. The detector, 2,000 steps at lr 3e-4 from phase 3, regions also aged at 1/4 and 1/8 of the photo.
train --name restora-scratch-detect --run runs/detect-phase4 --task detect --init runs/out/restora-scratch-detect \
  --steps 2000 --lr 0.0003 --prior-steps 7500 --out resources/models/restora-scratch-detect
# Its repair rule (for precision) and the studio's review rule, on real photos without damage.
npx tsx scripts/tune-detector.ts --detector resources/models/restora-scratch-detect --real test/fixtures/real-photos \
  --real data/photos/val --eval ../shared/data/real-photos --write
npx tsx scripts/measure-damage.ts --seed 1
