// The simulator's own machinery: the event heap orders events, and batching devices changes nothing.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DeviceHeap } from '../../src/fleet/event-heap';
import { runFleet } from '../../src/fleet/run-fleet';
import { splitFleet } from '../../src/fleet/simulate';

describe('the device heap', () => {
  test('always yields the device with the earliest key, whatever the updates', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.tuple(fc.nat(), fc.oneof(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.constant(Infinity))), { maxLength: 200 }),
      (size, updates) => {
        const heap = new DeviceHeap(size);
        const keys = new Array(size).fill(Infinity);
        for (const [device, key] of updates) {
          heap.set(device % size, key);
          keys[device % size] = key;
          const min = Math.min(...keys);
          expect(heap.topKey()).toBe(min);
          expect(keys[heap.top()]).toBe(min);
        }
      },
    ));
  });
});

describe('batching and worker ranges', () => {
  test('simulating the fleet in batches of 7 or 100 gives the same result: devices are independent', () => {
    for (const scenario of ['blackout', 'rate-limit', 'deny'] as const) {
      const options = { devices: 300, days: 0.5, scenario: scenario, seed: 3, scenarioOptions: { devicesPerAddress: 50 } };
      const a = runFleet({ ...options, batchSize: 7 });
      const b = runFleet({ ...options, batchSize: 100 });
      expect(a.requests).toBeGreaterThan(0);
      expect(a.requests).toBe(b.requests);
      expect(a.serverLoad).toEqual(b.serverLoad);
      expect(a.kissesSent).toEqual(b.kissesSent);
      expect(a.timeToFirstSyncS).toEqual(b.timeToFirstSyncS);
    }
  });

  test('worker ranges cover every device once and never split a NAT address', () => {
    for (const [devices, parts, group] of [[1000, 2, 1], [1001, 3, 1], [10000, 2, 1000], [2500, 4, 1000], [5, 8, 1]]) {
      const ranges = splitFleet(devices, parts, group);
      let next = 0;
      for (const r of ranges) {
        expect(r.base).toBe(next);
        expect(r.base % group).toBe(0);
        next = r.base + r.count;
      }
      expect(next).toBe(devices);
    }
  });
});
