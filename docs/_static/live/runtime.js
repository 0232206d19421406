// The page's handle on the port running in a Web Worker: load it once, then call Python by name.
//   const rt = runtime();                      the reader's run and the scenes ("run"); runtime("cells") for cells
//                                              is another worker, so stopping a cell never touches the run
//   await rt.load((loaded, total) => ...);     the first call downloads Pyodide, the wheel and names.txt
//   await rt.call("live.train", 10);           microgpt.live.API["train"](10); rejects with {field, message}
//   rt.terminate();                            ends a runaway call; fires "terminated" (Python's state is gone)
const base = new URL("./", import.meta.url);
const shared = new Map();

export const mb = (bytes) => (bytes / 1e6).toFixed(1); // megabytes, as every view of a download says them

export class PageError extends Error {
  constructor({ field, message, traceback }) {
    super(message);
    this.field = field ?? "";
    this.traceback = traceback ?? "";
  }
}

/** What the runtime needs and this browser lacks, or "": Pyodide is WebAssembly and loads only in a module
 *  worker, which Firefox before 114 and Safari before 15 cannot start (their `new Worker` ignores {type: "module"},
 *  and the worker then fails on its first `import`, with no message the page could show). */
function lacking() {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") return "WebAssembly";
  if (typeof Worker !== "function") return "Web Workers";
  let module = false; // the browser reads `type` only if it knows module workers: try it on an empty worker
  const empty = URL.createObjectURL(new Blob([""], { type: "text/javascript" }));
  try {
    new Worker(empty, { get type() { module = true; return "module"; } }).terminate();
  } catch { /* no worker at all */ } finally {
    URL.revokeObjectURL(empty);
  }
  return module ? "" : "module Web Workers";
}

class Runtime extends EventTarget {
  constructor() {
    super();
    this.worker = null;
    this.loading = null;
    this.pending = new Map();
    this.nextId = 1;
    this.progress = new Set();
    this.lastProgress = null; // the last progress message, for a listener that comes in the middle of a load
    this.planned = null;
    this.ready = false; // loaded and started, not only under way
  }

  get loaded() { return this.worker !== null && this.loading !== null; }

  load(onProgress) {
    if (onProgress) {
      this.progress.add(onProgress);
      if (this.lastProgress && !this.ready) onProgress(...this.lastProgress);
    }
    if (this.loading) return this.loading;
    if (location.protocol === "file:") {
      return Promise.reject(new PageError({ field: "", message: "This page was opened from a file: the live " +
        "run needs the site served over http (nox -s docs -- --open, or python -m http.server in the built site)." }));
    }
    const missing = lacking();
    if (missing) {
      return Promise.reject(new PageError({ field: "", message: `This browser cannot run the live runtime: it has ` +
        `no ${missing}. Firefox 114, Safari 15 and Chrome 80 or later have everything it needs.` }));
    }
    this.worker = new Worker(new URL("worker.js", base), { type: "module" });
    this.worker.onmessage = ({ data }) => this.receive(data);
    this.worker.onerror = (e) => this.failAll(e.message || "the runtime's worker failed to start");
    const loading = this.manifest().then((runtime) => this.send({ type: "load", base: base.href, runtime }));
    this.loading = loading;
    loading.then(() => { this.ready = this.loading === loading; },
      () => { if (this.loading === loading) this.loading = null; });
    return loading;
  }

  /** runtime.json: the files the first load downloads and their total_bytes (fetched once). */
  manifest() {
    this.planned ??= fetch(new URL("runtime.json", base), { cache: "no-cache" })
      .then((r) => { if (!r.ok) throw new Error(`runtime.json: HTTP ${r.status}`); return r.json(); });
    this.planned.catch(() => { this.planned = null; });
    return this.planned;
  }

  receive(data) {
    if (data.type === "progress") {
      this.lastProgress = [data.loaded, data.total, data.active];
      for (const f of this.progress) f(...this.lastProgress);
      return;
    }
    const entry = this.pending.get(data.id);
    if (!entry) return;
    if (data.type === "output") { entry.onOutput?.(data.output); return; }
    this.pending.delete(data.id);
    if (data.error) entry.reject(new PageError(data.error));
    else entry.resolve(data.result);
  }

  send(message, transfer = [], onOutput = undefined) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onOutput });
      this.worker.postMessage({ id, ...message }, transfer);
    });
  }

  /** Call microgpt.<module>.API[function](...args) in the worker; files: {path: ArrayBuffer} written first;
   *  onOutput([stream, text]), if given, receives each write of the call while it runs (cells.run). */
  async call(name, args = [], files = undefined, onOutput = undefined) {
    await this.load();
    return this.send({ type: "call", name, args, files, stream: Boolean(onOutput) }, [], onOutput);
  }

  /** Save the reader's run under key, with meta ({page, title, step}); the worker writes it to IndexedDB itself. */
  async save(key, meta) {
    await this.load();
    return this.send({ type: "save", key, meta });
  }

  /** live.train(...args), then the run saved under key as `save` saves it, in one message: the result comes once
   *  the steps are saved (its `unsaved` says why not, if the save failed). */
  async train(args, key, meta) {
    await this.load();
    return this.send({ type: "train", args, key, meta });
  }

  /** Restore the run saved under key: live.restore's result, or null if there is none. */
  async restore(key) {
    await this.load();
    return this.send({ type: "restore", key });
  }

  /** End the worker (a runaway call); the next call starts a fresh one, and Python's state is gone. */
  terminate() {
    this.worker?.terminate();
    this.worker = null;
    this.loading = null;
    this.ready = false;
    this.lastProgress = null;
    this.failAll("the runtime was stopped");
    this.dispatchEvent(new Event("terminated")); // Python's state is gone: whoever kept some knows to rebuild it
  }

  failAll(message) {
    for (const { reject } of this.pending.values()) reject(new PageError({ field: "", message }));
    this.pending.clear();
  }
}

/** One runtime per name and page: "run" (the reader's run and the scenes on it), "cells" (the page's cells). */
export function runtime(name = "run") {
  if (!shared.has(name)) shared.set(name, new Runtime());
  return shared.get(name);
}

// WebKit (Safari, WebKitGTK) keeps a page it leaves in its back/forward cache with its workers suspended, and a
// suspended worker can hold the run's IndexedDB store, so the next page's saves and restores wait for ever (seen in
// WebKitGTK 2.50: a second visit to the live page stuck at "Setting up the model"). A page that goes away ends its
// workers (the run is saved after every call, so nothing is lost), and one shown again from that cache reloads.
addEventListener("pagehide", (event) => {
  if (!event.persisted) return;
  for (const rt of shared.values()) rt.worker?.terminate();
});
addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });
