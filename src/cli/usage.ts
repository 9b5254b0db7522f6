/** The CLI's help text. */
export const USAGE = `restora: restore and upscale photos with neural networks

Usage:
  restora upscale <files|dirs>... --out DIR [--model ID | --task restore|upscale|cleanup] [--scale N]
                  [--format png|jpg|webp|tiff|avif] [--quality Q] [--tile N] [--colours keep|model]
                  [--highlights keep|model] [--levels auto|off] [--recursive]
                  (--task: the model the studio's task button runs, your default from Models or
                  the bundled one: restore x2 (as restora restore: repair first), upscale x2|x4,
                  cleanup x2|x4; --scale picks the size, x2 without it.
                  --colours keep: the photo's own colours, no new colour cast; the default
                  for restoration models. model: the model's colours as they come.
                  --highlights keep: whites the model brightens roll off instead of clipping;
                  the default for restoration models. --levels auto: black/white points and
                  white balance for faded prints, after the model; off by default.
                  --recursive (-r): folders' subfolders too, mirrored under --out; without it
                  the photos left in subfolders are counted and said)
  restora restore <files|dirs>... --out DIR [--scratches auto|off|MASK] [--model ID|none] [--save-mask]
                  [--format F] [--quality Q] [--tile N] [--colours keep|model]
                  [--highlights keep|model] [--levels auto|off] [--recursive]
                  (old prints: finds scratches, creases, dust and torn corners and fills them
                  in, then restores with your Restore default (Models), restora-oldphoto-x2, or
                  --model; MASK: a mask image of the photo's size, white where damaged, or a
                  folder of masks named like the photos; --model none: repair only, at the
                  photo's size)
                  [--faces MODEL|off] [--face-strength S] [--face-fidelity W]
                  (faces: an imported face model (GFPGAN, CodeFormer, RestoreFormer++) restores each face
                  after the model, on by default when one is installed; S 0..1 blends it
                  over the photo's face, default 0.5; W: CodeFormer's fidelity, default 0.7)
  restora batch <files|dirs>... --out DIR [--model ID] [--scale N] [--format F]
                [--quality Q] [--name TEMPLATE] [--recursive] [--width W] [--height H] [--colours keep|model]
                [--faces MODEL [--face-strength S] [--face-fidelity W]]
                (--width/--height resize after the model, keeping the aspect ratio;
                the same command again resumes an interrupted batch)
  restora jobs [--json]
  restora train --data DIR... --scale N --preset bicubic|jpeg|old-photo|realistic|noise-jpeg
                --name NAME [--arch A] [--opt key=value]... [--steps N] [--batch B]
                [--patch P] [--loss l1|mse|charbonnier] [--lr X] [--optimizer adam|adamw|sgd]
                [--momentum M] [--nesterov] [--kl-weight W] [--kl-warmup STEPS]
                [--weight-decay X] [--schedule cosine|step] [--ema DECAY] [--gan]
                [--eval-dir DIR] [--init MODEL]
                (--init: fine-tune an installed model, e.g. an imported Real-ESRGAN; its
                architecture and scale are taken, the card records the lineage)
  restora train --teacher MODEL --data DIR... --scale N --name NAME [--preset P|none]
                [--teacher-regions N] [--teacher-downscale] [--yes] [other train options]
                (knowledge distillation: the targets are MODEL's outputs on your photos,
                no clean originals needed; without --preset (or with none) the photos
                themselves are the inputs, with one they are degraded first. MODEL runs
                once on each of N seeded 64px regions (default 1024), cached in the run's
                folder; the cost is measured and shown first, and over an hour needs --yes.
                --teacher-downscale: an x4 teacher for an x2 run, its output reduced to x2)
  restora train --resume RUN    (continues a paused, cancelled or interrupted run, by name or number, with its own settings)
                (--eval-dir: also score every validation on DIR's HR images, e.g. Set5)
                (--gan: after the pixel-loss steps, steps/2 of SRGAN fine-tuning)
                (--arch vae: a variational autoencoder; loss = reconstruction + W x KL per
                latent element, W rising from 0 over the warm-up; default W 1e-5)
  restora train --recipe vae-latent --data DIR... --name NAME [--steps N] [...]
                (three resumable stages: a VAE on clean photos, one on old-photo degraded
                ones, then the mapping between their latents; x2)
  restora train --out DIR --data DIR --name ID [--task restore|detect|inpaint] [--run RUNDIR]
                [--init DIR] [--until STEP] [--context PX] [--jitter] [--prior-steps N]
                [--notes TEXT] [--data-source TEXT] [--license TEXT] [train options]
                (one model from DATA/train and DATA/val into DIR with its card, as the
                bundled models are made; --task detect|inpaint: the damage nets, a unet
                at scale 1 with its mask or inpaint head on damaged photos with masks;
                run again, it resumes from RUNDIR's checkpoint; --init: a model or checkpoint folder)
  restora serve [--port N]      (the UI and API on 127.0.0.1, token-guarded)
  restora models [--json]
  restora models import PATH [--name NAME] [--license TEXT] [--json]
                                (PATH: a PyTorch .pth/.pt or .safetensors state dict, an ncnn
                                .param/.bin pair, or a Restora model folder; RRDBNet (ESRGAN,
                                Real-ESRGAN x4plus/x2plus) and SRVGGNetCompact are recognised)
  restora eval --model ID --hr DIR --lr DIR --scale N [--json]
  restora eval --model ID --hr DIR --degrade PRESET [--seed N] --scale N [--json]
                                (HR degraded with a preset, seeded; baseline bicubic of the degraded input)
  restora info [--json]
  restora faces <files>... [--json] [--min-score S]
                                (each photo's faces: box, score, and five points (eye centres,
                                nose tip, mouth corners), found by @vladmandic/face-api's SSD
                                MobileNet and 68-point landmarks; default score 0.5)

Global options: --backend webgpu|gpu|node|wasm|cpu, --threads N, --help
  (webgpu: any GPU through a headless Chromium's WebGPU; see README, Backends)`;
