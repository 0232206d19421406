// Where the reader's run is kept between pages: IndexedDB (a 1000-step run with its recorded checkpoints is
// about 5 MB of text, near sessionStorage's quota), under a key that only this tab knows (kept in sessionStorage),
// so the run follows the reader within a tab and two tabs never overwrite each other's run. The worker reads and
// writes the run itself (put/get), so the page's main thread never copies those megabytes.
const DB = "microgpt-illustrated", STORE = "runs", TAB_KEY = "microgpt-live-run";
const STALE_MS = 7 * 24 * 3600 * 1000; // runs of tabs closed long ago are removed

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function transact(mode, work) {
  return open().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => { db.close(); resolve(result?.result); };
    tx.onerror = tx.onabort = () => { db.close(); reject(tx.error ?? new Error("IndexedDB transaction failed")); };
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

export async function put(key, text, meta = null) {
  await transact("readwrite", (store) => {
    store.put({ text, meta, savedAt: Date.now() }, key);
    const cursor = store.openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return;
      if (c.key !== key && Date.now() - c.value.savedAt > STALE_MS) c.delete();
      c.continue();
    };
  });
}

/** The saved run under key: {text, meta, savedAt}, or null. */
export async function entry(key) {
  return (await transact("readonly", (store) => store.get(key))) ?? null;
}

export async function forget() {
  const key = tabKey(false);
  sessionStorage.removeItem(TAB_KEY);
  if (key) await transact("readwrite", (store) => store.delete(key));
}
