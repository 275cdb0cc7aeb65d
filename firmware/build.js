#!/usr/bin/env node
// Builds the Espruino modules from src/core and the adapter in firmware/src, each readable (for reading and
// debugging on a board) and minified (what gets flashed):
//   firmware/dist/kisstime.js, kisstime.min.js                    the adapter, Storage module "kisstime";
//   firmware/dist/kisstime-protocol.js, kisstime-protocol.min.js  the core's scheduler, which the adapter loads for
//                                                                 each event and lets go of (firmware/src/protocol.ts);
//   firmware/dist/kisstime-boot.js, kisstime-boot.min.js          what only start() needs, loaded the same way
//                                                                 (firmware/src/boot.ts).
// Each is one module body that Espruino loads with require(). The build refuses to write a module that leaves
// Espruino's subset (firmware/tools/subset.js).

'use strict';

const esbuild = require('esbuild');
const uglify = require('uglify-js');
const ts = require('typescript');
const fs = require('node:fs');
const path = require('node:path');
const acorn = require('acorn');
const walk = require('acorn-walk');
const eslintScope = require('eslint-scope');
const { BANNED_METHODS, checkEspruinoSubset } = require('./tools/subset');

const ROOT = path.resolve(__dirname, '..');
/** Storage name and source of each module; the names are what the adapter requires. */
const MODULES = [
  { name: 'kisstime', entry: path.join(__dirname, 'src', 'kisstime.ts') },
  { name: 'kisstime-protocol', entry: path.join(__dirname, 'src', 'protocol.ts') },
  { name: 'kisstime-boot', entry: path.join(__dirname, 'src', 'boot.ts') },
];
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
  external: ['Storage', 'Wifi', 'dgram', 'kisstime-protocol', 'kisstime-boot'],
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
  // state.ts, the saved record (schema 3) and what is read of schemas 1 and 2 (schema 1's 'held' is read with quotes)
  'v', 't', 'hold', 'srv', 'h', 'p', 'ips', 'ttl', 'dnsa', 'dnse', 'bad', 'a', 'iv', 'rf', 'sent', 'fail', 'wait', 'c', 'm',
  // clock-model.ts, the model saved with it
  'n', 'o', 'e', 'b', 's', 'k', 'u', 'x',
  'f', 'w', 'z', 'holds', 'slots', 'i', 'r',
  // config input (ClientConfigInput, FirmwareConfig)
  'servers', 'minInterval', 'maxInterval', 'startupDelayMin', 'startupDelayMax', 'timeout', 'maxRootDistance',
  'lanServer', 'accuracy', 'setClock',
  // the board API
  'on', 'now', 'stop', 'start', 'version',
  // what the client module calls in the modules it loads (firmware/src/protocol.ts, boot.ts)
  'handle', 'prepare',
  // Espruino's own objects that firmware/src/espruino.ts does not declare
  'createSocket',
];

/** Every property name of the built-ins the bundle could touch: never renamed. */
function builtinNames() {
  const names = new Set();
  const objects = [Object, Object.prototype, Array, Array.prototype, String, String.prototype, Number, Number.prototype, Math, JSON,
    Function.prototype, RegExp.prototype, Date, Date.prototype, Error.prototype, Uint8Array, Uint8Array.prototype,
    Object.getPrototypeOf(Uint8Array.prototype), Promise.prototype, console];
  objects.forEach((o) => Object.getOwnPropertyNames(o).forEach((n) => names.add(n)));
  return names;
}

/** Property names declared by the TypeScript of src/core and firmware/src (interfaces, type literals, class members). */
function declaredPropertyNames() {
  const files = [path.join(ROOT, 'src', 'core'), path.join(__dirname, 'src')]
    .flatMap((dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f)));
  const names = new Set();
  files.forEach((file) => {
    namesDeclaredIn(ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)).forEach((n) => names.add(n));
  });
  return names;
}

