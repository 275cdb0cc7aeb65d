// Politeness over real minutes on the real interpreter: RATE kisses, a silent server, and a reboot loop (20
// power-ons of 2.5 s each on the same flash, far shorter than the 16 s minimum interval: every boot keeps the
// startup delay, and no reboot resets the minimum interval, the backoff or a hold). Each case takes up to a minute
// of real time against a server of its own, so they all run at once.

import { afterAll, beforeAll, describe, it } from 'vitest';
import { observeScript, type BoardRun, type EspruinoBoard } from '../support/espruino';
import { answerWithTime, makeKiss, silent, startKisser, type Kisser, type KisserHandler, type KisserRequest } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { flashedBoard, gapsS, JITTER, lanConfig, MIN_INTERVAL_S, prepare, removeBoards, STARTUP_MAX_S, STARTUP_MIN_S } from './boards';

const MAX_INTERVAL_S = 4 * MIN_INTERVAL_S;
const TIMEOUT_S = 1;
const BOOTS = 20;
const UP_MS = 2500;

/** Powers the board on BOOTS times, each time cutting the power after UP_MS (or when it ended by itself). */
async function rebootLoop(board: EspruinoBoard): Promise<BoardRun[]> {
  const runs: BoardRun[] = [];
  for (let i = 0; i < BOOTS; i++) {
    const run = board.boot({ script: observeScript() });
    await Promise.race([run.exited, new Promise((resolve) => setTimeout(resolve, UP_MS))]);
    await run.kill();
    runs.push(run);
  }
  return runs;
}

/** For each request, seconds since the power-on of the boot it came from. */
function sinceBootS(requests: KisserRequest[], runs: BoardRun[]): number[] {
  return requests.map((r) => {
    const run = runs.filter((b) => b.startedAtMs <= r.receivedAtMono).pop();
    if (!run) throw new Error('a request before the first boot');
    return (r.receivedAtMono - run.startedAtMs) / 1000;
  });
}

describe.concurrent('politeness over real time on the real interpreter', () => {
  const kissers: Kisser[] = [];
  const addresses: string[] = [];

  beforeAll(prepare, 120000);
  afterAll(async () => {
    await removeBoards();
    await Promise.all(kissers.map((k) => k.close()));
    addresses.forEach(releaseLoopback);
  });

  /** A scripted server on a loopback address of its own. */
  async function kisser(label: string, handler: KisserHandler): Promise<Kisser> {
    const address = allocateLoopback(`espruino-${label}`);
    addresses.push(address);
    const server = await startKisser(address, 0, handler);
    kissers.push(server);
    return server;
  }

  it('RATE: each kiss at least doubles the interval, and the next request waits for it', async ({ expect }) => {
    const server = await kisser('rate', (request) => (request.packet ? { bytes: makeKiss(request, 'RATE') } : null));
    // Without kisses this board would poll every 16 s (its minimum and maximum); the maximum leaves room to double.
    const board = await flashedBoard('rate', lanConfig(server.address, server.port, { maxInterval: MAX_INTERVAL_S }));
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

  it('a silent server is backed off exponentially: the wait doubles after every unanswered request', async ({ expect }) => {
    const server = await kisser('silent', silent);
    const board = await flashedBoard('backoff', lanConfig(server.address, server.port, { maxInterval: MAX_INTERVAL_S, timeout: TIMEOUT_S }));
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

  async function loopAgainst(name: string, handler: KisserHandler, config: Record<string, unknown> = {}): Promise<{ server: Kisser; runs: BoardRun[] }> {
    const server = await kisser(`reboot-${name}`, handler);
    const board = await flashedBoard(`reboot-${name}`, lanConfig(server.address, server.port, config));
    const runs = await rebootLoop(board);
    console.log(`reboot loop (${BOOTS} boots of ${UP_MS / 1000} s), ${name} server: ${server.count()} request(s) at `
      + `${sinceBootS(server.requests, runs).map((s) => s.toFixed(1) + ' s').join(', ')} after their boot; `
      + `${gapsS(server.requests.map((r) => r.receivedAtMono)).map((g) => g.toFixed(1) + ' s').join(', ')} apart`);
    return { server, runs };
  }

  it('reboot loop, an answering server: the startup delay on every boot, and never two requests within the minimum interval', async ({ expect }) => {
    const { server, runs } = await loopAgainst('answering', answerWithTime);
    expect(server.count()).toBeGreaterThanOrEqual(1);
    expect(server.count()).toBeLessThan(BOOTS);
    for (const s of sinceBootS(server.requests, runs)) expect(s).toBeGreaterThanOrEqual(STARTUP_MIN_S);
    for (const gap of gapsS(server.requests.map((r) => r.receivedAtMono))) expect(gap).toBeGreaterThanOrEqual(MIN_INTERVAL_S);
    expect(runs.flatMap((r) => r.uncaught())).toEqual([]);
  }, 90000);

  it('reboot loop, a silent server: the backoff goes on across reboots, it is never reset', async ({ expect }) => {
    const { server, runs } = await loopAgainst('silent', silent, { maxInterval: 4 * MIN_INTERVAL_S });
    expect(server.count()).toBeGreaterThanOrEqual(1);
    for (const s of sinceBootS(server.requests, runs)) expect(s).toBeGreaterThanOrEqual(STARTUP_MIN_S);
    // The n-th wait is at least 16 s * 2^(n-1), as without reboots.
    gapsS(server.requests.map((r) => r.receivedAtMono)).forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(MIN_INTERVAL_S * 2 ** i));
    expect(runs.flatMap((r) => r.uncaught())).toEqual([]);
  }, 90000);

  it('reboot loop, DENY: one request in 20 boots', async ({ expect }) => {
    const { server, runs } = await loopAgainst('deny', (request) => (request.packet ? { bytes: makeKiss(request, 'DENY') } : null));
    expect(server.count()).toBe(1);
    expect(runs[0].events('kiss').map((k) => k.info.code)).toEqual(['DENY']);
    // Every later boot knows at once: it reports the hold and ends by itself, long before its power is cut.
    for (const run of runs.slice(1)) {
      expect(run.events('error').map((e) => e.info.cause)).toContain('stopped');
      expect((await run.exited).signal).toBeNull();
    }
    expect(runs.flatMap((r) => r.uncaught())).toEqual([]);
  }, 90000);
});
