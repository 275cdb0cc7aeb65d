// A fresh Node-RED user directory with the package installed from its tarball the way the editor's palette manager
// installs a module (npm install --save --save-prefix=~ --omit=dev --engine-strict in the user directory), on the
// Node.js that will run Node-RED: --engine-strict makes npm refuse the package if its engines field leaves that
// Node out. The dashboard the examples use goes in the same way, at the version this repository develops against.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './pack';
import { runNpm } from './npm';

export const PACKAGE = '@kisstime/node-red-sntp';

function dashboardSpec(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  return '@flowfuse/node-red-dashboard@' + pkg.devDependencies['@flowfuse/node-red-dashboard'];
}

/**
 * A user directory with the tarball and the dashboard installed, and what npm printed doing it; the caller removes
 * the directory (the runtime's stop() does).
 */
export function userDirWith(tarball: string, nodeBinary: string, npmCli: string): { dir: string; npmOutput: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kisstime-userdir-'));
  try {
    // What Node-RED writes into a new user directory.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }, null, 2));
    const npmOutput = runNpm(nodeBinary, npmCli, dir, ['install', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict', tarball, dashboardSpec()]);
    return { dir, npmOutput };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The examples as the installed package ships them. */
export function installedExamples(userDir: string): { file: string; nodes: Record<string, unknown>[] }[] {
  const dir = join(userDir, 'node_modules', PACKAGE, 'examples');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((file) => ({
    file, nodes: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>[],
  }));
}
