// The audit as one self-contained HTML page: the verdict, a timeline of every request per scenario (an inline SVG,
// coloured by what the audit answered), and each scenario's rules with their reasons and RFC clauses. No scripts,
// no external files, so it can be attached to a ticket or archived by CI as it is.

import { AuditReport, ReplyKind, ScenarioReport, Verdict } from './types';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const REPLY_COLOURS: { match: (k: ReplyKind) => boolean; colour: string; label: string }[] = [
  { match: (k) => k === 'time', colour: '#2e7d32', label: 'answered with time' },
  { match: (k) => k === 'none', colour: '#9e9e9e', label: 'no answer' },
  { match: (k) => k.startsWith('kiss-'), colour: '#c62828', label: 'kiss (DENY, RSTR, RATE)' },
  { match: (k) => k.startsWith('forged'), colour: '#6a1b9a', label: 'forged DENY, then time' },
  { match: (k) => k.startsWith('malformed'), colour: '#ef6c00', label: 'malformed reply' },
];

function colourOf(kind: ReplyKind): string {
  const found = REPLY_COLOURS.find((c) => c.match(kind));
  return found ? found.colour : '#000';
}

const VERDICT_STYLE: { [v in Verdict]: string } = { 'pass': '#2e7d32', 'fail': '#c62828', 'warn': '#ef6c00', 'not-judged': '#757575' };

function badge(v: Verdict): string {
  return '<span class="badge" style="background:' + VERDICT_STYLE[v] + '">' + (v === 'not-judged' ? 'not judged' : v) + '</span>';
}

function tickStep(seconds: number): number {
  for (const step of [5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]) if (seconds / step <= 10) return step;
  return 7200;
}

