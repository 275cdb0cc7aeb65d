// RATE on the real interpreter: each RATE kiss at least doubles the interval, and the board waits that long.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeScript } from '../support/espruino';
import { makeKiss, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { flashedBoard, gapsS, JITTER, lanConfig, MIN_INTERVAL_S, prepare, removeBoards, STARTUP_MAX_S } from './boards';

const MAX_INTERVAL_S = 4 * MIN_INTERVAL_S;

describe('RATE on the real interpreter', () => {
  let address: string;
  let server: Kisser;

  beforeAll(async () => {
    await prepare();
    address = allocateLoopback('espruino-rate');
    server = await startKisser(address, 0, (request) => (request.packet ? { bytes: makeKiss(request, 'RATE') } : null));
  });
  afterAll(async () => {
    await removeBoards();
    await server?.close();
    if (address) releaseLoopback(address);
  });

  it('each RATE at least doubles the interval, and the next request waits for it', async () => {
    // Without kisses this board would poll every 16 s (its minimum and maximum); the maximum leaves room to double.
    const board = await flashedBoard('rate', lanConfig(address, server.port, { maxInterval: MAX_INTERVAL_S }));
    const run = board.boot({ script: observeScript() });
    const deadlineS = STARTUP_MAX_S + 2 * MIN_INTERVAL_S * (1 + JITTER) + 5;
    const kisses = await run.waitForEvents('kiss', 2, deadlineS * 1000);
    await run.kill();
    const intervals = kisses.map((k) => k.info.interval as number);
    console.log(`RATE: intervals after each kiss ${intervals.join(' s, ')} s; requests ${gapsS(server.requests.map((r) => r.receivedAtMono)).map((g) => g.toFixed(1)).join(' s, ')} s apart`);
    expect(kisses.map((k) => k.info.code)).toEqual(['RATE', 'RATE']);
    expect(intervals[0]).toBeGreaterThanOrEqual(2 * MIN_INTERVAL_S);
    expect(intervals[1]).toBeGreaterThanOrEqual(Math.min(2 * intervals[0], MAX_INTERVAL_S));
    expect(server.count()).toBe(2);
    const [gap] = gapsS(server.requests.map((r) => r.receivedAtMono));
    expect(gap).toBeGreaterThanOrEqual(intervals[0] - 0.05);
    expect(run.events('sync')).toEqual([]);
    expect(run.uncaught()).toEqual([]);
  }, 90000);
});
