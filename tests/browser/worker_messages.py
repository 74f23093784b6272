"""Talking to the service worker as the site's page scripts do: postMessage, answer on a port."""

# Bounded: page.evaluate() has no timeout of its own.
ASK_WORKER = """async (message) => {
    const registration = await navigator.serviceWorker.getRegistration();
    const worker = navigator.serviceWorker.controller || (registration && registration.active);
    if (!worker) throw new Error(`No worker to answer ${message.type}.`);
    const channel = new MessageChannel();
    const answer = new Promise((resolve, reject) => {
        channel.port1.onmessage = (event) => resolve(event.data);
        setTimeout(() => reject(new Error(`No answer to ${message.type}.`)), 20000);
    });
    worker.postMessage(message, [channel.port2]);
    return answer;
}"""

# Kept in the page from its first script on: what the worker broadcast to it.
RECORD_BROADCASTS = """
    window.workerBroadcasts = [];
    navigator.serviceWorker.addEventListener("message", (event) => {
        if (event.data && String(event.data.type).startsWith("wagtail-offline:")) {
            window.workerBroadcasts.push(event.data);
        }
    });
    navigator.serviceWorker.startMessages();
"""

OUTBOX = """() => new Promise((resolve, reject) => {
    const opening = indexedDB.open("wagtail-offline");
    // Looking never creates it: an absent outbox is an empty one.
    let absent = false;
    opening.onupgradeneeded = (event) => {
        absent = event.oldVersion === 0;
        opening.transaction.abort();
    };
    opening.onerror = () => (absent ? resolve([]) : reject(opening.error));
    opening.onsuccess = () => {
        const db = opening.result;
        if (!db.objectStoreNames.contains("outbox")) return resolve([]);
        const request = db.transaction("outbox").objectStore("outbox").getAll();
        request.onsuccess = () => {
            db.close();
            resolve(request.result.map(({ fields, ...record }) => ({
                ...record,
                fields: fields.map(([name, value]) => [name, String(value)]),
            })));
        };
    };
})"""


def ask_worker(page, type_, **fields):
    """Sends ``wagtail-offline:<type_>`` to the worker and returns its answer."""
    return page.evaluate(ASK_WORKER, {"type": f"wagtail-offline:{type_}", **fields})


def record_broadcasts(context):
    """Every page of ``context`` keeps the worker's broadcasts in ``window.workerBroadcasts``."""
    context.add_init_script(RECORD_BROADCASTS)


def broadcasts(page, type_):
    return [
        message
        for message in page.evaluate("window.workerBroadcasts || []")
        if message["type"] == f"wagtail-offline:{type_}"
    ]


def outbox(page):
    """The queued form submissions in IndexedDB (field values as text)."""
    return page.evaluate(OUTBOX)
