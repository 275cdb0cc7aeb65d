// Which server and address the scheduler asks next: the cursor moves past addresses that refused us, across
// servers, and says so when it fails over. A name is a stop for the cursor too, while it may be looked up.

import { Scheduler } from './decisions';
import { DNS_RETRY_AFTER_FAILURE_S } from './policy';
import { AddressState, isName, NEVER, ServerState } from './state';

export function isHeld(s: Scheduler, server: ServerState, ip: AddressState): boolean {
  return s.state.hold.some((h) => h.a === ip.a && h.p === server.p);
}

/** The address the cursor is on, unless it refused us or the name has none yet. */
export function currentTarget(s: Scheduler): AddressState | null {
  const server = s.state.srv[s.run.si];
  const ip = server.ips[s.run.ai];
  return ip && !isHeld(s, server, ip) ? ip : null;
}

/** The soonest the name may be looked up again: its TTL, and after failures at most hourly. */
export function resolveAllowedAtMs(s: Scheduler, server: ServerState): number {
  const hourMs = DNS_RETRY_AFTER_FAILURE_S * 1000;
  // A name whose every address refused us, or that failed since, is worth a fresh look only hourly (pools rotate).
  const allHeld = server.ips.length > 0 && server.ips.every((ip) => isHeld(s, server, ip));
  return Math.max(server.ttl, server.bad || allHeld ? server.dnsa + hourMs : NEVER, server.dnse + hourMs);
}

/** Moves the cursor to the next address that has not refused us, across servers; reports a failover unless quiet. */
export function advance(s: Scheduler, quiet: boolean): void {
  const r = s.run;
  const servers = s.state.srv;
  const from = servers[r.si];
  const fromIp = from.ips[r.ai];
  r.ai++;
  for (var step = 0; step <= servers.length; step++) {
    const server = servers[r.si];
    while (r.ai < server.ips.length && isHeld(s, server, server.ips[r.ai])) r.ai++;
    if (r.ai < server.ips.length || (isName(server) && server !== from && r.now >= resolveAllowedAtMs(s, server))) break;
    r.si = (r.si + 1) % servers.length;
    r.ai = 0;
  }
  const to = servers[r.si];
  if (r.ai >= to.ips.length) r.ai = 0;
  const toIp = to.ips[r.ai];
  if (!quiet && (to !== from || toIp !== fromIp)) {
    r.out.push({ type: 'failover', fromHost: from.h, fromAddress: fromIp ? fromIp.a : '', toHost: to.h, toAddress: toIp ? toIp.a : '' });
  }
}

/** True, and the scheduler stopped, when every server has refused us and no name may resolve to a new address. */
export function stopIfHopeless(s: Scheduler): boolean {
  const hopeless = s.state.srv.every((server) => !isName(server) && server.ips.every((ip) => isHeld(s, server, ip)));
  if (hopeless && s.run.phase !== 'stopped') {
    s.run.phase = 'stopped';
    s.run.out.push({ type: 'stopped' });
  }
  return hopeless;
}
