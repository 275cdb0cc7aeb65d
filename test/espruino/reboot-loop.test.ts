// A board in a reboot loop on the real interpreter: 20 power-ons of 2.5 s each on the same flash, far shorter than the
// 16 s minimum interval. Every boot keeps the startup delay, and no reboot resets the minimum interval, the backoff
// or a hold: the board must not send on each boot.

import { afterAll, beforeAll, describe, it } from 'vitest';
import { observeScript, type BoardRun, type EspruinoBoard } from '../support/espruino';
import { answerWithTime, makeKiss, silent, startKisser, type Kisser, type KisserHandler, type KisserRequest } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { flashedBoard, gapsS, lanConfig, MIN_INTERVAL_S, prepare, removeBoards, STARTUP_MIN_S } from './boards';

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

describe('a reboot loop on the real interpreter', () => {
  beforeAll(prepare, 120000);

  const kissers: Kisser[] = [];
  const addresses: string[] = [];

  afterAll(async () => {
    await removeBoards();
    await Promise.all(kissers.map((k) => k.close()));
    addresses.forEach(releaseLoopback);
  });

  async function loopAgainst(name: string, handler: KisserHandler, config: Record<string, unknown> = {}): Promise<{ server: Kisser; runs: BoardRun[] }> {
    const address = allocateLoopback(`espruino-reboot-${name}`);
    addresses.push(address);
    const server = await startKisser(address, 0, handler);
    kissers.push(server);
    const board = await flashedBoard(`reboot-${name}`, lanConfig(address, server.port, config));
    const runs = await rebootLoop(board);
    console.log(`reboot loop (${BOOTS} boots of ${UP_MS / 1000} s), ${name} server: ${server.count()} request(s) at `
      + `${sinceBootS(server.requests, runs).map((s) => s.toFixed(1) + ' s').join(', ')} after their boot; `
      + `${gapsS(server.requests.map((r) => r.receivedAtMono)).map((g) => g.toFixed(1) + ' s').join(', ')} apart`);
    return { server, runs };
  }

  it.concurrent('an answering server: the startup delay on every boot, and never two requests within the minimum interval', async ({ expect }) => {
    const { server, runs } = await loopAgainst('answering', answerWithTime);
    expect(server.count()).toBeGreaterThanOrEqual(1);
    expect(server.count()).toBeLessThan(BOOTS);
    for (const s of sinceBootS(server.requests, runs)) expect(s).toBeGreaterThanOrEqual(STARTUP_MIN_S);
    for (const gap of gapsS(server.requests.map((r) => r.receivedAtMono))) expect(gap).toBeGreaterThanOrEqual(MIN_INTERVAL_S);
    expect(runs.flatMap((r) => r.uncaught())).toEqual([]);
  }, 90000);

  it.concurrent('a silent server: the backoff goes on across reboots, it is never reset', async ({ expect }) => {
    const { server, runs } = await loopAgainst('silent', silent, { maxInterval: 4 * MIN_INTERVAL_S });
    expect(server.count()).toBeGreaterThanOrEqual(1);
    for (const s of sinceBootS(server.requests, runs)) expect(s).toBeGreaterThanOrEqual(STARTUP_MIN_S);
    // The n-th wait is at least 16 s * 2^(n-1), as without reboots.
    gapsS(server.requests.map((r) => r.receivedAtMono)).forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(MIN_INTERVAL_S * 2 ** i));
    expect(runs.flatMap((r) => r.uncaught())).toEqual([]);
  }, 90000);

  it.concurrent('DENY: one request in 20 boots', async ({ expect }) => {
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
