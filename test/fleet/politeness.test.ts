// Fleet politeness, on the real core scheduler: 1,000 simulated devices over one virtual day per scenario.
// The same checks run against models of existing clients, which must fail them: a check nothing can fail proves nothing.

import { describe, expect, test } from 'vitest';
import { DEFAULT_STARTUP_DELAY_MAX_S, DEFAULT_STARTUP_DELAY_MIN_S } from '../../src/core';
import { powerOnBound, poissonTail } from '../../src/fleet/power-on-bound';
import { runFleet } from '../../src/fleet/run-fleet';
import { PolicyName } from '../../src/fleet/policy';
import { ScenarioName, ScenarioOptions } from '../../src/fleet/scenarios';

const DEVICES = 1000;

function fleet(policy: PolicyName, scenario: ScenarioName, options: ScenarioOptions = {}, devices = DEVICES) {
  return runFleet({ devices: devices, days: 1, scenario: scenario, policy: policy, seed: 7, scenarioOptions: options });
}

/** The models poll up to every second: a few hundred of them show the failure as clearly as a thousand, faster. */
const FEW = 200;

/** The bound's reasoning is in src/fleet/power-on-bound.ts: the startup window spreads the fleet, a Poisson tail bounds the busiest second. */
function powerOnBoundFor(devices: number): number {
  return powerOnBound(devices, DEFAULT_STARTUP_DELAY_MAX_S - DEFAULT_STARTUP_DELAY_MIN_S);
}

describe('a fleet of 1,000 Kisstime devices over a virtual day', () => {
  test('the power-on bound is tight enough to mean something, and computable for a million devices', () => {
    const bound = powerOnBoundFor(DEVICES);
    expect(bound).toBeGreaterThan(DEVICES / 299);
    expect(bound).toBeLessThan(DEVICES / 20);
    // Small cases against the textbook sum; a large one must not underflow into "no bound".
    expect(poissonTail(2, 1)).toBeCloseTo(1 - Math.exp(-2), 12);
    expect(poissonTail(3, 4)).toBeCloseTo(1 - Math.exp(-3) * (1 + 3 + 4.5 + 4.5), 12);
    const million = powerOnBoundFor(1_000_000);
    expect(million).toBeGreaterThan(1_000_000 / 299);
    expect(million).toBeLessThan(1.2 * 1_000_000 / 299);
  });

  test('after a blackout, all devices powering on at once load a server no more than the startup window allows', () => {
    const r = fleet('kisstime', 'blackout');
    // Every device came back and asked again: the bound is not met by silence.
    expect(r.timeToSyncAfterRecoveryS.missing).toBe(0);
    expect(r.serverLoad.afterEvent.peakPerS).toBeLessThanOrEqual(powerOnBoundFor(DEVICES));
    expect(r.floorViolations).toBe(0);
  });

  test('after a DENY, a device never asks that server again', () => {
    const r = fleet('kisstime', 'deny');
    expect(r.deny.devicesDenied).toBeGreaterThan(50);
    expect(r.deny.requestsAfterDeny).toBe(0);
    expect(r.floorViolations).toBe(0);
  });

  test.each(['steady', 'outage', 'rate-limit', 'dns-failure', 'reboot-loop', 'firmware-update'] as ScenarioName[])(
    'no two requests from one device to one server under 15 s apart (%s)',
    (scenario) => {
      const r = fleet('kisstime', scenario, { hours: 2 });
      expect(r.requests).toBeGreaterThan(DEVICES);
      expect(r.floorViolations).toBe(0);
    },
  );

  test('a RATE-limiting server (chrony-like, shared NAT address) gets kisses honoured: the fleet slows down', () => {
    const limited = fleet('kisstime', 'rate-limit');
    const free = fleet('kisstime', 'steady');
    expect(limited.kissesSent.rate).toBeGreaterThan(0);
    expect(limited.counters.kissesHonoured).toBe(limited.kissesSent.rate);
    expect(limited.requests).toBeLessThan(free.requests);
  });
});

describe('the same checks fail for models of existing clients', () => {
  test('clients without a startup delay exceed the power-on bound after a blackout', () => {
    for (const policy of ['arduino', 'router-2003', 'daily', 'lwip-rr'] as PolicyName[]) {
      const r = fleet(policy, 'blackout');
      expect(r.serverLoad.afterEvent.peakPerS, policy).toBeGreaterThan(powerOnBoundFor(DEVICES));
    }
  });

  test('clients that treat a kiss as time, or as "try the next server", keep asking after a DENY', () => {
    for (const policy of ['arduino', 'router-2003', 'lwip-rr'] as PolicyName[]) {
      expect(fleet(policy, 'deny', {}, FEW).deny.requestsAfterDeny, policy).toBeGreaterThan(0);
    }
  });

  test('clients that retry every second go under the 15 s floor when a server is silent', () => {
    for (const policy of ['arduino', 'router-2003'] as PolicyName[]) {
      expect(fleet(policy, 'outage', { hours: 1 }, FEW).floorViolations, policy).toBeGreaterThan(0);
    }
  });
});
