#!/usr/bin/env node
/**
 * `restora` command line: a thin adapter over the app's services.
 * Exit codes: 0 all items succeeded, 1 some failed, 2 usage error.
 */
import { RestoraError, errorMessage } from '../shared/errors.js';
import { UsageError } from './common.js';
import { USAGE } from './usage.js';
import { cmdUpscale } from './commands/upscale.js';
import { cmdRestore } from './commands/restore.js';
import { cmdBatch } from './commands/batch.js';
import { cmdTrain } from './commands/train.js';
import { cmdServe } from './commands/serve.js';
import { cmdJobs } from './commands/jobs.js';
import { cmdModels } from './commands/models.js';
import { cmdEval } from './commands/eval.js';
import { cmdFaces } from './commands/faces.js';
import { cmdInfo } from './commands/info.js';

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'upscale':
        return await cmdUpscale(rest);
      case 'models':
        return await cmdModels(rest);
      case 'restore':
        return await cmdRestore(rest);
      case 'batch':
        return await cmdBatch(rest);
      case 'jobs':
        return await cmdJobs(rest);
      case 'train':
        return await cmdTrain(rest);
      case 'serve':
        return await cmdServe(rest);
      case 'eval':
        return await cmdEval(rest);
      case 'info':
        return await cmdInfo(rest);
      case 'faces':
        return await cmdFaces(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err instanceof RestoraError && err.code === 'USAGE')) {
      process.stderr.write(`restora: ${errorMessage(err, 'cli')}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`restora: ${errorMessage(err, 'cli')}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
