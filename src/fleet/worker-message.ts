// What a fleet worker thread posts to the thread that started it.

import { RawRun } from './simulate';

export type WorkerMessage =
  | { kind: 'progress'; deviceMs: number; events: number }
  | { kind: 'done'; raw: RawRun };
