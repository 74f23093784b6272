// The reader's side of offline reading: the status notices, the "Save for offline" button
// and the listing's tools. Loaded by {% offline_head %}, an external script (CSP). Every
// word it shows comes from the markup of {% offline_status %}, {% offline_save_button %}
// and the listing, translated by the server; it only fills in {param}s, as text.
(function () {
  "use strict";
  const PREFIX = "wagtail-offline:";
  const ANSWER_TIMEOUT_MS = 10000;
  const SAVE_TIMEOUT_MS = 120000; // Saving downloads a page and its assets.
  const ANNOUNCE_EVERY_MS = 1500; // Screen readers would read every step of a download.
  // The network comes back in steps: the first requests after "online" may still fail.
  const SEND_AGAIN_AFTER_MS = [1000, 2000, 4000, 8000, 16000];
  const workers = "serviceWorker" in navigator ? navigator.serviceWorker : null;
  const lang = document.documentElement.lang || undefined;

  /* ---------- Words from the markup ---------- */

  function wordsTemplate(name) {
    return document.querySelector('template[data-wagtail-offline-text="' + name + '"]');
  }

  /** A copy of a template's content with its {param}s filled in, or null. */
  function render(name, values) {
    const template = wordsTemplate(name);
    if (!template) return null;
    const content = template.content.cloneNode(true);
    fill(content, values || {});
    return content;
  }

  function textOf(name, values) {
    const content = render(name, values);
    return content ? content.textContent.trim() : "";
  }

  /** A plural message: the one rendered for a sample count of the same plural category. */
  function plural(name, count, values) {
    const forms = document.querySelectorAll('template[data-wagtail-offline-plural="' + name + '"]');
    const rules = pluralRules();
    const category = rules ? rules.select(count) : null;
    let chosen = forms[forms.length - 1];
    for (const form of forms) {
      if (rules ? rules.select(Number(form.dataset.count)) === category : Number(form.dataset.count) === count) {
        chosen = form;
        break;
      }
    }
    if (!chosen) return "";
    const content = chosen.content.cloneNode(true);
    fill(content, values);
    return content.textContent.trim();
  }

  function pluralRules() {
    try {
      return new Intl.PluralRules(lang);
    } catch (error) {
      return null;
    }
  }

  /** Replaces {param}s in text (with text or a node) and in aria-labels; never parses HTML. */
  function fill(root, values) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const texts = [];
    while (walker.nextNode()) texts.push(walker.currentNode);
    texts.forEach(function (node) {
      const parts = node.data.split(/\{(\w+)\}/);
      if (parts.length === 1) return;
      node.replaceWith.apply(
        node,
        parts.map(function (part, index) {
          if (index % 2 === 0) return part;
          const value = values[part];
          return value instanceof Node ? value : String(value === undefined ? "" : value);
        }),
      );
    });
    root.querySelectorAll("[aria-label]").forEach(function (element) {
      element.setAttribute(
        "aria-label",
        element.getAttribute("aria-label").replace(/\{(\w+)\}/g, function (_, name) {
          return values[name] === undefined ? "" : String(values[name]);
        }),
      );
    });
  }

  function number(value) {
    try {
      return new Intl.NumberFormat(lang).format(value);
    } catch (error) {
      return String(value);
    }
  }

  /** Bytes in the reader's language, in decimal units as browsers report storage. */
  function bytes(value) {
    const units = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"];
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit += 1;
    }
    try {
      const options = { style: "unit", unit: units[unit], maximumFractionDigits: unit ? 1 : 0 };
      return new Intl.NumberFormat(lang, options).format(value);
    } catch (error) {
      return number(Math.round(value));
    }
  }

  function dateAndTime(iso) {
    const date = new Date(iso);
    if (isNaN(date)) return null;
    const time = document.createElement("time");
    time.dateTime = iso;
    try {
      time.textContent = new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" }).format(date);
    } catch (error) {
      time.textContent = date.toLocaleString();
    }
    return time;
  }

  /** Only a path of this site becomes a link: the worker's word, but never a javascript: URL. */
  function isSitePath(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" && url.charAt(1) !== "\\";
  }

  /* ---------- Talking to the worker ---------- */

  /** Asks the controlling worker; resolves with its answer, or null (no worker, no answer). */
  function ask(message, timeout) {
    const worker = workers && workers.controller;
    if (!worker) return Promise.resolve(null);
    return new Promise(function (resolve) {
      const channel = new MessageChannel();
      const timer = setTimeout(function () {
        resolve(null);
      }, timeout || ANSWER_TIMEOUT_MS);
      channel.port1.onmessage = function (event) {
        clearTimeout(timer);
        resolve(event.data || null);
      };
      worker.postMessage(message, [channel.port2]);
    });
  }

  function tell(type) {
    if (workers && workers.controller) workers.controller.postMessage({ type: PREFIX + type });
  }

  /* ---------- What this device holds, as the worker says ---------- */

  const stateListeners = [];
  let stateRequest = null;
  let stateAgain = false;

  /** Asks the worker for its state and tells the listeners; one question at a time. */
  function refreshState() {
    if (!stateListeners.length) return; // Reading the whole cache is for pages that show it.
    if (stateRequest) {
      stateAgain = true; // What changed meanwhile may be missing from the answer on its way.
      return;
    }
    stateRequest = ask({ type: PREFIX + "state" }).then(function (state) {
      stateRequest = null;
      if (state && state.pages) {
        stateListeners.forEach(function (listener) {
          listener(state);
        });
      }
      if (stateAgain) {
        stateAgain = false;
        refreshState();
      }
    });
  }

  /* ---------- Status notices ---------- */

  const notices = document.querySelector("[data-wagtail-offline-status] [data-wagtail-offline-notices]");

  /** Shows a notice (replacing the one with the same key); returns it, or null without a region. */
  function showNotice(key, name, values, dismissable) {
    if (!notices) return null;
    hideNotice(key);
    const content = render(name, values);
    if (!content) return null;
    const notice = document.createElement("div");
    notice.className = "wagtail-offline-notice wagtail-offline-notice--" + name;
    notice.dataset.notice = key;
    notice.append(content);
    const dismiss = dismissable && render("dismiss");
    if (dismiss) notice.append(dismiss);
    notices.append(notice);
    return notice;
  }

  function hideNotice(key) {
    if (!notices) return;
    Array.prototype.forEach.call(notices.children, function (notice) {
      if (notice.dataset.notice === key) notice.remove();
    });
  }

  if (notices) {
    notices.addEventListener("click", function (event) {
      const target = event.target.closest("button");
      if (!target) return;
      // Only when the reader asks: a reload by itself could lose what they typed.
      if (target.hasAttribute("data-wagtail-offline-reload")) location.reload();
      if (!target.hasAttribute("data-wagtail-offline-dismiss")) return;
      const notice = target.closest(".wagtail-offline-notice");
      // A refused submission dismissed is one the reader let go: the worker forgets it too.
      if (notice.dataset.formId) {
        const id = Number(notice.dataset.formId);
        if (workers && workers.controller) workers.controller.postMessage({ type: PREFIX + "discard-form", id: id });
      }
      notice.remove();
    });
  }

  /** Tells the reader the outcome of their action: in the status region, else next to `near`. */
  function announce(kind, message, near) {
    if (showNotice("action", kind, { message: message }, true)) return;
    let region = near.nextElementSibling;
    if (!region || !region.hasAttribute("data-wagtail-offline-announcer")) {
      region = document.createElement("span");
      region.className = "wagtail-offline-announcer";
      region.setAttribute("role", "status");
      region.setAttribute("data-wagtail-offline-announcer", "");
      near.after(region);
    }
    region.textContent = message;
    region.classList.toggle("wagtail-offline-announcer--error", kind === "error");
  }

  // How the worker answered this page, asked once: from the device or not, and whether
  // because the network could not be reached.
  const pageSource = ask({ type: PREFIX + "source" });
  // Browsers can say they are online when nothing gets through (a dead link, a captive
  // portal, a page opened while offline); the worker's failed request is the surer sign.
  let networkFailed = false;

  function isOnline() {
    return navigator.onLine && !networkFailed;
  }

  function showNetworkState() {
    if (isOnline()) hideNotice("offline");
    else if (!document.querySelector('[data-notice="offline"]')) showNotice("offline", "offline");
  }
  window.addEventListener("offline", showNetworkState);
  window.addEventListener("online", function () {
    networkFailed = false;
    showNetworkState();
    sendKeptForms();
  });
  showNetworkState();
  pageSource.then(function (answer) {
    if (!answer || !answer.networkFailed) return;
    networkFailed = true;
    showNetworkState();
  });

  /** Asks the worker to send the kept forms, and again a few times while some still wait. */
  function sendKeptForms(attempt) {
    attempt = attempt || 0;
    ask({ type: PREFIX + "send-forms" }).then(function (answer) {
      const delay = SEND_AGAIN_AFTER_MS[attempt];
      if (!answer || !answer.waiting || !isOnline() || delay === undefined) return;
      setTimeout(function () {
        if (isOnline()) sendKeptForms(attempt + 1);
      }, delay);
    });
  }

  function showFormNotice(data) {
    const key = "form:" + data.id;
    const values = { title: data.title || "", message: data.message || "" };
    if (data.type === PREFIX + "form-queued") showNotice(key, "form-queued", values, true);
    if (data.type === PREFIX + "form-sent") showNotice(key, "form-sent", values, true);
    if (data.type !== PREFIX + "form-rejected") return;
    const notice = showNotice(key, "form-rejected", values, true);
    if (!notice) return;
    const list = notice.querySelector('[data-wagtail-offline-slot="errors"]');
    Object.keys(data.errors || {}).forEach(function (field) {
      [].concat(data.errors[field]).forEach(function (message) {
        let item = render("form-error", { field: field, message: message });
        if (field === "__all__" || !item) {
          item = document.createElement("li");
          item.textContent = message; // Not about one field: the server's words alone.
        }
        if (list) list.append(item);
      });
    });
    // What they typed, so that nothing is lost even once they let the submission go.
    const filled = notice.querySelector('[data-wagtail-offline-slot="values"]');
    (data.values || []).forEach(function (field) {
      const item = render("form-value", { field: field.name, value: field.value });
      if (filled && item) filled.append(item);
    });
    if (filled && filled.children.length) filled.closest("details").hidden = false;
    notice.dataset.formId = String(data.id);
    const link = notice.querySelector('[data-wagtail-offline-slot="link"]');
    if (link && isSitePath(data.url)) {
      link.querySelector("a").href = data.url;
      link.hidden = false;
    }
  }

  /* ---------- The worker: taking over, answering, broadcasting ---------- */

  const progressListeners = [];
  const failureListeners = [];

  if (workers) {
    let hadController = Boolean(workers.controller);
    workers.addEventListener("controllerchange", function () {
      // The first worker taking over a page is no update; a later one is.
      if (hadController) showNotice("updated", "site-updated");
      hadController = true;
      refreshState();
    });

    workers.addEventListener("message", function (event) {
      const data = event.data || {};
      if (typeof data.type !== "string" || data.type.indexOf(PREFIX) !== 0) return;
      if (data.type.indexOf(PREFIX + "form-") === 0) showFormNotice(data);
      if (data.type === PREFIX + "saved-changed") refreshState();
      if (data.type === PREFIX + "progress") {
        progressListeners.forEach(function (listener) {
          listener(data);
        });
      }
      if (data.type === PREFIX + "precache-failed") {
        failureListeners.forEach(function (listener) {
          listener(data.failures || []);
        });
      }
    });

    if (workers.controller) {
      pageSource.then(function (answer) {
        if (answer && answer.fromDevice) showNotice("from-device", "from-device", {}, true);
        // Forms kept while offline go now; the worker also tries when the network returns.
        if (isOnline()) sendKeptForms();
      });
      // A tab opened later still shows what is waiting, and what the site refused.
      if (notices) {
        ask({ type: PREFIX + "forms" }).then(function (answer) {
          ((answer && answer.forms) || []).forEach(function (form) {
            const type = form.state === "rejected" ? "form-rejected" : "form-queued";
            if (!notices.querySelector('[data-notice="form:' + form.id + '"]')) {
              showFormNotice(Object.assign({}, form, { type: PREFIX + type }));
            }
          });
        });
      }
    }
  }

  /* ---------- The "Save for offline" button ---------- */

  // A page the server is still rendering for readers: asked again every 5 s for a minute.
  const PENDING_ATTEMPTS = 12;
  const PENDING_RETRY_MS = 5000;
  const saveButtons = Array.prototype.slice.call(document.querySelectorAll("button[data-wagtail-offline-save]"));
  const busyButtons = new Set();

  function setButtonState(button, state) {
    const labels = { save: "labelSave", saving: "labelSaving", saved: "labelSaved", site: "labelSite" };
    button.dataset.state = state;
    button.textContent = button.dataset[labels[state]];
    button.setAttribute("aria-pressed", String(state === "saved" || state === "site"));
    // Held by the editors' selection: the reader cannot remove it.
    if (state === "saving" || state === "site") button.setAttribute("aria-disabled", "true");
    else button.removeAttribute("aria-disabled");
    button.hidden = false;
  }

  function saveOrRemove(button) {
    const url = button.dataset.wagtailOfflineSave;
    if (busyButtons.has(button)) return;
    if (button.dataset.state === "saved") {
      busyButtons.add(button);
      ask({ type: PREFIX + "remove", url: url }).then(function (answer) {
        busyButtons.delete(button);
        if (answer && answer.state === "removed") {
          setButtonState(button, "save");
          announce("done", button.dataset.textRemoved, button);
        } else {
          announce("error", button.dataset.textUnavailable, button);
        }
        refreshState();
      });
      return;
    }
    if (button.dataset.state !== "save") return;
    busyButtons.add(button);
    setButtonState(button, "saving");
    requestSave(button, url, PENDING_ATTEMPTS);
  }

  /** Asks the worker to save; while the server still prepares the page, asks again a while. */
  function requestSave(button, url, attemptsLeft) {
    ask({ type: PREFIX + "save", url: url }, SAVE_TIMEOUT_MS).then(function (answer) {
      const state = answer ? answer.state : "unavailable";
      if (state === "pending" && attemptsLeft > 1) {
        // A slow task queue: the render is on its way. Said once, then asked again.
        if (attemptsLeft === PENDING_ATTEMPTS) announce("done", button.dataset.textPending, button);
        setTimeout(function () {
          requestSave(button, url, attemptsLeft - 1);
        }, PENDING_RETRY_MS);
        return;
      }
      busyButtons.delete(button);
      if (state === "saved" || state === "site") {
        setButtonState(button, state);
        announce("done", button.dataset.textSaved, button);
      } else {
        setButtonState(button, "save");
        announce("error", state === "pending" ? button.dataset.textUnavailable : saveError(button, answer), button);
      }
      refreshState();
    });
  }

  /** The reason in the reader's words; the server's own message only when it gave one. */
  function saveError(button, answer) {
    const words = button.dataset;
    if (!answer) return words.textUnavailable;
    if (answer.state === "gone") return words.textGone;
    if (answer.reason === "offline" || (answer.reason !== "server" && !isOnline())) return words.textOffline;
    if (answer.reason === "quota") return words.textQuota;
    if (answer.reason === "server" && answer.message) return words.textFailed.replace("{message}", answer.message);
    return words.textUnavailable;
  }

  saveButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      saveOrRemove(button);
    });
  });

  if (saveButtons.length) {
    // Shown only once the worker answers: an older worker could not save anything.
    stateListeners.push(function (state) {
      saveButtons.forEach(function (button) {
        if (busyButtons.has(button)) return;
        const held = state.pages[button.dataset.wagtailOfflineSave];
        // A save under way (busy) is left to its own answer.
        setButtonState(button, held === "site" || held === "saved" ? held : "save");
      });
    });
  }

  /* ---------- The listing's tools ---------- */

  const listing = document.querySelector("[data-wagtail-offline-listing]");
  if (listing) setUpListing(listing);

  function setUpListing(tools) {
    const marks = Array.prototype.slice.call(document.querySelectorAll("[data-wagtail-offline-item]"));
    const part = function (name) {
      return tools.querySelector("[data-wagtail-offline-" + name + "]");
    };
    tools.hidden = false;
    setUpSearch(marks, part("search"), part("matches"));

    const device = part("device");
    const progress = part("progress");
    let lastAnnounced = 0;
    let pendingProgress = null;

    function showProgress(data) {
      device.hidden = false;
      clearTimeout(pendingProgress);
      const finished = !data || !data.total || data.done >= data.total;
      const wait = lastAnnounced + ANNOUNCE_EVERY_MS - Date.now();
      if (!finished && wait > 0) {
        pendingProgress = setTimeout(function () {
          showProgress(data);
        }, wait);
        return;
      }
      lastAnnounced = Date.now();
      progress.textContent = finished
        ? ""
        : plural("progress", data.total, { done: number(data.done), total: number(data.total) });
      if (finished && data) refreshState();
    }
    progressListeners.push(showProgress);
    failureListeners.push(function (failures) {
      device.hidden = false;
      showFailures(failures);
    });

    function showFailures(failures) {
      const list = part("failure-list");
      list.replaceChildren();
      failures.forEach(function (failure) {
        const reason = textOf("reason-" + failure.reason) || textOf("reason-fetch");
        const item = render("failure", { url: failure.url, message: reason });
        if (item) list.append(item);
      });
      part("failures").hidden = failures.length === 0;
    }

    let repairAsked = false;
    stateListeners.push(function (state) {
      device.hidden = false;
      showHeld(state.pages);
      showUpdated(state.builtAt);
      showStorage();
      showFailures(state.failures || []);
      if (state.installing) showProgress(state.installing);
      part("missing").hidden = !(state.missing > 0);
      if (state.missing > 0 && !repairAsked) {
        pageSource.then(function () {
          if (!isOnline() || repairAsked) return;
          repairAsked = true; // Once a visit: the worker tells how it went through its state.
          tell("repair");
        });
      }
      showPages("saved", state.saved || [], true);
      showPages("recent", state.recent || [], false);
    });

    function showHeld(pages) {
      const listed = new Set();
      marks.forEach(function (mark) {
        const url = mark.dataset.wagtailOfflineItem;
        listed.add(url);
        mark.replaceChildren(render(pages[url] ? "held-mark" : "missing-mark") || "");
      });
      const held = Array.from(listed).filter(function (url) {
        return pages[url];
      }).length;
      const summary = part("held");
      summary.textContent = plural("held", listed.size, { held: number(held), total: number(listed.size) });
      summary.hidden = listed.size === 0;
    }

    function showUpdated(builtAt) {
      const line = part("updated");
      const time = builtAt ? dateAndTime(builtAt) : null;
      line.replaceChildren(time ? render("updated", { date: time }) || "" : "");
      line.hidden = !time;
    }

    function showStorage() {
      if (!navigator.storage || !navigator.storage.estimate) return;
      navigator.storage.estimate().then(function (estimate) {
        const line = part("storage");
        if (!estimate.quota) return;
        line.textContent = textOf("storage", { used: bytes(estimate.usage || 0), quota: bytes(estimate.quota) });
        line.hidden = false;
      });
    }

    function showPages(name, pages, removable) {
      const section = part(name);
      const list = part(name + "-list");
      list.replaceChildren();
      pages.forEach(function (page) {
        if (!isSitePath(page.url)) return;
        const item = render(name + "-item", { title: page.title || page.url });
        if (!item) return;
        item.querySelector("a").href = page.url;
        const remove = item.querySelector("[data-wagtail-offline-remove]");
        if (remove) {
          remove.addEventListener("click", function () {
            remove.setAttribute("aria-disabled", "true");
            ask({ type: PREFIX + "remove", url: page.url }).then(function () {
              const heading = section.querySelector("h2");
              // The button goes with its page: the reader's focus goes to the section.
              heading.setAttribute("tabindex", "-1");
              heading.focus();
              announce("done", textOf("removed"), heading);
              refreshState();
            });
          });
        }
        list.append(item);
      });
      const empty = part(name + "-empty");
      if (empty) empty.hidden = pages.length > 0;
      // Once shown, the saved pages stay, so that removing the last one says "none".
      if (pages.length > 0 || !removable) section.hidden = pages.length === 0;
    }
  }

  /** Filters the listed pages by title and summary as the reader types: on this device only. */
  function setUpSearch(marks, input, matches) {
    if (!input) return;
    const entries = marks.map(function (mark) {
      return {
        item: mark.closest("li") || mark.parentElement,
        words: searchable(mark.dataset.title + " " + mark.dataset.summary),
      };
    });
    let announcement = null;
    input.addEventListener("input", function () {
      const query = searchable(input.value).split(/\s+/).filter(Boolean);
      let shown = 0;
      entries.forEach(function (entry) {
        entry.match = query.every(function (word) {
          return entry.words.indexOf(word) !== -1;
        });
        if (entry.match) shown += 1;
      });
      entries.forEach(function (entry) {
        const section = entry.item.closest("section");
        const sectionMatches = entries.some(function (other) {
          return other.match && section && section.contains(other.item);
        });
        // A section's own page holds its heading: it stays while a page of the section matches.
        const heading = sectionMatches && entry.item.querySelector("h2, h3, h4");
        showItem(entry.item, entry.match || Boolean(heading));
        // A section without a match goes, heading and all.
        if (section && !listing.contains(section)) showItem(section, sectionMatches);
      });
      clearTimeout(announcement);
      // Said once the reader pauses, not at every key.
      announcement = setTimeout(function () {
        matches.textContent = query.length ? plural("matches", shown, { count: number(shown) }) : "";
      }, 400);
    });
  }

  // `hidden`, and a class that wins over a site's own display rules for list items.
  function showItem(element, shown) {
    element.hidden = !shown;
    element.classList.toggle("wagtail-offline-filtered-out", !shown);
  }

  function searchable(text) {
    const plain = String(text || "")
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "");
    try {
      return plain.toLocaleLowerCase(lang);
    } catch (error) {
      return plain.toLowerCase();
    }
  }

  refreshState();
})();
