// kisstime audit: grade any SNTP client's politeness. A scripted server plays scenarios (good replies, silence,
// kisses, a forged kiss, malformed replies, a large offset) and the rules of RFC 4330, RFC 5905, RFC 8633 and RFC
// 9109 are checked against what the client sends. Exit 0: every rule passed; 1: a rule failed; 2: usage error, or
// the audit could not start.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  AuditEvent, AuditOptionError, AuditOptions, AuditReport, DEFAULT_FIRST_ADDRESS, DEFAULT_SECONDS, LISTEN_WAIT_FACTOR, formatAuditHtml, formatAuditText, parseScenarioList,
  runAudit, SCENARIO_NAMES,
} from '../audit';
import { CliIo, processIo, untilStopped } from './args';
import { flagErrorMessage } from './flag-error';
import { parseListen } from './serve';

const USAGE = `usage: kisstime audit --cmd TEMPLATE [options]      grade a client program (scenarios side by side)
       kisstime audit --listen ADDR:PORT [options]   grade a device configured to ask ADDR:PORT (one after another)

  --cmd TEMPLATE      run once per scenario through /bin/sh, with {host}, {port} and {state} (a fresh scratch path)
                      filled in; each scenario gets its own loopback address, e.g.
                      --cmd 'kisstime sync {host}:{port} --lan --state {state} --min-interval 16s --startup-delay 0-0'
  --listen ADDR:PORT  answer a device that asks this address; DENY and RSTR are played last
  --seconds N         length of each scenario (default ${DEFAULT_SECONDS}); in listen mode counted from the device's
                      first request in it, waiting up to ${LISTEN_WAIT_FACTOR}× as long for that request
  --scenarios LIST    comma-separated, from: ${SCENARIO_NAMES.join(', ')}
                      (good is added when deny, rstr or spoofed-deny need its baseline)
  --rerun S           start the command again every S seconds, as cron would run a one-shot tool (cmd mode)
  --port N            the port the scenarios listen on (cmd mode; default 123 as root, else a free one each)
  --first-address A   the first scenario's loopback address (cmd mode; default ${DEFAULT_FIRST_ADDRESS})
  --json FILE         write the full report as JSON ("-": to stdout, the table then goes to stderr)
  --html FILE         write a self-contained HTML report with a timeline of the requests
  --quiet             no progress lines
exit status: 0 every rule passed, 1 a rule failed, 2 usage error or the audit could not start
`;

const HINT = '(kisstime audit --help lists the options)\n';

const OPTIONS = {
  'cmd': { type: 'string' },
  'listen': { type: 'string' },
  'seconds': { type: 'string' },
  'scenarios': { type: 'string' },
  'rerun': { type: 'string' },
  'port': { type: 'string' },
  'first-address': { type: 'string' },
  'json': { type: 'string' },
  'html': { type: 'string' },
  'quiet': { type: 'boolean' },
  'help': { type: 'boolean', short: 'h' },
} as const;

/** parseArgs's errors with the flag named; a stray positional is most likely a client command without --cmd. */
function argError(error: unknown): string {
  const text = flagErrorMessage(error);
  return text.startsWith('unexpected argument') ? text + ' (the client goes in --cmd \'...\')' : text;
}

function number(text: string | undefined, flag: string, check: (n: number) => boolean, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !check(n)) throw new AuditOptionError(flag, what + ': ' + JSON.stringify(text));
  return n;
}

function progressLine(event: AuditEvent, listen: boolean): string | null {
  if (event.type === 'scenario-start') {
    return 'audit: ' + event.scenario + ' on ' + event.host + ':' + event.port + (event.command ? ': ' + event.command : '');
  }
  if (event.type === 'request') {
    if (!listen) return null;
    const r = event.request;
    return 'audit: ' + event.scenario + ' +' + r.atS.toFixed(1) + ' s request from ' + r.from.address + ':' + r.from.port + ' → ' + r.reply;
  }
  const rep = event.report;
  return 'audit: ' + event.scenario + ' done: ' + rep.requests.length + ' requests, ' + rep.verdict;
}

export async function run(args: string[], io: CliIo = processIo()): Promise<number> {
  let values: { [k: string]: string | boolean | undefined };
  try {
    values = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    io.err('kisstime audit: ' + argError(error) + '\n' + HINT);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] as string : undefined);
  let options: AuditOptions;
  try {
    const listenText = str('listen');
    const listen = listenText === undefined ? undefined : parseListen(listenText);
    if (listen === null) throw new AuditOptionError('--listen', 'expected ADDR:PORT, e.g. 192.168.1.1:123 or [fd00::1]:123: ' + JSON.stringify(listenText));
    const scenariosText = str('scenarios');
    let scenarios;
    if (scenariosText !== undefined) {
      const parsed = parseScenarioList(scenariosText);
      if (!parsed.ok) throw new AuditOptionError('--scenarios', parsed.message);
      scenarios = parsed.scenarios;
    }
    options = {
      cmd: str('cmd'),
      listen,
      scenarios,
      seconds: number(str('seconds'), '--seconds', (n) => n > 0 && n <= 86400, 'a number of seconds above 0'),
      rerunS: number(str('rerun'), '--rerun', (n) => n >= 1, 'a number of seconds, at least 1'),
      port: number(str('port'), '--port', (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port from 0 to 65535'),
      firstAddress: str('first-address'),
    };
    if (options.cmd === undefined && options.listen === undefined) throw new AuditOptionError('--cmd', 'give --cmd TEMPLATE or --listen ADDR:PORT');
    if (options.cmd !== undefined && options.listen !== undefined) throw new AuditOptionError('--cmd', 'give --cmd or --listen, not both');
  } catch (error) {
    io.err('kisstime audit: ' + (error as Error).message + '\n' + HINT);
    return 2;
  }

  const quiet = values.quiet === true;
  const jsonPath = str('json');
  const htmlPath = str('html');
  const controller = new AbortController();
  const stopListening = untilStopped(io, () => controller.abort());
  options.signal = controller.signal;
  options.onEvent = (event) => {
    const line = quiet ? null : progressLine(event, options.listen !== undefined);
    if (line) io.err(line + '\n');
  };
  let report: AuditReport;
  try {
    report = await runAudit(options);
  } catch (error) {
    stopListening();
    const e = error as Error & { field?: string };
    const flag = e instanceof AuditOptionError ? '--' + e.field.replace(/^--/, '').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()) + ': ' + e.message.substring(e.message.indexOf(': ') + 2) : e.message;
    io.err('kisstime audit: ' + flag + '\n');
    return 2;
  }
  stopListening();
  const text = formatAuditText(report);
  if (jsonPath === '-') {
    io.out(JSON.stringify(report, null, 1) + '\n');
    io.err(text);
  } else {
    io.out(text);
    if (jsonPath) writeFileSync(jsonPath, JSON.stringify(report, null, 1) + '\n');
  }
  if (htmlPath) writeFileSync(htmlPath, formatAuditHtml(report));
  return report.verdict === 'pass' ? 0 : 1;
}
