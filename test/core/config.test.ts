import { describe, expect, test } from 'vitest';
import { checkClientConfig, formatDurationS, parseDurationS } from '../../src/core';
import { parseServer, validateClientConfig } from '../../src/node/config-input';

describe('client configuration', () => {
  test('durations read as people write them', () => {
    expect(parseDurationS('16s')).toBe(16);
    expect(parseDurationS('34m')).toBe(2040);
    expect(parseDurationS('36h')).toBe(129600);
    expect(parseDurationS('2d')).toBe(172800);
    expect(parseDurationS(90)).toBe(90);
    expect(parseDurationS('1.5h')).toBe(5400);
    expect(parseDurationS('soon')).toBeNaN();
    expect(parseDurationS(-1)).toBeNaN();
    expect(formatDurationS(2048)).toBe('34 min');
    expect(formatDurationS(15)).toBe('15 s');
    expect(formatDurationS(131072)).toBe('36.4 h');
  });

  test('servers parse as names, IPv4, IPv6 and with ports', () => {
    expect(parseServer('time.example.com')).toEqual({ host: 'time.example.com', port: 123 });
    expect(parseServer('127.0.0.1:1123')).toEqual({ host: '127.0.0.1', port: 1123 });
    expect(parseServer('[::1]:1123')).toEqual({ host: '::1', port: 1123 });
    expect(parseServer('2001:db8::1')).toEqual({ host: '2001:db8::1', port: 123 });
    expect(parseServer('host:99999')).toBeNull();
    expect(parseServer('bad host')).toBeNull();
    expect(parseServer('')).toBeNull();
  });

  test('there is no default server', () => {
    const r = validateClientConfig({});
    expect(r).toMatchObject({ ok: false, field: 'servers' });
    expect(!r.ok && r.message).toMatch(/no default/);
  });

  test('defaults are 2^11 s to 2^17 s with a 1-300 s startup delay', () => {
    const r = validateClientConfig({ servers: ['0.vendor.pool.ntp.org'] });
    expect(r).toMatchObject({ ok: true, config: { minIntervalS: 2048, maxIntervalS: 131072, startupDelayMinS: 1, startupDelayMaxS: 300, lanServer: false } });
  });

  test('floors: 16 s always, 30 min unless it is your LAN server, 30 min for pool names even then, and the admin floor', () => {
    expect(validateClientConfig({ servers: ['10.1.1.1'], minInterval: '10s', lanServer: true })).toMatchObject({ ok: false, field: 'minInterval', message: expect.stringMatching(/floor of 16 s/) });
    expect(validateClientConfig({ servers: ['10.1.1.1'], minInterval: '16s', lanServer: true }).ok).toBe(true);
    expect(validateClientConfig({ servers: ['10.1.1.1'], minInterval: '16s' })).toMatchObject({ ok: false, field: 'minInterval', message: expect.stringMatching(/floor of 1800 s for a server you do not run \(lanServer\)/) });
    expect(validateClientConfig({ servers: ['2.europe.pool.ntp.org'], minInterval: '5m', lanServer: true })).toMatchObject({ ok: false, field: 'minInterval', message: expect.stringMatching(/NTP Pool rule/) });
    expect(validateClientConfig({ servers: ['10.1.1.1'], minInterval: '1m', lanServer: true, adminMinInterval: '5m' })).toMatchObject({ ok: false, field: 'minInterval', message: expect.stringMatching(/administrator/) });
  });

  test('every bad field is named', () => {
    expect(validateClientConfig({ servers: ['ok.example', 'not a host'] })).toMatchObject({ ok: false, field: 'servers[1]' });
    expect(validateClientConfig({ servers: ['a.example'], minInterval: 'often' })).toMatchObject({ ok: false, field: 'minInterval' });
    expect(validateClientConfig({ servers: ['a.example'], maxInterval: '10m' })).toMatchObject({ ok: false, field: 'maxInterval' });
    expect(validateClientConfig({ servers: ['a.example'], startupDelayMin: 10, startupDelayMax: 5 })).toMatchObject({ ok: false, field: 'startupDelayMax' });
    expect(validateClientConfig({ servers: ['a.example'], timeout: '5m' })).toMatchObject({ ok: false, field: 'timeout' });
    expect(validateClientConfig({ servers: ['a.example'], maxRootDistance: 0 })).toMatchObject({ ok: false, field: 'maxRootDistance' });
  });

  test('the core refuses with an Error that names the field, whatever it is given', () => {
    const refusal = (input: unknown) => {
      try {
        checkClientConfig(input as Parameters<typeof checkClientConfig>[0]);
      } catch (e) {
        return e;
      }
      return null;
    };
    for (const [input, field] of [
      [null, 'config'], [{}, 'servers'], [{ servers: ['a.example'] }, 'servers[0]'], [{ servers: [{ host: 'a.example', port: 0 }] }, 'servers[0]'],
      [{ servers: [{ host: 'a.example', port: 123 }], minInterval: '34m' }, 'minInterval'],
      [{ servers: [{ host: 'a.example', port: 123 }], accuracy: -1 }, 'accuracy'],
    ] as const) {
      const e = refusal(input);
      expect(e).toBeInstanceOf(Error);
      expect((e as { field?: string }).field).toBe(field);
      expect((e as Error).message.startsWith(field + ': ')).toBe(true);
    }
    expect(checkClientConfig({ servers: [{ host: 'a.example', port: 123 }] }).accuracyS).toBe(0.1);
  });
});
