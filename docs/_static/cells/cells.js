// The page's code cells, runnable and editable in the reader's browser. Glue only: the build marks each cell
// (src/microgpt/sphinxext/cells.py), Python runs it (microgpt.cells, in the live page's worker, loaded on the first
// Run and shared by every cell of the page: one namespace, as in Jupyter).
// The cells have their own worker (runtime("cells")): a cell's Stop ends it, and the reader's run is never touched.
//   div.cell[data-live-state=idle|running|done|error|stopped]   the cell
//     div.cell_input                                     its code (an editor, editor.js, once the reader edits it)
//     div.mg-cell-bar                                    Run cell, Edit, Build-time output, Stop, Reset, status
//     div.cell_output[data-live="output"]                build-time output, replaced by each run's as it prints
import { createEditor } from "../editor/editor.js";
import { runtime, mb } from "../live/runtime.js";

const rt = runtime("cells"); // its own worker: a cell's Stop ends it, never the reader's run
const cells = [];
const ran = new Set(); // cells run since the namespace was last fresh
let generation = 0; // bumped by Stop and Reset: queued runs of an older generation are dropped
let queue = Promise.resolve();
let current = null; // the cell whose status shows the runtime's download progress

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function block(kind, text) {
  // the build's own markup for an output (div.output > div.highlight > pre), so it looks the same
  const out = el("div", { class: `output ${kind}` });
  const highlight = out.appendChild(el("div", { class: "highlight" }));
  highlight.appendChild(el("pre", {}, text));
  return out;
}

/** What a terminal shows of a line written with carriage returns: its last part ("50%\r100%" shows "100%"). */
function overwritten(text) {
  return text.split("\n").map((line) => {
    const parts = line.split("\r");
    return parts.findLast((p, i) => p !== "" || i === 0);
  }).join("\n");
}

/** Output blocks for what a cell printed ({streams, note}, microgpt.cells.Output): the note first if lines were
 *  dropped, then each stream's text as the build shows it. */
function printed({ streams, note }) {
  const shown = note ? [block("stderr mg-cell-dropped", note)] : [];
  for (const s of streams) shown.push(block(s.name === "stderr" ? "stderr" : "stream", overwritten(s.text)));
  return shown;
}

/** What a running cell has printed, write by write, its last maxLines lines shown (Python's result, capped the
 *  same way, replaces it when the cell ends). */
class Live {
  constructor(maxLines) { this.max = maxLines; this.streams = []; this.lines = 0; this.dropped = 0; }

  add(name, text) {
    const last = this.streams[this.streams.length - 1];
    if (last?.name === name) last.text += text;
    else this.streams.push({ name, text });
    this.lines += text.split("\n").length - 1;
    if (this.lines > 2 * this.max) this.trim(); // now and then, not at every write
  }

  trim() {
    let excess = this.lines - this.max;
    while (excess > 0) {
      const first = this.streams[0];
      const parts = first.text.split("\n");
      const count = Math.min(parts.length - 1, excess);
      if (count === parts.length - 1) this.streams.shift();
      else first.text = parts.slice(count).join("\n");
      this.lines -= count;
      this.dropped += count;
      excess -= count;
    }
  }

  get note() {
    return this.dropped ? `… ${this.dropped.toLocaleString("en")} earlier lines not shown while it runs.` : "";
  }
}

