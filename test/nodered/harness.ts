// node-red-node-test-helper, typed just enough for these tests, plus small waits on what nodes emit.
// The nodes are plain CommonJS loaded by Node's own require, exactly as Node-RED loads them.

import { afterAll } from 'vitest';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogue } from './catalogue';

const nodeRequire = createRequire(__filename);

export interface NodeStatus {
  fill?: string;
  shape?: string;
  text?: string;
}

export interface TestNode {
  id: string;
  on(event: string, fn: (arg: never) => void): void;
  receive(msg: Record<string, unknown>): void;
  [key: string]: unknown;
}

export interface Helper {
  init(runtimePath: string, userSettings?: Record<string, unknown>): void;
  settings(userSettings: Record<string, unknown>): Record<string, unknown>;
  load(nodes: unknown[], flow: Record<string, unknown>[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  /** The spy on Node-RED's log since the last load: one call per log line. */
  log(): { ERROR: number; getCalls(): { args: { level: number; msg: unknown; id?: string }[] }[] };
}

export const helper: Helper = nodeRequire('node-red-node-test-helper');
helper.init(nodeRequire.resolve('node-red'));

type NodeModule = (RED: object) => void;

/** A node file as Node-RED loads it, but with RED._ reading that node's en-US catalogue (the helper's returns keys). */
function withCatalogue(name: string): NodeModule {
  const load = nodeRequire('../../nodes/' + name + '.js') as NodeModule;
  const translate = catalogue(name);
  const wrapped: NodeModule = (RED) => load(Object.create(RED, { _: { value: translate } }) as object);
  return wrapped;
}

export const kisstimeNodes: unknown[] = [withCatalogue('kisstime-servers'), withCatalogue('kisstime-sync'), withCatalogue('kisstime-now')];

const userDirs: string[] = [];

/** A fresh Node-RED user directory, deleted after the test file that asked for it. */
export function tempUserDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kisstime-nr-'));
  userDirs.push(dir);
  return dir;
}

// Registered when a test file first imports this module (each file gets its own copy), so every file that uses
// tempUserDir() removes its directories when it ends, whether or not it says so.
afterAll(() => {
  for (const dir of userDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export interface Msg {
  topic?: string;
  payload?: Record<string, unknown>;
  error?: { message: string; source: { id: string; type: string } };
  [key: string]: unknown;
}

/** Every message a helper node receives, with a way to wait for the next ones. */
export class Inbox {
  readonly messages: Msg[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(node: TestNode) {
    node.on('input', ((msg: Msg) => {
      this.messages.push(msg);
      this.waiters = this.waiters.filter((w) => {
        if (this.messages.length >= w.n) w.resolve();
        return this.messages.length < w.n;
      });
    }) as (arg: never) => void);
  }

  async waitFor(n: number, timeoutMs = 3000): Promise<Msg[]> {
    if (this.messages.length < n) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${this.messages.length} of ${n} messages after ${timeoutMs} ms: ${JSON.stringify(this.messages)}`)), timeoutMs);
        this.waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    }
    return this.messages.slice();
  }
}

/** The status calls a node made, in order (the helper reports each call on the next tick). */
export class StatusLog {
  readonly statuses: NodeStatus[] = [];

  constructor(node: TestNode) {
    node.on('call:status', ((call: { args: NodeStatus[] }) => this.statuses.push(call.args[0])) as (arg: never) => void);
  }

  last(): NodeStatus | undefined {
    return this.statuses[this.statuses.length - 1];
  }

  async waitFor(match: (s: NodeStatus) => boolean, timeoutMs = 3000): Promise<NodeStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = this.last();
      if (last && match(last)) return last;
      if (Date.now() > deadline) throw new Error('status never matched; seen: ' + JSON.stringify(this.statuses));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
