// The package as a user gets it. It is packed from a clean clone of the last commit (prepack builds it), checked for
// what it ships, then installed from the tarball, as the palette manager installs modules, into fresh user
// directories of Node-RED 3.1, 4.1 and 5.0, on Node 20 (this process) and Node 22 (from the npm registry). On each:
// the four node types load from the install, the shipped examples deploy through the admin API and sync against a
// real chronyd, a bad config and a kisstime-server port in use reach a Catch node, and the kisstime CLI runs.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chronyd, startChronyd } from '../support/chronyd';
import { allocateLoopback, freeUdpPort, releaseLoopback } from '../support/loopback';
import { CommsEvent, NodeRedProcess, offlineSettings, startRuntime } from '../nodered/runtime-process';
import { catchProbe, examplesForThisMachine } from './example-flows';
import { Packed, packFromCleanClone } from './pack';
import { installRuntimes, NodeRedVersion, Runtimes } from './runtimes';
import { installedExamples, PACKAGE, userDirWith } from './user-dir';

const TYPES = ['kisstime-servers', 'kisstime-sync', 'kisstime-now', 'kisstime-server'];
const PLACEHOLDER_ERROR = 'Servers: "your.time.server.example" is the example\'s placeholder: enter your own time server';

let packed: Packed;
let runtimes: Runtimes;
let chronyd: Chronyd;
let serveAddress: string;
let unpacked: string;
const timings: string[] = [];

