// A Kisstime server in a process of its own, so that its resident memory can be measured apart from the test
// runner. Started by forking the esbuild bundle of this file; talks over IPC:
// argv[2] = JSON { address, port, config } → sends { listening: {address, port} }; on 'stats' or 'stats-gc' →
// { reply, stats, rude, rssBytes, heapUsedBytes }.

import { createServer } from '../../src/node/server';

const options = JSON.parse(process.argv[2] || '{}');
const server = createServer({ listen: { address: options.address, port: options.port }, config: options.config, receiveBufferBytes: 4 * 1024 * 1024 });
server.start().then((where) => process.send?.({ listening: where }), (error: Error) => {
  process.send?.({ error: error.message });
  process.exit(1);
});
process.on('message', (m: string) => {
  // After a full collection, heapUsed is what the server really holds (started with --expose-gc for this).
  const gc = (globalThis as { gc?: () => void }).gc;
  if (m === 'stats-gc' && gc) gc();
  if (m === 'stats' || m === 'stats-gc') {
    process.send?.({ reply: m, stats: server.stats(), rude: server.rudeClients(3), rssBytes: process.memoryUsage().rss, heapUsedBytes: process.memoryUsage().heapUsed });
  }
  if (m === 'stop') server.stop().then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
