// Registers (or, when the site switched offline reading off, removes) the site's service worker.
// Loaded by {% offline_head %}; an external script so that a strict Content-Security-Policy works.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !("serviceWorker" in navigator)) return;
  var workerUrl = new URL(script.dataset.serviceWorker, location.href).href;

  if ("unregister" in script.dataset) {
    navigator.serviceWorker.getRegistrations().then(function (registrations) {
      registrations.forEach(function (registration) {
        var worker = registration.active || registration.waiting || registration.installing;
        if (worker && worker.scriptURL === workerUrl) registration.unregister();
      });
    });
    return;
  }

  // updateViaCache "none": the browser always asks the server whether /sw.js changed.
  navigator.serviceWorker
    .register(workerUrl, { scope: "/", updateViaCache: "none" })
    .catch(function (error) {
      console.warn("wagtail-offline: the service worker could not be registered.", error);
    });
})();
