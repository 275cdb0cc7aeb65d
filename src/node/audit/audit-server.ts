// The audit's scripted server: one UDP socket that records every datagram it receives and answers as the current
// scenario says. In cmd mode each scenario has a server of its own; in listen mode one server plays them in turn.

import { createSocket, RemoteInfo, Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { addSeconds } from '../../core';
import { ClockSource } from '../types';
import { LARGE_OFFSET_S, planReply } from './scenarios';
import { ScenarioName, SeenRequest } from './types';
import { hexOf, readRequest, ZERO_HEX } from './wire';

export class AuditServer {
  readonly clock: ClockSource;
  private socket: Socket | null = null;
  private scenario: ScenarioName | null = null;
  private startMs = 0;
  private requests: SeenRequest[] = [];
  private readonly listeners: ((scenario: ScenarioName, request: SeenRequest) => void)[] = [];
  /** Sends that failed (the client's port closed before our answer, say); counted, never thrown. */
  sendErrors = 0;

  /** Kiss RATE from a scenario's first request (listen mode). */
  private readonly rateFromFirst: boolean;

  constructor(clock: ClockSource, rateFromFirst: boolean) {
    this.clock = clock;
    this.rateFromFirst = rateFromFirst;
  }

  /** Binds address:port (0 picks a free port); resolves with the port bound, or rejects naming the address. */
  start(address: string, port: number): Promise<number> {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      socket.once('error', (error: NodeJS.ErrnoException) => {
        socket.close();
        const where = (isIPv6(address) ? '[' + address + ']' : address) + ':' + port;
        const hint = error.code === 'EACCES' ? ' (ports under 1024 need root; --port picks another)'
          : error.code === 'EADDRINUSE' ? ' (another time server, such as chronyd or ntpd, may hold it)'
            : error.code === 'EADDRNOTAVAIL' ? ' (no interface has that address)' : '';
        reject(new Error('cannot listen on ' + where + ': ' + (error.code || error.message) + hint));
      });
      socket.bind(port, address, () => {
        socket.removeAllListeners('error');
        socket.on('error', () => {
          this.sendErrors++;
        });
        socket.on('message', (message: Buffer, rinfo: RemoteInfo) => this.onMessage(message, rinfo));
        this.socket = socket;
        resolve(socket.address().port);
      });
    });
  }

  /** Starts a scenario now: requests from here on are recorded against it and answered its way. Returns its start (monotonic ms). */
  play(scenario: ScenarioName): number {
    this.scenario = scenario;
    this.startMs = this.clock.monoMs();
    this.requests = [];
    return this.startMs;
  }

  /** The requests of the current scenario so far. */
  seen(): SeenRequest[] {
    return this.requests.slice();
  }

  onRequest(listener: (scenario: ScenarioName, request: SeenRequest) => void): void {
    this.listeners.push(listener);
  }

  stop(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    this.scenario = null;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  private onMessage(message: Buffer, rinfo: RemoteInfo): void {
    const socket = this.socket;
    const scenario = this.scenario;
    if (!socket || !scenario) return;
    const arrival = { atS: (this.clock.monoMs() - this.startMs) / 1000, wallMs: this.clock.wallMs(), from: { address: rinfo.address, port: rinfo.port } };
    const local = this.clock.wallNtp();
    const served = scenario === 'offset' ? addSeconds(local, LARGE_OFFSET_S) : local;
    const plan = planReply(scenario, message, this.requests.length, served, this.rateFromFirst);
    const answer = plan.kind === 'time' || plan.kind === 'forged-DENY+time' ? plan.replies[plan.replies.length - 1].bytes : null;
    const request = readRequest(message, arrival, plan.kind, answer ? hexOf(answer, 40) : ZERO_HEX);
    this.requests.push(request);
    for (const reply of plan.replies) socket.send(reply.bytes, rinfo.port, rinfo.address);
    for (const listener of this.listeners) listener(scenario, request);
  }
}
