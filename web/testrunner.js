// Runs msrp_cases.js in a browser (web/browser_test.go serves the
// repository and reads window.testResult).
import { cases } from './msrp_cases.js';

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const fail = (msg) => { throw new Error(msg); };
const get = async (path) => {
  const r = await fetch(`/${path}`);
  if (!r.ok) fail(`GET /${path}: ${r.status}`);
  return r;
};
const t = {
  eq: (a, b, msg = '') => same(a, b) || fail(`${msg}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`),
  ok: (v, msg = '') => v || fail(`${msg}: not true`),
  throws: (fn, check) => {
    try { fn(); } catch (e) {
      if (typeof check === 'function' && !check(e)) fail(`wrong error: ${e.message}`);
      return;
    }
    fail('did not throw');
  },
  sample: async (name) => new Uint8Array(await (await get(`testdata/wire/${name}`)).arrayBuffer()),
  samples: async (prefix) => [...(await (await get('testdata/wire/')).text()).matchAll(/href="([^"]+\.msrp)"/g)]
    .map((m) => m[1]).filter((n) => n.startsWith(prefix)).sort(),
  text: async (path) => (await get(path)).text(),
};

const result = { passed: [], failed: [] };
for (const [name, fn] of cases) {
  try {
    await fn(t);
    result.passed.push(name);
  } catch (e) {
    result.failed.push(`${name}: ${e.message}`);
  }
}
document.getElementById('out').textContent = JSON.stringify(result, null, 1);
window.testResult = result;
