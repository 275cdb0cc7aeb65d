// The clock model and the corrected clock on the real Espruino interpreter: bundled as the firmware build bundles
// the core (esbuild, ES2015 with what Espruino lacks lowered or refused), run through one scenario of samples,
// outliers and a step, and compared with the same scenario run by Node.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as core from '../../src/core';
import { checkEspruinoSubset } from '../../firmware/tools/subset';

const ESPRUINO = join(__dirname, '..', '..', '..', 'shared', 'espruino', 'espruino');

/** Written in the subset both run, as one function of the module object. */
const SCENARIO = `function scenario(M) {
  var seed = 12345;
  function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647; }
  var m = M.createModel();
  var c = M.createCorrectedClock();
  var out = [];
  var t = 1000;
  var wallBase = 1700000000000;
  for (var i = 0; i < 30; i++) {
    t += 60000 + Math.floor(rnd() * 600000);
    var delay = 0.004 + rnd() * 0.01;
    var offset = 0.05 + 123e-6 * t / 1000 + (rnd() - 0.5) * (delay - 0.004) + (i >= 20 ? 1.5 : 0) + (i === 10 ? 0.3 : 0);
    var outcome = M.addSample(m, t, offset, delay, delay / 2 + 0.001);
    var read = M.readCorrected(c, t, wallBase + t, M.offsetAt(m, t));
    out.push([outcome, M.offsetAt(m, t + 30000), M.errorBoundAt(m, t + 30000), M.driftPpm(m), M.longestIntervalS(m, 0.1, t), read.ms - wallBase - t, read.stepS]);
  }
  M.shiftModel(m, 0.25);
  out.push([M.offsetAt(m, t), M.restoreModel(JSON.parse(JSON.stringify(m))) !== null, M.restoreModel({ t: [1] }), M.restoreModel('x')]);
  return out;
}`;

function bundle(): string {
  const built = buildSync({
    stdin: { contents: "export * from './clock-model'; export * from './corrected-clock';", resolveDir: join(__dirname, '..', '..', 'src', 'core'), loader: 'ts' },
    bundle: true, format: 'esm', target: 'es2015', platform: 'neutral', write: false, legalComments: 'none', charset: 'ascii',
    supported: {
      'class-field': false, 'optional-chain': false, 'logical-assignment': false, 'object-rest-spread': false, 'exponent-operator': false,
      'destructuring': false, 'default-argument': false, 'rest-argument': false, 'nullish-coalescing': false,
    },
  });
  const code = built.outputFiles[0].text;
  const tail = /export\s*\{([^}]*)\};?\s*$/.exec(code);
  if (!tail) throw new Error('no export list at the end of the bundle');
  const names = tail[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return code.substring(0, tail.index) + 'var M = {' + names.map((n) => {
    const parts = n.split(/\s+as\s+/);
    return (parts[1] || parts[0]) + ': ' + parts[0];
  }).join(', ') + '};\n';
}

/** Runs a script on the interpreter (stdin kept open, as it needs) until it prints a line starting with marker. */
function runEspruino(script: string, marker: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kisstime-espruino-'));
  const file = join(dir, 'run.js');
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    const child = spawn(ESPRUINO, [file], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const finish = (error: Error | null, line?: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      if (error) reject(error);
      else resolve(line as string);
    };
    const timer = setTimeout(() => finish(new Error('no result from Espruino within 20 s; output: ' + out)), 20000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const line = out.split('\n').find((l) => l.startsWith(marker));
      if (line !== undefined && out.indexOf('\n', out.indexOf(marker)) >= 0) finish(null, line.substring(marker.length));
      else if (/Uncaught|ASSERT/.test(out)) finish(new Error('Espruino failed: ' + out));
    });
    child.on('error', (e) => finish(e));
  });
}

function close(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => close(x, b[i]));
  return a === b;
}

describe.skipIf(!existsSync(ESPRUINO))('clock model on the real Espruino interpreter', () => {
  it('stays in the subset and computes what Node computes', async () => {
    const code = bundle();
    expect(checkEspruinoSubset(code)).toEqual([]);
    const onBoard = JSON.parse(await runEspruino(code + SCENARIO + '\nprint("RESULT " + JSON.stringify(scenario(M)));\n', 'RESULT ')) as unknown[];
    const inNode = new Function('M', SCENARIO + '\nreturn scenario(M);')(core) as unknown[];
    const outcomes = inNode.slice(0, 30).map((r) => (r as unknown[])[0]);
    // The scenario has an outlier, a step and plain samples, so each path ran.
    expect(outcomes).toContain('outlier');
    expect(outcomes).toContain('step');
    expect(onBoard.length).toBe(inNode.length);
    for (let i = 0; i < inNode.length; i++) expect(close(onBoard[i], inNode[i]), 'row ' + i + ': ' + JSON.stringify(onBoard[i]) + ' vs ' + JSON.stringify(inNode[i])).toBe(true);
  }, 30000);
});
