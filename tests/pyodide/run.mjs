// Run Python under Pyodide in Node, with the port installed from a wheel: the browser's runtime, without a browser.
// node run.mjs PYODIDE_DIR WHEEL [--snapshot SNAPSHOT.gz] [HOST_DIR ...] < code.py
//   With --snapshot, Python is restored from the site's memory snapshot, as the browser's worker restores it; each
//   HOST_DIR is mounted at the same path inside Pyodide's file system; the code's stdout and stderr pass
//   through, line by line; the exit status is 1 if the code raised (its traceback goes to stderr).
import { readFileSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";

const [pyodideDir, wheel, ...rest] = process.argv.slice(2);
const snapshot = rest[0] === "--snapshot" ? gunzipSync(readFileSync(rest[1])) : undefined;
const mounts = snapshot ? rest.slice(2) : rest;
const { loadPyodide } = await import(pathToFileURL(resolve(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: resolve(pyodideDir) + "/", ...(snapshot && { _loadSnapshot: snapshot }) });
pyodide.setStdout({ batched: (line) => process.stdout.write(line + "\n") });
pyodide.setStderr({ batched: (line) => process.stderr.write(line + "\n") });
pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel");
for (const dir of mounts) {
  pyodide.FS.mkdirTree(resolve(dir));
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: realpathSync(dir) }, resolve(dir)); // a symlink works too
}
try {
  await pyodide.runPythonAsync(readFileSync(0, "utf-8"));
} catch (e) {
  process.stderr.write(String(e.message ?? e) + "\n");
  process.exitCode = 1;
}
