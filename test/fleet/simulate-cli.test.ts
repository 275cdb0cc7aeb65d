// kisstime simulate: flags in, one JSON object (or a readable summary) out, bad flags refused by name.

import { describe, expect, test } from 'vitest';
import { run } from '../../src/node/cli/simulate';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => { out.push(t); }, err: (t: string) => { err.push(t); } }, out, err };
}

describe('kisstime simulate', () => {
  test('--json prints one object with the fleet metrics', async () => {
    const c = io();
    const code = await run(['--devices', '200', '--days', '0.5', '--scenario', 'deny', '--policy', 'kisstime', '--json'], c.io);
    expect(code).toBe(0);
    const result = JSON.parse(c.out.join(''));
    expect(result.devices).toBe(200);
    expect(result.scenario).toBe('deny');
    expect(result.serverLoad.whole.peakPerS).toBeGreaterThan(0);
    expect(result.deny.requestsAfterDeny).toBe(0);
    expect(result.timeToFirstSyncS.count).toBeGreaterThan(150);
    expect(result.accuracySeries.withinShare.length).toBeGreaterThan(0);
  });

  test('without --json it prints a summary naming the policy model', async () => {
    const c = io();
    expect(await run(['--devices', '50', '--days', '0.2', '--scenario', 'blackout', '--policy', 'daily'], c.io)).toBe(0);
    expect(c.out.join('')).toMatch(/daily \/ blackout: 50 devices/);
    expect(c.out.join('')).toMatch(/model; source: shared\/REFERENCE\.md/);
  });

  test('an unknown scenario or policy, or a bad number, is refused with the flag named', async () => {
    for (const args of [['--scenario', 'meteor'], ['--policy', 'ntpd'], ['--devices', '-5'], ['--days', 'x'], ['--frobnicate']]) {
      const c = io();
      expect(await run(args, c.io)).toBe(2);
      expect(c.err.join('')).toContain(args[0]);
    }
  });
});
