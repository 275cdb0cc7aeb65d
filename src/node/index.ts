// The Node.js entry point: a polite SNTP client with real sockets, plus the core pieces a program may want.

export { KisstimeClient, createClient, REJECT_REASON_NAMES } from './client';
export type { ConfigError } from './client';
export { NodeClock, createNodeClock } from './clock';
export { createDnsResolver } from './resolver';
export { cryptoRandom } from './random';
export { sendRequest } from './transport';
export type { OutgoingRequest, RequestOptions, WireReply } from './transport';
export { StateFile, readStateFile, writeFileAtomic, mergeStates, forgetServer } from './state-file';
export { validateClientConfig, coreConfigInput, parseServer } from './config-input';
export type { NodeClientConfigInput, ConfigResult } from './config-input';
export { deferralMessage, deferralExplanation, kissConsequence, failureMessage, restoreMessage } from './describe';
export { sampleReport } from './report';
export * from './types';
export {
  parseDurationS, formatDurationS, isPoolName, FLOOR_S, DEFAULT_MIN_INTERVAL_S,
  DEFAULT_MAX_INTERVAL_S, REJECT_REASONS,
} from '../core';
export type {
  ClientConfig, ClientConfigInput, DeferReason, Decision, Hold, KissAction, Phase, RejectReason, Sample, ServerSpec, ClientState,
} from '../core';
