// Python started in Pyodide with the port imported, saved as Pyodide's memory snapshot, gzipped: the live
// runtime's worker restores it instead of starting Python again on every page (sphinxext/live.py runs this).
//   node memory_snapshot.mjs PYODIDE_DIR WHEEL OUT.gz
// Pyodide's snapshot options (_makeSnapshot, makeMemorySnapshot, _loadSnapshot) are the ones its Cloudflare
// Workers runtime uses; the image is WebAssembly memory, the same in every engine that runs this Pyodide.
import crypto from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

// The same image from every build (two clean builds are byte-identical): what Python reads of the world while it
// starts comes from here, not from the machine. Its entropy (the str hash secret, `random`'s state; the worker
// reseeds `random`) is a fixed stream; its wall clock a fixed instant; its monotonic clock counts calls in
// milliseconds, which stays below the clock of the worker that restores the image (that starts at 0 too).
let state = 1;
const entropy = (view) => {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  for (let i = 0; i < bytes.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 16;
  }
  return view;
};
crypto.randomFillSync = entropy; // Emscripten's random device under Node
globalThis.crypto.getRandomValues = entropy;
Date.now = () => Date.UTC(2020, 0, 1);
let ticks = 0;
performance.now = () => ++ticks;

const [pyodideDir, wheel, out] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(`${pyodideDir}/pyodide.mjs`).href);
const pyodide = await loadPyodide({ indexURL: `${pyodideDir}/`, _makeSnapshot: true });
pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel");
// what the worker imports first (microgpt.worker) and every module it calls into (those with an API table)
pyodide.runPython("import microgpt.worker, microgpt.live, microgpt.cells, microgpt.exercises");
writeFileSync(out, gzipSync(pyodide.makeMemorySnapshot(), { level: 6 }));
