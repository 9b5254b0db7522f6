/** restora jobs. */
import { parse, appFrom } from '../common.js';
import { USAGE } from '../usage.js';

export async function cmdJobs(args: string[]): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) return (console.log(USAGE), 0);
  const app = appFrom(values);
  try {
    const list = app.jobs().list();
    if (values.json) console.log(JSON.stringify(list, null, 2));
    else if (list.length === 0) console.log('no jobs');
    else
      for (const j of list) {
        console.log(`job ${j.id}  ${j.state.padEnd(9)} ${j.done}/${j.total} done, ${j.failed} failed  -> ${j.spec.outDir}  (${j.createdAt})`);
        for (const f of j.failures) console.log(`    ${f.input}: [${f.code}] ${f.message}`);
      }
    return 0;
  } finally {
    await app.close();
  }
}
