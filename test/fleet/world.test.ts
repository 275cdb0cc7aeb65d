// The simulated world is as rough as real crystals and networks: static error, a daily temperature swing, wander,
// uneven paths, queueing spikes and loss. These check that each is there and of the size asked for.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DeviceClocks } from '../../src/fleet/device-clocks';
import { DEFAULT_NETWORK, FleetNetwork, REPLY_NONE } from '../../src/fleet/network';
import { makeScenario } from '../../src/fleet/scenarios';

const DAY_MS = 86400e3;

function clocks(count: number, driftPpm: number, diurnalPpm: number, wanderPpm: number, startErrorS = 0): DeviceClocks {
  return new DeviceClocks(0, count, 5, { driftPpm: driftPpm, diurnalPpm: diurnalPpm, wanderPpm: wanderPpm, startErrorS: startErrorS });
}

/** Frequency error (ppm) over [fromMs, toMs], from the clock's own error. */
function ppmOver(c: DeviceClocks, device: number, fromMs: number, toMs: number): number {
  return (c.errorS(device, toMs) - c.errorS(device, fromMs)) / ((toMs - fromMs) / 1000) * 1e6;
}

describe('device crystals', () => {
  test('the static error is uniform within ±driftPpm and spans it', () => {
    const c = clocks(2000, 50, 0, 0);
    const ppm = Array.from({ length: 2000 }, (_, i) => ppmOver(c, i, 0, DAY_MS));
    expect(Math.max(...ppm.map(Math.abs))).toBeLessThanOrEqual(50 + 1e-9);
    expect(Math.min(...ppm)).toBeLessThan(-45);
    expect(Math.max(...ppm)).toBeGreaterThan(45);
  });

  test('the temperature term swings the frequency by up to 2 ppm over the day, warmest in the afternoon, and adds no drift over whole days', () => {
    const c = clocks(500, 0, 2, 0);
    let largest = 0;
    for (let i = 0; i < 500; i++) {
      // Over a whole day the swing integrates to nothing.
      expect(Math.abs(c.errorS(i, 3 * DAY_MS) - c.errorS(i, 2 * DAY_MS))).toBeLessThan(1e-9);
      // Hour by hour, the fastest hour is in the afternoon (12:00-18:00), the slowest at night.
      let fastest = 0;
      let fastestPpm = -Infinity;
      for (let h = 0; h < 24; h++) {
        const ppm = ppmOver(c, i, h * 3600e3, (h + 1) * 3600e3);
        if (ppm > fastestPpm) {
          fastestPpm = ppm;
          fastest = h;
        }
      }
      largest = Math.max(largest, fastestPpm);
      expect(fastestPpm).toBeLessThanOrEqual(2);
      if (fastestPpm > 0.2) expect(fastest).toBeGreaterThanOrEqual(11);
      if (fastestPpm > 0.2) expect(fastest).toBeLessThanOrEqual(18);
    }
    expect(largest).toBeGreaterThan(1.8);
  });

  test('the wander is a random walk: its frequency change over a day spreads as wanderPpm, and more over four days', () => {
    const c = clocks(3000, 0, 0, 1);
    const change = (days: number) => Array.from({ length: 3000 }, (_, i) => ppmOver(c, i, (days - 1) * DAY_MS + 23 * 3600e3, days * DAY_MS) - ppmOver(c, i, 0, 3600e3));
    const sd = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
    // After 1 day: spread about 1 ppm; after 4 days about 2 ppm (√4).
    expect(sd(change(1))).toBeGreaterThan(0.85);
    expect(sd(change(1))).toBeLessThan(1.15);
    expect(sd(change(4))).toBeGreaterThan(1.7);
    expect(sd(change(4))).toBeLessThan(2.3);
  });

  test('a clock reads the same at a time whatever it was asked before: reading back in time undoes the walk exactly', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 10 * DAY_MS, noNaN: true }), { minLength: 1, maxLength: 40 }), (times) => {
      const walked = clocks(3, 50, 2, 3, 1);
      for (const t of times) {
        const fresh = clocks(3, 50, 2, 3, 1);
        expect(walked.errorS(2, t)).toBeCloseTo(fresh.errorS(2, t), 9);
      }
    }));
  });
});

describe('the network', () => {
  const scenario = makeScenario('steady', 1, 1, {});

  test('loses the share of exchanges asked for', () => {
    for (const loss of [0, 0.01, 0.2]) {
      const net = new FleetNetwork(0, 200, scenario, { ...DEFAULT_NETWORK, loss: loss }, 3);
      let lost = 0;
      let sent = 0;
      for (let i = 0; i < 200; i++) {
        for (let n = 0; n < 200; n++) {
          sent++;
          if (net.request(i, 0, 1000 + n * 60e3) === REPLY_NONE) lost++;
        }
      }
      expect(lost / sent).toBeGreaterThanOrEqual(loss * 0.8);
      expect(lost / sent).toBeLessThanOrEqual(loss * 1.2 + 0.001);
    }
  });

  test('each device has its own path, uneven between the directions, with queueing spikes on top', () => {
    const net = new FleetNetwork(0, 500, scenario, { ...DEFAULT_NETWORK, loss: 0 }, 4);
    const asymmetry: number[] = [];
    let spikes = 0;
    let packets = 0;
    for (let i = 0; i < 500; i++) {
      let outMin = Infinity;
      let backMin = Infinity;
      for (let n = 0; n < 40; n++) {
        net.request(i, 0, n * 60e3);
        outMin = Math.min(outMin, net.outMs);
        backMin = Math.min(backMin, net.backMs);
        packets += 2;
        if (net.outMs > outMin + 40) spikes++;
      }
      expect(outMin).toBeGreaterThanOrEqual(DEFAULT_NETWORK.minDelayMs * (1 - DEFAULT_NETWORK.asymmetry));
      expect(backMin).toBeLessThan(DEFAULT_NETWORK.maxDelayMs * (1 + DEFAULT_NETWORK.asymmetry) + 10);
      asymmetry.push((outMin - backMin) / (outMin + backMin));
    }
    // Paths lean both ways, up to about the asymmetry asked for.
    expect(Math.min(...asymmetry)).toBeLessThan(-0.1);
    expect(Math.max(...asymmetry)).toBeGreaterThan(0.1);
    expect(Math.max(...asymmetry.map(Math.abs))).toBeLessThan(DEFAULT_NETWORK.asymmetry + 0.1);
    expect(spikes).toBeGreaterThan(0);
    expect(spikes / packets).toBeLessThan(DEFAULT_NETWORK.spikeChance * 2);
  });

  test('a bad network option is refused with the field named', () => {
    expect(() => new FleetNetwork(0, 1, scenario, { ...DEFAULT_NETWORK, loss: 1 }, 1)).toThrow(/network\.loss/);
    expect(() => new FleetNetwork(0, 1, scenario, { ...DEFAULT_NETWORK, asymmetry: -0.1 }, 1)).toThrow(/network\.asymmetry/);
  });
});
