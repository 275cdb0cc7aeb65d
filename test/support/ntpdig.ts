// ntpdig (ntpsec-ntpdig 1.2.2) as an independent SNTP client: a second opinion on what a server's time is.
//
// It is only ever run without -s/-S, so it only reports; and it runs in the same sandbox as the daemons (no
// CAP_SYS_TIME), so even a mistaken flag could not move the clock. ntpdig has no port option: servers must be on 123.
// Note that ntpdig itself is not a data-minimising client: its requests carry the real clock as transmit timestamp.

import { execFile } from 'node:child_process';
import { assertLoopback } from './loopback';
import { timestampDiffSeconds } from './packet';
import { SANDBOX_PREFIX } from './process';

export interface NtpdigOk {
  ok: true;
  /** θ in seconds, computed here from the four raw timestamps ntpdig prints with -d. */
  offset: number;
  /** δ in seconds, from the same timestamps. */
  delay: number;
  /** ntpdig's own offset (JSON, rounded to microseconds). */
  reportedOffset: number;
  /** ntpdig's "precision" field, which is really its synchronisation distance |δ/2 + ε|. */
  synchDistance: number;
  stratum: number;
  leap: string;
  stdout: string;
  stderr: string;
}

export interface NtpdigFailed {
  ok: false;
  exitCode: number | null;
  /** A short reason taken from ntpdig's stderr, e.g. "stratum 0, probable KOD packet" or "no eligible servers". */
  reason: string;
  stdout: string;
  stderr: string;
}

export type NtpdigResult = NtpdigOk | NtpdigFailed;

export interface NtpdigOptions {
  /** ntpdig -t: seconds to wait for each reply (an integer; ntpdig rejects fractions). Default 2. */
  timeoutSec?: number;
  /** ntpdig -p: number of samples; the best one is reported. Default 1. */
  samples?: number;
}

const HEX_PAIR = /^(org t1|xmt t3): ([0-9a-f]{8})\.([0-9a-f]{8}) (rec t2|dst t4): ([0-9a-f]{8})\.([0-9a-f]{8})$/;

function parseTimestamps(stdout: string): Map<string, bigint> {
  const stamps = new Map<string, bigint>();
  for (const line of stdout.split('\n')) {
    const match = HEX_PAIR.exec(line.trim());
    if (match) {
      stamps.set(match[1], (BigInt(`0x${match[2]}`) << 32n) | BigInt(`0x${match[3]}`));
      stamps.set(match[4], (BigInt(`0x${match[5]}`) << 32n) | BigInt(`0x${match[6]}`));
    }
  }
  return stamps;
}

/** Runs ntpdig once against address (port 123) and reports what it measured, or why it measured nothing. */
export function runNtpdig(address: string, options: NtpdigOptions = {}): Promise<NtpdigResult> {
  assertLoopback(address);
  const timeoutSec = Math.max(1, Math.round(options.timeoutSec ?? 2));
  const samples = Math.max(1, Math.round(options.samples ?? 1));
  // -d prints T1..T4 in hex; -j makes the summary line JSON. Nothing here can set or slew the clock.
  const args = ['-d', '-j', '-t', String(timeoutSec), '-p', String(samples), address];
  // ntpdig is a Python program: allow for interpreter start-up on a loaded CI machine on top of its own waiting.
  const hardLimitMs = timeoutSec * samples * 1000 + 15000;
  return new Promise((resolve) => {
    execFile(SANDBOX_PREFIX[0], [...SANDBOX_PREFIX.slice(1), 'ntpdig', ...args], { timeout: hardLimitMs, killSignal: 'SIGKILL' }, (error, stdoutRaw, stderrRaw) => {
      const stdout = String(stdoutRaw);
      const stderr = String(stderrRaw);
      const jsonLine = stdout.split('\n').find((line) => line.startsWith('{'));
      if (error || !jsonLine) {
        const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line && !line.includes('querying'));
        const dropped = lines.find((line) => line.includes('Response dropped'));
        const reason = dropped ? dropped.replace(/^.*Response dropped: /, '') : (lines[lines.length - 1] ?? (error ? error.message : 'no output'));
        const exitCode = error && typeof error.code === 'number' ? error.code : null;
        resolve({ ok: false, exitCode, reason, stdout, stderr });
        return;
      }
      const json = JSON.parse(jsonLine) as { offset: number; precision: number; stratum: number; leap: string };
      const stamps = parseTimestamps(stdout);
      const t1 = stamps.get('org t1');
      const t2 = stamps.get('rec t2');
      const t3 = stamps.get('xmt t3');
      const t4 = stamps.get('dst t4');
      if (t1 === undefined || t2 === undefined || t3 === undefined || t4 === undefined) {
        resolve({ ok: false, exitCode: 0, reason: 'ntpdig -d printed no timestamps', stdout, stderr });
        return;
      }
      resolve({
        ok: true,
        offset: (timestampDiffSeconds(t2, t1) + timestampDiffSeconds(t3, t4)) / 2,
        delay: timestampDiffSeconds(t4, t1) - timestampDiffSeconds(t3, t2),
        reportedOffset: json.offset,
        synchDistance: json.precision,
        stratum: json.stratum,
        leap: json.leap,
        stdout,
        stderr,
      });
    });
  });
}

/** The offset and delay ntpdig measures against address; throws with ntpdig's reason when it gets no usable sample. */
export async function measureOffset(address: string, options: NtpdigOptions = {}): Promise<{ offset: number; delay: number }> {
  const result = await runNtpdig(address, options);
  if (!result.ok) {
    throw new Error(`ntpdig ${address}: ${result.reason} (exit ${result.exitCode})\n${result.stderr}`);
  }
  return { offset: result.offset, delay: result.delay };
}
