// The Web Worker that runs the port under Pyodide. Glue only: load the runtime, then forward each call to
// microgpt.worker.call(name, args) and post back its JSON. Calls are queued: one runs at a time.
import * as store from "./store.js";

let python = null;
let queue = Promise.resolve();

// Every byte the runtime fetches, counted as it arrives, so the page can show real progress.
const fetchOriginal = self.fetch.bind(self);
let onBytes = () => {};
let active = 0; // downloads under way: none left means Python is starting, not downloading
self.fetch = async (...args) => {
  const response = await fetchOriginal(...args);
  if (response.body) {
    const reader = response.clone().body.getReader();
    active++;
    (async () => { for (;;) { const { done, value } = await reader.read(); if (done) break; onBytes(value.length); } })()
      .catch(() => {}).finally(() => { active--; onBytes(0); });
  }
  return response;
};

async function load({ base, runtime }) {
  let loaded = 0;
  onBytes = (n) => { loaded += n; self.postMessage({ type: "progress", loaded, total: runtime.total_bytes, active }); };
  const url = (path) => new URL(path, base).href;
  const { loadPyodide } = await import(url(runtime.pyodide + "pyodide.mjs"));
  // Python as the build left it, started and with the port imported (sphinxext/memory_snapshot.mjs), instead of
  // starting it here. Safari before 16.4 has no DecompressionStream to unzip it: it starts Python itself.
  const snapshot = runtime.snapshot && typeof DecompressionStream === "function"
    ? fetch(url(runtime.snapshot)).then(ok).then(gunzip) : undefined;
  const [pyodide, wheel, names] = await Promise.all([
    loadPyodide({ indexURL: url(runtime.pyodide), ...(snapshot && { _loadSnapshot: snapshot }) }),
    fetch(url(runtime.wheel)).then(ok).then((r) => r.arrayBuffer()),
    fetch(url(runtime.names)).then(ok).then((r) => r.arrayBuffer()),
  ]);
  loaded += runtime.files[runtime.pyodide + "pyodide.asm.mjs"] ?? 0; // imported as a module, not fetched
  if (!snapshot) loaded += runtime.files[runtime.snapshot] ?? 0; // not fetched here: the progress still ends full
  self.postMessage({ type: "progress", loaded: Math.min(loaded, runtime.total_bytes), total: runtime.total_bytes,
    active: 0 });
  pyodide.unpackArchive(new Uint8Array(wheel), "wheel");
  pyodide.FS.mkdirTree("/data");
  pyodide.FS.writeFile("/data/names.txt", new Uint8Array(names));
  // a snapshot holds the random state of the Python that made it: reseed, as a Python started here would be
  pyodide.runPython("import os, random; os.environ['MICROGPT_DATA'] = '/data/names.txt'; random.seed()");
  python = { pyodide, call: pyodide.pyimport("microgpt.worker").call, live: pyodide.pyimport("microgpt.live") };
  return { python: pyodide.version };
}

/** The snapshot's bytes: gunzipped here, unless the server sent it with Content-Encoding and fetch already did. */
async function gunzip(response) {
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")))
    .arrayBuffer());
}

function ok(response) {
  if (!response.ok) throw new Error(`${response.url}: HTTP ${response.status}`);
  return response;
}

function run({ id, name, args, files, stream }) {
  for (const [path, bytes] of Object.entries(files ?? {})) python.pyodide.FS.writeFile(path, new Uint8Array(bytes));
  // a streaming call (a cell) posts each write while Python runs, before its result
  const emit = stream ? (stream_, text) => self.postMessage({ type: "output", id, output: [stream_, text] }) : undefined;
  return JSON.parse(python.call(name, JSON.stringify(args ?? []), emit));
}

// The reader's run goes straight between Python and IndexedDB: megabytes the page's main thread never copies.
// After every step: the run without the recorded checkpoints the store already holds, and the new ones (each
// written once), so a save stays small however long the run. `meta` ({page, title, step}) is for the restore's
// message.
const stored = new Map(); // key -> the checkpoint steps IndexedDB holds for it

async function save({ key, meta }) {
  const known = stored.get(key) ?? new Set();
  const parts = JSON.parse(python.live.save_parts(JSON.stringify([...known])));
  await store.put(key, parts.run, meta, parts.checkpoints);
  for (const step of Object.keys(parts.checkpoints)) known.add(Number(step));
  stored.set(key, known);
  return { result: true };
}

// Training, then the save, in one message: the page shows the steps once they are saved, with no round trip between.
async function train({ id, args, key, meta }) {
  const trained = run({ id, name: "live.train", args });
  if (trained.result?.steps.length) {
    try {
      await save({ key, meta: { ...meta, step: trained.result.step } });
    } catch (e) {
      trained.result.unsaved = String(e?.message ?? e); // the steps stand; the page says they are not carried over
    }
  }
  return trained;
}

async function restore({ key }) {
  const entry = await store.entry(key);
  if (entry === null) return { result: null };
  const restored = run({ name: "live.restore", args: [entry.text, entry.checkpoints] });
  if (restored.result) {
    restored.result.saved = entry.meta ?? null;
    stored.set(key, new Set(Object.keys(entry.checkpoints).map(Number)));
  }
  return restored;
}

const handlers = { load: async (data) => ({ result: await load(data) }), call: run, train, save, restore };

self.onmessage = ({ data }) => {
  queue = queue.then(async () => {
    try {
      const result = await handlers[data.type](data);
      self.postMessage({ id: data.id, ...result });
    } catch (e) {
      self.postMessage({ id: data.id, error: { field: "", message: String(e?.message ?? e) } });
    }
  });
};
