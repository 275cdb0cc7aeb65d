// Made-up request traces for the grading tests: what the audit's server would have recorded from a client that asks
// at the given times, with a random nonce (or its clock) in the transmit timestamp.

import { randomBytes } from 'node:crypto';
import type { ReplyKind, SeenRequest } from '../../src/node/audit';
import { hexFromUnixMs } from '../../src/node/audit/wire';

export const T0_MS = Date.UTC(2026, 11, 4, 12, 0, 0);

export interface TraceOptions {
  /** What the server answered each request (one kind for all, or a function of the index). */
  reply?: ReplyKind | ((index: number) => ReplyKind);
  /** Put this clock (our clock + offsetS) in the transmit timestamp instead of a nonce. */
  clockOffsetS?: number;
  /** Source port of every request; default a new random one each time. */
  port?: number;
  patch?: Partial<SeenRequest>;
}

export function trace(timesS: number[], options: TraceOptions = {}): SeenRequest[] {
  return timesS.map((atS, i) => {
    const wallMs = T0_MS + atS * 1000;
    const reply = typeof options.reply === 'function' ? options.reply(i) : options.reply ?? 'time';
    return {
      atS,
      wallMs,
      from: { address: '127.0.0.1', port: options.port ?? 20000 + i * 7 + Math.floor(Math.random() * 5) },
      length: 48,
      leap: 0,
      version: 4,
      mode: 3,
      stratum: 0,
      poll: 0,
      precision: 0,
      rootDelay: 0,
      rootDispersion: 0,
      refId: 0,
      reference: '0000000000000000',
      origin: '0000000000000000',
      receive: '0000000000000000',
      transmit: options.clockOffsetS === undefined ? randomBytes(8).toString('hex') : hexFromUnixMs(wallMs + options.clockOffsetS * 1000),
      reply,
      ourTransmit: reply === 'time' ? hexFromUnixMs(wallMs + 0.2) : '0000000000000000',
      ...options.patch,
    };
  });
}

/** Requests every stepS seconds from startS while under endS. */
export function every(stepS: number, endS: number, startS = 0): number[] {
  const out: number[] = [];
  for (let t = startS; t < endS; t += stepS) out.push(t);
  return out;
}
