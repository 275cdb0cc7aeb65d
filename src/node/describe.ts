// Words for what the client is doing, shared by the CLI and the library's messages, so a deferral or a kiss reads
// the same wherever a person meets it.

import { DeferReason, FailCause, formatDurationS, KissAction, RestoreNote } from '../core';

export const ALL_REFUSED = 'every configured server has refused us (DENY/RSTR)';

const RESTORED: { [note in RestoreNote]: string } = {
  'none': 'no saved state',
  'restored': 'saved state restored',
  'migrated': 'saved state migrated from an older schema',
  'corrupt': 'saved state is corrupt: starting afresh, politely',
  'unknown-schema': 'saved state has an unknown schema: starting afresh, politely',
};

const UNUSABLE_WHY: { [reason: string]: string } = {
  'unsynchronised': 'the server is unsynchronised (leap indicator 3)',
  'bad-stratum': 'the server is unsynchronised (stratum 16 or more)',
  'zero-timestamp': 'its timestamps are zero',
  'root-distance': 'its root distance is over the limit (maxRootDistance)',
};

export function restoreMessage(note: RestoreNote): string {
  return RESTORED[note];
}

/** Why a poll failed, in words: detail is what the socket or resolver said, or the kiss code. */
export function failureMessage(cause: FailCause, detail: string, timeoutS: number): string {
  if (cause === 'timeout') return 'no answer within ' + formatDurationS(timeoutS);
  if (cause === 'kiss') return 'kiss ' + detail + ' (no time from this server yet)';
  if (cause === 'unusable') return 'answered, but with no usable time: ' + (UNUSABLE_WHY[detail] || detail);
  return detail;
}

const DEFER_WHY: { [reason in DeferReason]: string } = {
  'not-started': 'the client has not been started',
  'startup-delay': 'the random startup delay',
  'floor': 'the 15 s floor between requests',
  'min-interval': 'the minimum poll interval',
  'rate-limited': 'the server asked us to slow down (RATE)',
  'backoff': 'backing off after unanswered or failed polls',
  'in-flight': 'a request is already in flight',
  'resolving': 'the server name is being resolved',
  'stopped': 'every configured server has refused us',
};

/** "deferred until 2026-12-04T12:34:56.000Z (min-interval)". */
export function deferralMessage(reason: DeferReason, until: Date | null): string {
  return (until ? 'deferred until ' + until.toISOString() : 'deferred') + ' (' + reason + ')';
}

export function deferralExplanation(reason: DeferReason): string {
  return DEFER_WHY[reason] || reason;
}

/** What the client does about a kiss, in a sentence. */
export function kissConsequence(action: KissAction, intervalS: number): string {
  switch (action) {
    case 'hold':
      return 'the server refuses us: it will never be asked again (the refusal is saved)';
    case 'slow-down':
      return 'the server asks us to slow down: next request to it no sooner than ' + formatDurationS(intervalS);
    case 'ignore':
      return 'experimental code: ignored';
    default:
      return 'no time from this server yet: counted as a failed poll, retried after a backoff';
  }
}
