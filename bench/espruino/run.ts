// The espruino part of `npm run bench`: Kisstime and Espruino's own sntp module side by side on the real
// interpreter, in one run, each against its own chronyd on loopback, each loaded from Storage.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { startChronyd, type Chronyd } from '../../test/support/chronyd';
import { espruinoPath, projectRoot } from '../../test/support/espruino';
import { PROBE_SOURCE } from '../../test/support/loopback';
import { measureModule, type MemoryPlan, type MemoryReadings } from './measure';
import { kisstimeModule, sntpModule, SYNC_EVERY_S } from './modules';

export const PLAN: MemoryPlan = { seriesEveryS: 20, seriesForS: 600, peakForS: 20 };
export const QUICK_PLAN: MemoryPlan = { seriesEveryS: 20, seriesForS: 80, peakForS: 20 };

export interface ModuleResult {
  label: string;
  minifiedBytes: number;
  readings: MemoryReadings;
  /** NTP requests its chronyd received over the whole run. */
  requests: number;
}

export interface EspruinoBenchResult {
  interpreter: string;
  plan: MemoryPlan;
  modules: ModuleResult[];
  wallMs: number;
}

/** firmware/build.js, loaded from the source tree (the bench runs from dist/, the build script is not compiled). */
function firmwareBuild(): typeof import('../../firmware/build') {
  const load = createRequire(__filename);
  return load(join(projectRoot(), 'firmware', 'build.js'));
}

function anchorSource(): string {
  const path = resolve(projectRoot(), '..', 'shared', 'anchors', 'espruino-sntp.js');
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new Error(`the sntp anchor is missing: no ${path} (../shared/anchors/espruino-sntp.js from the project root)`);
  }
}

async function requestsFrom(chronyd: Chronyd): Promise<number> {
  return (await chronyd.clients()).filter((c) => c.address !== PROBE_SOURCE).reduce((sum, c) => sum + c.ntpPackets, 0);
}

export async function runEspruinoBench(plan: MemoryPlan, log: (line: string) => void): Promise<EspruinoBenchResult> {
  const started = Date.now();
  espruinoPath();
  const build = firmwareBuild();
  const fw = await build.build({ write: false });
  const sntpCode = await build.minifyModule(anchorSource());
  const servers = await Promise.all([startChronyd({ label: 'bench-espruino-kisstime', commandSocket: true }), startChronyd({ label: 'bench-espruino-sntp', commandSocket: true })]);
  try {
    log('espruino: Kisstime and sntp on the interpreter, ' + (plan.seriesForS + plan.peakForS) + ' s of syncs every ' + SYNC_EVERY_S + ' s');
    const [kisstime, sntp] = await Promise.all([
      measureModule(kisstimeModule(fw.modules, servers[0].address, servers[0].port), plan, 'bench-kisstime'),
      measureModule(sntpModule(sntpCode, servers[1].address, servers[1].port), plan, 'bench-sntp'),
    ]);
    return {
      interpreter: kisstime.interpreter,
      plan,
      modules: [
        { label: 'Kisstime ' + fw.version, minifiedBytes: fw.minifiedBytes, readings: kisstime, requests: await requestsFrom(servers[0]) },
        { label: 'Espruino sntp (anchor)', minifiedBytes: Buffer.byteLength(sntpCode), readings: sntp, requests: await requestsFrom(servers[1]) },
      ],
      wallMs: Date.now() - started,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}
