#!/usr/bin/env node
// Builds the Espruino bundle from src/core and the adapter in firmware/src:
//   firmware/dist/kisstime.js      readable, for reading and debugging on a board;
//   firmware/dist/kisstime.min.js  minified, what gets flashed.
// Each is one module body that Espruino loads with require("kisstime"). The build refuses to write a bundle
// that leaves Espruino's subset (firmware/tools/subset.js).

'use strict';

const esbuild = require('esbuild');
const uglify = require('uglify-js');
const ts = require('typescript');
const fs = require('node:fs');
const path = require('node:path');
const { checkEspruinoSubset } = require('./tools/subset');

const ROOT = path.resolve(__dirname, '..');
const ENTRY = path.join(__dirname, 'src', 'kisstime.ts');
const OUT_DIR = path.join(__dirname, 'dist');

// What esbuild must lower or refuse, because Espruino lacks it (../shared/REFERENCE.md).
const UNSUPPORTED = {
  'class-field': false,
  'class-static-field': false,
  'class-private-field': false,
  'class-private-method': false,
  'optional-chain': false,
  'logical-assignment': false,
  'object-rest-spread': false,
  'exponent-operator': false,
  'destructuring': false,
  'default-argument': false,
  'rest-argument': false,
  'async-await': false,
  'async-generator': false,
  'generator': false,
  'for-await': false,
  'bigint': false,
  'nullish-coalescing': false,
};

const COMMON = {
  bundle: true,
  format: 'esm',
  target: 'es2015',
  platform: 'neutral',
  supported: UNSUPPORTED,
  external: ['Storage', 'Wifi', 'dgram'],
  legalComments: 'none',
  charset: 'ascii',
  write: false,
  logLevel: 'silent',
  // Without this, declared-but-uninitialised class members become defineProperty calls in every constructor.
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
};

/**
 * Property names that cross the bundle's edge and so must keep their spelling: the persisted snapshot (an old
 * file must still read after a rebuild), the config a user writes, the API object, and the members of Espruino's
 * own objects. Everything else declared in our TypeScript is shortened. Where a mangled name also crosses the
 * edge (a server spec's host and port, rinfo.address, the keys of what handlers receive) the source quotes it,
 * and esbuild leaves quoted names alone.
 */
const KEEP_PROPS = [
  // state.ts snapshot, every schema (schema 1's 'held' and 'failures' are read with quotes)
  'v', 'f', 'w', 'z', 'holds', 'slots', 'last', 'h', 'a', 'p', 'i', 'r', 'c', 'o', 'd', 's',
  // config input (ClientConfigInput, FirmwareConfig)
  'servers', 'minInterval', 'maxInterval', 'startupDelayMin', 'startupDelayMax', 'timeout', 'maxRootDistance',
  'lanServer', 'adminMinInterval', 'setClock',
  // the board API
  'on', 'now', 'stop', 'start', 'version',
  // Espruino objects: dgram socket, Storage, Wifi, E
  'createSocket', 'send', 'close', 'size', 'readJSON', 'writeJSON', 'getHostByName', 'toString', 'toUint8Array', 'CRC32', 'srand', 'hwRand',
];

/**
 * Built-in property names that the bundle uses only on its own objects (the message of an event or a decision; an
 * Error's is never read: errors are turned into text with String()), so they are shortened like any other. The
 * build refuses a bundle that reads one of them from anything but an event or a decision (assertOwnUse).
 */
const MANGLED_BUILTINS = ['message'];

/** Every property name of the built-ins the bundle could touch: never renamed. */
function builtinNames() {
  const names = new Set();
  const objects = [Object, Object.prototype, Array, Array.prototype, String, String.prototype, Number, Number.prototype, Math, JSON,
    Function.prototype, RegExp.prototype, Date, Date.prototype, Error.prototype, Uint8Array, Uint8Array.prototype,
    Object.getPrototypeOf(Uint8Array.prototype), Promise.prototype, console];
  objects.forEach((o) => Object.getOwnPropertyNames(o).forEach((n) => names.add(n)));
  MANGLED_BUILTINS.forEach((n) => names.delete(n));
  return names;
}

/** Property names declared by the TypeScript of src/core and firmware/src (interfaces, type literals, class members). */
function declaredPropertyNames() {
  const files = [path.join(ROOT, 'src', 'core'), path.join(__dirname, 'src')]
    .flatMap((dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f)));
  const names = new Set();
  files.forEach((file) => {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node) => {
      if ((ts.isPropertySignature(node) || ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) || ts.isMethodSignature(node))
        && node.name && ts.isIdentifier(node.name)) {
        names.add(node.name.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  });
  return names;
}

/** Internal names that esbuild may shorten in the minified bundle: declared by our types, and not kept. */
function mangleableNames() {
  const keep = new Set(KEEP_PROPS);
  const builtins = builtinNames();
  return [...declaredPropertyNames()].filter((n) => !keep.has(n) && !builtins.has(n) && n.length > 1).sort();
}

/** esbuild wraps require() of externals in a shim for ESM output; Espruino has a real require. */
function unshimRequire(code) {
  return code.replace(/var __require = [\s\S]*?\n\}\);\n/, '').replace(/\b__require\(/g, 'require(');
}

