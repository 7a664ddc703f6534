import { it } from 'vitest';
import fs from 'node:fs';
import { diagnose, loadPatterns } from './diagnose.js';
it('scratch', () => {
  const ps = loadPatterns();
  for (const f of fs.readdirSync('test/fixtures/logs').filter((f) => f.endsWith('.txt')).sort()) {
    const tail = fs.readFileSync('test/fixtures/logs/' + f, 'utf8').split('\n');
    if (tail.at(-1) === '') tail.pop();
    console.log('##', f, JSON.stringify(diagnose({ tail, exit: 1 }, ps).map((d) => [d.pattern, d.line.slice(0, 120)]), null, 1));
  }
});
