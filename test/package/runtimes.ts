// The Node-RED versions and the Node.js 22 the package test runs, installed from the npm registry (through the npm
// cache) into a temporary directory outside the repository, pinned by the lockfiles in test/package/runtimes/.
// Outside, because Node-RED also loads node modules it finds in the node_modules folders above its own: inside the
// repository it would see this checkout's devDependencies, and a "fresh" user directory would not be fresh.
//
// Node 22 comes first, as the `node` package (its install script fetches the binary as another npm package).
// The three Node-RED versions (npm aliases node-red-3.1, -4.1, -5.0) are then installed by npm running on that
// Node 22, which all three accept: Node-RED 5 wants Node >= 22.9, so installing it on Node 20 would warn EBADENGINE.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npmCliPath, runNpm } from './npm';
import { ROOT } from './pack';

const MANIFESTS = join(ROOT, 'test', 'package', 'runtimes');

export type NodeRedVersion = '3.1' | '4.1' | '5.0';

export interface Runtimes {
  /** The Node.js 22 binary. */
  node22: string;
  /** npm's own entry script, to run npm on any of the Node binaries. */
  npmCli: string;
  redJs(version: NodeRedVersion): string;
  /** The exact version installed under each alias. */
  redVersion(version: NodeRedVersion): string;
  installMs: number;
  remove(): void;
}

function installFrom(manifest: string, into: string, nodeBinary: string, npmCli: string, extra: string[]): void {
  mkdirSync(into, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(MANIFESTS, manifest, file), join(into, file));
  runNpm(nodeBinary, npmCli, into, ['ci', ...extra]);
}

export function installRuntimes(): Runtimes {
  const started = Date.now();
  const base = mkdtempSync(join(tmpdir(), 'kisstime-runtimes-'));
  const remove = () => rmSync(base, { recursive: true, force: true });
  try {
    const npmCli = npmCliPath();
    // The node package's install script is what fetches the binary, so scripts run here.
    installFrom('node-22', join(base, 'node-22'), process.execPath, npmCli, []);
    const node22 = join(base, 'node-22', 'node_modules', 'node', 'bin', 'node');
    const version = execFileSync(node22, ['--version'], { encoding: 'utf8' }).trim();
    if (!/^v22\./.test(version)) throw new Error('the node package gave ' + version + ', not Node 22');
    // Node-RED needs no install script (bcrypt's is optional, and would build or download a binary).
    installFrom('node-red', join(base, 'node-red'), node22, npmCli, ['--ignore-scripts']);
    const redDir = (v: NodeRedVersion) => join(base, 'node-red', 'node_modules', 'node-red-' + v);
    return {
      node22,
      npmCli,
      redJs: (v) => join(redDir(v), 'red.js'),
      redVersion: (v) => (JSON.parse(readFileSync(join(redDir(v), 'package.json'), 'utf8')) as { version: string }).version,
      installMs: Date.now() - started,
      remove,
    };
  } catch (error) {
    remove();
    throw error;
  }
}
