// A real Node-RED runtime in its own process, driven the way a user's browser drives it: flows deployed over the
// admin HTTP API, debug and status read from the editor's comms websocket. Listens on 127.0.0.1 only. By default it
// is this checkout's Node-RED 4 with the Kisstime package loaded through nodesDir; the package test runs other
// Node-RED versions, on other Node binaries, with the package installed from its tarball instead.

import { ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const nodeRequire = createRequire(__filename);
type SettingsFor = (uiPort: number, userDir: string) => Record<string, unknown>;
const { localSettings, offlineSettings } = nodeRequire('../../scripts/node-red-settings.js') as { localSettings: SettingsFor; offlineSettings: SettingsFor };
export { offlineSettings };
export const ROOT = resolve(__dirname, '..', '..');

interface WsLike {
  on(event: 'message', fn: (data: Buffer) => void): void;
  on(event: 'open' | 'close', fn: () => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  send(data: string): void;
  close(): void;
}
const WebSocketCtor = nodeRequire('ws') as new (url: string) => WsLike;

export interface CommsEvent {
  topic: string;
  data: Record<string, unknown>;
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface NodeRedProcess {
  url: string;
  userDir: string;
  output(): string;
  /** Everything received on the comms websocket so far (debug and status). */
  events: CommsEvent[];
  deploy(flows: Record<string, unknown>[]): Promise<void>;
  inject(id: string): Promise<void>;
  waitForEvent(match: (e: CommsEvent) => boolean, timeoutMs?: number, what?: string): Promise<CommsEvent>;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  /** The Node.js binary to run Node-RED with; default this process's. */
  nodeBinary?: string;
  /** That Node-RED's red.js; default this checkout's devDependency. */
  redJs?: string;
  /** A user directory prepared by the caller (stop() removes it too); default a fresh temporary one. */
  userDir?: string;
  /** The settings; default localSettings (this checkout through nodesDir). */
  settings?: SettingsFor;
  extraSettings?: Record<string, unknown>;
  /** How long Node-RED may take to answer HTTP; default 20 s. */
  startTimeoutMs?: number;
}

export async function startNodeRed(extraSettings: Record<string, unknown> = {}): Promise<NodeRedProcess> {
  return startRuntime({ extraSettings });
}

export async function startRuntime(options: RuntimeOptions): Promise<NodeRedProcess> {
  const userDir = options.userDir || mkdtempSync(join(tmpdir(), 'kisstime-nodered-'));
  const port = await freeTcpPort();
  const settings = { ...(options.settings || localSettings)(port, userDir), ...(options.extraSettings || {}) };
  const settingsPath = join(userDir, 'settings.js');
  writeFileSync(settingsPath, 'module.exports = ' + JSON.stringify(settings, null, 2) + ';\n');
  let log = '';
  const redJs = options.redJs || join(ROOT, 'node_modules', 'node-red', 'red.js');
  const child: ChildProcess = spawn(options.nodeBinary || process.execPath, [redJs, '--settings', settingsPath, '--userDir', userDir, '--port', String(port)], {
    cwd: userDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;

  const startMs = options.startTimeoutMs || 20000;
  const deadline = Date.now() + startMs;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(userDir, { recursive: true, force: true });
      throw new Error('Node-RED exited early:\n' + log);
    }
    try {
      const r = await fetch(url + '/settings');
      if (r.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(userDir, { recursive: true, force: true });
      throw new Error(`Node-RED did not start in ${startMs / 1000} s:\n` + log);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const events: CommsEvent[] = [];
  const ws = new WebSocketCtor(url.replace('http', 'ws') + '/comms');
  await new Promise<void>((ok, fail) => {
    ws.on('open', () => ok());
    ws.on('error', fail);
  });
  ws.on('message', (data: Buffer) => {
    const parsed = JSON.parse(data.toString()) as CommsEvent | CommsEvent[];
    for (const e of Array.isArray(parsed) ? parsed : [parsed]) if (e && e.topic) events.push(e);
  });
  ws.send(JSON.stringify({ subscribe: 'debug' }));
  ws.send(JSON.stringify({ subscribe: 'status/#' }));

  return {
    url,
    userDir,
    output: () => log,
    events,
    async deploy(flows) {
      const r = await fetch(url + '/flows', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify(flows),
      });
      if (!r.ok) throw new Error(`deploy failed: ${r.status} ${await r.text()}`);
    },
    async inject(id) {
      const r = await fetch(url + '/inject/' + id, { method: 'POST' });
      if (!r.ok) throw new Error(`inject ${id} failed: ${r.status} ${await r.text()}`);
    },
    async waitForEvent(match, timeoutMs = 10000, what = 'event') {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(match);
        if (found) return found;
        if (Date.now() > end) {
          throw new Error(`no ${what} after ${timeoutMs} ms; comms saw:\n${JSON.stringify(events.slice(-20), null, 1)}\nNode-RED log:\n${log.slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      ws.close();
      if (child.exitCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
