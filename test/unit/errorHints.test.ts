/**
 * Domain errors carry a code and a hint that each host phrases for itself (issue 27, item 4):
 * the message names no CLI flag and no studio control; the CLI adds its flag, the studio its
 * control.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RestoraError, errorMessage } from '../../src/shared/errors.js';
import { ModelLibrary } from '../../src/main/ml/store/modelLibrary.js';
import { importModel } from '../../src/main/ml/import/importModel.js';
import type { ComputeHost } from '../../src/main/ml/worker/computeHost.js';
import { ROOT, tmpDir } from '../helpers.js';

describe('error hints', () => {
  it('each host shows the hint in its own terms; the message alone names neither', () => {
    const err = new RestoraError('USAGE', 'A model with id "x" is already installed.', undefined, { hint: { cli: 'Pick another name with --name.', studio: 'Pick another name in the Name field.' } });
    expect(errorMessage(err)).toBe('A model with id "x" is already installed.');
    expect(errorMessage(err, 'cli')).toBe('A model with id "x" is already installed. Pick another name with --name.');
    expect(errorMessage(err, 'studio')).toBe('A model with id "x" is already installed. Pick another name in the Name field.');
    expect(errorMessage(new RestoraError('USAGE', 'no hint'), 'cli')).toBe('no hint');
  });

  it('a studio import of a name already taken says what to do in the studio, not with a flag', async () => {
    const userDir = tmpDir('restora-hints-');
    const models = new ModelLibrary(path.join(ROOT, 'resources', 'models'), userDir);
    const compute = {} as ComputeHost; // refused before any conversion
    let err: unknown;
    try {
      await importModel({ models, compute, userDir }, { path: path.join(ROOT, 'test', 'fixtures', 'import', 'srvgg-x4.pth'), name: 'restora-x2' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RestoraError);
    expect(errorMessage(err, 'studio')).toMatch(/already installed\. Pick another name in the Name field\./);
    expect(errorMessage(err, 'studio')).not.toMatch(/--name/);
    expect(errorMessage(err, 'cli')).toMatch(/--name/);
  });
});
