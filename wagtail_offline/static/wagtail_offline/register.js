// Registers the site's service worker, or removes it when the site switched offline reading off.
// Loaded by {% offline_head %}: an external script, so that a strict Content-Security-Policy works.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !("serviceWorker" in navigator)) return;
  var options = script.dataset;
  var workerUrl = new URL(options.serviceWorker, location.href).href;
  var scope = new URL("/", location.href).href;
  // Read through the prototype: a field named "action" or "method" hides form.action and
  // form.method behind itself.
  var formAction = Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, "action").get;
  var formMethod = Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, "method").get;
  // A waiting worker is asked again every 2 s, for a minute at most.
  var HURRY_INTERVAL_MS = 2000;
  var HURRY_ATTEMPTS = 30;

  if ("unregister" in options) {
    removeWorker();
    return;
  }

  // The browser always asks the server whether /sw.js changed; the code it imports has an
  // immutable URL, so the HTTP cache answers for it.
  navigator.serviceWorker
    .register(workerUrl, { scope: scope, updateViaCache: "imports" })
    .then(hurryWaitingWorkers)
    .catch(function (error) {
      console.warn("wagtail-offline: the service worker could not be registered.", error);
    });

  // Each worker asks to take over as soon as it is installed, but Chromium sometimes
  // leaves it waiting behind an idle older worker until every tab has closed (or for
  // five minutes). Asking it again from the page wakes it: no reader stays on an old
  // worker for that long.
  function hurryWaitingWorkers(registration) {
    if (registration.waiting) hurry(registration, registration.waiting);
    registration.addEventListener("updatefound", function () {
      var worker = registration.installing;
      if (!worker) return;
      worker.addEventListener("statechange", function () {
        if (worker.state === "installed") hurry(registration, worker);
      });
    });
  }

  function hurry(registration, worker) {
    var attempts = 0;
    var timer = setInterval(function () {
      attempts += 1;
      if (registration.waiting !== worker || attempts > HURRY_ATTEMPTS) {
        clearInterval(timer);
        return;
      }
      worker.postMessage({ type: "wagtail-offline:skip-waiting" });
    }, HURRY_INTERVAL_MS);
  }

  if ("persist" in options && navigator.storage && navigator.storage.persist) {
    navigator.storage.persisted().then(function (persisted) {
      if (!persisted) navigator.storage.persist();
    });
  }

  navigator.serviceWorker.addEventListener("message", function (event) {
    if (event.data && event.data.type === "wagtail-offline:precache-failed") {
      console.warn("wagtail-offline: these could not be saved for offline reading:", event.data.failures);
    }
  });

  // A page read from the offline cache carries the CSRF token of an anonymous render,
  // not this reader's: fetch a fresh one before a form is sent to this site.
  document.addEventListener("submit", function (event) {
    // A page's own script that cancelled the submission sends the form itself:
    // resubmitting would run its handler twice.
    if (event.defaultPrevented) return;
    var form = event.target;
    var input = form.querySelector && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!input || form.dataset.wagtailOfflineTokenFresh || !sendsTokenHome(form, event)) return;
    event.preventDefault();
    fetch(options.csrfTokenUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.token) input.value = data.token;
      })
      .catch(function () {
        // Still offline: send it anyway; the browser shows its own error.
      })
      .then(function () {
        form.dataset.wagtailOfflineTokenFresh = "true";
        if (form.requestSubmit) form.requestSubmit(event.submitter || undefined);
        else form.submit();
      });
  });

  // The fresh token is the reader's own: it may only go where Django checks it, in a POST
  // to this origin. Posted to another origin, it would be handed to that site; a GET form
  // would put it into a URL (history, logs, Referer) though Django checks no token on GET;
  // a dialog form sends nothing. A submitter's formmethod and formaction win, as in the
  // browser, which resolves both against the document's base URL.
  function sendsTokenHome(form, event) {
    if (!(form instanceof HTMLFormElement)) return false;
    var submitter = event.submitter;
    // An older browser does not say which button was pressed, or cannot send the form
    // again with it: a button with its own formaction or formmethod is left to the browser.
    var resent = "submitter" in event && form.requestSubmit;
    if (!resent && form.querySelector("[formaction], [formmethod]")) return false;
    var method = overrides(submitter, "formmethod") ? submitter.formMethod : formMethod.call(form);
    if (method !== "post") return false;
    var action = overrides(submitter, "formaction") ? submitter.formAction : formAction.call(form);
    try {
      return new URL(action, document.baseURI).origin === location.origin;
    } catch (error) {
      return false; // An action that is no URL: the browser sends nothing either.
    }
  }

  function overrides(submitter, attribute) {
    return Boolean(submitter && submitter.hasAttribute(attribute));
  }

  function removeWorker() {
    navigator.serviceWorker.getRegistrations().then(function (registrations) {
      registrations.forEach(function (registration) {
        var worker = registration.active || registration.waiting || registration.installing;
        if (worker && worker.scriptURL === workerUrl) registration.unregister();
      });
    });
    // Forms kept offline would never be sent now: what the reader typed must not stay behind.
    if (window.indexedDB) indexedDB.deleteDatabase("wagtail-offline");
    if (!window.caches) return;
    var prefix = options.cachePrefix + ":" + scope + ":";
    caches.keys().then(function (names) {
      names.forEach(function (name) {
        if (name.indexOf(prefix) === 0) caches.delete(name);
      });
    });
  }
})();
