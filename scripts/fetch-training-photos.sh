#!/usr/bin/env bash
# Fetches the redistributable photos Restora's bundled models are trained on
# (Debian packages, CC-BY / CC-BY-SA / CC0 / GPL wallpapers and sample images)
# and prepares them under data/photos (git-ignored). Rerunnable; needs apt-get.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/data/debs"
mkdir -p "$cache/x"
cd "$cache"
pkgs=(lomiri-wallpapers-16.04 plasma-workspace-wallpapers mate-backgrounds palapeli-data python3-skimage)
for p in "${pkgs[@]}"; do
  ls ${p}_*.deb >/dev/null 2>&1 || apt-get download "$p"
done
for f in *.deb; do dpkg -x "$f" x; done
cd "$root"
npx tsx scripts/prepare-training-photos.ts "$cache/x" "$root/data/photos"
