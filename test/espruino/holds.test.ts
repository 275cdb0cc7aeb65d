// DENY and RSTR on the real interpreter: one request, then silence, and the silence survives a reboot on the same
// flash. Silence is shown the strongest way the interpreter allows: it exits by itself, which it does only when no
// timer, watch or socket is left, so nothing is left that could ever send.

import { afterAll, beforeAll, describe, it } from 'vitest';
import { observeScript } from '../support/espruino';
import { makeKiss, startKisser, type Kisser } from '../support/kisser';
import { allocateLoopback, releaseLoopback } from '../support/loopback';
import { flashedBoard, lanConfig, prepare, removeBoards, STARTUP_MAX_S } from './boards';

/** Prints the state file as the board found it at power-on. */
const PRINT_STATE = 'print("@state " + JSON.stringify(require("Storage").read("kisstime.state")));\n';

describe('DENY and RSTR on the real interpreter', () => {
  beforeAll(prepare, 120000);

  const kissers: Kisser[] = [];
  const addresses: string[] = [];

  afterAll(async () => {
    await removeBoards();
    await Promise.all(kissers.map((k) => k.close()));
    addresses.forEach(releaseLoopback);
  });

  for (const code of ['DENY', 'RSTR']) {
    it.concurrent(`${code}: one request, then silence, also after a reboot on the same flash`, async ({ expect }) => {
      const address = allocateLoopback(`espruino-holds-${code}`);
      addresses.push(address);
      const server = await startKisser(address, 0, (request) => (request.packet ? { bytes: makeKiss(request, code) } : null));
      kissers.push(server);
      const board = await flashedBoard(`holds-${code}`, lanConfig(address, server.port));

      const first = board.boot({ script: observeScript() });
      const [kiss] = await first.waitForEvents('kiss', 1, (STARTUP_MAX_S + 5) * 1000);
      expect(kiss.info).toMatchObject({ code, server: address, address });
      // Nothing left to do: the interpreter ends by itself.
      await first.waitForExit(5000);
      expect(server.count()).toBe(1);
      expect(first.events('sync')).toEqual([]);
      expect(first.events('error').map((e) => e.info.cause)).toContain('stopped');

      const second = board.boot({ script: PRINT_STATE + observeScript() });
      await second.waitForExit(STARTUP_MAX_S * 1000 + 5000);
      expect(server.count()).toBe(1);
      expect(second.events('error').map((e) => e.info.cause)).toContain('stopped');
      // The hold is in the flash, for this server's address.
      const saved = second.lines().find((l) => l.text.startsWith('@state '));
      expect(saved?.text).toContain(code);
      expect(saved?.text).toContain(address);
      expect([...first.uncaught(), ...second.uncaught()]).toEqual([]);
    }, 60000);
  }
});
