// The audit's rules on made-up traces: each one passes the polite behaviour and fails the rude one, with a reason a
// vendor can act on, and says "not judged" when the trace cannot tell.

import { describe, expect, test } from 'vitest';
import { gradeScenario, type CommandEnd, type RuleId, type RuleResult, type ScenarioName, type SeenRequest } from '../../src/node/audit';
import { hexFromUnixMs } from '../../src/node/audit/wire';
import { every, T0_MS, trace } from './trace';

function rule(scenario: ScenarioName, requests: SeenRequest[], id: RuleId, extra: { seconds?: number; baseline?: { requests: number; medianIntervalS: number | null } | null; command?: CommandEnd; goodCommand?: CommandEnd; priorAtS?: number } = {}): RuleResult {
  const graded = gradeScenario({
    scenario, requests, seconds: extra.seconds ?? 120, baseline: extra.baseline === undefined ? { requests: 8, medianIntervalS: 16 } : extra.baseline,
    priorAtS: extra.priorAtS ?? null, command: extra.command, goodCommand: extra.goodCommand,
  });
  const found = graded.rules.find((r) => r.rule === id);
  if (!found) throw new Error(id + ' not graded in ' + scenario + ': ' + JSON.stringify(graded.rules));
  return found;
}

const running: CommandEnd = { running: true, runs: 1, crash: null, failure: null, lastExit: null };

describe('the 15 s floor (RFC 4330 §10)', () => {
  test('16 s apart passes; 14 s apart fails and says how many and how short', () => {
    expect(rule('good', trace(every(16, 120)), 'floor').verdict).toBe('pass');
    const r = rule('good', trace([0, 16, 30, 46]), 'floor');
    expect(r.verdict).toBe('fail');
    expect(r.detail).toBe('1 of 3 intervals under 15 s; shortest 14.0 s');
    expect(r.clause).toContain('RFC 4330 §10');
  });

  test('a client aiming at exactly 15 s is not failed for 50 ms of timer jitter', () => {
    expect(rule('good', trace([0, 14.95, 29.9]), 'floor').verdict).toBe('pass');
  });

  test('one request is not judged; in listen mode the last request of the previous scenario counts', () => {
    expect(rule('good', trace([3]), 'floor').verdict).toBe('not-judged');
    expect(rule('silence', trace([3]), 'floor', { priorAtS: -5 }).verdict).toBe('fail');
  });
});

describe('DENY and RSTR stop the client (RFC 5905 §7.4)', () => {
  test('silence after the kiss passes when the client usually asks more often', () => {
    const r = rule('deny', trace([0.2], { reply: 'kiss-DENY' }), 'kiss-stop');
    expect(r.verdict).toBe('pass');
    expect(r.detail).toContain('no request in the 119.8 s after the DENY');
  });

  test('asking again after the kiss fails, counting the requests', () => {
    const r = rule('rstr', trace(every(16, 120), { reply: 'kiss-RSTR' }), 'kiss-stop');
    expect(r.verdict).toBe('fail');
    expect(r.detail).toBe('asked 7 more times after the RSTR, the first 16.0 s later');
  });

  test('a one-shot that asked once with good replies too is not judged, and the report says how to test it', () => {
    const r = rule('deny', trace([0.5], { reply: 'kiss-DENY' }), 'kiss-stop', { baseline: { requests: 1, medianIntervalS: null } });
    expect(r.verdict).toBe('not-judged');
    expect(r.detail).toContain('--rerun');
  });

  test('too little time after the kiss to tell is not judged', () => {
    expect(rule('deny', trace([100], { reply: 'kiss-DENY' }), 'kiss-stop').verdict).toBe('not-judged');
  });
});

