// The audit as a terminal table: one row per scenario, one column per rule, then the reasons for every failure and
// warning with its RFC clause, then what could not be judged.

import { AuditReport, RuleId, Verdict } from './types';

const COLUMNS: { rule: RuleId; head: string }[] = [
  { rule: 'asked', head: 'asked' }, { rule: 'floor', head: 'floor' }, { rule: 'kiss-stop', head: 'kiss' }, { rule: 'rate-backoff', head: 'rate' },
  { rule: 'silence-backoff', head: 'backoff' }, { rule: 'spoofed-kiss', head: 'spoof' }, { rule: 'clock-leak', head: 'clock' },
  { rule: 'other-fields', head: 'fields' }, { rule: 'source-port', head: 'port' }, { rule: 'survives', head: 'survives' },
];

const CELL: { [v in Verdict]: string } = { 'pass': 'pass', 'fail': 'FAIL', 'warn': 'warn', 'not-judged': 'n/j' };

function intervalsText(intervals: number[]): string {
  if (intervals.length === 0) return '-';
  const shown = intervals.slice(0, 5).map((v) => (v < 10 ? v.toFixed(1) : v.toFixed(0)));
  return shown.join(' ') + (intervals.length > 5 ? ' …' : '');
}

export function formatAuditText(report: AuditReport): string {
  const lines: string[] = [];
  const how = report.mode === 'cmd'
    ? report.scenarios.length + ' scenarios side by side, ' + report.secondsPerScenario.toFixed(0) + ' s each' + (report.rerunS ? ', command rerun every ' + report.rerunS + ' s' : '')
    : report.scenarios.length + ' scenarios one after another, ' + report.secondsPerScenario.toFixed(0) + ' s each';
  lines.push('kisstime audit of ' + (report.mode === 'cmd' ? 'the command: ' : 'the device asking ') + report.target);
  lines.push(how + '; started ' + report.startedAt);
  lines.push('');
  const header = ['scenario', 'requests', 'intervals s'].concat(COLUMNS.map((c) => c.head));
  const rows = report.scenarios.map((sc) => {
    const cells = [sc.scenario, String(sc.requests.length), intervalsText(sc.intervalsS)];
    for (const c of COLUMNS) {
      const r = sc.rules.find((x) => x.rule === c.rule);
      cells.push(r ? CELL[r.verdict] : '');
    }
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i < 3 && i !== 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  lines.push(fmt(header));
  for (const r of rows) lines.push(fmt(r));
  lines.push('(pass · FAIL · warn: allowed but worth fixing · n/j: not judged · blank: not graded in that scenario)');

  const problems: string[] = [];
  for (const sc of report.scenarios) {
    for (const r of sc.rules) {
      if (r.verdict !== 'fail' && r.verdict !== 'warn') continue;
      problems.push((r.verdict === 'fail' ? 'FAIL ' : 'warn ') + sc.scenario + ' · ' + r.rule + ': ' + r.detail);
      problems.push('     ' + r.clause);
    }
  }
  if (problems.length > 0) {
    lines.push('');
    lines.push('Why:');
    for (const p of problems) lines.push('  ' + p);
  }
  // A client that never asked usually never started: say what it printed.
  const silent = report.scenarios.filter((sc) => sc.requests.length === 0 && sc.command && !sc.command.running && sc.command.lastExit);
  if (silent.length > 0) {
    lines.push('');
    lines.push('The command exited without asking:');
    for (const sc of silent) {
      const exit = sc.command?.lastExit;
      const last = (sc.outputTail ?? '').split('\n').filter((l) => l.trim() !== '').pop();
      lines.push('  ' + sc.scenario + ': code ' + (exit ? exit.code : '?') + (last ? ', last output: ' + last.trim() : ', no output'));
    }
  }
  if (report.notJudged.length > 0) {
    lines.push('');
    lines.push('Could not be judged:');
    for (const n of report.notJudged) lines.push('  ' + n);
  }
  const failed = report.scenarios.reduce((n, sc) => n + sc.rules.filter((r) => r.verdict === 'fail').length, 0);
  lines.push('');
  lines.push(report.verdict === 'pass' ? 'Verdict: pass (no rule failed)' : 'Verdict: FAIL (' + failed + ' rule' + (failed === 1 ? '' : 's') + ' failed)');
  return lines.join('\n') + '\n';
}
