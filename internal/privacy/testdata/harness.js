// Runs app.js's verifier under node for the Go tests (node 20 has fetch
// and WebCrypto). Usage:
//   node harness.js APP_JS vectors FILE          check proof test vectors
//   node harness.js APP_JS verify BASE STORE ID  verify a receipt end to end
// It prints one JSON line.
'use strict';
const fs = require('fs');
const [appPath, mode, ...args] = process.argv.slice(2);
const app = require(appPath);
const b64 = s => Uint8Array.from(Buffer.from(s, 'base64'));

async function outcome(fn) {
  try {
    await fn();
    return { ok: true };
  } catch (e) {
    if (!(e instanceof app.VerifyError)) throw e;
    return { ok: false, error: e.message };
  }
}

async function vectors(file) {
  const v = JSON.parse(fs.readFileSync(file, 'utf8'));
  const mismatches = [];
  let checked = 0;
  for (const c of v.inclusion) {
    const got = await outcome(async () => {
      const root = await app.rootFromInclusionProof(c.index, c.size, b64(c.leaf), c.proof.map(b64));
      if (Buffer.compare(Buffer.from(root), Buffer.from(b64(c.root))) !== 0) throw new app.VerifyError('root differs');
    });
    checked++;
    if (got.ok !== c.valid) mismatches.push({ kind: 'inclusion', name: c.name, want: c.valid, got });
  }
  for (const c of v.consistency) {
    const got = await outcome(() => app.checkConsistency(c.first, c.second, b64(c.firstRoot), b64(c.secondRoot), c.proof.map(b64)));
    checked++;
    if (got.ok !== c.valid) mismatches.push({ kind: 'consistency', name: c.name, want: c.valid, got });
  }
  for (const c of v.checkpoints || []) {
    const got = await outcome(async () => {
      const key = await app.parseKey(c.vkey);
      const cp = app.parseCheckpoint(c.note);
      if (cp.size !== c.size) throw new app.VerifyError('size ' + cp.size + ', want ' + c.size);
      if (!(await app.checkSignature(cp, key))) throw new Error('node cannot check Ed25519');
    });
    checked++;
    if (got.ok !== c.valid) mismatches.push({ kind: 'checkpoint', name: c.name, want: c.valid, got });
  }
  return { checked, mismatches };
}

async function verify(base, storeFile, id) {
  const store = {
    get() { return fs.existsSync(storeFile) ? JSON.parse(fs.readFileSync(storeFile, 'utf8')) : null; },
    set(x) { fs.writeFileSync(storeFile, JSON.stringify(x)); },
  };
  try {
    const result = await app.verifyReceipt(id, { base: new URL(base), store, fetch: (u, o) => fetch(u, o) });
    return { ok: true, result };
  } catch (e) {
    if (!(e instanceof app.VerifyError)) throw e;
    return { ok: false, error: e.message };
  }
}

(async () => {
  const out = mode === 'vectors' ? await vectors(args[0]) : await verify(args[0], args[1], args[2]);
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch(e => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(2);
});
