// tact privacy center: verifies consent receipts against the ledger in the
// browser, and files rights requests whose answers it can download.
//
// Plain JavaScript for current browsers: no build step, no dependency, no
// eval; text reaches the page through textContent only. The page works
// without this script (choices, interests and requests are plain forms).
//
// Verification (RFC 6962 hashing, RFC 9162 §2.1.3.2 and §2.1.4.2):
//   leaf = SHA-256(0x00 ‖ leaf data), node = SHA-256(0x01 ‖ left ‖ right);
//   the receipt's content and salt give its commitment, which its leaf data
//   must name; the inclusion proof must lead to the root of a checkpoint
//   signed (Ed25519, a C2SP signed note) by the ledger's published key; and
//   that checkpoint, the latest one, and the one this browser verified
//   before must be consistent (the log was only appended to).
//
// Storage: after a verification the shopper asked for, the last verified
// checkpoint (log size, root hash, time, and the ledger's key) is kept in
// localStorage under "tact.privacy.checkpoint". It is tact's own origin,
// the value is the same for every visitor at that moment and names nobody,
// and keeping it is the service the shopper requested (comparing the log
// with what they saw before); the "Forget it" button removes it. Ledger
// requests are sent without cookies.
'use strict';
(function () {
  const enc = new TextEncoder();
  const STORE_KEY = 'tact.privacy.checkpoint';

  // VerifyError is a verification failure; its message says exactly what
  // did not check out.
  class VerifyError extends Error {}
  function fail(msg) { throw new VerifyError(msg); }

  function b64decode(s, what) {
    if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) fail(what + ' is not base64');
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function b64encode(u8) {
    let s = '';
    for (const b of u8) s += String.fromCharCode(b);
    return btoa(s);
  }
  function hexencode(u8) {
    let s = '';
    for (const b of u8) s += (b < 16 ? '0' : '') + b.toString(16);
    return s;
  }
  function hexdecode(s, what) {
    if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) fail(what + ' is not hex');
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  function concat(...parts) {
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let i = 0;
    for (const p of parts) { out.set(p, i); i += p.length; }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }
  async function sha256(u8) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', u8));
  }
  function leafHash(data) { return sha256(concat(Uint8Array.of(0), data)); }
  function nodeHash(left, right) { return sha256(concat(Uint8Array.of(1), left, right)); }
  function hash32(s, what) {
    const h = b64decode(s, what);
    if (h.length !== 32) fail(what + ' is not a SHA-256 hash');
    return h;
  }
  // Sizes may pass 2^31, so no bitwise operators on them.
  function half(n) { return Math.floor(n / 2); }
  function odd(n) { return n % 2 === 1; }
  function isPowerOfTwo(n) {
    while (n > 1 && n % 2 === 0) n /= 2;
    return n === 1;
  }
  function isSize(n) { return Number.isSafeInteger(n) && n >= 0; }

  // rootFromInclusionProof runs an inclusion proof (RFC 9162 §2.1.3.2):
  // the root of the tree of the given size if leaf is at index.
  async function rootFromInclusionProof(index, size, leaf, proof) {
    if (!isSize(index) || !isSize(size) || index >= size) fail('leaf ' + index + ' cannot be in a log of size ' + size);
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (sn === 0) fail('the inclusion proof has more hashes than the tree has levels');
      if (odd(fn) || fn === sn) {
        r = await nodeHash(p, r);
        while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
      } else {
        r = await nodeHash(r, p);
      }
      fn = half(fn); sn = half(sn);
    }
    if (sn !== 0) fail('the inclusion proof has fewer hashes than the tree has levels');
    return r;
  }

  // checkConsistency verifies that the tree of size first with root
  // firstRoot is a prefix of the tree of size second with root secondRoot
  // (RFC 9162 §2.1.4.2).
  async function checkConsistency(first, second, firstRoot, secondRoot, proof) {
    if (!isSize(first) || !isSize(second) || first < 1 || first > second) fail('no consistency proof can lead from size ' + first + ' to size ' + second);
    if (first === second) {
      if (proof.length !== 0) fail('a consistency proof between equal sizes must be empty');
      if (!equal(firstRoot, secondRoot)) fail('two log states of size ' + first + ' have different roots');
      return;
    }
    if (proof.length === 0) fail('the consistency proof is empty');
    const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof.slice();
    let fn = first - 1, sn = second - 1;
    while (odd(fn)) { fn = half(fn); sn = half(sn); }
    let fr = path[0], sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0) fail('the consistency proof has more hashes than the tree has levels');
      if (odd(fn) || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn = half(fn); sn = half(sn);
    }
    if (sn !== 0) fail('the consistency proof has fewer hashes than the tree has levels');
    if (!equal(fr, firstRoot)) fail('the consistency proof does not lead to the root of size ' + first);
    if (!equal(sr, secondRoot)) fail('the consistency proof does not lead to the root of size ' + second);
  }

  // parseCheckpoint reads a signed checkpoint (a C2SP signed note: origin,
  // size, base64 root, extension lines, a blank line, signature lines).
  function parseCheckpoint(note) {
    if (typeof note !== 'string') fail('the checkpoint is missing');
    const sep = note.indexOf('\n\n');
    if (sep < 0) fail('the checkpoint is not a signed note');
    const text = note.slice(0, sep + 1);
    const lines = text.slice(0, -1).split('\n');
    if (lines.length < 3) fail('the checkpoint has fewer than three lines');
    if (!/^[0-9]{1,16}$/.test(lines[1])) fail('the checkpoint size is not a number');
    const cp = { text, origin: lines[0], size: Number(lines[1]), root: hash32(lines[2], 'the checkpoint root'), time: 0, sigs: [] };
    for (const ext of lines.slice(3)) {
      if (ext.startsWith('time ') && /^[0-9]{1,12}$/.test(ext.slice(5))) cp.time = Number(ext.slice(5));
    }
    for (const line of note.slice(sep + 2).split('\n')) {
      if (line === '') continue;
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) fail('the checkpoint has a malformed signature line');
      const raw = b64decode(m[2], 'a checkpoint signature');
      if (raw.length < 5) fail('a checkpoint signature is too short');
      cp.sigs.push({ name: m[1], id: raw.slice(0, 4), sig: raw.slice(4) });
    }
    return cp;
  }

  // parseKey reads a note verifier key: name+hash+base64(0x01 ‖ Ed25519 key).
  async function parseKey(vkey) {
    // The base64 key may itself contain '+': only the first two separate.
    const m = typeof vkey === 'string' ? /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey) : null;
    if (!m) fail("the ledger's published key is malformed");
    const parts = m.slice(1);
    const key = b64decode(parts[2], "the ledger's key");
    if (key.length !== 33 || key[0] !== 1) fail("the ledger's key is not an Ed25519 key");
    const id = (await sha256(concat(enc.encode(parts[0] + '\n'), key))).slice(0, 4);
    if (hexencode(id) !== parts[1]) fail("the ledger's key does not match its key hash");
    return { name: parts[0], id, pub: key.slice(1), vkey };
  }

  // checkSignature verifies the checkpoint's Ed25519 signature by the
  // ledger key. It answers false when this browser cannot check Ed25519.
  async function checkSignature(cp, key) {
    if (cp.origin !== key.name) fail('the checkpoint is from log "' + cp.origin + '", not "' + key.name + '"');
    const sig = cp.sigs.find(s => s.name === key.name && equal(s.id, key.id));
    if (!sig) fail('the checkpoint carries no signature by the ledger key');
    let pub;
    try {
      pub = await crypto.subtle.importKey('raw', key.pub, { name: 'Ed25519' }, false, ['verify']);
    } catch (e) {
      return false;
    }
    if (!(await crypto.subtle.verify({ name: 'Ed25519' }, pub, sig.sig, enc.encode(cp.text)))) {
      fail('the signature on the checkpoint of size ' + cp.size + ' does not verify');
    }
    return true;
  }

  // rawReceipt cuts the receipt's exact JSON text out of the receipt answer
  // (its first field). The server embeds the stored bytes but, as JSON
  // encoders do, writes <, > and & as \u003c, \u003e and \u0026; the
  // canonical receipt never uses those escapes, so they are undone.
  function rawReceipt(text) {
    const key = '{"receipt":';
    if (!text.startsWith(key)) fail('the receipt answer does not start with the receipt');
    let i = key.length, depth = 0, inString = false;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') {
        inString = true;
      } else if (ch === '{' || ch === '[') {
        depth++;
      } else if (ch === '}' || ch === ']') {
        if (--depth === 0) { i++; break; }
      }
    }
    if (depth !== 0) fail('the receipt answer is cut short');
    return text.slice(key.length, i).replace(/\\(u[0-9a-fA-F]{4}|[^u])/g, m => {
      switch (m.toLowerCase()) {
        case '\\u003c': return '<';
        case '\\u003e': return '>';
        case '\\u0026': return '&';
      }
      return m;
    });
  }

  function validCheckpointMemo(v) {
    return v && typeof v === 'object' && isSize(v.size) && v.size > 0 && typeof v.root === 'string' && typeof v.key === 'string';
  }

  // verifyReceipt checks one receipt end to end. env: base (tact's URL),
  // fetch, and store ({get, set}) holding the last verified checkpoint.
  // It answers {pending: true} while no checkpoint covers the receipt yet.
  async function verifyReceipt(id, env) {
    if (typeof id !== 'string' || !/^rc_[a-z2-7]{32}$/.test(id)) fail('"' + id + '" is not a receipt id');
    const get = async (path, what) => {
      let res;
      try {
        res = await env.fetch(new URL(path, env.base), { credentials: 'omit', cache: 'no-store', headers: { Accept: 'application/json' } });
      } catch (e) {
        fail(what + ' could not be fetched (' + e.message + ')');
      }
      const text = await res.text();
      if (!res.ok) {
        let msg = 'HTTP status ' + res.status;
        try { msg = JSON.parse(text).error.message || msg; } catch (e) { /* not JSON */ }
        fail(what + ': ' + msg);
      }
      return text;
    };
    const json = (text, what) => {
      try { return JSON.parse(text); } catch (e) { fail(what + ' is not JSON'); }
    };

    // 1. The receipt's content, its log entry, and the inclusion proof.
    const text = await get('v1/consent/receipts/' + id, 'the receipt');
    const v = json(text, 'the receipt answer');
    if (!v.proof) {
      if (v.pending) return { pending: true };
      fail('the ledger answered no proof for the receipt');
    }
    if (typeof v.leafData !== 'string' || !v.leafData.startsWith('tact-receipt/v1\n' + id + '\n')) fail('the log entry names another receipt');
    let content = 'erased';
    if (!v.erased) {
      const raw = rawReceipt(text);
      if (json(raw, 'the receipt').receiptId !== id) fail('the ledger answered another receipt');
      const commitment = await sha256(concat(enc.encode('tact/v1/commit\0'), hexdecode(v.salt, 'the receipt salt'), enc.encode(raw)));
      if (v.leafData !== 'tact-receipt/v1\n' + id + '\n' + hexencode(commitment) + '\n') fail("the receipt's content does not match the commitment in its log entry");
      content = 'matches';
    }
    const leaf = await leafHash(enc.encode(v.leafData));
    if (!equal(leaf, hash32(v.leafHash, 'the leaf hash'))) fail('the leaf hash is not SHA-256(0x00 ‖ leaf data)');
    const p = v.proof;
    if (!Array.isArray(p.hashes)) fail('the inclusion proof has no hashes');
    const root = await rootFromInclusionProof(v.leafIndex, p.treeSize, leaf, p.hashes.map(h => hash32(h, 'an inclusion proof hash')));
    if (!equal(root, hash32(p.rootHash, 'the proof root'))) fail('the inclusion proof does not lead to the root of the log state of size ' + p.treeSize);

    // 2. The signed checkpoint holding it, under the ledger's key.
    const before = env.store.get();
    const keyAnswer = json(await get('.well-known/tact-ledger-key', "the ledger's key"), "the ledger's key");
    if (validCheckpointMemo(before) && before.key !== keyAnswer.verifierKey) fail("the ledger's signing key changed since this browser last verified");
    const key = await parseKey(keyAnswer.verifierKey);
    const cp = parseCheckpoint(p.checkpoint);
    if (cp.size !== p.treeSize || !equal(cp.root, root)) fail('the signed checkpoint is not the log state the proof is for');
    let signed = await checkSignature(cp, key);

    // 3. The latest checkpoint, and the one this browser verified before:
    // each must extend the earlier ones.
    const latestAnswer = json(await get('v1/ledger/checkpoint', 'the latest checkpoint'), 'the latest checkpoint');
    const latest = parseCheckpoint(latestAnswer.checkpoint);
    signed = (await checkSignature(latest, key)) && signed;
    const consistent = async (a, b, what) => {
      if (a.size > b.size) fail(what + ': the log has size ' + b.size + ', smaller than ' + a.size);
      if (a.size === b.size) {
        if (!equal(a.root, b.root)) fail(what + ': two signed log states of size ' + a.size + ' have different roots');
        return;
      }
      const c = json(await get('v1/ledger/consistency?from=' + a.size + '&to=' + b.size, 'the consistency proof'), 'the consistency proof');
      if (!Array.isArray(c.hashes)) fail('the consistency proof has no hashes');
      try {
        await checkConsistency(a.size, b.size, a.root, b.root, c.hashes.map(h => hash32(h, 'a consistency proof hash')));
      } catch (e) {
        if (e instanceof VerifyError) fail(what + ': ' + e.message);
        throw e;
      }
    };
    await consistent(cp, latest, 'the latest log state does not extend the one holding the receipt');
    let from = null;
    if (validCheckpointMemo(before)) {
      await consistent({ size: before.size, root: hash32(before.root, 'the remembered root') }, latest,
        'the log is not an extension of the state this browser verified before (size ' + before.size + ')');
      from = before.size;
    }
    env.store.set({ origin: key.name, key: key.vkey, size: latest.size, root: b64encode(latest.root), time: latest.time });
    return { pending: false, id, leafIndex: v.leafIndex, size: cp.size, latest: latest.size, origin: key.name, signed, content, from };
  }

  // ---- The page ----

  const browserStore = {
    get() {
      try { return JSON.parse(localStorage.getItem(STORE_KEY) || 'null'); } catch (e) { return null; }
    },
    set(v) {
      try { localStorage.setItem(STORE_KEY, JSON.stringify(v)); } catch (e) { /* storage refused: nothing remembered */ }
    },
    clear() {
      try { localStorage.removeItem(STORE_KEY); } catch (e) { /* nothing to clear */ }
    },
  };

  function format(s, vars) {
    return String(s || '').replace(/\{(\w+)\}/g, (m, k) => (Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : m));
  }
  function para(text) {
    const p = document.createElement('p');
    p.textContent = text;
    return p;
  }
  function say(out, lines) { out.replaceChildren(...lines.map(l => (typeof l === 'string' ? para(l) : l))); }
  function sleep(ms) { return new Promise(resolve => setTimeout(resolve, ms)); }
  function utc(seconds) { return new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'; }

  function showLast(T) {
    const span = document.getElementById('last-checkpoint');
    const forget = document.getElementById('forget-checkpoint');
    if (!span) return;
    const k = browserStore.get();
    if (validCheckpointMemo(k)) {
      span.textContent = format(T.last, { size: k.size, time: k.time ? utc(k.time) : '?' });
      if (forget) forget.hidden = false;
    } else {
      span.textContent = T.ledger_none;
      if (forget) forget.hidden = true;
    }
  }

  // runVerify verifies the receipt of a Verify button. Pressed by the
  // shopper, it remembers the checkpoint; run by itself after a change of
  // choices, it only compares.
  async function runVerify(button, T, env, remember) {
    const out = button.closest('.receipt').querySelector('.verify-result');
    const id = button.dataset.receipt;
    const store = remember ? env.store : { get: env.store.get, set() {} };
    button.disabled = true;
    out.className = 'verify-result';
    say(out, [T.checking]);
    try {
      let r;
      for (let i = 0; ; i++) {
        r = await verifyReceipt(id, { base: env.base, fetch: env.fetch, store });
        if (!r.pending) break;
        if (i >= 15) fail('no signed log state covers the receipt yet; try again in a minute');
        say(out, [T.pending]);
        await sleep(1000);
      }
      const lines = [format(T.ok, { id: r.id, leaf: r.leafIndex, size: r.size, origin: r.origin })];
      lines.push(r.content === 'erased' ? T.erased : T.content);
      if (!r.signed) lines.push(T.nosig);
      if (r.from !== null) lines.push(format(T.consistent, { from: r.from }));
      else if (remember) lines.push(format(T.first, { size: r.latest }));
      out.classList.add('ok');
      say(out, lines);
      showLast(T);
    } catch (e) {
      out.classList.add('fail');
      say(out, [format(T.failed, { reason: e instanceof VerifyError ? e.message : 'unexpected error (' + e.message + ')' })]);
    } finally {
      button.disabled = false;
    }
  }

  async function jsonAnswer(res) {
    let body = {};
    try { body = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) throw new Error((body.error && body.error.message) || 'HTTP status ' + res.status);
    return body;
  }

  // fileRequest files a rights request. Requests answered by a report stay
  // on the page and wait for it; the others reload the page, which shows
  // their effect.
  async function fileRequest(form, T, env) {
    const out = form.querySelector('.request-result');
    const button = form.querySelector('button[type=submit]');
    const data = new FormData(form);
    const body = { type: data.get('type'), locale: data.get('locale') };
    if (data.get('confirm')) body.confirm = true;
    button.disabled = true;
    out.className = 'request-result';
    say(out, [T.sending]);
    try {
      const ans = await jsonAnswer(await fetch(form.action, {
        method: 'POST', credentials: 'same-origin', cache: 'no-store',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body),
      }));
      const first = format(T.request, { id: ans.requestId, status: T['st_' + ans.status] || ans.status });
      if (!form.dataset.reports || !ans.requestToken) {
        const q = new URLSearchParams({ locale: body.locale || 'en', done: 'request', request: ans.requestId, status: ans.status });
        location.assign(new URL('privacy?' + q, env.base));
        return;
      }
      say(out, [first]);
      await waitForReport(out, T, env, ans, first);
    } catch (e) {
      out.classList.add('fail');
      say(out, [format(T.error, { reason: e.message })]);
    } finally {
      button.disabled = false;
    }
  }

  async function waitForReport(out, T, env, ans, first) {
    const headers = { Authorization: 'Bearer ' + ans.requestToken };
    const url = path => new URL('v1/requests/' + encodeURIComponent(ans.requestId) + path, env.base);
    for (let i = 0; i < 40; i++) {
      await sleep(i === 0 ? 500 : 3000);
      const st = await jsonAnswer(await fetch(url(''), { headers, credentials: 'omit', cache: 'no-store' }));
      const status = T['st_' + st.status] || st.status;
      if (st.status === 'completed') {
        const p = para(T.ready);
        for (const [fmt, label] of [['json', T.json], ['html', T.html]]) {
          const b = document.createElement('button');
          b.type = 'button';
          b.className = 'secondary';
          b.textContent = label;
          b.addEventListener('click', async () => {
            try {
              const res = await fetch(url('/report?format=' + fmt), { headers, credentials: 'omit', cache: 'no-store' });
              if (!res.ok) await jsonAnswer(res);
              const a = document.createElement('a');
              a.href = URL.createObjectURL(await res.blob());
              a.download = ans.requestId + '.' + fmt;
              document.body.append(a);
              a.click();
              a.remove();
              setTimeout(() => URL.revokeObjectURL(a.href), 60000);
            } catch (e) {
              out.classList.add('fail');
              say(out, [first, format(T.error, { reason: e.message })]);
            }
          });
          p.append(' ', b);
        }
        say(out, [first, p]);
        return;
      }
      if (!['received', 'verified', 'in_progress'].includes(st.status)) {
        say(out, [format(T.request, { id: ans.requestId, status })]);
        return;
      }
      say(out, [first, format(T.preparing, { status })]);
    }
    say(out, [first, format(T.slow, { due: ans.dueAt })]);
  }

  function init() {
    const data = document.getElementById('tact-privacy-texts');
    let T = {};
    try { T = JSON.parse(data ? data.textContent : '{}'); } catch (e) { /* keep the keys */ }
    const env = { base: new URL('.', location.href), fetch: (u, o) => fetch(u, o), store: browserStore };
    for (const n of document.querySelectorAll('.js-only')) n.hidden = false;
    for (const n of document.querySelectorAll('.no-js')) n.hidden = true;
    showLast(T);
    const forget = document.getElementById('forget-checkpoint');
    if (forget) forget.addEventListener('click', () => { browserStore.clear(); showLast(T); });
    for (const b of document.querySelectorAll('button.verify')) {
      b.addEventListener('click', () => runVerify(b, T, env, true));
      if (b.dataset.auto) runVerify(b, T, env, false);
    }
    for (const f of document.querySelectorAll('form.request')) {
      f.addEventListener('submit', ev => { ev.preventDefault(); fileRequest(f, T, env); });
    }
  }

  const api = { VerifyError, rootFromInclusionProof, checkConsistency, parseCheckpoint, parseKey, checkSignature, rawReceipt, verifyReceipt, leafHash, nodeHash };
  if (typeof module === 'object' && module && module.exports) module.exports = api; // tests under node
  if (typeof document !== 'undefined') {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
    else init();
  }
})();
