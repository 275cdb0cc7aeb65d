// One worker thread simulates one contiguous range of the fleet and hands back its raw counts.

import { parentPort, workerData } from 'node:worker_threads';
import { simulateRange } from './simulate';

const job = workerData as { options: Parameters<typeof simulateRange>[0]; base: number; count: number };
const raw = simulateRange(job.options, job.base, job.count);
const buffers = [raw.loadPerSecond, raw.dnsPerSecond, raw.requestsByDevice, raw.firstOnMs, raw.firstSyncMs, raw.syncAfterRecoveryMs].map((a) => a.buffer as ArrayBuffer);
(parentPort as NonNullable<typeof parentPort>).postMessage(raw, buffers);
