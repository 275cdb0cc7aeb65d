// A real ntpsec ntpd (1.2.2, Debian 12) on one loopback address: the server that sends real Kiss-o'-Death packets.
//
// Debian's ntpsec package conflicts with chrony, so the binary is unpacked from the .deb into <repo>/.cache/ntpsec
// instead of being installed. It runs with no server lines and no reference clock, so it never synchronises.
//
// Observed on loopback (test/fixtures.test.ts re-checks the INIT, RATE-with-kod-10 and noserve cases):
// - unsynchronised, every answered request gets an INIT kiss: LI=3, stratum 0, refid "INIT", origin = the request's
//   transmit, receive/transmit = real server times, precision -24, poll 0 (as were the requests' polls);
// - `restrict default kod limited` with `limit average 1 burst 2`: at 100 ms spacing requests 1-2 get INIT, request
//   3 gets a RATE kiss and later ones get nothing (KoDs are themselves rate limited); at 1.1 s spacing requests 1-3
//   get INIT and 4-5 get RATE. Adding `kod 10` to `limit` makes every excess request get a RATE kiss.
//   The RATE kiss: LI=3, stratum 0, refid "RATE", poll 0, precision 0, and origin, receive and transmit all equal
//   to the request's transmit timestamp (it carries no server time at all);
// - `restrict default limited` without kod: excess requests are dropped silently;
// - `noserve` (alone, with kod, or with kod limited), `notrust` with kod limited, and `ignore`: no reply at all.
//   Requests carrying a 20- or 24-byte MAC for a key ntpd does not have got no reply either. ntpsec 1.2.2 was never
//   seen to send DENY, RSTR or CRYP, so DENY/RSTR tests need the kisser;
// - the built-in default restriction includes `limited` (burst about 20): 30 requests 20 ms apart got 20 INITs and
//   then silence. The fixture turns that off (`unrestrict default limited`) unless rateLimit is given, so that tests
//   see one reply per request.

import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  addLoopbackAlias,
  allocateLoopback,
  assertLoopback,
  PROBE_SOURCE,
  releaseLoopback,
  removeLoopbackAlias,
  udpPortBound,
} from './loopback';
import { queryOnce } from './packet';
import { makeTempDir, spawnSandboxed, waitFor, type ManagedProcess } from './process';

const REPO_ROOT = resolve(__dirname, '..', '..');
export const NTPSEC_CACHE_DIR = join(REPO_ROOT, '.cache', 'ntpsec');
const NTPD_IN_CACHE = join(NTPSEC_CACHE_DIR, 'usr', 'sbin', 'ntpd');

