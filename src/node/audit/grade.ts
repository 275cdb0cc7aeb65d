// Which rules each scenario is graded on, and how the verdicts add up. Everything here is a pure function of what
// the audit's server saw (and, in cmd mode, how the client's process ended), so tests can grade made-up traces.

import { gradeClockLeak, gradeOtherFields, gradeSourcePort } from './grade-packets';
import {
  Baseline, gradeAsked, gradeFloor, gradeKissStop, gradeRateBackoff, gradeSilenceBackoff, gradeSpoofedKiss, intervalsOf, median, secondsText,
} from './grade-timing';
import { COMMON_RULES, LARGE_OFFSET_S, scenarioInfo } from './scenarios';
import { CommandEnd, RuleId, RuleResult, ScenarioName, ScenarioReport, SeenRequest, Verdict } from './types';

const SURVIVES_CLAUSE = 'RFC 5905 §8: a reply that fails the checks is discarded; it is no reason to stop';

export interface GradeInput {
  scenario: ScenarioName;
  seconds: number;
  requests: SeenRequest[];
  baseline: Baseline | null;
  /** Listen mode: the device's last request before this scenario, in this scenario's time base. */
  priorAtS: number | null;
  /** cmd mode: how the command ended here, and in the good scenario. */
  command?: CommandEnd;
  goodCommand?: CommandEnd;
}

export function baselineOf(good: SeenRequest[] | null): Baseline | null {
  if (!good) return null;
  return { requests: good.length, medianIntervalS: median(intervalsOf(good)) };
}

function gradeSurvives(command: CommandEnd | undefined, goodCommand: CommandEnd | undefined): RuleResult {
  const rule = 'survives';
  const clause = SURVIVES_CLAUSE;
  if (!command) return { rule, verdict: 'not-judged', clause, detail: 'no process to watch (listen mode)' };
  if (command.crash) return { rule, verdict: 'fail', clause, detail: 'the client died of ' + command.crash.signal + ' after ' + secondsText(command.crash.atS) };
  if (goodCommand && (goodCommand.runs > 1 || !goodCommand.running)) {
    return { rule, verdict: 'not-judged', clause, detail: 'it exits by itself with good replies too (a one-shot), so an exit here says nothing' };
  }
  if (command.running) return { rule, verdict: 'pass', clause, detail: 'still running at the end' };
  const exit = command.lastExit;
  if (exit && exit.code !== 0) {
    return { rule, verdict: 'fail', clause, detail: 'exited with code ' + exit.code + ' after ' + secondsText(exit.atS) + ', though it kept running with good replies' };
  }
  return { rule, verdict: 'pass', clause, detail: 'exited normally (code 0)' + (exit ? ' after ' + secondsText(exit.atS) : '') };
}

function gradeRule(rule: RuleId, input: GradeInput): RuleResult {
  const { requests, seconds, baseline } = input;
  const offsetS = input.scenario === 'offset' ? LARGE_OFFSET_S : 0;
  switch (rule) {
    case 'asked':
      return gradeAsked(requests, seconds, input.scenario === 'good');
    case 'floor':
      return gradeFloor(requests, input.priorAtS);
    case 'clock-leak':
      return gradeClockLeak(requests, offsetS);
    case 'other-fields':
      return gradeOtherFields(requests, offsetS);
    case 'source-port':
      return gradeSourcePort(requests);
    case 'kiss-stop':
      return gradeKissStop(requests, seconds, baseline);
    case 'rate-backoff':
      return gradeRateBackoff(requests, seconds, input.priorAtS);
    case 'silence-backoff':
      return gradeSilenceBackoff(requests, seconds);
    case 'spoofed-kiss':
      return gradeSpoofedKiss(requests, seconds, baseline);
    default:
      return gradeSurvives(input.command, input.goodCommand);
  }
}

/** fail over warn over pass; not-judged only when no rule could be judged. */
export function worstVerdict(verdicts: Verdict[]): Verdict {
  for (const v of ['fail', 'warn', 'pass'] as Verdict[]) if (verdicts.indexOf(v) >= 0) return v;
  return 'not-judged';
}

export function gradeScenario(input: GradeInput): Pick<ScenarioReport, 'rules' | 'verdict' | 'intervalsS'> {
  const info = scenarioInfo(input.scenario);
  const names = info.rules.concat(COMMON_RULES);
  const rules = names.map((rule) => gradeRule(rule, input));
  // Without a request there is nothing to judge: the other rules' "no request" would only repeat it.
  const shown = input.requests.length === 0 ? rules.filter((r) => r.rule === 'asked' || r.rule === 'survives') : rules;
  return { rules: shown, verdict: worstVerdict(shown.map((r) => r.verdict)), intervalsS: intervalsOf(input.requests) };
}

/** The report's "could not be judged" lines. */
export function notJudgedLines(scenarios: ScenarioReport[]): string[] {
  const out: string[] = [];
  for (const sc of scenarios) {
    for (const r of sc.rules) if (r.verdict === 'not-judged') out.push(sc.scenario + ' · ' + r.rule + ': ' + r.detail);
  }
  return out;
}