describe('RATE slows the client down, and again at each RATE (RFC 5905 §7.4)', () => {
  const kissedAfterFirst = (i: number): 'time' | 'kiss-RATE' => (i === 0 ? 'time' : 'kiss-RATE');

  test('doubling passes and shows the intervals', () => {
    const r = rule('rate', trace([0, 16, 48, 112], { reply: kissedAfterFirst }), 'rate-backoff');
    expect(r.verdict).toBe('pass');
    expect(r.detail).toBe('intervals 16.0 s before the first RATE, then 32.0, 64.0 s');
  });

  test('the same pace after a RATE fails', () => {
    const r = rule('rate', trace(every(16, 120), { reply: kissedAfterFirst }), 'rate-backoff');
    expect(r.verdict).toBe('fail');
    expect(r.detail).toContain('asked again 16.0 s after a RATE, no slower than the 16.0 s before it');
  });

  test('slowing once but not again at the second RATE fails', () => {
    const r = rule('rate', trace([0, 16, 48, 80, 112], { reply: kissedAfterFirst }), 'rate-backoff');
    expect(r.verdict).toBe('fail');
    expect(r.detail).toContain('after RATE #2 it asked 32.0 s later, no slower than the 32.0 s after RATE #1');
  });

  test('in listen mode the RATE comes at once, and the pace before is the last request of the previous scenario', () => {
    expect(rule('rate', trace([0, 40, 100], { reply: 'kiss-RATE' }), 'rate-backoff', { priorAtS: -16 }).verdict).toBe('pass');
    const r = rule('rate', trace([0, 16, 32], { reply: 'kiss-RATE' }), 'rate-backoff', { priorAtS: -16 });
    expect(r.verdict).toBe('fail');
    expect(r.detail).toContain('asked again 16.0 s after a RATE, no slower than the 16.0 s before it');
  });

  test('no request after the RATE for longer than before passes; one request is not judged', () => {
    expect(rule('rate', trace([0, 16], { reply: kissedAfterFirst }), 'rate-backoff').verdict).toBe('pass');
    expect(rule('rate', trace([0], { reply: kissedAfterFirst }), 'rate-backoff').verdict).toBe('not-judged');
  });
});

describe('backing off while the server is silent (RFC 4330 §10)', () => {
  test('doubling retries pass; constant retries fail; shrinking retries fail', () => {
    expect(rule('silence', trace([0, 16, 48, 112], { reply: 'none' }), 'silence-backoff').verdict).toBe('pass');
    const constant = rule('silence', trace(every(16, 120), { reply: 'none' }), 'silence-backoff');
    expect(constant.verdict).toBe('fail');
    expect(constant.detail).toMatch(/^kept retrying without backing off: 16\.0, 16\.0/);
    expect(rule('malformed', trace([0, 32, 48, 60], { reply: 'malformed-runt' }), 'silence-backoff').verdict).toBe('fail');
  });

  test('two requests and then a long quiet spell count as backing off; too few retries to tell are not judged', () => {
    expect(rule('silence', trace([0, 16], { reply: 'none' }), 'silence-backoff').verdict).toBe('pass');
    expect(rule('silence', trace([90, 106], { reply: 'none' }), 'silence-backoff').verdict).toBe('not-judged');
    // chrony's pattern: four retries at its poll interval, then double; in a 60 s window only the first three show.
    expect(rule('silence', trace([0, 16, 32, 48], { reply: 'none' }), 'silence-backoff', { seconds: 60 }).verdict).toBe('not-judged');
    expect(rule('silence', trace([0, 16, 32, 48, 64, 96], { reply: 'none' }), 'silence-backoff', { seconds: 120 }).verdict).toBe('pass');
  });
});

describe('a forged DENY does not silence the client (RFC 8633 §5.4)', () => {
  test('asking on passes; stopping after the first forged kiss fails', () => {
    expect(rule('spoofed-deny', trace(every(16, 120), { reply: 'forged-DENY+time' }), 'spoofed-kiss').verdict).toBe('pass');
    const r = rule('spoofed-deny', trace([0.3], { reply: 'forged-DENY+time' }), 'spoofed-kiss');
    expect(r.verdict).toBe('fail');
    expect(r.detail).toContain('a forgery silenced it');
  });
});