class Cell {
  constructor(root, bar, index, number) {
    this.root = root;
    this.index = index; // among the runnable cells
    this.number = number; // among all the page's code cells, from 1
    this.source = bar.dataset.source;
    this.maxLines = Number(bar.dataset.maxLines); // microgpt.cells.MAX_OUTPUT_LINES
    this.input = root.querySelector(":scope > .cell_input");
    this.output = root.querySelector(":scope > .cell_output") ??
      root.appendChild(el("div", { class: "cell_output docutils container" }));
    this.output.dataset.live = "output";
    this.built = [...this.output.childNodes].map((n) => n.cloneNode(true));
    this.editor = null;
    this.live = null; // what it prints while it runs
    root.dataset.liveState = "idle";

    bar.hidden = false;
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", `Cell ${this.number}`);
    const button = (label, action, name = label) => {
      const b = bar.appendChild(el("button", { type: "button", class: `mg-cell-${action}`, "aria-label": name }, label));
      b.addEventListener("click", () => this[action]());
      return b;
    };
    this.runButton = button("▶ Run", "run", "Run cell");
    this.editButton = button("Edit", "edit", "Edit the code");
    this.stopButton = button("■ Stop", "stop", "Stop");
    this.restoreButton = button("Build-time output", "restore", "Show the build-time output");
    button("Reset", "reset", "Reset all cells");
    this.stopButton.hidden = true;
    this.restoreButton.disabled = true;
    this.status = bar.appendChild(el("span", { class: "mg-cell-status", role: "status", "aria-live": "polite" }));
    this.offer = bar.appendChild(el("div", { class: "mg-cell-offer", hidden: "" }));
  }

  get code() { return this.editor ? this.editor.value : this.source; }

  set state(value) { this.root.dataset.liveState = value; }

  /** The code becomes editable once the editor has loaded (data-editor-state: loading, then ready); until then
   *  the status says it is opening, and the code is not a field that could take keys and lose them. */
  async edit() {
    if (!this.opening) {
      this.root.dataset.editorState = "loading";
      this.say("Opening the editor…");
    }
    this.opening ??= createEditor(this.input, { doc: this.source, label: `Code of cell ${this.number}`,
      describedBy: "mg-cell-keys", onRun: () => this.run(), onLeave: () => this.runButton.focus() })
      .then((editor) => { // Escape leaves the editor: no Tab trap
        this.highlighted = [...this.input.childNodes].filter((n) => n !== editor.dom);
        this.input.replaceChildren(editor.dom);
        this.editor = editor;
        this.editButton.hidden = true;
        if (this.status.textContent === "Opening the editor…") this.say("");
        this.root.dataset.editorState = "ready";
        return editor;
      });
    (await this.opening).focus();
  }

  unedit() {
    if (!this.editor) return;
    this.editor.destroy();
    this.input.replaceChildren(...this.highlighted);
    this.editor = this.opening = null;
    this.editButton.hidden = false;
    delete this.root.dataset.editorState;
  }

  show(nodes) { this.output.replaceChildren(...nodes); }

  restore() {
    this.show(this.built.map((n) => n.cloneNode(true)));
    this.restoreButton.disabled = true;
  }

  say(text) { this.status.textContent = text; }

  run() {
    const earlier = cells.slice(0, this.index).filter((c) => !ran.has(c));
    if (earlier.length) { this.offerEarlier(earlier); return; }
    this.enqueue();
  }

  offerEarlier(earlier) {
    const count = earlier.length === 1 ? "1 cell above has" : `${earlier.length} cells above have`;
    this.offer.replaceChildren(el("p", {}, `${count} not run yet; this cell may use what they define.`));
    const first = this.offer.appendChild(el("button", { type: "button" }, "Run the earlier cells first"));
    const only = this.offer.appendChild(el("button", { type: "button" }, "Run only this cell"));
    const close = () => { this.offer.hidden = true; this.offer.replaceChildren(); this.runButton.focus(); };
    first.addEventListener("click", () => { close(); for (const c of earlier) c.enqueue(); this.enqueue(); });
    only.addEventListener("click", () => { close(); this.enqueue(); });
    this.offer.hidden = false;
    first.focus();
  }

  enqueue() {
    const mine = generation;
    this.state = "running";
    this.say("Waiting for the cells before it…");
    queue = queue.then(() => (mine === generation ? this.execute() : undefined));
  }

