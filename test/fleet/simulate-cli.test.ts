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

  test('the crystals, the loss and the accuracy target are set by flags, and the result says what they were', async () => {
    const c = io();
    const code = await run(['--devices', '100', '--days', '0.5', '--drift-ppm', '20', '--wander-ppm', '0.1', '--loss', '5%', '--accuracy', '10ms', '--json'], c.io);
    expect(code).toBe(0);
    const result = JSON.parse(c.out.join(''));
    expect(result.clocks).toMatchObject({ driftPpm: 20, wanderPpm: 0.1 });
    expect(result.lossShare).toBe(0.05);
    expect(result.accuracy.targetS).toBe(0.01);
    const plain = io();
    expect(await run(['--devices', '50', '--days', '0.2', '--loss', '0.02', '--accuracy', '0.5'], plain.io)).toBe(0);
    expect(plain.out.join('')).toMatch(/crystals ±50 ppm static.*2 % of exchanges lost/);
    expect(plain.out.join('')).toMatch(/within 500 ms: /);
  });

  test('--help prints the flags on stdout', async () => {
    const c = io();
    expect(await run(['--help'], c.io)).toBe(0);
    for (const flag of ['--drift-ppm', '--wander-ppm', '--loss', '--accuracy']) expect(c.out.join('')).toContain(flag);
  });

  test('an unknown scenario or policy, or a bad number, is refused with the flag named', async () => {
    for (const args of [
      ['--scenario', 'meteor'], ['--policy', 'ntpd'], ['--devices', '-5'], ['--days', 'x'], ['--frobnicate'], ['--drift-ppm', 'lots'],
      ['--wander-ppm', '-1'], ['--loss', '1'], ['--loss', '150%'], ['--accuracy', '0'], ['--accuracy', 'soon'], ['--devices'], ['--json=yes'],
    ]) {
      const c = io();
      expect(await run(args, c.io)).toBe(2);
      expect(c.err.join('')).toContain(args[0].split('=')[0]);
    }
  });
});
