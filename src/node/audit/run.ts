// runAudit: the politeness audit as a library function. It plays scenarios to a client and grades what the client
// sends. Two ways to reach the client:
// - cmd: a command template run once per scenario, every scenario at the same time on its own loopback address;
// - listen: one address the user gives (a device configured with one server), scenarios one after another.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { NodeClock } from '../clock';
import { ClockSource } from '../types';
import { AuditServer } from './audit-server';
import { fillTemplate, outputTail, startCommand, templateProblem } from './command';
import { baselineOf, gradeScenario, notJudgedLines } from './grade';
import { LISTEN_ORDER, SCENARIO_NAMES, scenarioInfo } from './scenarios';
import { AuditReport, CommandEnd, ScenarioName, ScenarioReport, SeenRequest } from './types';

/** Two minutes per scenario: enough to see a 16 s client's RATE backoff grow twice, short enough for a CI job. */
export const DEFAULT_SECONDS = 120;
/** cmd mode's default addresses: 127.123.0.1, .2, ... (127.0.0.0/8 is all loopback on Linux). */
export const DEFAULT_FIRST_ADDRESS = '127.123.0.1';

export interface AuditOptions {
  /** Which scenarios (default all). "good" is added when a scenario that needs its baseline is asked for. */
  scenarios?: ScenarioName[];
  /** Length of each scenario, s. */
  seconds?: number;
  /** cmd mode: the command template ({host}, {port}, {state}). */
  cmd?: string;
  /** cmd mode: start the command again every this many seconds (one-shot clients); 0 or absent: once. */
  rerunS?: number;
  /** cmd mode: the first loopback address; scenario n gets the n-th one after it. */
  firstAddress?: string;
  /** cmd mode: the loopback address of each scenario, in the order played (instead of firstAddress). */
  addresses?: string[];
  /** cmd mode: the port every scenario listens on; 0 lets each pick a free one. Default 123 as root, else 0. */
  port?: number;
  /** listen mode: the address the device is configured to ask. */
  listen?: { address: string; port: number };
  clock?: ClockSource;
  /** Progress, for a live display: a scenario started, a request arrived, a scenario was graded. */
  onEvent?: (event: AuditEvent) => void;
  signal?: AbortSignal;
}

export type AuditEvent =
  | { type: 'scenario-start'; scenario: ScenarioName; host: string; port: number; command?: string }
  | { type: 'request'; scenario: ScenarioName; request: SeenRequest }
  | { type: 'scenario-end'; scenario: ScenarioName; report: ScenarioReport };

export class AuditOptionError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(field + ': ' + message);
    this.name = 'AuditOptionError';
    this.field = field;
  }
}

const NEEDS_BASELINE: ScenarioName[] = ['deny', 'rstr', 'spoofed-deny'];

/** The n-th IPv4 address after first (carrying into the next octets), or null past the end of 127.255.255.254. */
export function nthAddress(first: string, n: number): string | null {
  const parts = first.split('.').map((p) => parseInt(p, 10));
  let value = ((parts[0] * 256 + parts[1]) * 256 + parts[2]) * 256 + parts[3] + n;
  if (value >= 0x7fffffff) return null;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    out.unshift(value % 256);
    value = Math.floor(value / 256);
  }
  return out.join('.');
}

