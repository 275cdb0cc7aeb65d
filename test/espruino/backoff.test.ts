// A silent server on the real interpreter: the board backs off exponentially, from the minimum interval up.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeScript } from '../support/espruino';
import { silent, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { flashedBoard, gapsS, JITTER, lanConfig, MIN_INTERVAL_S, prepare, removeBoards, STARTUP_MAX_S } from './boards';

const MAX_INTERVAL_S = 4 * MIN_INTERVAL_S;
const TIMEOUT_S = 1;

describe('a silent server on the real interpreter', () => {
  let address: string;
  let server: Kisser;

  beforeAll(async () => {
    await prepare();
    address = allocateLoopback('espruino-backoff');
    server = await startKisser(address, 0, silent);
  });
  afterAll(async () => {
    await removeBoards();
    await server?.close();
    if (address) releaseLoopback(address);
  });

  it('is backed off exponentially: the wait doubles after every unanswered request', async () => {
    const board = await flashedBoard('backoff', lanConfig(address, server.port, { maxInterval: MAX_INTERVAL_S, timeout: TIMEOUT_S }));
    const run = board.boot({ script: observeScript() });
    const deadlineS = STARTUP_MAX_S + 3 * TIMEOUT_S + 3 * MIN_INTERVAL_S * (1 + JITTER) + 5;
    await server.waitForRequests(3, deadlineS * 1000);
    const errors = await run.waitForEvents('error', 2, 5000);
    await run.kill();
    const gaps = gapsS(server.requests.slice(0, 3).map((r) => r.receivedAtMono));
    console.log(`silent server: requests ${gaps.map((g) => g.toFixed(1)).join(' s, ')} s apart; retryIn ${errors.map((e) => e.info.retryIn).join(', ')}`);
    // The n-th wait is at least 16 s * 2^(n-1), and each is about twice the one before.
    expect(gaps[0]).toBeGreaterThanOrEqual(MIN_INTERVAL_S);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * MIN_INTERVAL_S);
    expect(gaps[1] / gaps[0]).toBeGreaterThanOrEqual(1.7);
    expect(errors.map((e) => e.info.failures)).toEqual([1, 2]);
    expect(errors[1].info.retryIn as number).toBeGreaterThanOrEqual((2 * (errors[0].info.retryIn as number)) / (1 + JITTER));
    expect(run.events('sync')).toEqual([]);
    expect(run.uncaught()).toEqual([]);
  }, 120000);
});
