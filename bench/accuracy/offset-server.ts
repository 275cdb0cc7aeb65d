// A tiny time server for the accuracy bench: it answers every mode-3 request with the local clock shifted by a
// known offset, built with the core codec. Run as its own process, so the clients' event loops cannot delay it.
// Loopback only: it refuses to bind anything outside 127.0.0.0/8.

import { createSocket } from 'node:dgram';
import { addSeconds, asciiToRefId, decodePacket, encodePacket, MODE_CLIENT, MODE_SERVER } from '../../src/core';
import { NodeClock } from '../../src/node/clock';

export interface OffsetServerOptions {
  address: string;
  port: number;
  shiftS: number;
}

export function isLoopbackV4(address: string): boolean {
  const parts = address.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/**
 * A NodeClock anchored after warm-up. The anchor is found by bracketing a Date.now() tick with hrtime; in a cold
 * process the first brackets run unoptimised code and land tens of µs off (measured up to ~80 µs), which would
 * show up as a bias in every client's result.
 */
export function warmClock(): NodeClock {
  let clock = new NodeClock();
  for (let i = 0; i < 20; i++) clock = new NodeClock();
  return clock;
}

/** Binds and serves until the process ends; resolves with the bound port. */
export function serveShiftedTime(options: OffsetServerOptions): Promise<number> {
  if (!isLoopbackV4(options.address)) return Promise.reject(new Error('address: loopback (127.0.0.0/8) only, got ' + options.address));
  const clock = warmClock();
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    // T2 as early as possible: reading the clock before decoding keeps parsing time out of the measurement.
    const received = clock.wallNtp();
    const request = decodePacket(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    if (!request.ok || request.packet.mode !== MODE_CLIENT) return;
    const t2 = addSeconds(received, options.shiftS);
    const reply = {
      leap: 0, version: request.packet.version, mode: MODE_SERVER, stratum: 1, poll: 4, precision: -23,
      rootDelay: 0, rootDispersion: 16, refId: asciiToRefId('GPS'),
      reference: addSeconds(t2, -1), origin: request.packet.transmit, receive: t2, transmit: t2,
    };
    const bytes = encodePacket(reply);
    // T3 as late as possible: stamped into the encoded reply, so encoding is not counted as path on the way back.
    const transmit = addSeconds(clock.wallNtp(), options.shiftS);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint32(40, transmit.s);
    view.setUint32(44, transmit.f);
    socket.send(bytes, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port, options.address, () => resolve(socket.address().port));
  });
}

// As a child process: node offset-server.js ADDRESS PORT SHIFT_S, prints {"port":N} once listening.
if (require.main === module) {
  const [address, port, shift] = process.argv.slice(2);
  serveShiftedTime({ address: address, port: Number(port), shiftS: Number(shift) }).then(
    (bound) => process.stdout.write(JSON.stringify({ port: bound }) + '\n'),
    (error: Error) => {
      process.stderr.write('offset-server: ' + error.message + '\n');
      process.exit(1);
    },
  );
}
