// A scripted NTP server on loopback whose clock runs at a rate and offset the test sets: from its start it serves
// start + elapsed × (1 + rate) + offset, so a client sees an offset that grows by exactly `ratePpm` ppm. Built with
// the core codec (unlike kisser.ts, it checks nothing of the core's: it feeds the clock model real samples).
// It runs in the test's own process, so no second process's wake-up latency lands between T1 and T4.

import { createSocket, type Socket } from 'node:dgram';
import {
  addSeconds, asciiToRefId, decodePacket, differenceToSeconds, encodePacket, MODE_CLIENT, MODE_SERVER, NtpTimestamp,
  secondsToShortFormat, subtractTimestamps,
} from '../../src/core';
import { NodeClock } from '../../src/node/clock';
import type { ClockSource } from '../../src/node/types';
import { assertLoopback } from './loopback';

export interface DriftingServerOptions {
  address: string;
  /** 0 picks a free port. */
  port?: number;
  /** How much faster than the local clock the served clock runs, ppm (negative: slower). */
  ratePpm: number;
  /** The served clock's offset from the local clock at the server's start, s. */
  offsetS: number;
  /** Root dispersion to claim, s (the root delay is 0, as for a stratum 1 server). */
  rootDispersionS?: number;
  /** The local clock; a warmed-up NodeClock by default. */
  clock?: ClockSource;
}

export interface DriftingServer {
  address: string;
  port: number;
  /** Requests answered so far. */
  answered(): number;
  /** The true offset (served − local) at a local wall time. */
  trueOffsetAt(localWall: NtpTimestamp): number;
  close(): Promise<void>;
}

export async function startDriftingServer(options: DriftingServerOptions): Promise<DriftingServer> {
  assertLoopback(options.address);
  let clock = options.clock;
  if (!clock) {
    // The anchor found by a cold NodeClock can be tens of µs off; a few more runs warm its code up.
    let warm = new NodeClock();
    for (let i = 0; i < 10; i++) warm = new NodeClock();
    clock = warm;
  }
  const source = clock;
  const rate = options.ratePpm * 1e-6;
  const start = source.wallNtp();
  const trueOffsetAt = (localWall: NtpTimestamp): number => options.offsetS + rate * differenceToSeconds(subtractTimestamps(localWall, start));
  const served = (localWall: NtpTimestamp): NtpTimestamp => addSeconds(localWall, trueOffsetAt(localWall));
  const rootDispersion = secondsToShortFormat(options.rootDispersionS ?? 0.00002);
  let answered = 0;

  const socket: Socket = createSocket('udp4');
  socket.on('message', (message, rinfo) => {
    // T2 first, before any parsing, as a real server timestamps on arrival.
    const receivedAt = source.wallNtp();
    const request = decodePacket(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
    if (!request.ok || request.packet.mode !== MODE_CLIENT) return;
    const receive = served(receivedAt);
    const reply = {
      leap: 0, version: request.packet.version, mode: MODE_SERVER, stratum: 1, poll: request.packet.poll, precision: -20,
      rootDelay: 0, rootDispersion: rootDispersion, refId: asciiToRefId('DRFT'),
      reference: addSeconds(receive, -1), origin: request.packet.transmit, receive: receive, transmit: receive,
    };
    const bytes = encodePacket(reply);
    // T3 last, written into the encoded reply, so that encoding is not part of the path back.
    const transmit = served(source.wallNtp());
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint32(40, transmit.s);
    view.setUint32(44, transmit.f);
    answered++;
    socket.send(bytes, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? 0, options.address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    address: options.address,
    port: socket.address().port,
    answered: () => answered,
    trueOffsetAt: trueOffsetAt,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
