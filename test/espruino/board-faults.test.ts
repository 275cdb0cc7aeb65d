// The board faults of issue 12 (item 2), on the real interpreter:
// - any content of kisstime.state or kisstime.cfg gives a clear console line and a polite start: no exception, the
//   startup delay kept, and a sync (a fuzz of files: wrong element types, nulls, huge numbers, deep nesting, text
//   that is not JSON, a blank file, binary);
// - the readable bundle, kisstime.js, runs;
// - a board that reboots more often than its minimum interval plus its startup delay still gets time again after a
//   bounded number of boots, without breaking the minimum interval.
// Each case is a test of its own, so a failure names the file content that caused it.

import { afterAll, beforeAll, describe, it } from 'vitest';
import { observeScript, type BoardRun, type StorageFile } from '../support/espruino';
import { answerWithTime, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { flashedBoard, type FlashOptions, gapsS, JITTER, lanConfig, MIN_INTERVAL_S, prepare, removeBoards, STARTUP_MAX_S, STARTUP_MIN_S } from './boards';

/** How long a polite start may take: the startup delay, and at most one minimum interval more for caution. */
const START_DEADLINE_MS = (STARTUP_MAX_S + MIN_INTERVAL_S * (1 + JITTER) + 5) * 1000;

/** The reboot loop of the last case: boots this long, at most this many. */
const UP_MS = 10000;
const MAX_BOOTS = 8;

/** The console line that tells the owner the saved state was not used (today's wording, or any clear synonym). */
const STATE_REJECTED = /^kisstime: .*state.*(corrupt|unknown schema|unreadable|invalid|not usable|ignored)/i;

/** 64 bytes from every part of the byte range, NUL and 0xFF included. */
const BINARY = Array.from({ length: 64 }, (_, i) => String.fromCharCode((i * 37 + 11) & 255)).join('');

function nested(depth: number, inner = ''): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

/** A state file of today's schema with one field replaced (field: its text in the file). */
function stateWith(field: string, value: string): string {
  const fields: Record<string, string> = { v: '2', f: '0', w: '0', z: '0', holds: '[]', slots: '[]' };
  fields[field] = value;
  return '{' + Object.entries(fields).map(([k, v]) => `${k}:${v}`).join(',') + '}';
}

/** Contents of kisstime.state: every one must be rejected with a clear line, and the board must start politely. */
const STATE_FILES: [string, string][] = [
  ['holds:[7]', stateWith('holds', '[7]')],
  ['slots:[1]', stateWith('slots', '[1]')],
  ['holds:[null]', stateWith('holds', '[null]')],
  ['slots:[null]', stateWith('slots', '[null]')],
  ['holds:["DENY"]', stateWith('holds', '["DENY"]')],
  ['slots:["x"]', stateWith('slots', '["x"]')],
  ['holds:[true]', stateWith('holds', '[true]')],
  ['holds:[[]]', stateWith('holds', '[[]]')],
  ['holds with wrong field types', stateWith('holds', '[{h:1,a:[],p:"x",c:{}}]')],
  ['slots with wrong field types', stateWith('slots', '[{h:null,a:7,p:-1,i:"x",r:{},z:[]}]')],
  ['holds:"DENY"', stateWith('holds', '"DENY"')],
  ['holds:null', stateWith('holds', 'null')],
  ['slots:{}', stateWith('slots', '{}')],
  ['slots:7', stateWith('slots', '7')],
  ['f:null', stateWith('f', 'null')],
  ['f:"3"', stateWith('f', '"3"')],
  ['f:-1', stateWith('f', '-1')],
  ['f:0.5', stateWith('f', '0.5')],
  ['f:1e308', stateWith('f', '1e308')],
  ['w:1e308', stateWith('w', '1e308')],
  ['z:-1e308', stateWith('z', '-1e308')],
  ['v:"2"', stateWith('v', '"2"')],
  ['v:null', stateWith('v', 'null')],
  ['v:1e308', stateWith('v', '1e308')],
  ['holds nested 500 deep', stateWith('holds', nested(500))],
  ['the whole file nested 2000 deep', nested(2000)],
  ['null', 'null'],
  ['7', '7'],
  ['"state"', '"state"'],
  ['true', 'true'],
  ['[]', '[]'],
  ['[1,2,3]', '[1,2,3]'],
  ['{}', '{}'],
  ['truncated JSON', '{v:2,f:0,w:0,z:0,holds:[],sl'],
  ['text that is not JSON', 'kisstime state, version two'],
  ['}}}{{{', '}}}{{{'],
  // Storage cannot hold an empty file ("Can't create zero length file"): a blank line is the nearest.
  ['a blank file (one newline)', '\n'],
  ['binary bytes', BINARY],
  ['a NUL inside JSON', '{v:2,\u0000f:0}'],
];

/** Contents of kisstime.cfg, beside a valid config in code: each must be set aside with a clear line naming the file. */
const CONFIG_FILES: [string, string][] = [
  ['servers:7', '{"servers":7}'],
  ['servers:[7]', '{"servers":[7]}'],
  ['servers:[null]', '{"servers":[null]}'],
  ['servers:"a string"', '{"servers":"127.0.0.1"}'],
  ['servers:[{host:7}]', '{"servers":[{"host":7}]}'],
  ['minInterval:"5m"', '{"minInterval":"5m"}'],
  ['minInterval:1e308', '{"minInterval":1e308}'],
  ['minInterval:-1', '{"minInterval":-1}'],
  ['startupDelayMax:"soon"', '{"startupDelayMax":"soon"}'],
  ['setClock:{}', '{"setClock":{}}'],
  ['lanServer:"yes"', '{"lanServer":"yes"}'],
  ['timeout:0', '{"timeout":0}'],
  ['null', 'null'],
  ['7', '7'],
  ['[1]', '[1]'],
  ['nested 2000 deep', nested(2000)],
  ['truncated JSON', '{"servers":["127.'],
  ['text that is not JSON', 'servers = 127.0.0.1'],
  ['a blank file (one newline)', '\n'],
  ['binary bytes', BINARY],
];

describe('board faults on the real interpreter', () => {
  let address: string;
  const kissers: Kisser[] = [];

  beforeAll(prepare, 120000);
  beforeAll(() => {
    address = allocateLoopback('espruino-board-faults');
  });
  afterAll(async () => {
    await removeBoards();
    await Promise.all(kissers.map((k) => k.close()));
    if (address) releaseLoopback(address);
  });

  async function answeringServer(): Promise<Kisser> {
    const server = await startKisser(address, 0, answerWithTime);
    kissers.push(server);
    return server;
  }

  /**
   * Boots a fresh board made by make(server) and checks a polite start: a sync, no exception, and no request
   * sooner than the startup delay after power-on.
   */
  async function politeStart(label: string, flash: (server: Kisser) => { config: unknown; options: FlashOptions }): Promise<BoardRun> {
    const server = await answeringServer();
    const { config, options } = flash(server);
    const board = await flashedBoard(label, config, options);
    const run = board.boot({ script: observeScript() });
    try {
      await run.waitForEvents('sync', 1, START_DEADLINE_MS);
    } finally {
      await run.kill();
    }
    if (run.uncaught().length > 0) throw new Error(`${label}: uncaught on the board:\n${run.tail()}`);
    const afterBootS = (server.requests[0].receivedAtMono - run.startedAtMs) / 1000;
    if (afterBootS < STARTUP_MIN_S) throw new Error(`${label}: the first request came ${afterBootS.toFixed(2)} s after power-on, inside the startup delay`);
    return run;
  }

  describe.concurrent('kisstime.state', () => {
    for (const [what, content] of STATE_FILES) {
      it(`${what}: a clear line, then a polite start`, async ({ expect }) => {
        const run = await politeStart(`state ${what}`, (server) => ({
          config: lanConfig(address, server.port),
          options: { extra: [{ name: 'kisstime.state', data: content }] },
        }));
        const note = run.lines().find((l) => /^kisstime: .*state/.test(l.text));
        expect(note?.text, run.tail()).toMatch(STATE_REJECTED);
      }, START_DEADLINE_MS + 15000);
    }
  });

  describe.concurrent('kisstime.cfg', () => {
    for (const [what, content] of CONFIG_FILES) {
      it(`${what}: a clear line naming the file, then a polite start on the config in code`, async ({ expect }) => {
        const run = await politeStart(`cfg ${what}`, (server) => {
          const boot0: StorageFile = { name: '.boot0', data: `var kisstime = require("kisstime").start(${JSON.stringify(lanConfig(address, server.port))});\n` };
          return { config: undefined, options: { extra: [boot0, { name: 'kisstime.cfg', data: content }] } };
        });
        expect(run.lines().some((l) => /^kisstime: .*kisstime\.cfg/.test(l.text)), run.tail()).toBe(true);
      }, START_DEADLINE_MS + 15000);
    }
  });

  describe.concurrent('the bundle and a reboot loop', () => {
    it('the readable bundle kisstime.js runs on the interpreter and syncs', async ({ expect }) => {
      const run = await politeStart('readable bundle', (server) => ({ config: lanConfig(address, server.port), options: { bundle: 'readable' } }));
      expect(run.events('sync').length).toBe(1);
    }, START_DEADLINE_MS + 15000);

    // Boots of 10 s, far shorter than 16 s + the startup delay: a board that only counts time from its last boot
    // never polls again. Up to 8 such boots (80 s of power, 64 s of it after the startup delays) must bring time.
    it('a board rebooting every 10 s gets time again within 8 boots, never sooner than the minimum interval', async ({ expect }) => {
      const server = await answeringServer();
      const board = await flashedBoard('reboot-bounded', lanConfig(address, server.port));
      const first = board.boot({ script: observeScript() });
      await first.waitForEvents('sync', 1, START_DEADLINE_MS);
      await first.kill();
      let boots = 0;
      while (boots < MAX_BOOTS && server.count() < 2) {
        const run = board.boot({ script: observeScript() });
        boots++;
        await Promise.race([run.waitForEvents('sync', 1, UP_MS).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, UP_MS))]);
        await run.kill();
        expect(run.uncaught()).toEqual([]);
      }
      const gaps = gapsS(server.requests.map((r) => r.receivedAtMono));
      console.log(`reboot every ${UP_MS / 1000} s after a sync: ${server.count() - 1} more request(s) in ${boots} boot(s)`
        + (gaps.length > 0 ? `, ${gaps[0].toFixed(1)} s after the first` : ''));
      expect(server.count(), `no request in ${MAX_BOOTS} boots of ${UP_MS / 1000} s after the first sync`).toBeGreaterThanOrEqual(2);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(MIN_INTERVAL_S);
    }, MAX_BOOTS * UP_MS + START_DEADLINE_MS + 30000);
  });
});
