// What the server did, counted in memory and reported on a timer (never per packet).

import { RequestProblem } from './server-reply';

export type PolicyDrop = 'rate-limited' | 'denied' | 'restricted';
export type DropReason = RequestProblem | PolicyDrop;
export type ServerKissCode = 'RATE' | 'DENY' | 'RSTR';

/** A count for every reason: the checker refuses a reason left out. */
const NO_DROPS: { [reason in DropReason]: number } = {
  'too-short': 0, 'bad-version': 0, 'reserved-mode': 0, 'symmetric-mode': 0, 'server-mode': 0, 'broadcast-mode': 0, 'control-mode': 0,
  'private-mode': 0, 'rate-limited': 0, 'denied': 0, 'restricted': 0,
};

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
  return { requests: 0, answered: 0, leaked: 0, kissed: { RATE: 0, DENY: 0, RSTR: 0 }, dropped: Object.assign({}, NO_DROPS), clients: 0, maxClients: maxClients, evictions: 0 };
}

export function copyServerStats(s: ServerStats): ServerStats {
  return {
    requests: s.requests,
    answered: s.answered,
    leaked: s.leaked,
    kissed: { RATE: s.kissed.RATE, DENY: s.kissed.DENY, RSTR: s.kissed.RSTR },
    dropped: Object.assign({}, s.dropped),
    clients: s.clients,
    maxClients: s.maxClients,
    evictions: s.evictions,
  };
}

export function totalDropped(s: ServerStats): number {
  const counts: { [reason: string]: number } = s.dropped;
  let n = 0;
  for (var reason in counts) n += counts[reason];
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
