// node --test runner for msrp_cases.js (the same cases run in Chromium,
// see browser_test.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { cases } from './msrp_cases.js';

const root = new URL('../', import.meta.url);
const t = {
  eq: (a, b, msg) => assert.deepStrictEqual(a, b, msg),
  ok: (v, msg) => assert.ok(v, msg),
  throws: (fn, check) => assert.throws(fn, check),
  sample: async (name) => new Uint8Array(await readFile(new URL(`testdata/wire/${name}`, root))),
  samples: async (prefix) => (await readdir(new URL('testdata/wire/', root))).filter((n) => n.startsWith(prefix) && n.endsWith('.msrp')).sort(),
  text: (path) => readFile(new URL(path, root), 'utf8'),
};

for (const [name, fn] of cases) test(name, () => fn(t));
