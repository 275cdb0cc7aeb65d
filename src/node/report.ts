// The sample a user sees: the measurement, and the clock model after it, in seconds, with the corrected time.

import { Decision, refIdToString } from '../core';
import { SampleReport } from './types';

type SampleDecision = Extract<Decision, { type: 'sample' }>;

/** wallMs: the local wall clock (Unix ms) when the reply was handled. */
export function sampleReport(d: SampleDecision, wallMs: number): SampleReport {
  const s = d.sample;
  return {
    offset: s.offsetS,
    delay: s.delayS,
    clockOffset: d.clockOffsetS,
    driftPpm: d.driftPpm,
    maxError: d.maxErrorS,
    step: d.outcome === 'step',
    outlier: d.outcome === 'outlier',
    accuracyMet: d.accuracyMet,
    stratum: s.stratum,
    refid: refIdToString(s.refId, s.stratum),
    leap: s.leap,
    precision: Math.pow(2, s.precision),
    rootDistance: s.rootDistanceS,
    server: s.host,
    address: s.address,
    port: s.port,
    interval: d.intervalS,
    time: new Date(wallMs + d.clockOffsetS * 1000),
    sample: s,
  };
}
