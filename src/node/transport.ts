// One NTP request on the wire. Every request gets a fresh UDP socket on a random source port (RFC 9109), so an
// off-path attacker has to guess the port as well as the 64-bit nonce. The socket is connected, so the kernel
// already drops datagrams from any other address or port; what gets through is handed to the core, which checks
// it again and decides. The socket stays open until the caller closes it (a reply was accepted, or the poll
// timed out), so forged replies that race the genuine one are seen and counted instead of ending the request.

import { createSocket, Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Endpoint, NtpTimestamp } from '../core';
import { ClockSource } from './types';

export interface WireReply {
  from: Endpoint;
  bytes: Uint8Array;
  /** The local wall clock just before the request was sent. */
  t1: NtpTimestamp;
  /** The local wall clock as the reply was handed to us. */
  t4: NtpTimestamp;
}

export interface RequestOptions {
  address: string;
  port: number;
  bytes: Uint8Array;
  clock: ClockSource;
  /** An unref'd socket does not keep the process alive. */
  unref?: boolean;
  onSent?: (t1: NtpTimestamp) => void;
  onReply: (reply: WireReply) => void;
  /** Send failures and socket errors (ICMP unreachable shows up here on a connected socket). Called at most once. */
  onError: (message: string) => void;
}

export interface OutgoingRequest {
  readonly localPort: number | null;
  close(): void;
}

/** Sends one request; never throws. Errors, even synchronous ones, arrive through onError. */
export function sendRequest(options: RequestOptions): OutgoingRequest {
  let socket: Socket | null = null;
  let t1: NtpTimestamp | null = null;
  let closed = false;
  let errored = false;
  let localPort: number | null = null;

  const close = (): void => {
    if (closed) return;
    closed = true;
    if (socket) {
      try {
        socket.close();
      } catch {
        // Already closed by Node after an error: nothing left to release.
      }
    }
  };
  const fail = (message: string): void => {
    if (closed || errored) return;
    errored = true;
    options.onError(message);
  };

  try {
    const s = createSocket(isIPv6(options.address) ? 'udp6' : 'udp4');
    socket = s;
    if (options.unref) s.unref();
    s.on('error', (error: NodeJS.ErrnoException) => fail('UDP error talking to ' + endpointText(options) + ': ' + (error.code || error.message)));
    s.on('message', (message: Buffer, rinfo) => {
      // T4 first: nothing may run between the datagram's arrival and reading the clock.
      const t4 = options.clock.wallNtp();
      if (closed || t1 === null) return;
      options.onReply({
        from: { address: rinfo.address, port: rinfo.port },
        bytes: new Uint8Array(message),
        t1: t1,
        t4: t4,
      });
    });
    // connect() binds to port 0 first: the kernel picks a fresh random source port.
    s.connect(options.port, options.address, () => {
      if (closed) return;
      try {
        localPort = s.address().port;
        t1 = options.clock.wallNtp();
        s.send(options.bytes, (error) => {
          if (error) fail('cannot send to ' + endpointText(options) + ': ' + ((error as NodeJS.ErrnoException).code || error.message));
        });
        if (options.onSent) options.onSent(t1);
      } catch (error) {
        fail('cannot send to ' + endpointText(options) + ': ' + (error instanceof Error ? error.message : String(error)));
      }
    });
  } catch (error) {
    // Defer, so the caller sees the same order of events as for an asynchronous failure.
    const message = 'cannot open a UDP socket for ' + endpointText(options) + ': ' + (error instanceof Error ? error.message : String(error));
    setImmediate(() => fail(message));
  }

  return {
    get localPort() {
      return localPort;
    },
    close: close,
  };
}

function endpointText(o: { address: string; port: number }): string {
  return (isIPv6(o.address) ? '[' + o.address + ']' : o.address) + ':' + o.port;
}
