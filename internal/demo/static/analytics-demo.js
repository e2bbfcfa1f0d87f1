// Stands in for a shop's analytics tag: tact.js runs it only once the
// shopper grants analytics, and never twice.
window.demoAnalyticsRuns = (window.demoAnalyticsRuns || 0) + 1;
