// What the engine asks of a client policy: a set of devices it drives, one event at a time.

import { DeviceClocks } from './device-clocks';
import { FleetNetwork } from './network';
import { FleetRecorder } from './recorder';

export type PolicyName = 'kisstime' | 'arduino' | 'router-2003' | 'daily' | 'lwip-rr';

export const POLICY_NAMES: PolicyName[] = ['kisstime', 'arduino', 'router-2003', 'daily', 'lwip-rr'];

/** A policy drives devices base .. base + count - 1 (global numbers); every method takes a global number. */
export interface PolicyContext {
  base: number;
  count: number;
  seed: number;
  network: FleetNetwork;
  clocks: DeviceClocks;
  recorder: FleetRecorder;
}

export interface FleetPolicy {
  readonly name: PolicyName;
  /** "kisstime (the real core Scheduler)" or "model of ..., source: ...". */
  readonly label: string;
  powerOn(device: number, nowMs: number): void;
  /** Power gone: everything in flight and in memory is lost (persisted state survives). */
  powerOff(device: number, nowMs: number): void;
  /** The time of the device's next event, Infinity if none. */
  nextAtMs(device: number): number;
  /** Carry out every event of the device due at nowMs. */
  step(device: number, nowMs: number): void;
  /** The error of the device's corrected time at nowMs (s), NaN if it has no time. */
  clockErrorS(device: number, nowMs: number): number;
  /** Policy-specific counts for the report. */
  counters(): { [name: string]: number };
}

/** Virtual server addresses: never sent to (nothing leaves the process), loopback anyway so nothing could. */
export const SERVER_HOSTS = ['ntp1.fleet.example', 'ntp2.fleet.example', 'ntp3.fleet.example', 'ntp4.fleet.example'];
export const SERVER_ADDRESSES = ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'];
