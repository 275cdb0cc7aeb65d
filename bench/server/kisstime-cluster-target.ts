// Kisstime on several cores: Node's cluster module forks N workers, and each binds the same address and port, which
// makes the primary share one UDP socket with all of them (every worker reads from it; the kernel wakes one per
// datagram). Each worker has its own responder and client table, so per-client rate limits and conduct records are
// per worker: a trade-off this measurement is meant to weigh. Same config as the single-process target.
// argv: ADDRESS PORT WORKERS; reports { listening } over IPC once every worker listens.

import cluster from 'node:cluster';
import { createServer } from '../../src/node/server';

const [address, portText, workersText] = [process.argv[2], process.argv[3], process.argv[4]];
const port = parseInt(portText, 10);

if (cluster.isPrimary) {
  const workers = parseInt(workersText, 10);
  let listening = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (m: { listening?: unknown }) => {
      if (m.listening && ++listening === workers) process.send?.({ listening: m.listening });
    });
  }
  process.on('disconnect', () => {
    for (const id of Object.keys(cluster.workers ?? {})) cluster.workers?.[id]?.kill();
    process.exit(0);
  });
} else {
  const server = createServer({ listen: { address, port }, config: { rateInterval: 0, localStratum: 10 } });
  server.start().then((where) => process.send?.({ listening: where }), (error: Error) => {
    process.stderr.write(error.message + '\n');
    process.exit(1);
  });
}