function run(file: string, args: string[], options: { cwd?: string; timeoutMs: number }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${String(stderr).trim()}`));
      } else {
        resolvePromise({ stdout: String(stdout), stderr: String(stderr) });
      }
    });
  });
}

let ensuring: Promise<string> | undefined;

/**
 * Path to an ntpsec ntpd binary: $KISSTIME_NTPSEC_NTPD if set, else <repo>/.cache/ntpsec/usr/sbin/ntpd, fetched with
 * `apt-get download ntpsec` and unpacked with `dpkg -x` when missing. Workers that race here each unpack into their
 * own directory and rename it into place; rename refuses to replace a non-empty directory, so the first one wins and
 * the others use its result.
 */
export function ensureNtpsec(): Promise<string> {
  ensuring ??= ensureNtpsecUncached().catch((error: unknown) => {
    ensuring = undefined;
    throw error;
  });
  return ensuring;
}

async function ensureNtpsecUncached(): Promise<string> {
  const override = process.env.KISSTIME_NTPSEC_NTPD;
  if (override) {
    return override;
  }
  if (!existsSync(NTPD_IN_CACHE)) {
    mkdirSync(dirname(NTPSEC_CACHE_DIR), { recursive: true });
    const work = mkdtempSync(join(dirname(NTPSEC_CACHE_DIR), 'ntpsec-download-'));
    try {
      // apt-get download, run as root, hands the transfer to the unprivileged _apt user, which must be able to write
      // the directory; otherwise it still works but warns about an unsandboxed download.
      chmodSync(work, 0o777);
      await run('apt-get', ['download', 'ntpsec'], { cwd: work, timeoutMs: 120000 });
      const deb = readdirSync(work).find((name) => /^ntpsec_.*\.deb$/.test(name));
      if (!deb) {
        throw new Error(`apt-get download ntpsec left no ntpsec_*.deb in ${work} (has apt-get update run?)`);
      }
      const root = join(work, 'root');
      await run('dpkg', ['-x', join(work, deb), root], { timeoutMs: 60000 });
      if (!existsSync(join(root, 'usr', 'sbin', 'ntpd'))) {
        throw new Error(`${deb} has no usr/sbin/ntpd`);
      }
      try {
        renameSync(root, NTPSEC_CACHE_DIR);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(NTPD_IN_CACHE)) {
          throw error;
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  // A binary that cannot run (missing shared libraries: libssl3, libcap2, libbsd0) should fail here, clearly.
  await run(NTPD_IN_CACHE, ['--version'], { timeoutMs: 10000 });
  return NTPD_IN_CACHE;
}

export interface NtpsecdOptions {
  /** Used to derive a private loopback address when address is not given. */
  label?: string;
  address?: string;
  /**
   * Turns on `restrict default kod limited` (or `limited` alone with kiss: false) plus
   * `limit average A burst B kod K` with the given values; ntpsec's defaults apply to the ones left out.
   * See the header comment for what each setting produced.
   */
  rateLimit?: { average?: number; burst?: number; kod?: number; kiss?: boolean };
  /**
   * Extra restrict entries, without the word "restrict", e.g. '127.9.9.9 noserve'. A host entry replaces the
   * default's flags for that host: it does not merge with them.
   */
  restrict?: string[];
  /** Extra ntp.conf lines; %DIR% is replaced by the daemon's private directory. */
  extraConfig?: string[];
  /** 'reply' (default): wait for a mode-4 answer to a probe from PROBE_SOURCE; 'bound': wait for port 123 only. */
  readyCheck?: 'reply' | 'bound';
  readyTimeoutMs?: number;
}

export interface Ntpsecd {
  address: string;
  /** Always 123: ntpd has no option for another port. */
  port: number;
  logDir: string;
  configPath: string;
  pid: number;
  /** ntpd's log file and its stdout/stderr. */
  log(): string;
  /** Stops ntpd, waits for it, removes the lo alias and the directory, frees the address. Idempotent. */
  stop(): Promise<void>;
}

export function ntpsecConfig(options: NtpsecdOptions & { address: string; dir: string }): string {
  const lines = [
    '# Written by test/support/ntpsec.ts: a loopback-only, never-synchronised server.',
    // Both switches are set, but they are not what keeps the clock safe: ntpd 1.2.2 still calls ntp_adjtime at
    // startup. The sandbox (no CAP_SYS_TIME) is what makes those calls fail harmlessly with EPERM.
    'disable kernel',
    'disable ntp',
    // ntpd opens every interface address, always 127.0.0.1 and ::1, and a wildcard socket unless told otherwise;
    // "ignore all" does not cover loopback addresses, hence the explicit 127.0.0.0/8 rule. The last matching rule
    // wins, so only this instance's own alias is opened.
    'interface ignore wildcard',
    'interface ignore ipv6',
    'interface ignore 127.0.0.0/8',
    `interface listen ${options.address}`,
    // Without statsdir ntpd looks at /var/log/ntpsec/. No driftfile and no leapfile: nothing outside dir is written.
    `statsdir ${options.dir}/`,
  ];
  if (options.rateLimit) {
    const { average, burst, kod, kiss } = options.rateLimit;
    lines.push(kiss === false ? 'restrict default limited' : 'restrict default kod limited');
    const parts = ['limit'];
    if (average !== undefined) {
      parts.push(`average ${average}`);
    }
    if (burst !== undefined) {
      parts.push(`burst ${burst}`);
    }
    if (kod !== undefined) {
      parts.push(`kod ${kod}`);
    }
    if (parts.length > 1) {
      lines.push(parts.join(' '));
    }
  } else {
    lines.push('restrict default', 'unrestrict default limited');
  }
  for (const entry of options.restrict ?? []) {
    lines.push(`restrict ${entry}`);
  }
  lines.push(...(options.extraConfig ?? []).map((line) => line.split('%DIR%').join(options.dir)));
  return `${lines.join('\n')}\n`;
}

export async function startNtpsecd(options: NtpsecdOptions = {}): Promise<Ntpsecd> {
  const ntpd = await ensureNtpsec();
  const allocated = options.address === undefined;
  const address = options.address ?? allocateLoopback(options.label ?? 'ntpsec');
  assertLoopback(address);
  const port = 123;
  const temp = makeTempDir('ntpsec');
  const configPath = join(temp.dir, 'ntp.conf');
  const logFile = join(temp.dir, 'ntpd.log');
  writeFileSync(configPath, ntpsecConfig({ ...options, address, dir: temp.dir }));

  let daemon: ManagedProcess | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) {
      return;
    }
    stopped = true;
    if (daemon) {
      await daemon.stop();
    }
    await removeLoopbackAlias(address);
    temp.remove();
    if (allocated) {
      releaseLoopback(address);
    }
  };

  const log = (): string => {
    let text = '';
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      // Not written yet.
    }
    return text + (daemon ? daemon.output() : '');
  };

  try {
    await addLoopbackAlias(address);
    // -n: stay in the foreground. No -u: stay root, since the ntpsec user does not exist without the package.
    // No -g/-G/-x/-q: with no time sources they would do nothing, and the sandbox forbids clock changes anyway.
    // -U 0: no periodic interface rescans, which other fixtures' aliases coming and going would otherwise trigger.
    daemon = spawnSandboxed(ntpd, ['-n', '-c', configPath, '-p', join(temp.dir, 'ntpd.pid'), '-l', logFile, '-U', '0'], join(temp.dir, 'ntpd.out'));
    const started = daemon;
    await waitFor(
      `ntpsec ntpd on ${address}:${port}`,
      async () => {
        if (options.readyCheck === 'bound') {
          return (await udpPortBound(address, port)) ? true : undefined;
        }
        const reply = await queryOnce(address, { port, timeoutMs: 200, sourceAddress: PROBE_SOURCE });
        return reply ? true : undefined;
      },
      { timeoutMs: options.readyTimeoutMs ?? 10000, intervalMs: 50, process: started },
    );
  } catch (error) {
    const text = log();
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- ntpd log ---\n${text}`);
  }

  return {
    address,
    port,
    logDir: temp.dir,
    configPath,
    pid: daemon.pid,
    log,
    stop,
  };
}
