// Who the server lets in: CIDR parsing and matching for IPv4 and IPv6, most-specific-wins, DENY vs RSTR, and the
// refid naming the upstream (IPv4 address, or the MD5 of an IPv6 one).

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkAccess, createAccessList, md5, parseCidr, parseIp, refIdForAddress, validateServerConfig } from '../../src/core';

function acl(allow: string[], deny: string[]) {
  const r = createAccessList(allow, deny);
  if (!r.ok) throw new Error(r.message);
  return r.acl;
}

describe('addresses and CIDR blocks', () => {
  test('IPv4, IPv6, compressed, mapped and zoned forms parse to the same 128 bits', () => {
    expect(parseIp('10.1.2.3')).toEqual([0, 0, 0xffff, 0x0a010203]);
    expect(parseIp('::ffff:10.1.2.3')).toEqual([0, 0, 0xffff, 0x0a010203]);
    expect(parseIp('::ffff:a01:203')).toEqual([0, 0, 0xffff, 0x0a010203]);
    expect(parseIp('::1')).toEqual([0, 0, 0, 1]);
    expect(parseIp('fe80::1%eth0')).toEqual([0xfe800000, 0, 0, 1]);
    expect(parseIp('2001:db8:0:0:0:0:0:1')).toEqual(parseIp('2001:db8::1'));
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '::1::2', '1:2:3:4:5:6:7:8:9', 'g::1', 'example.com', '1.2.3.4 ']) {
      expect(parseIp(bad)).toBeNull();
    }
  });

  test('a block matches exactly the addresses that share its prefix', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (a, b, prefix) => {
      const text = (w: number) => [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255].join('.');
      const block = parseCidr(text(a) + '/' + prefix);
      expect(block).not.toBeNull();
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      const same = ((a & mask) >>> 0) === ((b & mask) >>> 0);
      const allowOnly = acl([text(a) + '/' + prefix], []);
      expect(checkAccess(allowOnly, text(b))).toBe(same ? 'allow' : 'restrict');
    }), { numRuns: 3000 });
  });

  test('malformed blocks are refused naming the field and the entry', () => {
    const r = validateServerConfig({ allow: ['192.168.1.0/24', '10.0.0.0/33'] });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe('allow');
      expect(r.message).toContain('allow[1]');
      expect(r.message).toContain('10.0.0.0/33');
    }
    const d = validateServerConfig({ deny: 'fd00::/129' });
    expect(d.ok ? '' : d.field).toBe('deny');
  });
});

describe('access policy', () => {
  test('the most specific block decides; a tie goes to deny', () => {
    const list = acl(['10.1.0.0/16', '0.0.0.0/0'], ['10.0.0.0/8', '10.1.2.3', '192.168.5.0/24']);
    expect(checkAccess(list, '10.1.9.9')).toBe('allow');
    expect(checkAccess(list, '10.1.2.3')).toBe('deny');
    expect(checkAccess(list, '10.2.0.1')).toBe('deny');
    expect(checkAccess(list, '172.16.0.1')).toBe('allow');
    const tie = acl(['192.168.1.0/24'], ['192.168.1.0/24']);
    expect(checkAccess(tie, '192.168.1.7')).toBe('deny');
  });

  test('outside an allow list is "restrict" (RSTR); named in a deny list is "deny" (DENY)', () => {
    const list = acl(['192.168.0.0/16', 'fd00::/8'], ['192.168.66.0/24']);
    expect(checkAccess(list, '192.168.1.1')).toBe('allow');
    expect(checkAccess(list, '192.168.66.1')).toBe('deny');
    expect(checkAccess(list, '8.8.8.8')).toBe('restrict');
    expect(checkAccess(list, 'fd12::1')).toBe('allow');
    expect(checkAccess(list, '2001:db8::1')).toBe('restrict');
    expect(checkAccess(list, '::ffff:192.168.1.1')).toBe('allow');
    const denyOnly = acl([], ['::1']);
    expect(checkAccess(denyOnly, '::1')).toBe('deny');
    expect(checkAccess(denyOnly, '127.0.0.1')).toBe('allow');
  });
});

describe('refid', () => {
  test('MD5 matches node:crypto for any input', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (bytes) => {
      const ours = Buffer.from(md5(bytes)).toString('hex');
      expect(ours).toBe(createHash('md5').update(bytes).digest('hex'));
    }), { numRuns: 500 });
  });

  test('an IPv4 upstream is its address; an IPv6 one the first four octets of the MD5 of its 16 bytes', () => {
    expect(refIdForAddress('192.0.2.1')).toBe(0xc0000201);
    const raw = Buffer.from('20010db8000000000000000000000001', 'hex');
    expect(refIdForAddress('2001:db8::1')).toBe(createHash('md5').update(raw).digest().readUInt32BE(0));
    expect(refIdForAddress('nonsense')).toBe(0);
  });
});
