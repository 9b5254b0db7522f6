/**
 * RRDBNet from a PyTorch state dict: ESRGAN's original sequential layout, its RRDB_trunk
 * layout and Real-ESRGAN / BasicSR's body.N.rdbK layout, renamed to Real-ESRGAN's names
 * (the layers of ./rrdbnet.ts); scale, width, depth and growth read off the shapes.
 */
import { RestoraError } from '../../../../shared/errors.js';
import { registerDetector, type DetectedModel } from '../registry.js';
import { countIndices, loadCanonical, take, torchShuffleOrder, type CanonicalLayers, type ChannelFixes, type TorchTensor } from '../torchWeights.js';

type StateDict = Map<string, TorchTensor>;

/** The three RRDBNet layouts, renamed to Real-ESRGAN's: conv_first, body.N.rdbK.convJ, conv_body, conv_upU, conv_hr, conv_last. */
function rrdbLayout(sd: StateDict, file: string): { layout: string; blocks: number; ups: string[]; names: Map<string, string> } | null {
  const keys = [...sd.keys()];
  const names = new Map<string, string>(); // source prefix -> canonical
  let blocks: number;
  let layout: string;
  const ups: string[] = [];
  if (sd.has('conv_first.weight') && keys.some((k) => k.startsWith('body.0.rdb1.'))) {
    layout = 'Real-ESRGAN / BasicSR RRDBNet';
    blocks = countIndices(keys, /^body\.(\d+)\.rdb1\.conv1\.weight$/);
    for (let b = 0; b < blocks; b++) for (let r = 1; r <= 3; r++) for (let c = 1; c <= 5; c++) names.set(`body.${b}.rdb${r}.conv${c}`, `body.${b}.rdb${r}.conv${c}`);
    names.set('conv_first', 'conv_first').set('conv_body', 'conv_body').set('conv_hr', 'conv_hr').set('conv_last', 'conv_last');
    for (let u = 1; sd.has(`conv_up${u}.weight`); u++) ups.push(`conv_up${u}`);
  } else if (sd.has('conv_first.weight') && keys.some((k) => k.startsWith('RRDB_trunk.0.'))) {
    layout = 'ESRGAN RRDBNet (RRDB_trunk layout)';
    blocks = countIndices(keys, /^RRDB_trunk\.(\d+)\.RDB1\.conv1\.weight$/);
    for (let b = 0; b < blocks; b++) for (let r = 1; r <= 3; r++) for (let c = 1; c <= 5; c++) names.set(`RRDB_trunk.${b}.RDB${r}.conv${c}`, `body.${b}.rdb${r}.conv${c}`);
    names.set('conv_first', 'conv_first').set('trunk_conv', 'conv_body').set('HRconv', 'conv_hr').set('conv_last', 'conv_last');
    for (let u = 1; sd.has(`upconv${u}.weight`); u++) ups.push(`upconv${u}`);
  } else if (sd.has('model.0.weight') && keys.some((k) => k.startsWith('model.1.sub.0.RDB1.'))) {
    layout = 'ESRGAN RRDBNet (original sequential layout)';
    blocks = countIndices(keys, /^model\.1\.sub\.(\d+)\.RDB1\.conv1\.0\.weight$/);
    for (let b = 0; b < blocks; b++) for (let r = 1; r <= 3; r++) for (let c = 1; c <= 5; c++) names.set(`model.1.sub.${b}.RDB${r}.conv${c}.0`, `body.${b}.rdb${r}.conv${c}`);
    names.set('model.0', 'conv_first').set(`model.1.sub.${blocks}`, 'conv_body');
    // After the trunk: one conv per x2 upsampling step (model.3, model.6, ...), then the HR conv and the output conv.
    const tail = [
      ...new Set(
        keys
          .map((k) => /^model\.(\d+)\.weight$/.exec(k)?.[1])
          .filter((i): i is string => i !== undefined)
          .map(Number),
      ),
    ]
      .filter((i) => i >= 2)
      .sort((a, b) => a - b);
    if (tail.length < 2) return null;
    const hr = tail[tail.length - 2]!;
    const last = tail[tail.length - 1]!;
    for (const i of tail.slice(0, -2)) ups.push(`model.${i}`);
    names.set(`model.${hr}`, 'conv_hr').set(`model.${last}`, 'conv_last');
  } else {
    return null;
  }
  if (blocks <= 0) throw new RestoraError('MODEL_INVALID', `${file}: an RRDBNet with missing or misnumbered blocks`, file);
  ups.forEach((p, i) => names.set(p, `conv_up${i + 1}`));
  return { layout, blocks, ups, names };
}

export function detectRrdb(sd: StateDict, file: string): DetectedModel | null {
  const found = rrdbLayout(sd, file);
  if (!found) return null;
  const canonical: CanonicalLayers = new Map();
  for (const [src, dst] of found.names) take(sd, src, dst, canonical, file);
  const first = canonical.get('conv_first')!.weight.shape;
  const lastOut = canonical.get('conv_last')!.weight.shape[0];
  const growth = canonical.get('body.0.rdb1.conv1')!.weight.shape[0]!;
  const inCh = first[1]!;
  const unshuffle = Math.round(Math.sqrt(inCh / 3));
  if (first.length !== 4 || unshuffle * unshuffle * 3 !== inCh || lastOut !== 3) {
    throw new RestoraError('UNSUPPORTED', `${file}: an RRDBNet with ${inCh} input and ${lastOut} output channels; Restora imports RGB models (3 channels, or 12 / 48 after pixel-unshuffle)`, file);
  }
  const scale = 2 ** found.ups.length / unshuffle;
  if (!Number.isInteger(scale) || scale < 1) throw new RestoraError('UNSUPPORTED', `${file}: an RRDBNet whose upsampling (${found.ups.length} steps) and pixel-unshuffle (${unshuffle}) give no whole scale`, file);
  return rrdbModel(canonical, scale, { features: first[0]!, blocks: found.blocks, growth, upsamples: found.ups.length }, found.layout, file);
}

/**
 * The detected model over canonical layers (from a state dict or an ncnn graph). Below x4 the
 * net pixel-unshuffles its input first: conv_first's input channels come in PyTorch's order.
 */
export function rrdbModel(canonical: CanonicalLayers, scale: number, archOptions: { features: number; blocks: number; growth: number; upsamples: number }, layout: string, file: string): DetectedModel {
  const r = 2 ** archOptions.upsamples / scale;
  const fixes: ChannelFixes = new Map(r > 1 ? [['conv_first', { axis: 1, perm: torchShuffleOrder(3, r) }]] : []);
  return { arch: 'rrdbnet', scale, archOptions, layout, loadInto: (model) => loadCanonical(model, canonical, fixes, file, layout) };
}

registerDetector('rrdbnet', detectRrdb);
