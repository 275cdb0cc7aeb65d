// Name resolution with TTLs: the scheduler re-resolves no sooner than the record's TTL, so it needs the TTL, which
// dns.lookup() does not give. Literal addresses and 'localhost' never touch DNS.

import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { Resolver, ResolvedAddresses } from './types';

/** What a literal address or 'localhost' is assumed to live for: it never changes, so a day is plenty. */
const LITERAL_TTL_S = 86400;

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e && e.code ? e.code : (e && e.message ? e.message : String(error));
}

/** A resolver for A and AAAA records; rejects with a message that names the host and both failures. */
export function createDnsResolver(): Resolver {
  return async (host: string): Promise<ResolvedAddresses> => {
    const literal = host.replace(/^\[|\]$/g, '');
    if (isIP(literal)) return { addresses: [literal], ttlS: LITERAL_TTL_S };
    if (literal.toLowerCase() === 'localhost' || literal.toLowerCase() === 'localhost.') {
      return { addresses: ['127.0.0.1', '::1'], ttlS: LITERAL_TTL_S };
    }
    const [v4, v6] = await Promise.allSettled([dns.resolve4(literal, { ttl: true }), dns.resolve6(literal, { ttl: true })]);
    const records = (v4.status === 'fulfilled' ? v4.value : []).concat(v6.status === 'fulfilled' ? v6.value : []);
    if (records.length === 0) {
      const why4 = v4.status === 'rejected' ? describe(v4.reason) : 'no A records';
      const why6 = v6.status === 'rejected' ? describe(v6.reason) : 'no AAAA records';
      throw new Error('cannot resolve ' + JSON.stringify(host) + ': A: ' + why4 + ', AAAA: ' + why6);
    }
    // IPv4 first: it is what most NTP servers and most home networks answer on.
    let ttlS = Infinity;
    for (const r of records) ttlS = Math.min(ttlS, r.ttl);
    return { addresses: records.map((r) => r.address), ttlS: Number.isFinite(ttlS) ? ttlS : 0 };
  };
}
