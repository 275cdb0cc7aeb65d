// A deliberately rude SNTP client, modelled on the 2003-era routers and today's Arduino NTPClient: one socket on one
// source port for its whole life, a request every second whatever comes back (time, kisses or nothing), and its
// real clock in the transmit timestamp. The politeness audit must fail it, for the right reasons.
// Usage (after bundling): node rude-client.js HOST PORT

import { createSocket } from 'node:dgram';

const [host, portText] = process.argv.slice(2);
const port = parseInt(portText, 10);
if (!host || !(port > 0)) {
  process.stderr.write('usage: rude-client HOST PORT\n');
  process.exit(2);
}

const NTP_UNIX_OFFSET_S = 2208988800;

function request(): Buffer {
  const b = Buffer.alloc(48);
  b[0] = (0 << 6) | (3 << 3) | 3;
  const nowMs = Date.now();
  b.writeUInt32BE(Math.floor(nowMs / 1000) + NTP_UNIX_OFFSET_S, 40);
  b.writeUInt32BE(Math.floor(((nowMs % 1000) / 1000) * 4294967296), 44);
  return b;
}

const socket = createSocket('udp4');
// Replies are read and thrown away: a kiss changes nothing.
socket.on('message', () => undefined);
socket.bind(0, () => {
  const send = (): void => {
    socket.send(request(), port, host);
  };
  send();
  setInterval(send, 1000);
});
process.on('SIGTERM', () => process.exit(0));
