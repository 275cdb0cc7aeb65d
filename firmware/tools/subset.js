// Checks a built bundle against what Espruino runs (../../shared/REFERENCE.md "Espruino facts"). Used by the build,
// which refuses to write a bundle that fails, and by test/firmware/subset.test.ts, which checks the files on disk.
// Every rule here is a construct that either fails to parse on Espruino or, worse, parses and runs wrongly.

'use strict';

const acorn = require('acorn');
const walk = require('acorn-walk');
const eslintScope = require('eslint-scope');

const BANNED_GLOBALS = [
  'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'Symbol', 'BigInt', 'Proxy', 'Reflect', 'TextEncoder', 'TextDecoder',
  'Buffer', 'process', 'globalThis', 'queueMicrotask', 'structuredClone', 'Intl', 'module',
];

const BANNED_MEMBERS = {
  Array: ['from', 'of'],
  Uint8Array: ['from', 'of'],
  Number: ['isInteger', 'isNaN', 'isFinite', 'isSafeInteger', 'EPSILON', 'MAX_SAFE_INTEGER'],
  Math: ['pow', 'trunc', 'log2', 'imul', 'sign', 'cbrt', 'hypot', 'clz32', 'fround'],
  Object: ['freeze', 'fromEntries', 'getOwnPropertyDescriptors'],
  Date: ['UTC'],
  Promise: ['race', 'allSettled', 'any'],
};

/** Methods that Espruino lacks or gets wrong on some receiver, banned whatever the receiver is. */
const BANNED_METHODS = {
  slice: 'Uint8Array.slice returns a plain Array on Espruino: use subarray (or substring for strings)',
  finally: 'Espruino has no Promise.finally',
  padStart: 'Espruino has no padStart', padEnd: 'Espruino has no padEnd', at: 'Espruino has no .at()',
  flatMap: 'Espruino has no flatMap', flat: 'Espruino has no flat', matchAll: 'Espruino has no matchAll',
  replaceAll: 'Espruino has no replaceAll', trimStart: 'Espruino has no trimStart', trimEnd: 'Espruino has no trimEnd',
};

// kisstime-protocol and kisstime-boot: the modules the adapter loads when it needs them (firmware/build.js).
const ALLOWED_MODULES = ['Storage', 'Wifi', 'dgram', 'kisstime-protocol', 'kisstime-boot'];

/**
 * Espruino's RegExp engine handles single-character atoms with * and +, character classes, ^ $ . and the \d \s \w
 * escapes, plain capture groups and a top-level |. It has no numeric quantifiers, no lazy or ? quantifiers in
 * older firmware, no non-capturing or lookaround groups, no quantified groups and no | inside a group.
 */
function regexProblems(pattern, flags) {
  const out = [];
  if (/[^gi]/.test(flags)) out.push('flags other than g and i');
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1];
      if (!inClass && /[1-9bBkpPuc]/.test(n)) out.push('escape \\' + n);
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      depth++;
      if (pattern[i + 1] === '?') out.push('a (?...) group');
    } else if (c === ')') {
      depth--;
      if (/[*+?{]/.test(pattern[i + 1] || '')) out.push('a quantified group');
    } else if (c === '|' && depth > 0) out.push('| inside a group');
    else if (c === '{') out.push('a {n,m} quantifier');
    else if (c === '?') out.push('a ? quantifier');
  }
  return out;
}

function isFunctionNode(node) {
  return node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression';
}

/**
 * Espruino hoists nothing: it creates a var, let, const, function or class when its declaration runs, and until
 * then the name means whatever an outer scope calls it (or a new global, if assigned). So within one function a
 * name may not be used before its declaration. Uses from a nested function are fine: it runs later. Minifiers
 * break this (UglifyJS declares an inlined function's locals with a var at the end of the body), so it is checked.
 */
function lateDeclarationProblems(ast) {
  const out = [];
  const runsIn = (scope) => {
    while (scope.upper && scope.type !== 'function' && scope.type !== 'class-field-initializer') scope = scope.upper;
    return scope;
  };
  eslintScope.analyze(ast, { ecmaVersion: 2022, sourceType: 'script', nodejsScope: true }).scopes.forEach((scope) => {
    scope.variables.forEach((variable) => {
      const def = variable.defs[0];
      if (!def || def.type === 'Parameter' || def.type === 'CatchClause' || def.type === 'ImplicitGlobalVariable') return;
      const declaredAt = def.name.start;
      variable.references.forEach((ref) => {
        if (ref.identifier.start < declaredAt && runsIn(ref.from) === runsIn(scope)) {
          out.push({ at: ref.identifier.start, what: `${variable.name} is used before its declaration has run (Espruino does not hoist)` });
        }
      });
    });
  });
  return out;
}

/** Free (global) identifiers the code reads: anything not declared somewhere in the file. */
function declaredNames(ast) {
  const names = new Set();
  const addPattern = (p) => {
    if (p && p.type === 'Identifier') names.add(p.name);
  };
  walk.full(ast, (node) => {
    if (node.type === 'VariableDeclarator') addPattern(node.id);
    else if (isFunctionNode(node)) {
      if (node.id) names.add(node.id.name);
      node.params.forEach(addPattern);
    } else if ((node.type === 'ClassDeclaration' || node.type === 'ClassExpression') && node.id) names.add(node.id.name);
    else if (node.type === 'CatchClause') addPattern(node.param);
  });
  return names;
}