function timed<T>(what: string, fn: () => T): T {
  const start = Date.now();
  const result = fn();
  timings.push(`${what}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return result;
}

beforeAll(async () => {
  packed = timed('pack from a clean clone', () => packFromCleanClone());
  unpacked = mkdtempSync(join(tmpdir(), 'kisstime-unpacked-'));
  execFileSync('tar', ['-xzf', packed.tarball, '-C', unpacked]);
  runtimes = timed('install Node 22 and Node-RED 3.1, 4.1, 5.0', () => installRuntimes());
  chronyd = await startChronyd({ label: 'package-chronyd' });
  serveAddress = allocateLoopback('package-serve');
}, 600_000);

afterAll(async () => {
  await chronyd?.stop();
  if (serveAddress) releaseLoopback(serveAddress);
  runtimes?.remove();
  packed?.remove();
  if (unpacked) rmSync(unpacked, { recursive: true, force: true });
  // Whole-process figures for the report; the assertions are above.
  process.stdout.write('package test timings:\n  ' + timings.join('\n  ') + '\n');
});

describe('the packed tarball', () => {
  it('ships only what runs: JavaScript under dist/src, the nodes, examples, editor resources and firmware bundle', () => {
    const paths = packed.files.map((f) => f.path);
    process.stdout.write(`tarball: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${paths.length} files, from ${packed.commit.slice(0, 7)}\n`);
    expect(paths.filter((p) => /\.map$/.test(p))).toEqual([]);
    expect(paths.filter((p) => /\.d\.ts$/.test(p))).toEqual([]);
    expect(paths.filter((p) => /\.ts$/.test(p))).toEqual([]);
    expect(paths.filter((p) => /(^|\/)(bench|test)\//.test(p))).toEqual([]);
    const outside = paths.filter((p) => !/^(dist\/src\/.+\.js|nodes\/.+|examples\/.+\.json|resources\/.+\.js|firmware\/dist\/kisstime(\.min)?\.js|firmware\/dist\/kisstime\.json|bin\/kisstime\.js|docs\/node-red-flow\.jpg|LICENSE|README\.md|package\.json)$/.test(p));
    expect(outside).toEqual([]);
    for (const needed of ['LICENSE', 'README.md', 'bin/kisstime.js', 'dist/src/core/index.js', 'dist/src/node/index.js', 'dist/src/node/cli/main.js', 'dist/src/node/server.js', 'firmware/dist/kisstime.min.js', 'resources/kisstime-editor.js']) {
      expect(paths).toContain(needed);
    }
    for (const type of TYPES) {
      expect(paths).toContain(`nodes/${type}.js`);
      expect(paths).toContain(`nodes/${type}.html`);
    }
  });

  it('has its licence, links and the exact Node and Node-RED versions it is tested on', () => {
    const pkg = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(unpacked, 'package', 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(pkg.repository).toMatchObject({ type: 'git', url: expect.stringMatching(/^git\+https:\/\//) });
    expect(String(pkg.homepage)).toMatch(/^https:\/\//);
    expect(pkg.bugs).toMatchObject({ url: expect.stringMatching(/^https:\/\//) });
    expect(pkg.engines).toEqual({ node: '^20 || ^22' });
    expect(pkg['node-red']).toMatchObject({ version: '~3.1.0 || ~4.1.0 || ~5.0.0' });
    expect(pkg.keywords).toContain('node-red');
    // What a user installs needs nothing at run time.
    expect(pkg.dependencies).toBeUndefined();
  });

  it('every README link resolves inside the tarball or is absolute', () => {
    const readme = readFileSync(join(unpacked, 'package', 'README.md'), 'utf8');
    const links = Array.from(readme.matchAll(/\]\(([^)\s]+)\)/g)).map((m) => m[1]);
    expect(links.length).toBeGreaterThan(0);
    const broken = links.filter((link) => !/^https:\/\//.test(link) && !link.startsWith('#') && !existsSync(join(unpacked, 'package', decodeURI(link.split('#')[0]))));
    expect(broken).toEqual([]);
  });
});

interface Combo {
  red: NodeRedVersion;
  /** 'this' is the Node running the tests (Node 20 in CI); '22' is the registry's Node 22. */
  node: 'this' | '22';
}

const COMBOS: Combo[] = [
  { red: '3.1', node: 'this' },
  { red: '4.1', node: 'this' },
  { red: '4.1', node: '22' },
  { red: '5.0', node: '22' },
];

function debugFrom(id: string) {
  return (e: CommsEvent) => e.topic === 'debug' && e.data.id === id;
}

describe.each(COMBOS)('the tarball in a fresh Node-RED $red user directory on Node $node', (combo) => {
  let red: NodeRedProcess;
  let nodeBinary: string;
  let userDir: string;
  let npmOutput: string;

  beforeAll(async () => {
    nodeBinary = combo.node === '22' ? runtimes.node22 : process.execPath;
    const nodeVersion = execFileSync(nodeBinary, ['--version'], { encoding: 'utf8' }).trim();
    const label = `Node-RED ${runtimes.redVersion(combo.red)} on Node ${nodeVersion}`;
    ({ dir: userDir, npmOutput } = timed(`${label}: npm install of the tarball and the dashboard`, () => userDirWith(packed.tarball, nodeBinary, runtimes.npmCli)));
    const start = Date.now();
    red = await startRuntime({ nodeBinary, redJs: runtimes.redJs(combo.red), userDir, settings: offlineSettings, startTimeoutMs: 60000 });
    timings.push(`${label}: start ${((Date.now() - start) / 1000).toFixed(1)} s`);
  }, 180_000);

  afterAll(async () => {
    await red?.stop();
  });

  it('installs without an engine warning and loads all four types from the user directory', async () => {
    expect(npmOutput).not.toMatch(/EBADENGINE/);
    const settings = (await (await fetch(red.url + '/settings')).json()) as { version: string };
    expect(settings.version.replace(/-git$/, '')).toBe(runtimes.redVersion(combo.red));
    const sets = (await (await fetch(red.url + '/nodes', { headers: { Accept: 'application/json' } })).json()) as { module: string; types: string[]; enabled: boolean; err?: string; local?: boolean; version?: string }[];
    const ours = sets.filter((s) => s.module === PACKAGE);
    expect(ours.map((s) => s.err).filter((e) => e)).toEqual([]);
    expect(ours.every((s) => s.enabled && s.local)).toBe(true);
    expect(ours.flatMap((s) => s.types).sort()).toEqual([...TYPES].sort());
    // The module came from the user directory's node_modules, not from a work tree.
    expect(existsSync(join(userDir, 'node_modules', PACKAGE, 'dist', 'src', 'core', 'index.js'))).toBe(true);
    // The editor gets the shared dialog script and each node's own icon from the install.
    for (const path of ['/resources/' + PACKAGE + '/kisstime-editor.js', '/icons/' + PACKAGE + '/kisstime-sync.svg', '/icons/' + PACKAGE + '/kisstime-now.svg']) {
      expect((await fetch(red.url + path)).status, path).toBe(200);
    }
    // The editor lists the examples for import.
    const listed = (await (await fetch(red.url + '/library/examples/flows/' + PACKAGE)).json()) as { fn: string }[];
    expect(listed.map((e) => e.fn).sort()).toEqual(installedExamples(userDir).map((e) => e.file.replace(/\.json$/, '')));
  });

  it('deploys every shipped example through the admin API; they sync against chronyd and the server node serves', async () => {
    const port = await freeUdpPort(serveAddress);
    const flows = examplesForThisMachine(installedExamples(userDir), { timeServer: chronyd.address, serveAt: { address: serveAddress, port } });
    flows.push(...catchProbe('pkgtab0', 'healthy'));
    await red.deploy(flows);
    // Example 01's debug node "sample" shows each sample.
    const sample = await red.waitForEvent((e) => debugFrom('5e7f0c10a0000003')(e), 20000, 'a sample from chronyd');
    const payload = JSON.parse(String(sample.data.msg)) as Record<string, unknown>;
    expect(payload.server).toBe(chronyd.address);
    expect(payload.stratum).toBe(10);
    expect(Math.abs(payload.offset as number)).toBeLessThan(0.05);
    const status = await red.waitForEvent((e) => e.topic === 'status/5e7f0c10a0000002' && (e.data as { fill?: string }).fill === 'green', 5000, 'green status');
    expect(String(status.data.text)).toMatch(/^synced/);
    expect(red.events.filter(debugFrom('healthy-caught'))).toEqual([]);
    expect(red.output()).toContain(`serving time on ${serveAddress}:${port}`);
  });

  it('sends an example deployed as shipped (placeholder server) to a Catch node, naming the field', async () => {
    const [first] = installedExamples(userDir);
    const tab = 'shipped';
    const flows = [{ id: tab, type: 'tab', label: 'as shipped' }, ...first.nodes.map((n) => (typeof n.x === 'number' ? { ...n, z: tab } : n)), ...catchProbe(tab, 'shipped')];
    await red.deploy(flows);
    const caught = await red.waitForEvent(debugFrom('shipped-caught'), 10000, 'the placeholder error at the Catch node');
    expect(JSON.parse(String(caught.data.msg))).toMatchObject({ message: PLACEHOLDER_ERROR });
  });

  it('sends a kisstime-server whose port is taken (EADDRINUSE) to a Catch node', async () => {
    const port = await freeUdpPort(serveAddress);
    const holder: Socket = createSocket('udp4');
    await new Promise<void>((ok) => holder.bind(port, serveAddress, () => ok()));
    try {
      const tab = 'inuse';
      await red.deploy([
        { id: tab, type: 'tab', label: 'port in use' },
        {
          id: 'inuse-server', z: tab, type: 'kisstime-server', name: 'busy port', upstream: '', address: serveAddress, port, serveLocal: true, localStratum: 10,
          allow: '', deny: '', rateInterval: 8, rateBurst: 8, rateLeak: 4, maxClients: 100, statsInterval: 10, x: 100, y: 100, wires: [[]],
        },
        ...catchProbe(tab, 'inuse'),
      ]);
      const caught = await red.waitForEvent(debugFrom('inuse-caught'), 5000, 'EADDRINUSE at the Catch node');
      expect(String((JSON.parse(String(caught.data.msg)) as { message: string }).message)).toMatch(new RegExp(`cannot listen on ${serveAddress.replace(/\./g, '\\.')}:${port}: the address is taken, usually by a time server already running there \\(chronyd or ntpd\\)`));
    } finally {
      await new Promise<void>((ok) => holder.close(() => ok()));
    }
  });

  it('runs the kisstime CLI from the install: a query against chronyd', () => {
    const bin = join(userDir, 'node_modules', '.bin', 'kisstime');
    expect(existsSync(bin)).toBe(true);
    const out = execFileSync(nodeBinary, [bin, 'query', chronyd.address, '--state', join(userDir, 'cli-state.json')], { encoding: 'utf8', timeout: 20000 });
    expect(out).toContain(chronyd.address);
  });
});
