// What a fleet run reports about time kept: within-target share, recovery after the scenario's event, and the trace
// of a few devices with the error bound their client reports, drawn with or without that bound.

import { describe, expect, test } from 'vitest';
import { traceChartSpec } from '../../bench/fleet/plots';
import { FleetRecorder } from '../../src/fleet/recorder';
import { planObservations } from '../../src/fleet/observations';
import { runFleet } from '../../src/fleet/run-fleet';
import { TraceResult } from '../../src/fleet/summary';

/**
 * As bench/fleet/plots.ts renders, through the test runner's own module loader (the names in variables: vega's types
 * resolve only under node16 module resolution, and these few entry points are all the test uses).
 */
async function renderSvg(spec: object): Promise<string> {
  const names = { vega: 'vega', vegaLite: 'vega-lite' };
  const vegaLite: { compile(spec: object): { spec: object } } = await import(names.vegaLite);
  const vega: { parse(spec: object): unknown; View: new (runtime: unknown, options: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void } } =
    await import(names.vega);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

describe('recovery after the scenario\'s event', () => {
  test('after a blackout every device is measured back within target, and the fleet share is followed minute by minute', () => {
    const r = runFleet({ devices: 300, days: 1, scenario: 'blackout', seed: 2 });
    const rec = r.recovery;
    expect(rec).not.toBeNull();
    if (!rec) return;
    expect(rec.atS).toBe(r.recoveryAtS);
    expect(rec.afterMinutes.slice(0, 3)).toEqual([0, 1, 2]);
    expect(rec.withinShare.length).toBe(rec.afterMinutes.length);
    expect(rec.timeToWithinS.count).toBeGreaterThan(250);
    // Their clocks ran on while they were off, and each knows from them how long it was: the restored offset and
    // drift keep nearly every device within target from the moment it is back, before any request.
    expect(rec.timeToWithinS.p50).toBe(0);
    expect(rec.shareAt10Min).toBeGreaterThan(0.98);
  });

  test('a DNS failure that hardly disturbs the clocks leaves most devices within target at once (0 s)', () => {
    const r = runFleet({ devices: 300, days: 1, scenario: 'dns-failure', seed: 2, scenarioOptions: { hours: 1 } });
    expect(r.recovery?.timeToWithinS.p50).toBe(0);
  });

  test('a scenario without a recovery reports none', () => {
    expect(runFleet({ devices: 50, days: 0.2, scenario: 'steady' }).recovery).toBeNull();
  });

  test('a tighter target leaves a smaller share within it', () => {
    const loose = runFleet({ devices: 300, days: 1, scenario: 'steady', seed: 2, targetS: 1 });
    const tight = runFleet({ devices: 300, days: 1, scenario: 'steady', seed: 2, targetS: 0.01 });
    expect(loose.accuracy.meanWithinShare).toBeGreaterThan(tight.accuracy.meanWithinShare);
    expect(tight.accuracy.targetS).toBe(0.01);
  });
});

describe('the trace of a few devices', () => {
  test('records each traced device\'s true error at every trace time, and the bound its clock model reports', () => {
    const r = runFleet({ devices: 200, days: 1, scenario: 'steady', seed: 2, trace: { devices: [3, 150], everyMs: 600e3 } });
    const trace = r.trace;
    expect(trace).not.toBeNull();
    if (!trace) return;
    expect(trace.atS.length).toBe(144);
    expect(trace.devices.map((d) => d.device)).toEqual([3, 150]);
    for (const d of trace.devices) {
      expect(d.errorS.length).toBe(144);
      // Installed within the first day: no time at first, then time whose error is mostly small.
      const known = d.errorS.filter((e): e is number => e !== null);
      expect(known.length).toBeGreaterThan(10);
      expect(Math.min(...known.map(Math.abs))).toBeLessThan(0.1);
      // One bound per sample, each a positive number of seconds.
      expect(d.bounds.length).toBeGreaterThan(0);
      expect(d.bounds.every((b) => b.boundS > 0 && b.boundS < 1)).toBe(true);
    }
  });

  test('a bound the client reports is kept, for traced devices only', () => {
    const plan = planObservations({ devices: 10, durationMs: 86400e3, targetS: 0.1, recoveryMs: Infinity, traceDevices: [4], traceEveryMs: 3600e3 });
    const recorder = new FleetRecorder(0, 10, 0, plan);
    recorder.reportedBound(4, 1000, 0.003);
    recorder.reportedBound(5, 1000, 0.004);
    expect(recorder.traceBounds).toEqual([[1000, 0.003]]);
  });

  test('the plot draws true error and target, and the reported bound when there is one', async () => {
    const trace: TraceResult = {
      atS: [3600, 7200, 10800],
      devices: [{ device: 7, errorS: [null, 0.004, 0.012], bounds: [] }],
    };
    const options = { title: 't', fromH: 0, toH: 4, targetS: 0.1, label: (i: number) => 'device ' + i };
    const without = await renderSvg(traceChartSpec(trace, options));
    expect(without).toContain('true error');
    expect(without).toContain('the client reports no error bound');
    expect(without).not.toContain('reported bound');
    trace.devices[0].bounds = [{ atS: 7200, boundS: 0.02 }, { atS: 10800, boundS: 0.03 }];
    const withBound = await renderSvg(traceChartSpec(trace, options));
    expect(withBound).toContain('+ reported bound');
    expect(withBound).toContain('device 7');
  });
});