/** Returns a list of {line, column, what}; empty means the code is inside the subset. */
function checkEspruinoSubset(code) {
  let ast;
  try {
    ast = acorn.parse(code, { ecmaVersion: 2022, sourceType: 'script', locations: true, ranges: true });
  } catch (error) {
    return [{ line: 0, column: 0, what: `does not parse as a classic script: ${error.message}` }];
  }
  const problems = [];
  const add = (node, what) => problems.push({ at: node.start, what });
  const declared = declaredNames(ast);

  walk.fullAncestor(ast, (node, _state, ancestors) => {
    const parent = ancestors[ancestors.length - 2];
    switch (node.type) {
      case 'SpreadElement': add(node, 'spread (...)'); break;
      case 'RestElement': add(node, 'rest parameter or element'); break;
      case 'ObjectPattern':
      case 'ArrayPattern': add(node, 'destructuring'); break;
      case 'AssignmentPattern': add(node, 'default parameter'); break;
      case 'ChainExpression': add(node, 'optional chaining (?.)'); break;
      case 'AwaitExpression': add(node, 'await'); break;
      case 'YieldExpression': add(node, 'yield'); break;
      case 'LabeledStatement': add(node, 'label'); break;
      case 'PrivateIdentifier': add(node, '#private member'); break;
      case 'PropertyDefinition':
      case 'StaticBlock': add(node, 'class field or static block (Espruino keeps fields on the prototype)'); break;
      case 'TaggedTemplateExpression': add(node, 'tagged template'); break;
      case 'ImportExpression': add(node, 'dynamic import'); break;
      case 'MetaProperty': add(node, `${node.meta.name}.${node.property.name}`); break;
      case 'BinaryExpression':
        if (node.operator === '**') add(node, '** operator');
        break;
      case 'AssignmentExpression':
        if (['**=', '&&=', '||=', '??='].includes(node.operator)) add(node, `${node.operator} operator`);
        break;
      case 'Property':
        if (node.computed) add(node, 'computed key');
        break;
      case 'MethodDefinition':
        if (node.computed) add(node, 'computed method name');
        break;
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement': {
        const head = node.type === 'ForStatement' ? node.init : node.left;
        if (head && head.type === 'VariableDeclaration' && head.kind !== 'var') add(node, `for (${head.kind} ...): Espruino's closures all see the last value`);
        break;
      }
      case 'ClassDeclaration':
      case 'ClassExpression':
        if (node.superClass && !(node.superClass.type === 'Identifier' && node.superClass.name !== 'Error')) add(node, 'class extends Error or an expression');
        break;
      case 'Literal':
        if (node.bigint) add(node, 'BigInt literal');
        if (node.regex) regexProblems(node.regex.pattern, node.regex.flags).forEach((p) => add(node, `RegExp /${node.regex.pattern}/ uses ${p}, which Espruino's RegExp lacks`));
        break;
      case 'Identifier': {
        if (/^__/.test(node.name)) add(node, `bundler helper ${node.name}`);
        const isReference = !(parent && ((parent.type === 'MemberExpression' && parent.property === node && !parent.computed)
          || (parent.type === 'Property' && parent.key === node && !parent.computed && !parent.shorthand)
          || (parent.type === 'MethodDefinition' && parent.key === node)));
        if (isReference && BANNED_GLOBALS.includes(node.name) && !declared.has(node.name)) add(node, `global ${node.name}`);
        break;
      }
      case 'MemberExpression': {
        const prop = !node.computed && node.property.type === 'Identifier' ? node.property.name : null;
        if (prop && node.object.type === 'Identifier' && BANNED_MEMBERS[node.object.name] && BANNED_MEMBERS[node.object.name].includes(prop)) {
          add(node, `${node.object.name}.${prop}`);
        }
        if (prop && Object.prototype.hasOwnProperty.call(BANNED_METHODS, prop) && parent && parent.type === 'CallExpression' && parent.callee === node) {
          add(node, `.${prop}(): ${BANNED_METHODS[prop]}`);
        }
        break;
      }
      case 'CallExpression':
        if (node.callee.type === 'Identifier' && node.callee.name === 'require') {
          const arg = node.arguments[0];
          if (!(arg && arg.type === 'Literal' && ALLOWED_MODULES.includes(arg.value))) add(node, `require of something other than ${ALLOWED_MODULES.join(', ')}`);
        }
        break;
      default:
        if (isFunctionNode(node) && (node.async || node.generator)) add(node, node.async ? 'async function' : 'generator');
    }
  });
  lateDeclarationProblems(ast).forEach((p) => problems.push(p));

  return problems.map((p) => {
    const loc = acorn.getLineInfo(code, p.at);
    return { line: loc.line, column: loc.column, what: p.what };
  });
}

module.exports = { BANNED_METHODS, checkEspruinoSubset, regexProblems };
