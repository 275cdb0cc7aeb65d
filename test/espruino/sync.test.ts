// A board on the real interpreter syncs against real servers on loopback: chronyd, and a scripted server whose clock
// is ahead, for setClock.

import { afterAll, beforeAll, describe, it } from 'vitest';
import { startChronyd, type Chronyd } from '../support/chronyd';
import { observeScript } from '../support/espruino';
import { makeReply, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, PROBE_SOURCE, releaseLoopback } from '../support/loopback';
import { flashedBoard, lanConfig, prepare, removeBoards, STARTUP_MAX_S } from './boards';

describe('sync on the real interpreter', () => {
  let chronyd: Chronyd;
  let kisserAddress: string;
  let ahead: Kisser;
  const AHEAD_S = 5;

  beforeAll(async () => {
    await prepare();
    chronyd = await startChronyd({ label: 'espruino-sync', commandSocket: true });
    kisserAddress = allocateLoopback('espruino-sync-ahead');
    ahead = await startKisser(kisserAddress, 0, (request) => (request.packet ? { bytes: makeReply(request, { offsetSeconds: AHEAD_S }) } : null));
  });
  afterAll(async () => {
    await removeBoards();
    await ahead?.close();
    await chronyd?.stop();
    if (kisserAddress) releaseLoopback(kisserAddress);
  });

  it.concurrent('syncs from chronyd: one request reaches chronyd, and the board reports its stratum and offset', async ({ expect }) => {
    const board = await flashedBoard('sync-chronyd', lanConfig(chronyd.address, chronyd.port));
    const run = board.boot({
      script: observeScript() + 'kisstime.on("sync", function () { setTimeout(function () { print("@now " + JSON.stringify([kisstime.now(), getTime()])); }, 0); });\n',
    });
    const [sync] = await run.waitForEvents('sync', 1, (STARTUP_MAX_S + 5) * 1000);
    const now = await run.waitForLine(/^@now /, 2000);
    await run.kill();
    expect(sync.info).toMatchObject({ server: chronyd.address, address: chronyd.address, stratum: 10, stepped: 0 });
    // chronyd serves this machine's clock, which is the interpreter's clock too.
    expect(Math.abs(sync.info.offset as number)).toBeLessThan(0.05);
    expect(sync.info.delay as number).toBeGreaterThan(0);
    const [corrected, local] = JSON.parse(now.text.slice(5)) as [number, number];
    expect(Math.abs(corrected - local - (sync.info.offset as number))).toBeLessThan(0.01);
    const clients = (await chronyd.clients()).filter((c) => c.address !== PROBE_SOURCE);
    expect(clients).toEqual([expect.objectContaining({ address: '127.0.0.1', ntpPackets: 1 })]);
    expect(run.uncaught()).toEqual([]);
  }, 60000);

  it.concurrent('restarted on the same flash with its clock kept, the board has corrected time at once, before any request', async ({ expect }) => {
    const address = allocateLoopback('espruino-sync-restart');
    const server = await startKisser(address, 0, (request) => (request.packet ? { bytes: makeReply(request, { offsetSeconds: 0.25 }) } : null));
    const board = await flashedBoard('sync-restart', lanConfig(address, server.port));
    const first = board.boot({ script: observeScript() });
    const [sync] = await first.waitForEvents('sync', 1, (STARTUP_MAX_S + 5) * 1000);
    await first.kill();
    const second = board.boot({ script: 'print("@now " + JSON.stringify([kisstime.now(), getTime()]));\n' });
    const now = await second.waitForLine(/^@now /, 5000);
    await second.kill();
    await server.close();
    releaseLoopback(address);
    expect(server.count()).toBe(1);
    const [corrected, local] = JSON.parse(now.text.slice(5)) as [number | null, number];
    expect(corrected).not.toBeNull();
    // The saved model's offset, carried over the restart (a few seconds of drift at most change it by microseconds).
    expect(Math.abs((corrected as number) - local - (sync.info.clockOffset as number))).toBeLessThan(0.005);
    expect(second.uncaught()).toEqual([]);
  }, 60000);

  // The Linux build's setTime does not move getTime(): it shifts every pending timer by the step instead (a step of
  // +5 s makes a timer due in 4 s fire in 9 s). So the step shows in the sync event and in a timer that was
  // pending when it happened, while getTime() keeps reading the host's clock.
  it.concurrent('setClock steps the clock by the measured offset: setTime(getTime() + offset) delays pending timers by it', async ({ expect }) => {
    const board = await flashedBoard('sync-setclock', lanConfig(kisserAddress, ahead.port, { setClock: 1 }));
    const run = board.boot({
      script: `var probeFrom = getTime();
setTimeout(function () { print("@probe " + (getTime() - probeFrom)); }, 4000);
${observeScript()}
kisstime.on("sync", function () { print("@clock " + getTime()); });
`,
    });
    const [sync] = await run.waitForEvents('sync', 1, (STARTUP_MAX_S + 5) * 1000);
    const clock = await run.waitForLine(/^@clock /, 2000);
    const probe = await run.waitForLine(/^@probe /, 15000);
    await run.kill();
    expect(ahead.count()).toBe(1);
    // The request went out as 48 binary bytes (a Uint8Array would have gone out as its text "35,0,0,..."): version 4,
    // mode 3, every field zero but the random transmit nonce.
    const request = ahead.requests[0].bytes;
    expect(request.length).toBe(48);
    expect(request[0]).toBe(0x23);
    expect(request.subarray(1, 40).every((b) => b === 0)).toBe(true);
    expect(request.subarray(40).some((b) => b !== 0)).toBe(true);
    expect(Math.abs((sync.info.offset as number) - AHEAD_S)).toBeLessThan(0.05);
    expect(Math.abs((sync.info.clockOffset as number) - AHEAD_S)).toBeLessThan(0.05);
    expect(Math.abs((sync.info.stepped as number) - AHEAD_S)).toBeLessThan(0.05);
    // The probe was due 4 s after boot and the step came before that: it fired about 4 + 5 s after boot.
    const probeS = Number(probe.text.slice('@probe '.length));
    expect(Math.abs(probeS - (4 + (sync.info.stepped as number)))).toBeLessThan(0.5);
    // getTime() after setTime still reads the host's clock (the Linux build): no step of 5 s is visible in it.
    const boardClockS = Number(clock.text.slice('@clock '.length));
    expect(Math.abs(boardClockS - (performance.timeOrigin + clock.atMs) / 1000)).toBeLessThan(0.5);
    expect(run.uncaught()).toEqual([]);
  }, 60000);
});
