// NodeClock's wall time is hrtime anchored once to a Date.now() tick edge; an anchor that is off biases every T1
// and T4 the process takes. Checked where it goes wrong, in fresh processes on a busy machine, against the kernel's
// own realtime clock as read by python3 (its clock_gettime has nanoseconds, which nothing in Node has).

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** CLOCK_REALTIME − CLOCK_MONOTONIC in ns, from the tightest of many back-to-back readings. */
const REALTIME_MINUS_MONOTONIC = `
import time
best = None
for i in range(100000):
    a = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    r = time.clock_gettime_ns(time.CLOCK_REALTIME)
    b = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    if best is None or b - a < best[0]:
        best = (b - a, r - (a + b) // 2)
print(best[1])
`;

/** In a fresh process: a NodeClock's wall time minus hrtime (which is CLOCK_MONOTONIC), ns, tightest of many. */
const CHILD = `
const { NodeClock } = require('./clock.js');
const clock = new NodeClock();
let best = null;
for (let i = 0; i < 200; i++) {
  const a = process.hrtime.bigint();
  const w = clock.wallNtp();
  const b = process.hrtime.bigint();
  const wallNs = BigInt(w.s - 2208988800) * 1000000000n + (BigInt(w.f) * 1000000000n >> 32n);
  if (best === null || b - a < best[0]) best = [b - a, wallNs - (a + b) / 2n];
}
process.stdout.write(String(best[1]));
`;

function runChild(dir: string): Promise<bigint> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(dir, 'child.js')], { cwd: dir }, (error, stdout) => (error ? reject(error) : resolve(BigInt(String(stdout)))));
  });
}

describe('NodeClock anchor', () => {
  // Ten at a time on a 2-core machine: each anchors while others compete for the CPU, which is when a bracket gets
  // preempted. The old acceptance (50 µs, 5 tries) failed this in one run of four (an anchor 236 µs off).
  it('puts wall time within 5 µs of the system clock in fresh processes started together', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kisstime-anchor-'));
    try {
      buildSync({ entryPoints: [join(__dirname, '..', '..', 'src', 'node', 'clock.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: join(dir, 'clock.js'), logLevel: 'silent' });
      writeFileSync(join(dir, 'child.js'), CHILD);
      const truthNs = BigInt(execFileSync('python3', ['-c', REALTIME_MINUS_MONOTONIC]).toString().trim());
      const errorsUs: number[] = [];
      for (let batch = 0; batch < 3; batch++) {
        const results = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(() => runChild(dir)));
        for (const childNs of results) errorsUs.push(Number(childNs - truthNs) / 1000);
      }
      expect(Math.max.apply(null, errorsUs.map(Math.abs)), JSON.stringify(errorsUs.map((e) => Math.round(e * 10) / 10))).toBeLessThanOrEqual(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);
});
