// The platform limit for a time server written for Node: a dgram socket that sends every datagram straight back
// (the load generator's are 48 bytes) and does nothing else. It gets the socket options the Kisstime server uses
// (the same receive buffer, and its lookup hook that answers IP literals at once), so the only difference left
// between the two is Kisstime's own work.
// Reports its address over IPC.

import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';

const [address, portText] = [process.argv[2], process.argv[3]];
const socket = createSocket({
  type: isIPv6(address) ? 'udp6' : 'udp4',
  recvBufferSize: 4 * 1024 * 1024,
  // The server's literalLookup, written out so that this process loads nothing of Kisstime's.
  lookup: (host: string, _family: unknown, callback: (error: Error | null, address: string, family: number) => void) => callback(null, host, host.indexOf(':') >= 0 ? 6 : 4),
});
socket.on('message', (message, rinfo) => socket.send(message, rinfo.port, rinfo.address));
socket.bind(parseInt(portText, 10), address, () => process.send?.({ listening: socket.address() }));
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