describe('the clock stays on the client (data minimisation)', () => {
  test('random nonces pass; the real clock fails with how close it was', () => {
    expect(rule('good', trace(every(16, 120)), 'clock-leak').verdict).toBe('pass');
    const r = rule('good', trace(every(16, 120), { clockOffsetS: 0.002 }), 'clock-leak');
    expect(r.verdict).toBe('fail');
    expect(r.detail).toMatch(/the transmit timestamp is the client's clock in 8 of 8 requests \(closest 2\.0 ms from ours\)/);
  });

  test('a clock a day off is still caught, because it advances with real time', () => {
    const r = rule('good', trace(every(16, 120), { clockOffsetS: -86400 }), 'clock-leak');
    expect(r.verdict).toBe('fail');
    expect(r.detail).toContain('advance with real time between requests (7 pairs): a clock 86400.0 s behind');
  });

  test('in the offset scenario a client that set its clock from us is caught too', () => {
    expect(rule('offset', trace([0, 20], { clockOffsetS: 3600 }), 'clock-leak').verdict).toBe('fail');
  });

  test('a zero transmit timestamp is a warning (no nonce), and so is a repeated one', () => {
    expect(rule('good', trace([0, 16], { patch: { transmit: '0000000000000000' } }), 'clock-leak').verdict).toBe('warn');
    expect(rule('good', trace([0, 16], { patch: { transmit: '1234567812345678' } }), 'clock-leak').verdict).toBe('warn');
  });
});

describe('other fields stay zero', () => {
  test('all zero passes; poll and precision are a warning; a clock in the reference timestamp fails', () => {
    expect(rule('good', trace([0, 16]), 'other-fields').verdict).toBe('pass');
    const warn = rule('good', trace([0, 16], { patch: { poll: 6, precision: -20 } }), 'other-fields');
    expect(warn.verdict).toBe('warn');
    expect(warn.detail).toBe('non-zero: poll 6, precision -20');
    const leak = rule('good', trace([0, 16], { patch: { reference: hexFromUnixMs(T0_MS - 5000) } }), 'other-fields');
    expect(leak.verdict).toBe('fail');
    expect(leak.detail).toContain('reference (2 of 2)');
  });

  test('an origin echoing our own last transmit timestamp is named as such, not as a leak', () => {
    const requests = trace([0, 16]);
    requests[1].origin = requests[0].ourTransmit;
    const r = rule('good', requests, 'other-fields');
    expect(r.verdict).toBe('warn');
    expect(r.detail).toContain('origin (echoes our reply) (1 of 2)');
  });
});

describe('source ports (RFC 9109)', () => {
  test('a new port each time passes; one port throughout and port 123 are warnings', () => {
    expect(rule('good', trace(every(16, 120)), 'source-port').verdict).toBe('pass');
    expect(rule('good', trace(every(16, 120), { port: 1337 }), 'source-port').detail).toContain('one source port (1337) for all 8 requests');
    expect(rule('good', trace([0], { port: 123 }), 'source-port').verdict).toBe('warn');
    expect(rule('good', trace([0]), 'source-port').verdict).toBe('not-judged');
  });
});

describe('the client survives bad replies (cmd mode)', () => {
  test('a crash fails; a long-running client that quits fails; a one-shot is not judged', () => {
    const requests = trace([0, 16], { reply: 'malformed-runt' });
    expect(rule('malformed', requests, 'survives', { command: { ...running, running: false, crash: { signal: 'SIGSEGV', atS: 3 } }, goodCommand: running }).verdict).toBe('fail');
    expect(rule('malformed', requests, 'survives', { command: { ...running, running: false, lastExit: { code: 1, atS: 20 } }, goodCommand: running }).detail)
      .toBe('exited with code 1 after 20.0 s, though it kept running with good replies');
    expect(rule('malformed', requests, 'survives', { command: running, goodCommand: running }).verdict).toBe('pass');
    expect(rule('malformed', requests, 'survives', { command: { ...running, running: false, lastExit: { code: 0, atS: 1 } }, goodCommand: { ...running, running: false } }).verdict)
      .toBe('not-judged');
  });
});

describe('a scenario without requests', () => {
  test('good with no request fails "asked"; other scenarios show only "not judged"', () => {
    const good = gradeScenario({ scenario: 'good', requests: [], seconds: 60, baseline: null, priorAtS: null });
    expect(good.verdict).toBe('fail');
    expect(good.rules.map((r) => r.rule)).toEqual(['asked']);
    const deny = gradeScenario({ scenario: 'deny', requests: [], seconds: 60, baseline: null, priorAtS: null });
    expect(deny.verdict).toBe('not-judged');
  });
});
