// One load-generator process. It owns several UDP sockets per target, each bound to its own 127.x.y.z source address
// and connected to the target (a connected socket skips Node's per-send address lookup). Every request carries the
// worker's monotonic send time in its transmit timestamp; servers copy that into the origin of the reply (an echo
// returns it where it was), so the reply alone gives the round-trip latency, with no table of outstanding requests.
//
// Both modes give each target its turn for sliceMs, round after round, so servers that run side by side meet the
// same moments of whatever else the machine is doing. 'blast' sends back-to-back batches on every socket of the
// current target, yielding to the event loop between batches so replies are read too: the offered load is whatever
// this process can push. 'paced' sends a fixed number of requests per second, spread over 1 ms ticks, and records
// every latency.
//
// Protocol: argv[2] = JSON WorkerJob; the worker sends one WorkerResult over IPC and exits.

import { createSocket, Socket } from 'node:dgram';

export interface Target {
  address: string;
  port: number;
}

export interface WorkerJob {
  targets: Target[];
  sources: string[];
  mode: 'blast' | 'paced';
  /** Requests per second for 'paced' (this worker's share). */
  rate: number;
  durationMs: number;
  /** 'paced': how long each target gets its turn. */
  sliceMs: number;
  /** Requests per socket per batch in 'blast'. */
  batch: number;
}

export interface WorkerResult {
  sent: number;
  received: number;
  /** Per target, every reply (late ones included: a backlog a server answers after its turn is still its work). */
  receivedFrom: number[];
  /** Per target, microseconds: every reply in 'paced', none in 'blast'. */
  latenciesUs: number[][];
  /** Per target, requests sent. */
  sentTo: number[];
  sendErrors: number;
}

function bindConnected(source: string, target: Target): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024 });
    s.once('error', reject);
    s.bind(0, source, () => {
      s.connect(target.port, target.address, () => {
        s.off('error', reject);
        resolve(s);
      });
    });
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as WorkerJob;
  const socketsByTarget = await Promise.all(job.targets.map((t) => Promise.all(job.sources.map((source) => bindConnected(source, t)))));
  const result: WorkerResult = {
    sent: 0, received: 0, receivedFrom: job.targets.map(() => 0), latenciesUs: job.targets.map(() => []),
    sentTo: job.targets.map(() => 0), sendErrors: 0,
  };
  const start = process.hrtime.bigint();
  const end = start + BigInt(job.durationMs) * 1000000n;
  const record = job.mode === 'paced';
  socketsByTarget.forEach((sockets, t) => {
    for (const s of sockets) {
      s.on('error', () => result.sendErrors++);
      s.on('message', (msg: Buffer) => {
        if (msg.length < 48) return;
        const now = process.hrtime.bigint();
        result.received++;
        result.receivedFrom[t]++;
        // A server copies the request's transmit timestamp into the origin; an echo sends the request itself back.
        if (record) result.latenciesUs[t].push(Number(now - msg.readBigUInt64BE((msg[0] & 7) === 3 ? 40 : 24)) / 1000);
      });
    }
  });
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
        const now = process.hrtime.bigint();
        if (now >= end) return resolve();
        const t = Math.floor(Number(now - start) / 1e6 / job.sliceMs) % job.targets.length;
        for (const s of socketsByTarget[t]) {
          for (let i = 0; i < job.batch; i++) {
            s.send(request(), onSent);
            result.sent++;
            result.sentTo[t]++;
          }
        }
        setImmediate(loop);
      };
      loop();
    } else {
      const perMs = job.rate / 1000;
      let next = 0;
      let slice = -1;
      let sliceStartMs = 0;
      let sentInSlice = 0;
      const timer = setInterval(() => {
        const now = process.hrtime.bigint();
        if (now >= end) {
          clearInterval(timer);
          return resolve();
        }
        const elapsedMs = Number(now - start) / 1e6;
        const current = Math.floor(elapsedMs / job.sliceMs);
        if (current !== slice) {
          slice = current;
          sliceStartMs = current * job.sliceMs;
          sentInSlice = 0;
        }
        const t = slice % job.targets.length;
        const sockets = socketsByTarget[t];
        const due = (elapsedMs - sliceStartMs) * perMs;
        while (sentInSlice < due) {
          sockets[next].send(request(), onSent);
          next = (next + 1) % sockets.length;
          sentInSlice++;
          result.sentTo[t]++;
          result.sent++;
        }
      }, 1);
    }
  });
  // Late replies still count for latency, not for throughput.
  await new Promise((r) => setTimeout(r, 300));
  for (const sockets of socketsByTarget) for (const s of sockets) s.close();
  (process.send as (m: unknown, cb: () => void) => void)(result, () => process.exit(0));
}

void main();
