// The bounded client table: it behaves exactly like an LRU cache of its capacity, whatever the sequence of
// addresses, so memory is fixed and the client heard from longest ago is the one forgotten.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { clientKeysByRecency, createClientTable, findClient, touchClient } from '../../src/core';

describe('client table', () => {
  test('matches a reference LRU model over random address sequences (collisions, evictions, re-inserts)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 600 }), (capacity, ops) => {
      const table = createClientTable(capacity);
      const model: string[] = [];
      const result = { index: 0, isNew: false };
      for (const op of ops) {
        const key = '10.0.' + (op >> 4) + '.' + (op & 15);
        const at = model.indexOf(key);
        touchClient(table, key, result);
        expect(result.isNew).toBe(at < 0);
        expect(table.keys[result.index]).toBe(key);
        if (at >= 0) model.splice(at, 1);
        model.unshift(key);
        if (model.length > capacity) model.pop();
        expect(table.size).toBe(model.length);
      }
      expect(clientKeysByRecency(table)).toEqual(model);
      for (let k = 0; k <= 120; k++) {
        const key = '10.0.' + (k >> 4) + '.' + (k & 15);
        expect(findClient(table, key) >= 0).toBe(model.includes(key));
      }
    }), { numRuns: 300 });
  });

  test('100k distinct sources leave the table at its cap with the newest ones in it', () => {
    const table = createClientTable(1000);
    const result = { index: 0, isNew: false };
    for (let i = 0; i < 100000; i++) touchClient(table, '127.' + ((i >> 16) & 255) + '.' + ((i >> 8) & 255) + '.' + (i & 255), result);
    expect(table.size).toBe(1000);
    expect(table.evictions).toBe(99000);
    expect(findClient(table, '127.1.134.159')).toBeGreaterThanOrEqual(0);
    expect(findClient(table, '127.0.0.0')).toBe(-1);
  });
});
