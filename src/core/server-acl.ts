// Who may ask the server for time. As in chrony, the most specific matching block decides, whatever the order
// the rules were written in, so "deny 10.0.0.0/8" with "allow 10.1.0.0/16" lets 10.1.x.x in. A tie goes to deny.
//
// The two refusals mean different things to the client:
// - "deny": the operator named this client's block explicitly → DENY kiss;
// - "restrict": an allow list exists and the client is outside it → RSTR kiss.

import { Cidr, cidrContains, IpWords, parseCidr, parseIp } from './server-address';

export type AccessVerdict = 'allow' | 'deny' | 'restrict';

export interface AccessList {
  allow: Cidr[];
  deny: Cidr[];
}

export type AccessListResult = { ok: true; acl: AccessList } | { ok: false; field: string; message: string };

function parseBlocks(field: string, list: string[], out: Cidr[]): string {
  for (var i = 0; i < list.length; i++) {
    const block = parseCidr(list[i]);
    if (!block) return field + '[' + i + ']: not an address or CIDR block (e.g. 192.168.1.0/24, fd00::/8): ' + JSON.stringify(list[i]);
    out.push(block);
  }
  return '';
}

export function createAccessList(allow: string[], deny: string[]): AccessListResult {
  const acl: AccessList = { allow: [], deny: [] };
  let problem = parseBlocks('allow', allow, acl.allow);
  if (problem) return { ok: false, field: 'allow', message: problem };
  problem = parseBlocks('deny', deny, acl.deny);
  if (problem) return { ok: false, field: 'deny', message: problem };
  return { ok: true, acl: acl };
}

/** Whether the list can refuse anyone at all; an empty list lets the server skip parsing addresses. */
export function accessListIsOpen(acl: AccessList): boolean {
  return acl.allow.length === 0 && acl.deny.length === 0;
}

function longestMatch(blocks: Cidr[], address: IpWords): number {
  let best = -1;
  for (var i = 0; i < blocks.length; i++) {
    if (blocks[i].bits > best && cidrContains(blocks[i], address)) best = blocks[i].bits;
  }
  return best;
}

export function checkAccess(acl: AccessList, addressText: string): AccessVerdict {
  if (accessListIsOpen(acl)) return 'allow';
  const address = parseIp(addressText);
  // A source address we cannot read is nobody we agreed to serve.
  if (!address) return acl.allow.length > 0 ? 'restrict' : 'deny';
  const denied = longestMatch(acl.deny, address);
  const allowed = longestMatch(acl.allow, address);
  if (denied >= 0 && denied >= allowed) return 'deny';
  if (allowed >= 0) return 'allow';
  return acl.allow.length > 0 ? 'restrict' : 'allow';
}
