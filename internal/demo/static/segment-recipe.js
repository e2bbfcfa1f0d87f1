// Recipe A of internal/tactjs/README.md for the UMD build of
// @segment/analytics-next: load the SDK only once analytics is granted,
// with tact's anonymous id, sending to tact.
(function () {
  "use strict";
  var body = document.body, tactURL = body.dataset.tact, loaded = false;
  var analytics = new window.AnalyticsNext.AnalyticsBrowser();
  window.segment = analytics;
  window.tact.consent.on("change", function (s) {
    if (!s.purposes || !s.purposes.analytics) {
      if (loaded) analytics.reset();
      return;
    }
    if (loaded) return;
    loaded = true;
    analytics.load(
      { writeKey: body.dataset.writeKey, cdnURL: tactURL },
      { integrations: { "Segment.io": { apiHost: tactURL.replace(/^https?:\/\//, "") + "/v1", protocol: location.protocol.replace(":", "") } } }
    );
    if (s.anonymousId) analytics.setAnonymousId(s.anonymousId);
    analytics.addSourceMiddleware(function (ctx) {
      ctx.payload.obj.context = Object.assign({}, ctx.payload.obj.context, { consent: { categoryPreferences: window.tact.consent.get().purposes } });
      ctx.next(ctx.payload);
    });
    analytics.track("Product Viewed", { product_id: "85123A", category: "Home/Candles" });
  });
})();
