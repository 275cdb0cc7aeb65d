// The politeness audit as a library: play scripted scenarios to an SNTP client, grade what it sends against the
// RFCs, and render the result as text, JSON or HTML. The `kisstime audit` command is a thin layer over this.

export { runAudit, AuditOptionError, DEFAULT_SECONDS, DEFAULT_FIRST_ADDRESS, LISTEN_WAIT_FACTOR, nthAddress } from './run';
export type { AuditOptions, AuditEvent } from './run';
export { gradeScenario, baselineOf, worstVerdict } from './grade';
export { SCENARIOS, SCENARIO_NAMES, LISTEN_ORDER, LARGE_OFFSET_S, parseScenarioList, planReply } from './scenarios';
export { formatAuditText } from './report-text';
export { formatAuditHtml, timelineSvg } from './report-html';
export { fillTemplate } from './command';
export * from './types';
