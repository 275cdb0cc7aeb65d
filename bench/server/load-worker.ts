// One load-generator process. It owns several UDP sockets, each bound to its own 127.x.y.z source address and
// connected to the target (a connected socket skips Node's per-send address lookup). Every request carries the
// worker's monotonic send time in its transmit timestamp; servers copy that into the origin of the reply (an echo
// returns it where it was), so the reply alone gives the round-trip latency, with no table of outstanding requests.
//
// Modes: 'blast' sends back-to-back batches on every socket, yielding to the event loop between batches so replies
// are read too, for the whole duration: the offered load is whatever this process can push. 'paced' sends a fixed
// number of requests per second, spread over 1 ms ticks, and records every latency.
//
// Protocol: argv[2] = JSON WorkerJob; the worker sends one WorkerResult over IPC and exits.

import { createSocket, Socket } from 'node:dgram';

export interface WorkerJob {
  address: string;
  port: number;
  sources: string[];
  mode: 'blast' | 'paced';
  /** Requests per second for 'paced' (this worker's share). */
  rate: number;
  durationMs: number;
  /** Requests per socket per batch in 'blast'. */
  batch: number;
}

export interface WorkerResult {
  sent: number;
  received: number;
  /** Replies that arrived during the measured window (after warm-up), and its length. */
  receivedInWindow: number;
  windowMs: number;
  /** Microseconds; every reply in 'paced', none in 'blast'. */
  latenciesUs: number[];
  sendErrors: number;
}

const WARMUP_MS = 500;

function bindConnected(source: string, address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024 });
    s.once('error', reject);
    s.bind(0, source, () => {
      s.connect(port, address, () => {
        s.off('error', reject);
        resolve(s);
      });
    });
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as WorkerJob;
  const sockets = await Promise.all(job.sources.map((source) => bindConnected(source, job.address, job.port)));
  const result: WorkerResult = { sent: 0, received: 0, receivedInWindow: 0, windowMs: job.durationMs - WARMUP_MS, latenciesUs: [], sendErrors: 0 };
  const start = process.hrtime.bigint();
  const warmEnd = start + BigInt(WARMUP_MS) * 1000000n;
  const end = start + BigInt(job.durationMs) * 1000000n;
  const record = job.mode === 'paced';
  for (const s of sockets) {
    s.on('error', () => result.sendErrors++);
    s.on('message', (msg: Buffer) => {
      if (msg.length < 48) return;
      const now = process.hrtime.bigint();
      result.received++;
      if (now >= warmEnd && now < end) result.receivedInWindow++;
      // A server copies the request's transmit timestamp into the origin; an echo sends the request itself back.
      if (record) result.latenciesUs.push(Number(now - msg.readBigUInt64BE((msg[0] & 7) === 3 ? 40 : 24)) / 1000);
    });
  }
  const request = (): Buffer => {
    const b = Buffer.alloc(48);
    b[0] = 0x23;
    b.writeBigUInt64BE(process.hrtime.bigint(), 40);
    return b;
  };
  const onSent = (error: Error | null): void => {
    if (error) result.sendErrors++;
  };

  await new Promise<void>((resolve) => {
    if (job.mode === 'blast') {
      const loop = (): void => {
        if (process.hrtime.bigint() >= end) return resolve();
        for (const s of sockets) {
          for (let i = 0; i < job.batch; i++) {
            s.send(request(), onSent);
            result.sent++;
          }
        }
        setImmediate(loop);
      };
      loop();
    } else {
      let due = 0;
      const perMs = job.rate / 1000;
      let next = 0;
      const timer = setInterval(() => {
        const now = process.hrtime.bigint();
        if (now >= end) {
          clearInterval(timer);
          return resolve();
        }
        due = (Number(now - start) / 1e6) * perMs;
        while (result.sent < due) {
          sockets[next].send(request(), onSent);
          next = (next + 1) % sockets.length;
          result.sent++;
        }
      }, 1);
    }
  });
  // Late replies still count for latency, not for throughput.
  await new Promise((r) => setTimeout(r, 300));
  for (const s of sockets) s.close();
  (process.send as (m: unknown, cb: () => void) => void)(result, () => process.exit(0));
}

void main();
