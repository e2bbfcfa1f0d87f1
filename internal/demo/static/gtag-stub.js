// Stands in for the first lines of a Google tag: a dataLayer and gtag().
// tact.js sets Consent Mode's defaults on it before any other tag runs.
window.dataLayer = window.dataLayer || [];
window.gtag = function () { window.dataLayer.push(arguments); };