/** One lane per scenario; x is seconds from the scenario's start. */
export function timelineSvg(report: AuditReport): string {
  const labelW = 150;
  const plotW = 760;
  const laneH = 30;
  const top = 24;
  const seconds = Math.max(1, ...report.scenarios.map((s) => s.seconds));
  const height = top + report.scenarios.length * laneH + 28;
  const x = (t: number): number => labelW + (Math.min(Math.max(t, 0), seconds) / seconds) * plotW;
  const parts: string[] = [];
  parts.push('<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="' + (labelW + plotW + 20) + '" height="' + height
    + '" viewBox="0 0 ' + (labelW + plotW + 20) + ' ' + height + '" role="img" aria-label="requests per scenario over time">');
  const step = tickStep(seconds);
  for (let t = 0; t <= seconds + 1e-9; t += step) {
    parts.push('<line class="tick" x1="' + x(t).toFixed(1) + '" y1="' + (top - 6) + '" x2="' + x(t).toFixed(1) + '" y2="' + (height - 22) + '" stroke="#e0e0e0"/>');
    parts.push('<text x="' + x(t).toFixed(1) + '" y="' + (height - 8) + '" font-size="11" text-anchor="middle" fill="#555">' + t + ' s</text>');
  }
  report.scenarios.forEach((sc, i) => {
    const y = top + i * laneH + laneH / 2;
    parts.push('<g class="lane" data-scenario="' + esc(sc.scenario) + '">');
    parts.push('<text x="' + (labelW - 10) + '" y="' + (y + 4) + '" font-size="12" text-anchor="end" fill="' + VERDICT_STYLE[sc.verdict] + '">' + esc(sc.scenario) + '</text>');
    parts.push('<line x1="' + labelW + '" y1="' + y + '" x2="' + (labelW + plotW) + '" y2="' + y + '" stroke="#bdbdbd"/>');
    sc.requests.forEach((r, n) => {
      parts.push('<circle class="request" cx="' + x(r.atS).toFixed(1) + '" cy="' + y + '" r="5" fill="' + colourOf(r.reply) + '"><title>'
        + esc(sc.scenario + ' #' + (n + 1) + ' at ' + r.atS.toFixed(2) + ' s from ' + r.from.address + ':' + r.from.port + ' → ' + r.reply) + '</title></circle>');
    });
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('');
}

function scenarioSection(sc: ScenarioReport): string {
  const rows = sc.rules.map((r) => '<tr><td>' + esc(r.rule) + '</td><td>' + badge(r.verdict) + '</td><td>' + esc(r.detail) + '<div class="clause">' + esc(r.clause) + '</div></td></tr>');
  const cmd = sc.command
    ? '<p class="meta">command: ' + sc.command.runs + ' run' + (sc.command.runs === 1 ? '' : 's') + (sc.command.running ? ', running at the end' : '')
      + (sc.command.crash ? ', crashed (' + esc(sc.command.crash.signal) + ')' : '') + (sc.command.lastExit ? ', last exit code ' + sc.command.lastExit.code : '') + '</p>'
    : '';
  const tail = sc.outputTail ? '<details><summary>client output (last lines)</summary><pre>' + esc(sc.outputTail) + '</pre></details>' : '';
  return '<section class="scenario" id="scenario-' + esc(sc.scenario) + '"><h3>' + esc(sc.title) + ' <small>(' + esc(sc.scenario) + ')</small> ' + badge(sc.verdict) + '</h3>'
    + '<p class="meta">' + sc.requests.length + ' request' + (sc.requests.length === 1 ? '' : 's') + ' to ' + esc(sc.host) + ':' + sc.port + ' in ' + sc.seconds.toFixed(0) + ' s'
    + (sc.intervalsS.length ? '; intervals ' + esc(sc.intervalsS.map((v) => v.toFixed(1)).join(', ')) + ' s' : '') + '</p>' + cmd
    + '<table><thead><tr><th>rule</th><th>verdict</th><th>what was seen</th></tr></thead><tbody>' + rows.join('') + '</tbody></table>' + tail + '</section>';
}

export function formatAuditHtml(report: AuditReport): string {
  const legend = REPLY_COLOURS.map((c) => '<span class="key"><svg width="12" height="12"><circle cx="6" cy="6" r="5" fill="' + c.colour + '"/></svg> ' + esc(c.label) + '</span>').join(' ');
  const notJudged = report.notJudged.length
    ? '<h2>Could not be judged</h2><ul>' + report.notJudged.map((n) => '<li>' + esc(n) + '</li>').join('') + '</ul>'
    : '';
  return '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>kisstime audit: ' + esc(report.verdict) + '</title>'
    + '<meta name="viewport" content="width=device-width, initial-scale=1">'
    + '<style>body{font-family:system-ui,sans-serif;margin:2em;color:#212121;max-width:1000px}h1 .badge{font-size:.6em;vertical-align:middle}'
    + '.badge{display:inline-block;color:#fff;border-radius:4px;padding:1px 7px;font-size:.85em}'
    + 'table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border-bottom:1px solid #e0e0e0;padding:4px 8px;text-align:left;vertical-align:top}'
    + '.clause{color:#616161;font-size:.85em}.meta{color:#424242;margin:.2em 0}.key{margin-right:1.2em;white-space:nowrap}'
    + 'pre{background:#f5f5f5;padding:.5em;overflow-x:auto}section.scenario{margin-top:1.5em}code{background:#f5f5f5;padding:0 3px}</style></head><body>'
    + '<h1>kisstime audit ' + badge(report.verdict) + '</h1>'
    + '<p class="meta">' + (report.mode === 'cmd' ? 'command <code>' + esc(report.target) + '</code>, scenarios side by side' : 'device asking ' + esc(report.target) + ', scenarios one after another')
    + '; ' + report.secondsPerScenario.toFixed(0) + ' s per scenario' + (report.rerunS ? ', command rerun every ' + report.rerunS + ' s' : '') + '; started ' + esc(report.startedAt) + '</p>'
    + '<h2>Requests over time</h2><div class="legend">' + legend + '</div>' + timelineSvg(report)
    + '<h2>Scenarios</h2>' + report.scenarios.map(scenarioSection).join('') + notJudged
    + '</body></html>\n';
}
