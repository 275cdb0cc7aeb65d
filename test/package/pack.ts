// The package as npm publishes it, packed from a clean clone of this repository: nothing built, ignored or
// uncommitted in the work tree can slip into the tarball, and prepack has to build everything it ships. The clone
// borrows this checkout's node_modules (a symlink) for the build tools, so no second `npm ci` is needed.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { npmEnv } from './npm';

export const ROOT = resolve(__dirname, '..', '..');

export interface PackedFile {
  path: string;
  size: number;
}

export interface Packed {
  /** The .tgz, in a temporary directory that remove() deletes. */
  tarball: string;
  dir: string;
  files: PackedFile[];
  /** Compressed size in bytes, and the sum of the files' sizes. */
  size: number;
  unpackedSize: number;
  /** The commit the clone was made from. */
  commit: string;
  /** How long cloning, building and packing took. */
  packMs: number;
  remove(): void;
}

interface NpmPackJson {
  filename: string;
  size: number;
  unpackedSize: number;
  files: PackedFile[];
}

export function packFromCleanClone(): Packed {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'kisstime-pack-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const clone = join(dir, 'clone');
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone], { stdio: ['ignore', 'ignore', 'pipe'] });
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: clone, encoding: 'utf8' }).trim();
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    // prepack's progress goes to stderr; stdout is npm's JSON answer.
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: clone,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...npmEnv(), npm_config_update_notifier: 'false', npm_config_fund: 'false' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const [packed] = JSON.parse(out) as NpmPackJson[];
    const tarball = join(dir, 'kisstime.tgz');
    renameSync(join(dir, packed.filename), tarball);
    rmSync(clone, { recursive: true, force: true });
    return {
      tarball, dir, files: packed.files, size: packed.size, unpackedSize: packed.unpackedSize, commit, packMs: Date.now() - started, remove,
    };
  } catch (error) {
    remove();
    throw error;
  }
}
