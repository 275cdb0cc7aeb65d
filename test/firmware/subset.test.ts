// The built bundles stay inside what Espruino runs (the size budget is held in test/espruino/budget.test.ts).

import { describe, expect, it } from 'vitest';
import { checkEspruinoSubset } from '../../firmware/tools/subset';
import { firmware } from './firmware-fixture';

describe('firmware bundle', () => {
  it('uses only the syntax and built-ins Espruino has', async () => {
    const fw = await firmware();
    expect(checkEspruinoSubset(fw.readable)).toEqual([]);
    expect(checkEspruinoSubset(fw.minified)).toEqual([]);
    expect(fw.minified).toMatch(/exports\.start=/);
    expect(fw.minified).not.toMatch(/\bexport\b\s*\{/);
  });

  it('the check catches each trap it claims to catch', () => {
    const bad: [string, RegExp][] = [
      ['var a = [...b];', /spread/],
      ['function f(a = 1) {}', /default parameter/],
      ['var { a } = b;', /destructuring/],
      ['var x = a?.b;', /optional chaining/],
      ['var x = 2 ** 3;', /\*\* operator/],
      ['a ||= 1;', /\|\|= operator/],
      ['async function f() {}', /async function/],
      ['function* g() {}', /generator/],
      ['l: for (;;) break l;', /label/],
      ['class A { x = []; }', /class field/],
      ['class E2 extends Error {}', /extends Error/],
      ['for (let i = 0; i < 3; i++) {}', /for \(let/],
      ['var m = new Map();', /global Map/],
      ['var s = Symbol("x");', /global Symbol/],
      ['var a = Array.from(b);', /Array\.from/],
      ['var n = Number.isInteger(1);', /Number\.isInteger/],
      ['var p = Math.pow(2, 32);', /Math\.pow/],
      ['var t = Math.imul(1, 2);', /Math\.imul/],
      ['var u = b.slice(1);', /slice/],
      ['var o = Object.freeze({});', /Object\.freeze/],
      ['var d = Date.UTC(1970, 0);', /Date\.UTC/],
      ['p.finally(f);', /finally/],
      ['var r = /\\d{1,3}/;', /\{n,m\}/],
      ['var r = /a(?:b)/;', /\(\?\.\.\.\) group/],
      ['var r = /(ab)?/;', /quantified group/],
      ['var k = { [a]: 1 };', /computed key/],
      ['var __export = 1;', /bundler helper/],
      ['var x = require("fs");', /require of something other/],
      ['f(); function f() {}', /before its declaration/],
      ['var m = 1; function g() { m = 2; var m; }', /m is used before its declaration/],
      ['var b = BigInt(1);', /global BigInt/],
    ];
    for (const [code, what] of bad) {
      const problems = checkEspruinoSubset(code).map((p) => p.what).join('; ');
      expect(problems, code).toMatch(what);
    }
    expect(checkEspruinoSubset('function f() { return g(); } function g() { return /^\\d+$/.test("1"); } exports.f = f;')).toEqual([]);
  });
});
