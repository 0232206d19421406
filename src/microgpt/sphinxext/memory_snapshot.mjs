// Python started in Pyodide with the port imported, saved as Pyodide's memory snapshot, gzipped: the live
// runtime's worker restores it instead of starting Python again on every page (sphinxext/live.py runs this).
//   node memory_snapshot.mjs PYODIDE_DIR WHEEL OUT.gz
// Pyodide's snapshot options (_makeSnapshot, makeMemorySnapshot, _loadSnapshot) are the ones its Cloudflare
// Workers runtime uses; the image is WebAssembly memory, the same in every engine that runs this Pyodide.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const [pyodideDir, wheel, out] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(`${pyodideDir}/pyodide.mjs`).href);
const pyodide = await loadPyodide({ indexURL: `${pyodideDir}/`, _makeSnapshot: true });
pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel");
// what the worker imports first (microgpt.worker) and every module it calls into (those with an API table)
pyodide.runPython("import microgpt.worker, microgpt.live, microgpt.cells, microgpt.exercises");
writeFileSync(out, gzipSync(pyodide.makeMemorySnapshot(), { level: 6 }));
