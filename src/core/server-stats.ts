// What the server did, counted in memory and reported on a timer (never per packet).

import { RequestProblem } from './server-reply';

export type PolicyDrop = 'rate-limited' | 'denied' | 'restricted';
export type DropReason = RequestProblem | PolicyDrop;
export type ServerKissCode = 'RATE' | 'DENY' | 'RSTR';

export const DROP_REASONS: DropReason[] = [
  'too-short', 'bad-version', 'reserved-mode', 'symmetric-mode', 'server-mode', 'broadcast-mode', 'control-mode', 'private-mode',
  'rate-limited', 'denied', 'restricted',
];

export interface ServerStats {
  requests: number;
  /** Normal time answers, including leaked ones. */
  answered: number;
  /** Over-limit requests answered anyway by the leak. */
  leaked: number;
  kissed: { RATE: number; DENY: number; RSTR: number };
  dropped: { [reason in DropReason]: number };
  /** Clients in the table now, its cap, and how many were pushed out to make room. */
  clients: number;
  maxClients: number;
  evictions: number;
}

export function createServerStats(maxClients: number): ServerStats {
  const dropped = {} as { [reason in DropReason]: number };
  for (var i = 0; i < DROP_REASONS.length; i++) dropped[DROP_REASONS[i]] = 0;
  return { requests: 0, answered: 0, leaked: 0, kissed: { RATE: 0, DENY: 0, RSTR: 0 }, dropped: dropped, clients: 0, maxClients: maxClients, evictions: 0 };
}

export function copyServerStats(s: ServerStats): ServerStats {
  const dropped = {} as { [reason in DropReason]: number };
  for (var i = 0; i < DROP_REASONS.length; i++) dropped[DROP_REASONS[i]] = s.dropped[DROP_REASONS[i]];
  return {
    requests: s.requests,
    answered: s.answered,
    leaked: s.leaked,
    kissed: { RATE: s.kissed.RATE, DENY: s.kissed.DENY, RSTR: s.kissed.RSTR },
    dropped: dropped,
    clients: s.clients,
    maxClients: s.maxClients,
    evictions: s.evictions,
  };
}

export function totalDropped(s: ServerStats): number {
  let n = 0;
  for (var i = 0; i < DROP_REASONS.length; i++) n += s.dropped[DROP_REASONS[i]];
  return n;
}

/** One line for a log or a status: "1204 req · 1100 ok · RATE 12 · dropped 92 · 37/8192 clients". */
export function formatServerStats(s: ServerStats): string {
  let text = s.requests + ' req · ' + s.answered + ' ok';
  if (s.kissed.RATE) text += ' · RATE ' + s.kissed.RATE;
  if (s.kissed.DENY) text += ' · DENY ' + s.kissed.DENY;
  if (s.kissed.RSTR) text += ' · RSTR ' + s.kissed.RSTR;
  const dropped = totalDropped(s);
  if (dropped) text += ' · dropped ' + dropped;
  return text + ' · ' + s.clients + '/' + s.maxClients + ' clients';
}