function checkOptions(o: AuditOptions): { scenarios: ScenarioName[]; seconds: number } {
  if ((o.cmd === undefined) === (o.listen === undefined)) throw new AuditOptionError('cmd', 'give either a command template (cmd mode) or an address to listen on (listen mode)');
  const seconds = o.seconds ?? DEFAULT_SECONDS;
  if (!(seconds > 0 && seconds <= 86400)) throw new AuditOptionError('seconds', 'must be more than 0 and at most 86400: ' + JSON.stringify(o.seconds));
  if (o.cmd !== undefined) {
    const problem = templateProblem(o.cmd);
    if (problem) throw new AuditOptionError('cmd', problem);
  }
  if (o.rerunS !== undefined && !(o.rerunS >= 0)) throw new AuditOptionError('rerun', 'must be 0 (run once) or a number of seconds: ' + JSON.stringify(o.rerunS));
  if (o.rerunS && o.listen) throw new AuditOptionError('rerun', 'only applies to a command (cmd mode)');
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535)) throw new AuditOptionError('port', 'must be 0-65535: ' + JSON.stringify(o.port));
  const first = o.firstAddress ?? DEFAULT_FIRST_ADDRESS;
  const loopback = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
  if (o.cmd !== undefined && !loopback.test(first)) throw new AuditOptionError('firstAddress', 'must be an IPv4 loopback address (127.x.y.z): ' + JSON.stringify(first));
  for (const a of o.addresses ?? []) if (!loopback.test(a)) throw new AuditOptionError('addresses', 'must be IPv4 loopback addresses (127.x.y.z): ' + JSON.stringify(a));
  if (o.listen && (isIP(o.listen.address) === 0 || !(o.listen.port >= 0 && o.listen.port <= 65535))) {
    throw new AuditOptionError('listen', 'expected an IP address and a port: ' + JSON.stringify(o.listen));
  }
  const picked = o.scenarios && o.scenarios.length > 0 ? o.scenarios.slice() : SCENARIO_NAMES.slice();
  for (const n of picked) if (SCENARIO_NAMES.indexOf(n) < 0) throw new AuditOptionError('scenarios', 'unknown scenario ' + JSON.stringify(n));
  if (picked.indexOf('good') < 0 && picked.some((n) => NEEDS_BASELINE.indexOf(n) >= 0)) picked.unshift('good');
  const order = o.listen ? LISTEN_ORDER : SCENARIO_NAMES;
  return { scenarios: order.filter((n) => picked.indexOf(n) >= 0), seconds };
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Resolves after ms on the audit's clock, or at once when signal aborts. */
function wait(clock: ClockSource, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clock.clearTimer(timer);
      resolve();
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function finishReport(mode: 'cmd' | 'listen', target: string, startedAt: Date, seconds: number, rerunS: number | null, scenarios: ScenarioReport[]): AuditReport {
  const failed = scenarios.some((s) => s.rules.some((r) => r.verdict === 'fail'));
  return {
    tool: 'kisstime audit', mode, target, startedAt: startedAt.toISOString(), secondsPerScenario: seconds, rerunS,
    scenarios, verdict: failed ? 'fail' : 'pass', notJudged: notJudgedLines(scenarios),
  };
}

async function runCmd(o: AuditOptions & { cmd: string }, scenarios: ScenarioName[], seconds: number, clock: ClockSource): Promise<AuditReport> {
  const startedAt = new Date(clock.wallMs());
  const port = o.port ?? (isRoot() ? 123 : 0);
  const first = o.firstAddress ?? DEFAULT_FIRST_ADDRESS;
  const rerunS = o.rerunS && o.rerunS > 0 ? o.rerunS : 0;
  const scratch = mkdtempSync(join(tmpdir(), 'kisstime-audit-'));
  const servers: AuditServer[] = [];
  try {
    const lanes: { scenario: ScenarioName; host: string; port: number; server: AuditServer; dir: string }[] = [];
    for (let i = 0; i < scenarios.length; i++) {
      const host = o.addresses ? o.addresses[i] : nthAddress(first, i);
      if (!host) throw new AuditOptionError(o.addresses ? 'addresses' : 'firstAddress', 'no address for scenario ' + scenarios[i] + ' (' + scenarios.length + ' needed)');
      const server = new AuditServer(clock, false);
      servers.push(server);
      const bound = await server.start(host, port);
      const dir = join(scratch, scenarios[i]);
      mkdirSync(dir);
      server.onRequest((scenario, request) => o.onEvent?.({ type: 'request', scenario, request }));
      lanes.push({ scenario: scenarios[i], host, port: bound, server, dir });
    }
    // Every scenario starts at the same moment, so they share whatever else the machine is doing.
    const runs = lanes.map((lane) => {
      const command = fillTemplate(o.cmd, { host: lane.host, port: lane.port, state: join(lane.dir, 'state') });
      lane.server.play(lane.scenario);
      o.onEvent?.({ type: 'scenario-start', scenario: lane.scenario, host: lane.host, port: lane.port, command });
      return startCommand(command, { cwd: lane.dir, logFile: join(lane.dir, 'output.log'), rerunS, clock });
    });
    const t0 = clock.monoMs();
    await wait(clock, seconds * 1000, o.signal);
    const elapsedS = Math.min(seconds, (clock.monoMs() - t0) / 1000);
    const ends: CommandEnd[] = await Promise.all(runs.map((r) => r.stop()));
    const seen = lanes.map((lane) => lane.server.seen());
    const goodIndex = scenarios.indexOf('good');
    const baseline = baselineOf(goodIndex >= 0 ? seen[goodIndex] : null);
    const reports = lanes.map((lane, i): ScenarioReport => {
      const graded = gradeScenario({
        scenario: lane.scenario, seconds: elapsedS, requests: seen[i], baseline, priorAtS: null,
        command: ends[i], goodCommand: goodIndex >= 0 ? ends[goodIndex] : undefined,
      });
      const report: ScenarioReport = {
        scenario: lane.scenario, title: scenarioInfo(lane.scenario).title, host: lane.host, port: lane.port, seconds: elapsedS,
        requests: seen[i], intervalsS: graded.intervalsS, rules: graded.rules, verdict: graded.verdict, command: ends[i],
        outputTail: outputTail(join(lane.dir, 'output.log')),
      };
      o.onEvent?.({ type: 'scenario-end', scenario: lane.scenario, report });
      return report;
    });
    return finishReport('cmd', o.cmd, startedAt, elapsedS, rerunS || null, reports);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Listen mode waits up to this many scenario lengths for a device's first request in a scenario. */
export const LISTEN_WAIT_FACTOR = 4;

/** When the server's current scenario got its first request (monotonic ms), or null after timeoutMs without one. */
function firstRequest(server: AuditServer, startMs: number, timeoutMs: number, signal?: AbortSignal): Promise<number | null> {
  const clock = server.clock;
  const seen = server.seen();
  if (seen.length > 0) return Promise.resolve(startMs + seen[0].atS * 1000);
  return new Promise((resolve) => {
    let done = false;
    const finish = (value: number | null): void => {
      if (done) return;
      done = true;
      clock.clearTimer(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = (): void => finish(null);
    const timer = clock.setTimer(() => finish(null), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    server.onRequest(() => finish(clock.monoMs()));
  });
}

async function runListen(o: AuditOptions & { listen: { address: string; port: number } }, scenarios: ScenarioName[], seconds: number, clock: ClockSource): Promise<AuditReport> {
  const startedAt = new Date(clock.wallMs());
  const server = new AuditServer(clock, true);
  const port = await server.start(o.listen.address, o.listen.port);
  server.onRequest((scenario, request) => o.onEvent?.({ type: 'request', scenario, request }));
  const reports: ScenarioReport[] = [];
  let goodSeen: SeenRequest[] | null = null;
  let lastRequestMs: number | null = null;
  try {
    for (const scenario of scenarios) {
      if (o.signal?.aborted) break;
      const startMs = server.play(scenario);
      o.onEvent?.({ type: 'scenario-start', scenario, host: o.listen.address, port });
      // A device that slowed down in the last scenario (as it should) may take a while to ask: the scenario's
      // time starts at its first request, so every scenario sees the same stretch of the device's behaviour.
      const firstMs = await firstRequest(server, startMs, seconds * 1000 * LISTEN_WAIT_FACTOR, o.signal);
      if (firstMs !== null) await wait(clock, Math.max(0, firstMs + seconds * 1000 - clock.monoMs()), o.signal);
      const elapsedS = (clock.monoMs() - startMs) / 1000;
      const requests = server.seen();
      if (scenario === 'good') goodSeen = requests;
      const graded = gradeScenario({
        scenario, seconds: elapsedS, requests, baseline: baselineOf(goodSeen),
        priorAtS: lastRequestMs === null ? null : (lastRequestMs - startMs) / 1000,
      });
      if (requests.length > 0) lastRequestMs = startMs + requests[requests.length - 1].atS * 1000;
      const report: ScenarioReport = {
        scenario, title: scenarioInfo(scenario).title, host: o.listen.address, port, seconds: elapsedS,
        requests, intervalsS: graded.intervalsS, rules: graded.rules, verdict: graded.verdict,
      };
      o.onEvent?.({ type: 'scenario-end', scenario, report });
      reports.push(report);
    }
  } finally {
    await server.stop();
  }
  const target = (o.listen.address.indexOf(':') >= 0 ? '[' + o.listen.address + ']' : o.listen.address) + ':' + port;
  const out = finishReport('listen', target, startedAt, seconds, null, reports);
  // Listen mode has limits of its own, worth saying even when every rule could be judged.
  out.notJudged.push('listen mode: scenarios ran one after another against one device, so each began where the last left it '
    + '(a device that backed off in one asks less in the next), and whether it survives malformed replies cannot be seen from here');
  return out;
}

/** Runs the audit and grades it. Rejects with AuditOptionError (naming the option) before anything starts. */
export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const { scenarios, seconds } = checkOptions(options);
  const clock = options.clock ?? new NodeClock();
  if (options.cmd !== undefined) return runCmd({ ...options, cmd: options.cmd }, scenarios, seconds, clock);
  const listen = options.listen as { address: string; port: number };
  return runListen({ ...options, listen }, scenarios, seconds, clock);
}
