// stop() on the real interpreter leaves nothing behind: no timer and no socket (the interpreter then exits by itself,
// which it does only when none is left), and the variables start() took are free again.

import { afterAll, beforeAll, describe, it } from 'vitest';
import { answerWithTime, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { flashedBoard, lanConfig, prepare, removeBoards, STARTUP_MAX_S } from './boards';

/**
 * Starts Kisstime from the module in Storage (config from kisstime.cfg) twice, and reads process.memory().usage
 * before each start() and after each stop(), once the handle is dropped. The first round wakes what the interpreter
 * creates once per power-on on first use (the built-in Array, String, RegExp and Uint8Array objects, the module
 * cache, the socket list: about 40 variables on this build), so the second round's readings differ only by what
 * Kisstime kept. Every reading is taken in a timer callback, and every variable of this script exists before the
 * first. stopNow() is called by a sync or typed at the REPL.
 */
const START_AND_STOP = `var K = require("kisstime");
var handle = null;
var round = 0;
var readings = [0, 0, 0, 0];
function read(i) { readings[i] = process.memory().usage; }
function report() {
  handle = null;
  read(2 * round + 1);
  if (++round < 2) {
    require("Storage").erase("kisstime.state");
    setTimeout(startNow, 10);
  } else {
    print("@memory " + JSON.stringify(readings));
  }
}
function stopNow() { handle.stop(); setTimeout(report, 50); }
function startNow() { read(2 * round); handle = K.start(); handle.on("sync", stopNow); }
setTimeout(startNow, 10);
`;

/** The readings [before, after] of each round. */
function memoryReadings(lines: { text: string }[]): [number, number, number, number] {
  const line = lines.find((l) => l.text.startsWith('@memory '));
  if (!line) throw new Error('the board printed no @memory line');
  return JSON.parse(line.text.slice('@memory '.length)) as [number, number, number, number];
}

describe('stop() on the real interpreter', () => {
  let address: string;
  let answering: Kisser;
  /** Answers the first request only. */
  let firstOnly: Kisser;

  beforeAll(async () => {
    await prepare();
    address = allocateLoopback('espruino-stop');
    answering = await startKisser(address, 0, answerWithTime);
    firstOnly = await startKisser(address, 0, (request) => (request.seq === 1 ? answerWithTime(request) : null));
  });
  afterAll(async () => {
    await removeBoards();
    await answering?.close();
    await firstOnly?.close();
    if (address) releaseLoopback(address);
  });

  it.concurrent('after a sync, with the next poll pending: the interpreter exits by itself and memory is back where it was', async ({ expect }) => {
    const board = await flashedBoard('stop-idle', lanConfig(address, answering.port), { withoutBoot0: true });
    const run = board.boot({ script: START_AND_STOP });
    const exit = await run.waitForExit(2 * (STARTUP_MAX_S + 5) * 1000);
    expect(exit).toEqual({ code: 0, signal: null });
    const [before1, after1, before2, after2] = memoryReadings(run.lines());
    console.log(`stop() after a sync: vars in use before start() and after stop(): ${before1} -> ${after1} (first round), ${before2} -> ${after2}`);
    expect(after2).toBeLessThanOrEqual(before2);
    expect(answering.count()).toBe(2);
    expect(run.uncaught()).toEqual([]);
  }, 60000);

  it.concurrent('with a request in flight: the socket is closed, the interpreter exits by itself, memory is back', async ({ expect }) => {
    const board = await flashedBoard('stop-in-flight', lanConfig(address, firstOnly.port, { timeout: 5 }), { withoutBoot0: true });
    const run = board.boot({ script: START_AND_STOP });
    await firstOnly.waitForRequests(2, 2 * (STARTUP_MAX_S + 5) * 1000);
    // The second request gets no answer: stop() while its socket is open.
    run.send('stopNow()');
    const exit = await run.waitForExit(2000);
    expect(exit).toEqual({ code: 0, signal: null });
    const [before1, after1, before2, after2] = memoryReadings(run.lines());
    console.log(`stop() in flight: vars in use before start() and after stop(): ${before1} -> ${after1} (first round), ${before2} -> ${after2}`);
    expect(after2).toBeLessThanOrEqual(before2);
    expect(firstOnly.count()).toBe(2);
    expect(run.uncaught()).toEqual([]);
  }, 60000);
});
