// Where the reader's run is kept between pages: IndexedDB (a 1000-step run with its recorded checkpoints is
// about 5 MB of text, near sessionStorage's quota), under a key that only this tab knows (kept in sessionStorage),
// so the run follows the reader within a tab and two tabs never overwrite each other's run. The worker reads and
// writes the run itself (put/get), so the page's main thread never copies those megabytes.
const DB = "microgpt-illustrated", STORE = "runs", TAB_KEY = "microgpt-live-run";
const STALE_MS = 7 * 24 * 3600 * 1000; // runs of tabs closed long ago are removed

let opened = null; // one connection, kept: the run is saved after every step

function open() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => {
      request.result.onclose = request.result.onversionchange = () => { request.result.close(); opened = null; };
      resolve(request.result);
    };
    request.onerror = () => reject(request.error);
  });
  opened.catch(() => { opened = null; });
  return opened;
}

function transact(mode, work) {
  return open().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode, { durability: "relaxed" }); // a save a step: no flush to disk each time
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result?.result);
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
  }));
}

export function tabKey(create) {
  let key = sessionStorage.getItem(TAB_KEY);
  if (!key && create) {
    key = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    sessionStorage.setItem(TAB_KEY, key);
  }
  return key;
}

/** Does this tab have a saved run? (Synchronous: pages decide at once whether to load anything.) */
export function hasSaved() {
  try { return sessionStorage.getItem(TAB_KEY) !== null; } catch { return false; }
}

const apart = (key) => IDBKeyRange.bound(`${key}/step/`, `${key}/step/\uffff`); // a run's checkpoints

/** Save a run under key: its text, meta, and checkpoints ({step: packed weights}) kept apart, each once. */
export async function put(key, text, meta = null, checkpoints = {}) {
  await transact("readwrite", (store) => {
    const savedAt = Date.now();
    store.put({ text, meta, savedAt }, key);
    for (const [step, weights] of Object.entries(checkpoints)) store.put({ text: weights, savedAt }, `${key}/step/${step}`);
    if (swept) return;
    swept = true; // once per page
    const cursor = store.openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return;
      const mine = c.key === key || String(c.key).startsWith(`${key}/`);
      if (!mine && savedAt - c.value.savedAt > STALE_MS) c.delete();
      c.continue();
    };
  });
}
let swept = false;

/** The saved run under key: {text, meta, savedAt, checkpoints: {step: packed weights}}, or null. */
export async function entry(key) {
  let found = null;
  const checkpoints = {};
  await transact("readonly", (store) => {
    const request = store.get(key);
    request.onsuccess = () => { found = request.result ?? null; };
    const cursor = store.openCursor(apart(key));
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return;
      checkpoints[String(c.key).slice(`${key}/step/`.length)] = c.value.text;
      c.continue();
    };
  });
  return found && { ...found, checkpoints };
}

export async function forget() {
  const key = tabKey(false);
  sessionStorage.removeItem(TAB_KEY);
  if (key) await transact("readwrite", (store) => { store.delete(key); store.delete(apart(key)); });
}
