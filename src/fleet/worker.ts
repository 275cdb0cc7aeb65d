// One worker thread simulates one contiguous range of the fleet and hands back its raw counts, with progress
// reports on the way when the starter asked for them.

import { parentPort, workerData } from 'node:worker_threads';
import { ProgressSink } from './engine';
import { FleetRunOptions, simulateRange } from './simulate';
import { WorkerMessage } from './worker-message';

/** Progress is gathered here and posted at most this often: a message per engine report would be thousands. */
const POST_EVERY_MS = 100;

const job = workerData as { options: FleetRunOptions; base: number; count: number; progress: boolean };
const port = parentPort as NonNullable<typeof parentPort>;

function post(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

let pending: { deviceMs: number; events: number; postedMs: number } = { deviceMs: 0, events: 0, postedMs: 0 };
const progress: ProgressSink | null = job.progress ? {
  advance(deviceMs: number, events: number): void {
    pending.deviceMs += deviceMs;
    pending.events += events;
    const nowMs = Date.now();
    if (nowMs - pending.postedMs < POST_EVERY_MS) return;
    post({ kind: 'progress', deviceMs: pending.deviceMs, events: pending.events });
    pending = { deviceMs: 0, events: 0, postedMs: nowMs };
  },
} : null;

const raw = simulateRange(job.options, job.base, job.count, progress);
if (progress && (pending.deviceMs > 0 || pending.events > 0)) post({ kind: 'progress', deviceMs: pending.deviceMs, events: pending.events });
const buffers = [raw.loadPerSecond, raw.dnsPerSecond, raw.requestsByDevice, raw.firstOnMs, raw.firstSyncMs, raw.syncAfterRecoveryMs, raw.withinAfterRecoveryMs]
  .map((a) => a.buffer as ArrayBuffer);
post({ kind: 'done', raw: raw }, buffers);
