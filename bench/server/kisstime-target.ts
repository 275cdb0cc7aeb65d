// The Kisstime server as a benchmark target, in a process of its own: rate limiting off and the local clock at
// stratum 10, which is what chronyd is configured to do in the same run. Reports its address over IPC.

import { createServer } from '../../src/node/server';

const [address, port] = [process.argv[2], parseInt(process.argv[3], 10)];
const server = createServer({ listen: { address, port }, config: { rateInterval: 0, localStratum: 10 }, receiveBufferBytes: 4 * 1024 * 1024 });
server.start().then((where) => process.send?.({ listening: where }), (error: Error) => {
  process.send?.({ error: error.message });
  process.exit(1);
});
process.on('message', (m: string) => {
  if (m === 'stats') process.send?.({ stats: server.stats() });
});
process.on('disconnect', () => process.exit(0));