  async execute() {
    const mine = generation;
    this.stopButton.hidden = false;
    try {
      current = this;
      if (!rt.loaded) this.say("Downloading the Python runtime (once per visit)…");
      await rt.load(progress);
      this.say("Running…");
      const started = performance.now();
      this.show([]);
      const live = this.live = new Live(this.maxLines);
      let frame = 0;
      const onOutput = ([name, text]) => { // each write as it happens, drawn once a frame
        live.add(name, text);
        frame ||= requestAnimationFrame(() => { frame = 0; if (mine === generation) this.show(printed(live)); });
      };
      const out = await rt.call("cells.run", [this.code, this.number], undefined, onOutput);
      cancelAnimationFrame(frame);
      this.live = null;
      if (mine !== generation) return;
      const { result, error } = out;
      const shown = printed(out);
      if (result !== null) shown.push(block("text_plain", result));
      if (error) shown.push(block("traceback stderr", error.traceback));
      this.show(shown);
      ran.add(this);
      this.state = error ? "error" : "done";
      this.say(`${error ? `${error.name}` : "Ran"} in ${((performance.now() - started) / 1000).toFixed(2)} s.`);
    } catch (e) {
      if (mine !== generation) return; // Stop or Reset said what happened
      this.show([block("traceback stderr", e.message)]);
      this.state = "error";
      this.say("The runtime could not run this cell.");
    } finally {
      this.stopButton.hidden = true;
      this.restoreButton.disabled = false;
    }
  }

  stop() {
    const started = performance.now();
    generation++;
    current = null;
    rt.terminate(); // the cells' worker only: the reader's run and the scenes have their own
    ran.clear();
    queue = Promise.resolve();
    for (const c of cells) {
      if (c.root.dataset.liveState === "running") { c.state = "idle"; c.say(""); c.stopButton.hidden = true; }
    }
    this.state = "stopped";
    if (this.live) { this.live.trim(); this.show(printed(this.live)); } // every write so far, drawn or not
    const above = cells.indexOf(this) > 0 ? ": run the cells above again before this one" : "";
    this.output.append(block("stderr mg-cell-stopped", "Stopped. What it printed is kept above. The cells' Python " +
      `was restarted, so the names the cells of this page defined are gone${above}.`));
    this.restoreButton.disabled = false;
    // the time from the press to a stopped runtime (not how long the cell ran)
    this.say(`Stopped ${Math.round(performance.now() - started)} ms after you pressed Stop.`);
    this.runButton.focus();
    rt.load().catch(() => {}); // a fresh worker, ready for the next Run
  }

  reset() {
    const running = cells.some((c) => c.root.dataset.liveState === "running");
    generation++;
    current = null;
    queue = Promise.resolve();
    ran.clear();
    for (const c of cells) { c.unedit(); c.restore(); c.state = "idle"; c.say(""); c.stopButton.hidden = true; }
    this.say("Reset: a fresh namespace; every cell shows its code and output as built.");
    this.runButton.focus();
    if (running) rt.terminate(); // the next Run starts a fresh worker
    else if (rt.loaded) rt.call("cells.reset").catch(() => rt.terminate());
  }
}

function progress(loaded, total, active) {
  current?.say(active ? `Downloading the Python runtime: ${mb(loaded)} of ${mb(total)} MB…`
    : "Starting Python…");
}

for (const [i, bar] of document.querySelectorAll(".cell > .mg-cell-bar").entries()) {
  if (bar.dataset.numpy === "false") cells.push(new Cell(bar.parentElement, bar, cells.length, i + 1));
}
if (cells.length) {
  document.body.appendChild(el("p", { id: "mg-cell-keys", hidden: "" }, matchMedia("(pointer: coarse)").matches
    ? "Enter after a line ending in “:” indents the next line; the Indent and Dedent buttons under the code shift " +
      "the current line; ▶ Run runs the cell." // a touch screen's keyboard has no Tab, Shift+Enter nor Escape
    : "Shift+Enter runs the cell; Tab indents, Shift+Tab dedents; Escape leaves the editor."));
}
