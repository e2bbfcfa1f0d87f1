/*! tact.js: consent banner and tracker for tact, the privacy-first CDP. */
// Plain JavaScript, no build step. Every text from the notice is untrusted
// and goes in with textContent; no inline styles (tact.css does the look),
// so a strict CSP needs only tact's origin in script-src and style-src.
(function (w, d, nav) {
  "use strict";
  if (w.tact && w.tact.consent) return; // loaded twice

  var me = d.currentScript || d.querySelector("script[data-write-key]");
  var ds = (me && me.dataset) || {};
  // tact's base URL: the script's own, less /tact.js or /tact/<version>/tact.js.
  var T = (ds.tactUrl || (me && me.src) || "").replace(/\/(tact\/[^/]+\/)?tact\.js([?#].*)?$/, "");
  var KEY = ds.writeKey || "";
  var AUTH = "Basic " + btoa(KEY + ":");
  var ADV = ds.consentMode === "advanced";
  var LINK = ds.privacyLink || "bottom-right";
  var GPC = nav.globalPrivacyControl === true;
  var LOC = ds.locale || d.documentElement.lang || nav.language || "en";
  // Filled in by tact when it serves this file: the stylesheet it ships with.
  var CSSV = "%CSS_VERSION%", CSSI = "%CSS_INTEGRITY%";
  var CK = "tact_consent";

  var TXT = {
    en: {
      title: "Your privacy choices",
      intro: "{shop} asks for your consent to use your data for: {list}. Strictly necessary processing always runs. You can change your choices at any time with \u201cPrivacy choices\u201d.",
      meas: "Without consent we only count visits anonymously; \u201cReject all\u201d stops that too.",
      gpc: "Your browser sent a Global Privacy Control signal and we honour it: {list} stay off.",
      accept: "Accept all", reject: "Reject all", choose: "Choose", save: "Save choices", close: "Close",
      on: "Always on", sep: "Asked separately; never part of \u201cAccept all\u201d.", gpcOff: "Off because of Global Privacy Control.",
      basis: "Legal basis: ", data: "Data: ", to: "Recipients: ",
      link: "Privacy choices", more: "Privacy center and full notice",
      err: "Your choice could not be saved. Please try again.",
      roles: { processor: "processor", controller: "independent controller", joint_controller: "joint controller" },
      and: ", "
    },
    "zh-CN": {
      title: "\u60a8\u7684\u9690\u79c1\u9009\u62e9",
      intro: "{shop} \u5e0c\u671b\u5f81\u5f97\u60a8\u7684\u540c\u610f\uff0c\u5c06\u60a8\u7684\u6570\u636e\u7528\u4e8e\uff1a{list}\u3002\u5fc5\u8981\u529f\u80fd\u59cb\u7ec8\u8fd0\u884c\u3002\u60a8\u53ef\u4ee5\u968f\u65f6\u901a\u8fc7\u201c\u9690\u79c1\u9009\u62e9\u201d\u66f4\u6539\u60a8\u7684\u9009\u62e9\u3002",
      meas: "\u672a\u7ecf\u60a8\u7684\u540c\u610f\uff0c\u6211\u4eec\u53ea\u533f\u540d\u7edf\u8ba1\u8bbf\u95ee\u91cf\uff1b\u9009\u62e9\u201c\u5168\u90e8\u62d2\u7edd\u201d\u4e5f\u4f1a\u505c\u6b62\u6b64\u7c7b\u7edf\u8ba1\u3002",
      gpc: "\u60a8\u7684\u6d4f\u89c8\u5668\u53d1\u9001\u4e86\u5168\u7403\u9690\u79c1\u63a7\u5236\uff08GPC\uff09\u4fe1\u53f7\uff0c\u6211\u4eec\u4e88\u4ee5\u9075\u4ece\uff1a{list}\u4fdd\u6301\u5173\u95ed\u3002",
      accept: "\u5168\u90e8\u63a5\u53d7", reject: "\u5168\u90e8\u62d2\u7edd", choose: "\u81ea\u884c\u9009\u62e9", save: "\u4fdd\u5b58\u9009\u62e9", close: "\u5173\u95ed",
      on: "\u59cb\u7ec8\u5f00\u542f", sep: "\u9700\u5355\u72ec\u540c\u610f\uff0c\u4e0d\u5305\u542b\u5728\u201c\u5168\u90e8\u63a5\u53d7\u201d\u4e2d\u3002", gpcOff: "\u56e0\u5168\u7403\u9690\u79c1\u63a7\u5236\uff08GPC\uff09\u4fe1\u53f7\u800c\u5173\u95ed\u3002",
      basis: "\u6cd5\u5f8b\u4f9d\u636e\uff1a", data: "\u6570\u636e\u7c7b\u522b\uff1a", to: "\u63a5\u6536\u65b9\uff1a",
      link: "\u9690\u79c1\u9009\u62e9", more: "\u9690\u79c1\u4e2d\u5fc3\u4e0e\u5b8c\u6574\u58f0\u660e",
      err: "\u60a8\u7684\u9009\u62e9\u672a\u80fd\u4fdd\u5b58\uff0c\u8bf7\u91cd\u8bd5\u3002",
      roles: { processor: "\u53d7\u6258\u5904\u7406\u8005", controller: "\u72ec\u7acb\u5904\u7406\u8005", joint_controller: "\u5171\u540c\u5904\u7406\u8005" },
      and: "\u3001"
    }
  };
  var zh = function (l) { return /^zh(-(cn|sg|hans.*))?$/i.test(String(l).replace("_", "-")); };
  var S = readCookie(); // the stored decision, or null
  var N = null; // the notice
  var st = { ready: false, decided: false, purposes: { necessary: true } };
  var M = TXT[zh(LOC) ? "zh-CN" : "en"];
  var H = []; // change listeners
  var Q = []; // events not yet sent
  var timer = 0, uid = "", uhash = "", ui = null, prev = null, wantOpen = false;

  // --- Google Consent Mode v2 -------------------------------------------
  var GT = ["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
    "functionality_storage", "personalization_storage", "security_storage"];
  var gcm = !!(w.gtag || w.dataLayer || ds.consentMode ||
    d.querySelector('script[data-tact-purpose][src*="googletagmanager"]'));
  function gtag() {
    if (typeof w.gtag == "function") w.gtag.apply(w, arguments);
    else (w.dataLayer = w.dataLayer || []).push(arguments);
  }
  function gcmState(wait) {
    var o = {};
    GT.forEach(function (t) { o[t] = "denied"; });
    if (N) N.purposes.forEach(function (p) {
      if (st.purposes[p.id]) (p.consent_mode || []).forEach(function (t) { o[t] = "granted"; });
    });
    if (wait) o.wait_for_update = 500;
    return o;
  }
  if (gcm) {
    gtag("consent", "default", gcmState(true));
    if (ADV) gtag("set", "ads_data_redaction", true);
  }

  // --- stored decision --------------------------------------------------
  function readCookie() {
    var m = d.cookie.match(/(?:^|;\s*)tact_consent=([^;]*)/);
    try { return m ? JSON.parse(decodeURIComponent(m[1])) : null; } catch (e) { return null; }
  }
  function writeCookie() {
    d.cookie = CK + "=" + encodeURIComponent(JSON.stringify(S)) + "; Path=/; Max-Age=31536000; SameSite=Lax" +
      (location.protocol == "https:" ? "; Secure" : "");
  }

  // --- state --------------------------------------------------------------
  function regime() {
    var r = N && N.regimes.filter(function (x) { return x.id == N.regime; })[0];
    return r || { measurement: "off", gpc_denies: [] };
  }
  function gpcDenied(id) { return GPC && regime().gpc_denies.indexOf(id) >= 0; }

  // resolve works out the state from the notice and the stored decision;
  // it reports whether the shopper must be asked (again).
  function resolve() {
    var expired = !S || !(S.e > Date.now()), ask = expired, p = {}, v = {}, r = regime();
    if (N) {
      N.purposes.forEach(function (q) {
        var s = S && S.p && S.p[q.id], g;
        if (q.required) g = true;
        else if (s && s[1] === q.version && !expired) g = !!s[0];
        else { g = !!(q.default || {})[r.id]; ask = true; }
        p[q.id] = g && !gpcDenied(q.id);
        v[q.id] = q.version;
      });
    } else if (!expired) {
      // tact is unreachable: the stored decision holds until it expires.
      for (var id in S.p) p[id] = !!S.p[id][0];
      p.necessary = true;
    } else p.necessary = true;
    st = {
      ready: true, decided: !!S && !ask, purposes: p, versions: v,
      noticeVersion: S ? S.n : N && N.version, time: S ? new Date(S.t).toISOString() : null,
      expires: S ? new Date(S.e).toISOString() : null, receiptId: S ? S.r : null,
      anonymousId: S && S.a || null, gpc: GPC, regime: r.id || null, measurement: r.measurement,
      objected: !!(S && S.o) || GPC
    };
    return ask && !!N;
  }
  function granted(id) { return !!st.purposes[id]; }
  var MO;

  // apply makes the state count: Consent Mode, held-back scripts, listeners
  // and the events waiting for it.
  function apply() {
    if (gcm) gtag("consent", "update", gcmState());
    release();
    // Held-back scripts the page adds later run too, once granted.
    if (!MO && window.MutationObserver) (MO = new MutationObserver(release)).observe(d.documentElement, { childList: true, subtree: true });
    var s = get();
    H.forEach(function (fn) { try { fn(s); } catch (e) { setTimeout(function () { throw e; }); } });
    schedule();
  }
  function get() { return JSON.parse(JSON.stringify(st)); }

  // release runs each held-back script whose purposes are all granted, once:
  // the placeholder is replaced, so it cannot match again.
  function release() {
    d.querySelectorAll('script[type="text/plain"][data-tact-purpose]').forEach(function (old) {
      if (!old.getAttribute("data-tact-purpose").split(/[\s,]+/).filter(Boolean).every(granted)) return;
      var s = d.createElement("script");
      for (var i = 0; i < old.attributes.length; i++) {
        var a = old.attributes[i];
        if (a.name != "type") s.setAttribute(a.name, a.value);
      }
      if (old.getAttribute("data-type")) s.type = old.getAttribute("data-type");
      if (old.nonce) s.nonce = old.nonce; // the attribute reads empty once a CSP hid it
      if (old.src) { if (!old.hasAttribute("async")) s.async = false; } else s.text = old.text;
      old.parentNode.replaceChild(s, old);
    });
  }

  // --- recording a decision ----------------------------------------------
  function sep(id) {
    return N.purposes.some(function (q) { return q.id == id && q.separate_consent; });
  }
  // post records one decision. A customer the shop identified with a
  // userHash is named too, so the decision follows them (DESIGN principle 3).
  function post(choices, anon, retry) {
    var b = { noticeVersion: N.version, method: "banner", choices: choices, locale: N.locale };
    if (GPC) b.gpc = true;
    // tact makes a browser id only for a decision naming no one; with a
    // userId the browser's new id comes from here.
    if (uid && uhash && !retry) { b.userId = uid; b.userHash = uhash; anon = anon || uuid(); }
    if (anon) b.anonymousId = anon;
    return fetch(T + "/v1/consent", {
      method: "POST", credentials: "include",
      headers: { Authorization: AUTH, "Content-Type": "application/json" }, body: JSON.stringify(b)
    }).then(function (r) {
      // 403: tact's cookie proving this browser has expired (or the shop's
      // userHash is wrong), so the decision is made again for a new browser id.
      if (r.status == 403 && !retry && (anon || b.userId)) return post(choices, "", 1);
      if (!r.ok) throw new Error("tact: consent answered " + r.status);
      return r.json().then(function (a) { a.anonymousId = a.anonymousId || anon; return a; });
    });
  }
  // decide records choices (purpose -> bool). A purpose needing separate
  // consent is granted in a decision of its own, as tact requires.
  function decide(choices, reject) {
    var main = {}, groups = [main], anon = S && S.a, ans = null;
    Object.keys(choices).forEach(function (id) {
      if (choices[id] && sep(id)) { var g = {}; g[id] = true; groups.push(g); } else main[id] = choices[id];
    });
    busy(true);
    var chain = Promise.resolve();
    groups.forEach(function (g) {
      if (!Object.keys(g).length) return;
      chain = chain.then(function () { return post(g, anon); }).then(function (a) {
        ans = a;
        if (a.anonymousId) anon = a.anonymousId;
      });
    });
    return chain.then(function () {
      var p = {}, e = Infinity, now = Date.now(), state = (ans && ans.state) || {};
      N.purposes.forEach(function (q) {
        if (q.required) return;
        var v = state[q.id];
        p[q.id] = [v ? (v.granted ? 1 : 0) : (choices[q.id] ? 1 : 0), q.version];
        var x = v && Date.parse(v.expires);
        if (x > now && x < e) e = x;
      });
      if (e == Infinity) e = now + 395 * 864e5; // 13 months
      S = { n: N.version, t: now, e: e, a: anon || undefined, r: ans && ans.receiptId || undefined, p: p, o: reject ? 1 : undefined };
      writeCookie();
      resolve();
      busy(false);
      close();
      apply();
    }, function (err) {
      busy(false);
      ui.err.hidden = false;
      throw err;
    });
  }

  // --- banner -----------------------------------------------------------
  function el(tag, attrs, kids) {
    var e = d.createElement(tag);
    for (var k in attrs) {
      if (k == "text") e.textContent = attrs[k];
      else if (attrs[k] != null) e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function fill(s, list) {
    return s.replace("{shop}", N.controller.name || "").replace("{list}", list.join(M.and));
  }
  function titleOf(list, id) {
    var x = list.filter(function (y) { return y.id == id; })[0];
    return x ? x.title || x.name || id : id;
  }
  function btn(id, label) { return el("button", { type: "button", id: id, "class": "tact-btn", text: label }); }

  function build() {
    var opt = N.purposes.filter(function (q) { return !q.required; });
    var off = opt.filter(function (q) { return gpcDenied(q.id); });
    var list = el("div", { id: "tact-purposes", hidden: "" });
    N.purposes.forEach(function (q) {
      var id = "tact-purpose-" + q.id, dd = "tact-desc-" + q.id;
      var recips = q.recipients.map(function (r) {
        var x = N.recipients.filter(function (y) { return y.id == r; })[0];
        if (!x) return r;
        return x.name + " (" + [M.roles[x.role] || x.role, x.country, x.transfer_mechanism].filter(Boolean).join(", ") + ")";
      });
      var box = el("input", { type: "checkbox", role: "switch", id: id, "aria-describedby": dd });
      if (q.required || gpcDenied(q.id)) box.disabled = true;
      list.appendChild(el("div", { "class": "tact-p" }, [
        el("label", { "for": id }, [box, el("span", { text: q.title + (q.required ? " \u00b7 " + M.on : "") })]),
        el("div", { id: dd, "class": "tact-d" }, [
          el("p", { text: q.description }),
          q.separate_consent ? el("p", { text: M.sep }) : null,
          gpcDenied(q.id) ? el("p", { text: M.gpcOff }) : null,
          el("p", { text: M.basis + q.legal_basis_text }),
          q.categories.length ? el("p", { text: M.data + q.categories.map(function (c) { return titleOf(N.categories, c); }).join(M.and) }) : null,
          recips.length ? el("p", { text: M.to + recips.join(M.and) }) : null
        ])
      ]));
    });
    var b = {
      accept: btn("tact-accept-all", M.accept), reject: btn("tact-reject-all", M.reject),
      choose: btn("tact-choose", M.choose), save: btn("tact-save", M.save), close: btn("tact-close", M.close)
    };
    b.save.hidden = true;
    var root = el("div", {
      id: "tact-banner", role: "dialog", "aria-modal": "true", "aria-labelledby": "tact-title",
      "aria-describedby": "tact-intro", lang: N.locale, hidden: ""
    }, [el("div", { "class": "tact-box" }, [
      el("h2", { id: "tact-title", tabindex: "-1", text: M.title }),
      el("p", { id: "tact-intro", text: fill(M.intro, opt.map(function (q) { return q.title; })) +
        (regime().measurement != "off" ? " " + M.meas : "") }),
      off.length ? el("p", { id: "tact-gpc", "class": "tact-note", text: fill(M.gpc, off.map(function (q) { return q.title; })) }) : null,
      list,
      el("p", { id: "tact-error", role: "alert", "class": "tact-note", text: M.err, hidden: "" }),
      el("div", { "class": "tact-btns" }, [b.accept, b.reject, b.choose, b.save]),
      el("p", { "class": "tact-more" }, [
        el("a", { id: "tact-privacy-center", href: T + "/privacy?locale=" + encodeURIComponent(N.locale), text: M.more }),
        b.close
      ])
    ])]);
    b.close.className = "tact-text";

    b.accept.onclick = function () {
      var c = {};
      opt.forEach(function (q) {
        // Separate-consent purposes are never granted by "Accept all".
        if (q.separate_consent) { if (!granted(q.id)) c[q.id] = false; } else c[q.id] = !gpcDenied(q.id);
      });
      decide(c).catch(noop);
    };
    b.reject.onclick = function () {
      var c = {};
      opt.forEach(function (q) { c[q.id] = false; });
      decide(c, true).catch(noop);
    };
    b.choose.onclick = function () { layer(2); };
    b.save.onclick = function () {
      var c = {};
      opt.forEach(function (q) { c[q.id] = d.getElementById("tact-purpose-" + q.id).checked; });
      decide(c).catch(noop);
    };
    b.close.onclick = close;
    root.addEventListener("keydown", function (e) {
      if (e.key == "Escape") {
        if (!list.hidden) { layer(1); b.choose.focus(); } else if (st.decided) close();
        e.preventDefault();
      } else if (e.key == "Tab") trap(e, root);
    });
    d.body.appendChild(root);
    ui = { root: root, list: list, b: b, err: d.getElementById("tact-error") };
  }
  // trap keeps Tab inside the dialog while it is open (aria-modal).
  function trap(e, root) {
    var f = [].filter.call(root.querySelectorAll("button,input,a[href]"), function (x) {
      return !x.disabled && x.getClientRects().length;
    });
    var i = f.indexOf(d.activeElement), last = f.length - 1;
    if (e.shiftKey && i <= 0) { f[last].focus(); e.preventDefault(); }
    else if (!e.shiftKey && i == last) { f[0].focus(); e.preventDefault(); }
  }
  function layer(n) {
    var two = n == 2;
    ui.list.hidden = !two;
    ui.b.choose.hidden = two;
    ui.b.save.hidden = !two;
    if (two) {
      var first = ui.list.querySelector("input:not([disabled])");
      (first || ui.list).focus();
    }
  }
  function busy(on) {
    if (ui) ["accept", "reject", "choose", "save"].forEach(function (k) { ui.b[k].disabled = on; });
  }
  function noop() {}

  function open() {
    if (!N) { wantOpen = true; return; }
    if (!d.body) return whenReady(open);
    if (!ui) build();
    N.purposes.forEach(function (q) {
      var box = d.getElementById("tact-purpose-" + q.id);
      if (box) box.checked = granted(q.id);
    });
    ui.err.hidden = true;
    ui.b.close.hidden = !st.decided;
    layer(1);
    if (ui.root.hidden) prev = d.activeElement;
    ui.root.hidden = false;
    showLink();
    d.getElementById("tact-title").focus();
  }
  function close() {
    if (!ui || ui.root.hidden) return;
    ui.root.hidden = true;
    showLink();
    var to = prev && prev.isConnected && prev != d.body ? prev : link;
    if (to && to.focus) to.focus();
    prev = null;
  }

  var link = null;
  function showLink() {
    if (LINK == "none" || !d.body) return;
    if (!link) {
      link = el("button", { type: "button", id: "tact-privacy-link", "class": LINK == "bottom-left" ? "tact-left" : null, text: M.link });
      link.onclick = open;
      d.body.appendChild(link);
    }
    link.hidden = !!(ui && !ui.root.hidden);
  }

  // --- tracker ----------------------------------------------------------
  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), h = "";
    b[6] = b[6] & 15 | 64; b[8] = b[8] & 63 | 128;
    for (var i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1) + ([3, 5, 7, 9].indexOf(i) >= 0 ? "-" : "");
    return h;
  }
  function pageInfo() {
    return { path: location.pathname, url: location.href, search: location.search, title: d.title, referrer: d.referrer };
  }
  function enqueue(e) {
    var camp = {};
    new URLSearchParams(location.search).forEach(function (v, k) {
      if (k.indexOf("utm_") == 0) camp[k == "utm_campaign" ? "name" : k.slice(4)] = v;
    });
    e.messageId = uuid();
    e.timestamp = new Date().toISOString();
    e.userId = uid || undefined;
    e.context = { page: pageInfo(), locale: nav.language, library: { name: "tact.js", version: "1" },
      campaign: Object.keys(camp).length ? camp : undefined, userHash: uid && uhash || undefined };
    Q.push(e);
    schedule();
  }
  // Events wait while the state is unknown and while the banner asks a
  // first question; they are judged by the state when they leave.
  function holding() { return !st.ready || !!(ui && !ui.root.hidden && !st.decided); }
  function schedule() {
    if (!Q.length || holding()) return;
    if (Q.length >= 20) flush();
    else if (!timer) timer = setTimeout(flush, 1000);
  }
  // shape applies consent to an event: identifiers only with analytics;
  // otherwise what the regime's measurement mode allows, or nothing.
  function shape(e) {
    if (granted("analytics")) {
      if (st.anonymousId) e.anonymousId = st.anonymousId;
      e.context.consent = { categoryPreferences: st.purposes };
      return e;
    }
    if (!st.ready || st.measurement == "off" || !st.measurement || st.objected || e.type == "identify") return null;
    delete e.traits;
    delete e.userId;
    delete e.context.userHash;
    return e;
  }
  function flush(beacon) {
    clearTimeout(timer);
    timer = 0;
    while (Q.length) {
      var batch = Q.splice(0, 20).map(shape).filter(Boolean);
      if (!batch.length) continue;
      var body = { batch: batch, sentAt: new Date().toISOString() };
      if (beacon && nav.sendBeacon) {
        // A beacon cannot carry Authorization: the key goes in the body.
        body.writeKey = KEY;
        if (nav.sendBeacon(T + "/v1/batch", new Blob([JSON.stringify(body)], { type: "text/plain" }))) continue;
        delete body.writeKey;
      }
      fetch(T + "/v1/batch", {
        method: "POST", credentials: "include", keepalive: true,
        headers: { Authorization: AUTH, "Content-Type": "application/json" }, body: JSON.stringify(body)
      }).catch(noop);
    }
  }
  function hide() { flush(true); }
  w.addEventListener("pagehide", hide);
  d.addEventListener("visibilitychange", function () { if (d.visibilityState == "hidden") hide(); });

  // --- start --------------------------------------------------------------
  function whenReady(fn) {
    if (d.readyState == "loading") d.addEventListener("DOMContentLoaded", fn, { once: true });
    else fn();
  }
  var css = new Promise(function (ok) {
    var l = d.createElement("link");
    l.rel = "stylesheet";
    l.href = T + (CSSV.charAt(0) == "%" ? "/tact.css" : "/tact/" + CSSV + "/tact.css");
    if (CSSI.charAt(0) != "%") { l.integrity = CSSI; l.crossOrigin = "anonymous"; }
    l.onload = l.onerror = ok;
    d.head.appendChild(l);
  });
  var notice = fetch(T + "/v1/notice?locale=" + encodeURIComponent(LOC), { credentials: "omit" })
    .then(function (r) { if (!r.ok) throw new Error("tact: notice answered " + r.status); return r.json(); })
    .then(function (n) { N = n; M = TXT[n.locale] || TXT.en; }, function (e) { if (w.console) console.warn(e); });
  Promise.all([css, notice, new Promise(whenReady)]).then(function () {
    var ask = resolve();
    apply();
    if (ask || wantOpen) open(); else showLink();
  });
  d.addEventListener("click", function (e) {
    var t = e.target.closest && e.target.closest("[data-tact-open]");
    if (t) { e.preventDefault(); open(); }
  });

  w.tact = {
    consent: {
      get: get,
      on: function (type, fn) {
        if (type != "change" || typeof fn != "function") return;
        H.push(fn);
        if (st.ready) fn(get()); // the state is known already: tell it now
      },
      open: open
    },
    page: function (name, props) {
      var p = Object.assign(pageInfo(), props || {});
      if (typeof name == "object" && name) { p = Object.assign(pageInfo(), name); name = undefined; }
      enqueue({ type: "page", name: name || undefined, properties: p });
    },
    track: function (event, props) { enqueue({ type: "track", event: String(event), properties: props || {} }); },
    identify: function (userId, traits, opts) {
      uid = userId ? String(userId) : "";
      uhash = (opts && opts.userHash) || "";
      enqueue({ type: "identify", traits: traits || {} });
    },
    flush: function () { flush(); }
  };
})(window, document, navigator);
