# Sourced by the training scripts (and npm run train:bundled): restora train into a folder
# on the photos of scripts/fetch-training-photos.sh (data/photos/train and val), with the
# card's account of them. Run from the repository root.
BUNDLED_SOURCE="Debian packages (scripts/fetch-training-photos.sh)"
BUNDLED_LICENSE="Training photos keep their own licences (see the copyright files of the Debian packages lomiri-wallpapers-16.04, plasma-workspace-wallpapers, mate-backgrounds, palapeli-data, python3-skimage)"
restora_train() {
  npx tsx src/cli/index.ts train --data data/photos --backend wasm --data-source "$BUNDLED_SOURCE" --license "$BUNDLED_LICENSE" "$@"
}