/** The property and method names one source file declares. */
function namesDeclaredIn(source) {
  const names = new Set();
  const visit = (node) => {
    if ((ts.isPropertySignature(node) || ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) || ts.isMethodSignature(node))
      && node.name && ts.isIdentifier(node.name)) {
      names.add(node.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** Internal names that esbuild may shorten in the minified bundle: declared by our types, and not kept. */
function mangleableNames() {
  // Espruino's own objects, as firmware/src/espruino.ts declares them, keep their names.
  const espruino = ts.createSourceFile('espruino.ts', fs.readFileSync(path.join(__dirname, 'src', 'espruino.ts'), 'utf8'), ts.ScriptTarget.ES2022, true);
  const keep = new Set(KEEP_PROPS.concat([...namesDeclaredIn(espruino)]));
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
 * needs anyway). inline: 1 because deeper inlining declares the inlined function's locals with a var at the end of the
 * caller, which Espruino (no hoisting) would resolve to an outer variable; the subset check refuses that.
 */
function squeeze(code) {
  const result = uglify.minify(code, {
    toplevel: true,
    compress: { passes: 3, pure_getters: true, keep_fargs: false, unsafe: true, hoist_funs: false, hoist_vars: true, inline: 1 },
    mangle: { toplevel: true },
  });
  if (result.error) throw result.error;
  return inlineNumbers(result.code) + '\n';
}

/**
 * Writes each module-level constant number where it is used. UglifyJS keeps a number used often in a variable when
 * that is shorter, but on a board every module-level variable holds RAM for as long as the module is loaded, while
 * a literal in the code stays in flash. A variable qualifies when it is written exactly once, at the top level, with
 * a number.
 */
function inlineNumbers(code) {
  const ast = acorn.parse(code, { ecmaVersion: 2022, sourceType: 'script', ranges: true });
  // A module body is a function's body on the board: analysed as Node's module scope, its names resolve.
  const top = eslintScope.analyze(ast, { ecmaVersion: 2022, sourceType: 'script', nodejsScope: true }).globalScope.childScopes[0];
  // The assignment each written name takes part in, by the position of the name.
  // Only an assignment whose value nothing uses (a statement of its own, or a part of a comma sequence that is one)
  // may go: in a = b = 16 or (b = 16) * b, writing b in place would take the 16 from what uses it.
  const assignments = new Map();
  walk.ancestor(ast, {
    AssignmentExpression(node, _state, ancestors) {
      const parent = ancestors[ancestors.length - 2];
      const grandparent = ancestors[ancestors.length - 3];
      const discarded = parent.type === 'ExpressionStatement' || (parent.type === 'SequenceExpression' && grandparent.type === 'ExpressionStatement');
      if (node.operator === '=' && node.left.type === 'Identifier' && discarded) assignments.set(node.left.start, node);
    },
  });
  const numberIn = (node) => {
    if (node.type === 'Literal' && typeof node.value === 'number') return code.slice(node.start, node.end);
    if (node.type === 'UnaryExpression' && node.operator === '-' && node.argument.type === 'Literal' && typeof node.argument.value === 'number') {
      return '(' + code.slice(node.start, node.end) + ')';
    }
    return null;
  };
  const edits = [];
  const inlined = new Set();
  top.variables.forEach((v) => {
    const writes = v.references.filter((r) => r.isWrite());
    if (writes.length !== 1 || writes[0].from !== top || v.defs.length !== 1 || v.defs[0].node.init) return;
    const assignment = assignments.get(writes[0].identifier.start);
    const value = assignment ? numberIn(assignment.right) : null;
    if (value === null) return;
    v.references.filter((r) => r.isRead()).forEach((r) => edits.push([r.identifier.start, r.identifier.end, value]));
    edits.push([assignment.start, assignment.end, 'void 0']);
    inlined.add(v.name);
  });
  // The module-level declarations, without the names written in place.
  ast.body.filter((n) => n.type === 'VariableDeclaration' && n.kind === 'var').forEach((n) => {
    const kept = n.declarations.filter((d) => !(d.id.type === 'Identifier' && inlined.has(d.id.name)));
    if (kept.length === n.declarations.length) return;
    edits.push([n.start, n.end, kept.length ? 'var ' + kept.map((d) => code.slice(d.start, d.end)).join(',') + ';' : '']);
  });
  edits.sort((a, b) => b[0] - a[0]);
  let out = code;
  edits.forEach((e) => {
    out = out.slice(0, e[0]) + e[2] + out.slice(e[1]);
  });
  return out;
}

function assertSubset(name, code) {
  const problems = checkEspruinoSubset(code);
  if (problems.length > 0) {
    const lines = problems.slice(0, 40).map((p) => `  ${name}:${p.line}:${p.column} ${p.what}`);
    throw new Error(`build: ${name} leaves Espruino's subset (${problems.length} problems):\n${lines.join('\n')}`);
  }
}

/**
 * One module, readable and minified. mangleCache is shared by the modules of one build, so that a property shortened
 * in one is shortened alike in the other (the scheduler record built at boot is run by the client).
 */
async function buildModule(entry, version, mangleCache) {
  const banner = `// kisstime ${version} for Espruino: require("kisstime").start(config). Built from src/core; see firmware/README.md.\n`;
  const bundled = await esbuild.build({ ...COMMON, entryPoints: [entry], define: { KISSTIME_VERSION: JSON.stringify(version) } });
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
    mangleCache: mangleCache,
  });
  Object.assign(mangleCache, minified.mangleCache);
  return { readable: banner + toEspruinoModule(esm), minified: squeeze(toEspruinoModule(minified.code)) };
}

/** Builds every module; writes them to firmware/dist unless write is false (tests build in memory). */
async function build(options = {}) {
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  // A shortened name must not read as a method Espruino lacks (the subset check refuses any call of one): such a
  // property keeps its own name instead. Known ahead: esbuild hands out short names in a fixed order.
  const mangleCache = Object.fromEntries(Object.keys(BANNED_METHODS).map((n) => [n, false]));
  const modules = [];
  for (const m of MODULES) {
    const built = await buildModule(m.entry, version, mangleCache);
    assertSubset(m.name + '.js', built.readable);
    assertSubset(m.name + '.min.js', built.minified);
    modules.push({ name: m.name, ...built, readableBytes: Buffer.byteLength(built.readable), minifiedBytes: Buffer.byteLength(built.minified) });
  }
  // Built again with the final cache, so that a name shortened first in a later module reads the same in the earlier.
  for (let i = 0; i < MODULES.length - 1; i++) {
    const again = await buildModule(MODULES[i].entry, version, mangleCache);
    Object.assign(modules[i], again, { readableBytes: Buffer.byteLength(again.readable), minifiedBytes: Buffer.byteLength(again.minified) });
    assertSubset(MODULES[i].name + '.min.js', again.minified);
  }
  const sum = (key) => modules.reduce((total, m) => total + m[key], 0);
  const result = {
    version,
    modules,
    /** The client module (what require("kisstime") gives); the protocol and boot modules it loads. */
    readable: modules[0].readable,
    minified: modules[0].minified,
    protocol: modules[1],
    boot: modules[2],
    /** What a board's flash holds: both modules. */
    readableBytes: sum('readableBytes'),
    minifiedBytes: sum('minifiedBytes'),
  };
  if (options.write !== false) {
    fs.mkdirSync(OUT_DIR, { recursive: true });
    modules.forEach((m) => {
      fs.writeFileSync(path.join(OUT_DIR, m.name + '.js'), m.readable);
      fs.writeFileSync(path.join(OUT_DIR, m.name + '.min.js'), m.minified);
    });
    const manifest = { version, readableBytes: result.readableBytes, minifiedBytes: result.minifiedBytes, modules: modules.map((m) => ({ name: m.name, readableBytes: m.readableBytes, minifiedBytes: m.minifiedBytes })) };
    fs.writeFileSync(path.join(OUT_DIR, 'kisstime.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return result;
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
    r.modules.forEach((m) => console.log(`firmware/dist/${m.name}.min.js  ${m.minifiedBytes} bytes (readable ${m.readableBytes})`));
    console.log(`flash for kisstime ${r.version}: ${r.minifiedBytes} bytes`);
  }, (error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}

module.exports = { build, checkEspruinoSubset, toEspruinoModule, mangleableNames, inlineNumbers, minifyModule };
