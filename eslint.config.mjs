import tseslint from 'typescript-eslint';
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';

// The Espruino interpreter lacks these, or runs them wrongly without an error (../shared/REFERENCE.md).
// The firmware bundle is built from src/core, so the core must stay inside what Espruino runs.
const espruinoSyntax = [
  { selector: 'SpreadElement', message: 'Espruino has no spread.' },
  { selector: 'RestElement', message: 'Espruino has no rest parameters or rest destructuring.' },
  { selector: 'ObjectPattern', message: 'Espruino has no destructuring.' },
  { selector: 'ArrayPattern', message: 'Espruino has no destructuring.' },
  { selector: 'AssignmentPattern', message: 'Espruino has no default parameters.' },
  { selector: 'ChainExpression', message: 'Espruino has no optional chaining (?.).' },
  { selector: "BinaryExpression[operator='**']", message: 'Espruino has no **.' },
  { selector: 'AssignmentExpression[operator=/^(\\*\\*|&&|\\|\\||\\?\\?)=$/]', message: 'Espruino has no **=, &&=, ||= or ??=.' },
  { selector: 'AwaitExpression, :function[async=true]', message: 'Espruino has no async/await.' },
  { selector: ':function[generator=true]', message: 'Espruino has no generators.' },
  { selector: 'LabeledStatement', message: 'Espruino has no labels.' },
  { selector: 'PrivateIdentifier', message: 'Espruino has no #private members.' },
  { selector: 'PropertyDefinition[value]', message: 'Espruino stores class fields once on the prototype: assign in the constructor.' },
  { selector: 'TaggedTemplateExpression', message: 'Espruino has no tagged templates.' },
  { selector: 'Literal[bigint]', message: 'Espruino has no BigInt.' },
  { selector: 'Property[computed=true]', message: 'Espruino has no computed keys.' },
  { selector: "ForStatement > VariableDeclaration[kind='let']", message: "Espruino's for (let ...) closures all see the last value: declare the counter with var, or a let inside the body." },
  { selector: "ClassDeclaration[superClass.name='Error']", message: 'Espruino breaks classes that extend Error.' },
  { selector: "MemberExpression[property.name='slice']", message: "Espruino's Uint8Array.slice returns a plain Array: use subarray (or substring for strings)." },
  { selector: 'TSEnumDeclaration', message: 'Use string literal unions: enums compile to closures the bundle does not need.' },
  { selector: "CallExpression[callee.object.name='Math'][callee.property.name='pow']", message: 'Math.pow is inexact on Espruino: write the literal (4294967296) or multiply.' },
];

const espruinoGlobals = ['Map', 'Set', 'WeakMap', 'WeakSet', 'Symbol', 'BigInt', 'TextEncoder', 'TextDecoder', 'Proxy', 'Reflect', 'Buffer', 'process', 'require', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'console'].map(
  (name) => ({ name, message: `${name} is not available in the sans-IO core (no Node APIs, no timers, Espruino subset).` }),
);

const espruinoProperties = [
  ['Array', 'from'], ['Uint8Array', 'from'], ['Number', 'isInteger'], ['Number', 'isNaN'], ['Number', 'isFinite'], ['Number', 'isSafeInteger'],
  ['Math', 'trunc'], ['Math', 'log2'], ['Math', 'imul'], ['Math', 'sign'], ['Math', 'cbrt'], ['Object', 'freeze'], ['Object', 'fromEntries'], ['Date', 'UTC'],
  ['Promise', 'race'], ['Promise', 'allSettled'], ['Promise', 'any'], ['Date', 'now'],
].map(([object, property]) => ({ object, property, message: `${object}.${property} is missing on Espruino or impure for the core.` }));

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'firmware/dist/**', '.cache/**', '.node-red-demo/**', 'test-results/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { '@stylistic': stylistic },
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@stylistic/indent': ['error', 2, { SwitchCase: 1 }],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/eol-last': 'error',
      '@stylistic/object-curly-spacing': ['error', 'always'],
      '@stylistic/space-before-blocks': 'error',
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', { max: 1 }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'eqeqeq': ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['nodes/**/*.html'],
    ignores: ['**'],
  },
  {
    // The shipped code never reaches into the benchmarks (the simulator lives in src/fleet; bench/ only writes results).
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)bench(/|$)', message: 'src/ imports nothing from bench/.' }] }] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...espruinoSyntax],
      'no-restricted-globals': ['error', ...espruinoGlobals],
      'no-restricted-properties': ['error', ...espruinoProperties],
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(node:|[a-z@])', message: 'src/core imports only its own files.' }] }],
      // var keeps for-loop counters out of Espruino's broken for (let ...) closures.
      'no-var': 'off',
      // Espruino does not hoist function declarations.
      '@typescript-eslint/no-use-before-define': ['error', { functions: true, classes: true, variables: true, typedefs: false, ignoreTypeReferences: true }],
    },
  },
  {
    // The Espruino adapter may use the board's own globals (require, timers, console) but the same syntax subset.
    files: ['firmware/src/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...espruinoSyntax],
      'no-restricted-globals': ['error', ...espruinoGlobals.filter((g) => !['require', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'console'].includes(g.name))],
      'no-restricted-properties': ['error', ...espruinoProperties],
      'no-var': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      // The adapter's module-level functions call each other through callbacks (a reply feeds the scheduler, whose
      // decisions open the socket that delivers the reply), so some must name a function declared further down. They
      // all run after the module has loaded; a call at load time before a declaration is refused in the built bundle
      // by firmware/tools/subset.js.
      '@typescript-eslint/no-use-before-define': ['error', { functions: false, classes: true, variables: false, typedefs: false, ignoreTypeReferences: true }],
    },
  },
);