/** An ESM text turned into a module body for Espruino: the final export {...} becomes exports.X = ... */
function toEspruinoModule(code) {
  const match = /export\s*\{([^}]*)\};?\s*$/.exec(code);
  if (!match) throw new Error('build: no final export {...} in the esbuild output');
  const assignments = match[1].split(',').map((s) => s.trim()).filter(Boolean).map((spec) => {
    const parts = spec.split(/\s+as\s+/);
    return `exports.${parts[1] || parts[0]}=${parts[0]};`;
  });
  return code.slice(0, match.index) + assignments.join('\n') + '\n';
}

/**
 * A second pass over esbuild's minified module: UglifyJS drops what esbuild keeps (closure variables that are
 * written but never read once the firmware flag has removed their readers, repeated property reads) and
 * renames top-level names. exports.* are properties, so the module's interface keeps its spelling.
 * hoist_vars gathers each function's var declarations into one at its top (declared before any use, which Espruino
 * needs anyway). inline: 2 because deeper inlining declares the inlined function's locals with a var at the end of the
 * caller, which Espruino (no hoisting) would resolve to an outer variable; the subset check refuses that.
 */
function squeeze(code) {
  const result = uglify.minify(code, {
    toplevel: true,
    compress: { passes: 3, pure_getters: true, keep_fargs: false, unsafe: true, hoist_funs: false, hoist_vars: true, inline: 2 },
    mangle: { toplevel: true },
  });
  if (result.error) throw result.error;
  return result.code + '\n';
}

/** The readable bundle reads the MANGLED_BUILTINS only from an event or a decision (named event or d). */
function assertOwnUse(code) {
  MANGLED_BUILTINS.forEach((n) => {
    const foreign = (code.match(new RegExp(`[\\w$]+\\.${n}\\b`, 'g')) || []).filter((read) => !/^(event|d)\./.test(read));
    if (foreign.length > 0) throw new Error(`build: ${foreign.join(', ')}: ${n} is shortened in the bundle, so it must not be read from a built-in object`);
  });
}

function assertSubset(name, code) {
  const problems = checkEspruinoSubset(code);
  if (problems.length > 0) {
    const lines = problems.slice(0, 40).map((p) => `  ${name}:${p.line}:${p.column} ${p.what}`);
    throw new Error(`build: ${name} leaves Espruino's subset (${problems.length} problems):\n${lines.join('\n')}`);
  }
}

/** Builds both bundles; writes them to firmware/dist unless write is false (tests build in memory). */
async function build(options = {}) {
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  const banner = `// kisstime ${version} for Espruino: require("kisstime").start(config). Built from src/core; see firmware/README.md.\n`;
  const bundled = await esbuild.build({ ...COMMON, entryPoints: [ENTRY], define: { KISSTIME_VERSION: JSON.stringify(version), KISSTIME_FIRMWARE: 'true' } });
  const esm = unshimRequire(bundled.outputFiles[0].text);
  // Minified from the bundled text rather than bundled again, so require() stays a plain call.
  const minified = await esbuild.transform(esm, {
    format: 'esm',
    target: 'es2015',
    supported: UNSUPPORTED,
    charset: 'ascii',
    legalComments: 'none',
    minify: true,
    mangleProps: new RegExp(`^(${mangleableNames().join('|')})$`),
  });
  const readableCode = banner + toEspruinoModule(esm);
  const minifiedCode = squeeze(toEspruinoModule(minified.code));
  assertOwnUse(readableCode);
  assertSubset('kisstime.js', readableCode);
  assertSubset('kisstime.min.js', minifiedCode);
  if (options.write !== false) {
    fs.mkdirSync(OUT_DIR, { recursive: true });
    fs.writeFileSync(path.join(OUT_DIR, 'kisstime.js'), readableCode);
    fs.writeFileSync(path.join(OUT_DIR, 'kisstime.min.js'), minifiedCode);
    const manifest = { version, readableBytes: Buffer.byteLength(readableCode), minifiedBytes: Buffer.byteLength(minifiedCode) };
    fs.writeFileSync(path.join(OUT_DIR, 'kisstime.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return { version, readable: readableCode, minified: minifiedCode, readableBytes: Buffer.byteLength(readableCode), minifiedBytes: Buffer.byteLength(minifiedCode) };
}

/**
 * Any other Espruino module (such as the sntp module the espruino bench compares with) minified the way the bundle
 * is, for a fair byte count: esbuild's minifier with the same target and the same unsupported features, property
 * names kept (they are the module's own business), then the same UglifyJS pass.
 */
async function minifyModule(code) {
  const minified = await esbuild.transform(code, { target: 'es2015', supported: UNSUPPORTED, charset: 'ascii', legalComments: 'none', minify: true });
  return squeeze(minified.code);
}

if (require.main === module) {
  build().then((r) => {
    console.log(`firmware/dist/kisstime.js      ${r.readableBytes} bytes`);
    console.log(`firmware/dist/kisstime.min.js  ${r.minifiedBytes} bytes (kisstime ${r.version})`);
  }, (error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}

module.exports = { build, checkEspruinoSubset, toEspruinoModule, mangleableNames, minifyModule };
