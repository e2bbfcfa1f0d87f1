// The demo shop's own script: e-commerce events through tact.js and a
// recommendations box labelled as personalised, with a one-click switch to
// non-personalised results. Text goes in with textContent only.
(function () {
  "use strict";
  var body = document.body;
  var tactURL = body.dataset.tact, writeKey = body.dataset.writeKey;
  var lang = document.documentElement.lang === "zh-CN" ? "zh-CN" : "en";
  var T = {
    en: { forYou: "Recommended for you", popular: "Popular right now", off: "Show non-personalised", on: "Show personalised",
          added: "Added to your cart", bought: "Thank you for your order" },
    "zh-CN": { forYou: "个性化推荐", popular: "热门推荐", off: "查看非个性化推荐", on: "查看个性化推荐",
          added: "已加入购物车", bought: "感谢您的订购" }
  }[lang];
  var personalized = true, names = {};

  function product() {
    var el = document.getElementById("product");
    if (!el) return null;
    return { product_id: el.dataset.id, name: el.dataset.name, category: el.dataset.category,
             price: Number(el.dataset.price), currency: "GBP" };
  }
  function withTact(fn) {
    if (window.tact) return fn(window.tact);
    window.addEventListener("load", function () { if (window.tact) fn(window.tact); });
  }

  function loadRecs() {
    var box = document.getElementById("recs");
    if (!box) return;
    var q = "placement=" + box.dataset.placement + (box.dataset.item ? "&itemId=" + encodeURIComponent(box.dataset.item) : "") +
      "&limit=6&locale=" + lang + (personalized ? "" : "&personalized=false");
    fetch(tactURL + "/v1/recommendations?" + q, { credentials: "include", headers: { Authorization: "Basic " + btoa(writeKey + ":") } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) { if (a) render(a); })
      .catch(function () {});
  }

  function render(a) {
    var title = document.getElementById("recs-title"), list = document.getElementById("recs-list"),
        toggle = document.getElementById("recs-toggle");
    title.textContent = a.personalized ? T.forYou : T.popular;
    document.getElementById("recs").dataset.personalized = String(a.personalized);
    toggle.hidden = !(a.personalized || !personalized);
    toggle.textContent = personalized ? T.off : T.on;
    document.getElementById("recs").hidden = a.items.length === 0 && personalized;
    list.textContent = "";
    a.items.forEach(function (it) {
      var li = document.createElement("li"), link = document.createElement("a"), why = document.createElement("small");
      link.href = "/p/" + encodeURIComponent(it.id) + "?lang=" + lang;
      link.textContent = names[it.id] || it.id;
      why.textContent = it.reason.text;
      li.appendChild(link); li.appendChild(why); list.appendChild(li);
    });
  }

  function status(text) {
    var el = document.getElementById("status");
    if (el) el.textContent = text;
  }

  fetch("/products.json").then(function (r) { return r.json(); }).then(function (n) { names = n; loadRecs(); });

  var toggle = document.getElementById("recs-toggle");
  if (toggle) toggle.addEventListener("click", function () { personalized = !personalized; loadRecs(); });

  withTact(function (tact) {
    tact.page();
    var p = product();
    if (p) tact.track("Product Viewed", p);
    var add = document.getElementById("add-to-cart"), buy = document.getElementById("buy-now");
    if (add) add.addEventListener("click", function () {
      tact.track("Product Added", p); status(T.added); setTimeout(loadRecs, 1500);
    });
    if (buy) buy.addEventListener("click", function () {
      tact.track("Order Completed", { order_id: "demo-" + Date.now(), currency: "GBP", total: p.price, products: [p] });
      status(T.bought); setTimeout(loadRecs, 1500);
    });
    if (tact.consent && tact.consent.on) tact.consent.on("change", function () { setTimeout(loadRecs, 500); });
  });
})();
