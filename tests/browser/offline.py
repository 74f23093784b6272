"""What a browser test does with the service worker: wait for it, read Cache Storage."""

import time

# Polled rather than awaited: a promise such as navigator.serviceWorker.ready or a
# statechange that never comes (a worker made redundant meanwhile) would hang the test
# forever, as page.evaluate() has no timeout.
CONTROLLED_BY_ACTIVE_WORKER = """async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    const worker = registration && registration.active;
    if (!worker || worker.state !== "activated" || !navigator.serviceWorker.controller) {
        return null;
    }
    return worker.scriptURL;
}"""

# Opening a cache creates it when missing: a cache the worker deletes between
# caches.has() and caches.open() comes back, empty. Whatever a test expects the worker
# to delete, it lists by name only (cache_names) or leaves out with `only`.
CACHED_URLS = """async (only) => {
    const result = {};
    for (const name of await caches.keys()) {
        if (only && !name.endsWith(only)) continue;
        if (!(await caches.has(name))) continue;
        const cache = await caches.open(name);
        result[name] = (await cache.keys()).map((request) => {
            const url = new URL(request.url);
            return url.pathname + url.search;
        });
    }
    return result;
}"""

CACHED_BODIES = """async () => {
    const bodies = [];
    for (const name of await caches.keys()) {
        if (!(await caches.has(name))) continue;
        const cache = await caches.open(name);
        for (const request of await cache.keys()) {
            const response = await cache.match(request);
            bodies.push([new URL(request.url).pathname, await response.text()]);
        }
    }
    return bodies;
}"""


def visit_and_wait_for_worker(page, url):
    response = page.goto(url)
    wait_for_active_worker(page)
    return response


def wait_for_active_worker(page, timeout=60):
    """Until an activated worker controls the page; returns its script URL."""
    try:
        return wait_until(
            lambda: page.evaluate(CONTROLLED_BY_ACTIVE_WORKER),
            timeout=timeout,
            message="an activated worker to control the page",
        )
    except AssertionError as error:
        raise AssertionError(
            f"{error} Workers: {page.evaluate(WORKER_STATES)}."
        ) from None


def cached_urls(page, only=None):
    """Every URL in Cache Storage, whatever the cache (with ``only``: in the caches
    whose names end so)."""
    return {url for urls in page.evaluate(CACHED_URLS, only).values() for url in urls}


def cache_names(page):
    return set(page.evaluate("async () => caches.keys()"))


def cached_bodies(page):
    return page.evaluate(CACHED_BODIES)


def wait_until(condition, timeout=15, interval=0.2, message="condition", describe=None):
    """``condition()``'s first true value; on a timeout, says what ``describe()`` sees."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    seen = f" Now: {describe()!r}." if describe else ""
    raise AssertionError(
        f"Timed out after {timeout}s waiting for {message} (last: {value!r}).{seen}"
    )


ACTIVE_WORKER_SETTLED = """async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    return Boolean(registration && registration.active && !registration.installing
        && !registration.waiting && registration.active.state === "activated");
}"""


WORKER_STATES = """async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    if (!registration) return "no registration";
    const describe = (worker) => worker && `${worker.state} ${worker.scriptURL}`;
    return {
        installing: describe(registration.installing),
        waiting: describe(registration.waiting),
        active: describe(registration.active),
        controller: describe(navigator.serviceWorker.controller),
    };
}"""


def manifest_versions(page):
    """Versions of the manifests the worker has stored (normally exactly one)."""
    return {
        url.split("manifest-")[1].split(".json")[0]
        for url in cached_urls(page, only=":precache")
        if "/offline/manifest-" in url and "?" not in url
    }


def wait_for_new_worker(page, old_versions, timeout=30):
    """Wait until a worker with another manifest has installed and activated.

    Generous: on a loaded 2-core CI machine an install of several pages can take a while;
    the wait ends as soon as the worker has taken over.
    """
    try:
        wait_until(
            lambda: (
                manifest_versions(page) - set(old_versions)
                and page.evaluate(ACTIVE_WORKER_SETTLED)
            ),
            timeout=timeout,
            message="a new worker to activate",
        )
    except AssertionError as error:
        raise AssertionError(
            f"{error} Manifests stored: {sorted(manifest_versions(page))}, "
            f"before: {sorted(old_versions)}; workers: {page.evaluate(WORKER_STATES)}."
        ) from None


def update_worker(page, old_versions, timeout=30):
    """What a browser does now and then by itself: check /sw.js, without a navigation."""
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    wait_for_new_worker(page, old_versions, timeout)


def record_reports(context):
    """The bodies the worker posts to /offline/report/, as they arrive."""
    reports = []

    def record(route):
        reports.append(route.request.post_data_json)
        route.continue_()

    context.route("**/offline/report/", record)
    return reports
