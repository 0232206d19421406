// The page's exercises: Check asks microgpt.exercises (in the page's shared worker) for a verdict; Hint and Show
// solution reveal what the build wrote; answers and results are kept per page in localStorage. Glue only: the
// build writes each exercise (src/microgpt/sphinxext/exercises.py), Python decides every verdict.
//   section[data-exercise][data-exercise-kind]   one exercise (data-exercise-facts: the recorded run's, as JSON)
//     [data-exercise-answer]                      its field;  [data-exercise-action=check|hint|solution] buttons
//     [data-exercise-result][data-result]         right | wrong | error, the feedback as its text
//   [data-exercise-summary="site"|"page"]         progress; export, import, reset
import { createEditor } from "../editor/editor.js";
import { runtime, mb } from "../live/runtime.js";
import { hasSaved } from "../live/store.js";

const KEY = "microgpt-exercises";
const FORMAT = 1; // of the stored and exported progress
const rt = runtime();
const exercises = [];

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// --- progress: {format, pages: {page: {id: {answer, result, message, source, at}}}} --------------------------

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "null");
    if (saved?.format === FORMAT && typeof saved.pages === "object") return saved;
  } catch { /* unreadable: start afresh */ }
  return { format: FORMAT, pages: {} };
}

function save(progress) {
  try { localStorage.setItem(KEY, JSON.stringify(progress)); } catch { /* storage full or blocked: not kept */ }
  for (const s of summaries) s.render();
}

const pageOf = (id) => id.split("-")[0];

function record(id, entry) {
  const progress = load();
  (progress.pages[pageOf(id)] ??= {})[id] = { ...entry, at: new Date().toISOString() };
  save(progress);
}

/** Once Python is loaded, the notes that the first Check downloads it go: nothing more to fetch on this page. */
function loadedNotes() {
  if (!rt.ready) return;
  for (const note of document.querySelectorAll("[data-exercise-download]")) note.hidden = true;
}

// --- one exercise ----------------------------------------------------------------------------------------------

class Exercise {
  constructor(root) {
    this.root = root;
    this.id = root.dataset.exercise;
    this.kind = root.dataset.exerciseKind;
    this.facts = root.dataset.exerciseFacts ? JSON.parse(root.dataset.exerciseFacts) : null;
    this.answer = root.querySelector("[data-exercise-answer]");
    this.result = root.querySelector("[data-exercise-result]");
    this.hints = [...root.querySelectorAll('[data-exercise-part="hint"]')];
    this.solution = root.querySelector('[data-exercise-part="solution"]');
    this.buttons = Object.fromEntries([...root.querySelectorAll("[data-exercise-action]")]
      .map((b) => [b.dataset.exerciseAction, b]));
    this.buttons.check.addEventListener("click", () => this.check());
    this.buttons.hint.addEventListener("click", () => this.hint());
    this.buttons.solution.addEventListener("click", () => this.reveal());
    this.answer.addEventListener("keydown", (e) => this.key(e));
    this.editor = null; // code: the code editor replaces the textarea when the reader first enters it
    if (this.kind === "code") this.answer.addEventListener("focus", () => this.upgrade(), { once: true });
    if (root.dataset.exerciseLive === "true" && hasSaved()) this.offerSource();
    this.restore();
  }

  key(e) {
    const code = this.kind === "code";
    if (e.key === "Enter" && (e.shiftKey || !code) && this.answer.tagName !== "SELECT") {
      e.preventDefault();
      this.check();
    } else if (e.key === "Escape" && code) {
      e.preventDefault();
      this.buttons.check.focus(); // leave the editor: no Tab trap
    }
  }

  get value() { return this.editor ? this.editor.value : this.answer.value; }

  set value(text) { if (this.editor) this.editor.value = text; else this.answer.value = text; }

  /** The code editor takes the textarea's place once loaded; the textarea stays editable meanwhile, and what was
   *  typed there, the caret and the focus carry over (data-editor-state: loading, then ready). */
  async upgrade() {
    const area = this.answer;
    this.root.dataset.editorState = "loading";
    const label = `${this.root.querySelector(`label[for="${area.id}"]`)?.textContent ?? "Your code"}: ` +
      this.root.querySelector(".mg-exercise-title")?.textContent;
    const editor = await createEditor(area.parentElement, { doc: area.value, label,
      describedBy: area.getAttribute("aria-describedby"), onRun: () => this.check(),
      onLeave: () => this.buttons.check.focus() });
    editor.value = area.value; // what was typed while the editor loaded
    editor.select(area.selectionStart, area.selectionEnd, area.selectionDirection === "backward");
    area.after(editor.dom);
    editor.input.setAttribute("data-exercise-answer", "");
    const focused = document.activeElement === area;
    this.starter = area.defaultValue;
    area.remove();
    this.answer = editor.input;
    this.editor = editor;
    if (focused) editor.focus();
    this.root.dataset.editorState = "ready";
  }

  /** A reader with a run of their own chooses which run the question is about. */
  offerSource() {
    const box = el("fieldset", { class: "mg-exercise-source" });
    box.appendChild(el("legend", {}, "Answer about"));
    for (const [value, text] of [["recorded", "the recorded run"], ["live", "your run"]]) {
      const label = box.appendChild(el("label"));
      const input = label.appendChild(el("input", { type: "radio", name: `${this.id}-source`, value }));
      input.checked = value === "recorded";
      label.append(` ${text}`);
    }
    this.source = box;
    this.root.querySelector(".mg-exercise-form").prepend(box);
  }

  get sourceValue() { return this.source?.querySelector("input:checked")?.value ?? "recorded"; }

  show(result, text) {
    this.result.dataset.result = result;
    this.result.textContent = text;
  }

  async check() {
    const answer = this.value;
    if (!answer.trim()) {
      this.show("error", this.kind === "experiment" ? "Choose a prediction first." : "Type an answer first.");
      return;
    }
    const source = this.sourceValue;
    this.buttons.check.disabled = true;
    this.root.setAttribute("aria-busy", "true");
    this.show("", this.kind === "experiment" ? "Training both runs…" : "Checking…");
    try {
      if (!rt.loaded) {
        await rt.load((loaded, total, active) => this.show("", active
          ? `Downloading the Python runtime that checks answers: ${mb(loaded)} of ${mb(total)} MB…` : "Starting Python…"));
      }
      if (source === "live") await yourRun();
      if (this.kind === "experiment") this.show("", "Training both runs…");
      const { result, message } = await rt.call("exercises.check", [this.id, answer, this.facts, source]);
      loadedNotes();
      const prefix = { right: "Right: ", wrong: "Not yet: ", error: "" }[result];
      this.show(result, prefix + message);
      record(this.id, { answer, result, message, source });
    } catch (e) {
      this.show("error", `The answer could not be checked: ${e.message ?? e}`);
    } finally {
      this.buttons.check.disabled = false;
      this.root.removeAttribute("aria-busy");
    }
  }

  hint() {
    const next = this.hints.find((h) => h.hidden);
    if (next) {
      next.hidden = false;
      next.setAttribute("tabindex", "-1");
      next.focus();
    }
    if (!this.hints.some((h) => h.hidden)) this.buttons.hint.disabled = true;
  }

  reveal() {
    this.solution.hidden = false;
    this.buttons.solution.disabled = true;
    this.solution.setAttribute("tabindex", "-1");
    this.solution.focus();
    const progress = load();
    const entry = progress.pages[pageOf(this.id)]?.[this.id];
    record(this.id, { ...(entry ?? { answer: "", result: "", message: "" }), solution: true });
  }

  restore() {
    const entry = load().pages[pageOf(this.id)]?.[this.id];
    if (!entry) return;
    if (entry.answer) this.value = entry.answer;
    if (entry.result) {
      const prefix = { right: "Right: ", wrong: "Not yet: ", error: "" }[entry.result] ?? "";
      this.show(entry.result, prefix + entry.message);
    }
  }

  reset() {
    this.value = this.kind === "code" ? this.starter ?? this.answer.defaultValue : "";
    this.show("", "");
    for (const h of this.hints) h.hidden = true;
    this.solution.hidden = true;
    this.buttons.hint.disabled = this.buttons.solution.disabled = false;
  }
}

/** The reader's run, restored into the worker if it is not there yet. */
async function yourRun() {
  const { liveRun } = await import("../live/run.js");
  const run = liveRun();
  if (!run.exists) await run.restoreSaved(); // queued behind any restore under way (the run bar's, on load)
  if (!run.exists) throw new Error("your run could not be restored on this page");
}

// --- summaries, export, import -----------------------------------------------------------------------------------

const summaries = [];

class Summary {
  constructor(root, pages) {
    this.root = root;
    this.pages = pages; // {page: [ids]}
    this.links = root.dataset.exerciseLinks ? JSON.parse(root.dataset.exerciseLinks) : {};
    this.titles = root.dataset.exerciseTitles ? JSON.parse(root.dataset.exerciseTitles) : {};
    this.text = el("p", { class: "mg-exercise-tally", role: "status", "aria-live": "polite" });
    this.list = Object.keys(pages).length > 1 ? el("ul", { class: "mg-exercise-pages" }) : null;
    const bar = el("div", { class: "mg-exercise-buttons" });
    const button = (label, action) => {
      const b = bar.appendChild(el("button", { type: "button" }, label));
      b.addEventListener("click", action);
      return b;
    };
    button("Export results", () => exportFile());
    const file = el("input", { type: "file", accept: "application/json,.json", hidden: "",
      "aria-label": "Results file to import" });
    file.addEventListener("change", () => importFile(file.files[0], this).finally(() => { file.value = ""; }));
    button("Import results", () => file.click());
    if (!this.list) button("Reset this page", () => this.reset());
    this.root.replaceChildren(...[this.text, this.list, bar, file].filter(Boolean));
    this.render();
  }

  render() {
    const progress = load();
    const count = (ids, page) => {
      const done = progress.pages[page] ?? {};
      return { right: ids.filter((id) => done[id]?.result === "right").length,
        tried: ids.filter((id) => done[id]?.result).length, total: ids.length };
    };
    const all = Object.entries(this.pages).map(([page, ids]) => [page, count(ids, page)]);
    const sum = all.reduce((a, [, c]) => ({ right: a.right + c.right, tried: a.tried + c.tried,
      total: a.total + c.total }), { right: 0, tried: 0, total: 0 });
    const where = this.list ? "on the site" : "on this page";
    this.text.textContent = `Exercises ${where}: ${sum.right} of ${sum.total} right, ${sum.tried} tried.`;
    if (!this.list) return;
    this.list.replaceChildren(...all.map(([page, c]) => {
      const item = el("li");
      const link = item.appendChild(el("a", { href: this.links[page] ?? "#" }, this.titles[page] ?? page));
      link.dataset.page = page;
      item.append(`: ${c.right} of ${c.total} right`);
      return item;
    }));
  }

  reset() {
    const progress = load();
    for (const page of Object.keys(this.pages)) delete progress.pages[page];
    save(progress);
    for (const e of exercises) e.reset();
    this.text.textContent += " This page was reset.";
  }
}

function exportFile() {
  const progress = load();
  const blob = new Blob([JSON.stringify({ ...progress, exported: new Date().toISOString(),
    site: document.title }, null, 2)], { type: "application/json" });
  const a = el("a", { href: URL.createObjectURL(blob), download: "microgpt-exercises.json" });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function importFile(file, summary) {
  if (!file) return;
  let data;
  try {
    data = JSON.parse(await file.text());
    if (data?.format !== FORMAT || typeof data.pages !== "object" || data.pages === null) {
      throw new Error(`not a results file of this site (format ${FORMAT} expected)`);
    }
  } catch (e) {
    summary.text.textContent = `${file.name} cannot be imported: ${e.message}`;
    return;
  }
  const progress = load();
  let count = 0;
  for (const [page, entries] of Object.entries(data.pages)) {
    if (typeof entries !== "object" || entries === null) continue;
    for (const [id, entry] of Object.entries(entries)) {
      if (typeof entry !== "object" || entry === null || pageOf(id) !== page) continue;
      (progress.pages[page] ??= {})[id] = { answer: String(entry.answer ?? ""), result: ["right", "wrong", "error"]
        .includes(entry.result) ? entry.result : "", message: String(entry.message ?? ""),
      source: entry.source === "live" ? "live" : "recorded", at: String(entry.at ?? "") };
      count++;
    }
  }
  save(progress);
  for (const e of exercises) e.restore();
  summary.text.textContent += ` Imported ${count} answers from ${file.name}.`;
}

for (const root of document.querySelectorAll("[data-exercise]")) exercises.push(new Exercise(root));
if (exercises.length) {
  const pages = {};
  for (const e of exercises) (pages[pageOf(e.id)] ??= []).push(e.id);
  const box = el("div", { class: "mg-exercise-summary", "data-exercise-summary": "page" });
  exercises[0].root.before(box);
  summaries.push(new Summary(box, pages));
}
for (const root of document.querySelectorAll('[data-exercise-summary="site"]')) {
  summaries.push(new Summary(root, JSON.parse(root.dataset.exercisePages)));
}
addEventListener("storage", (e) => { if (e.key === KEY) for (const s of summaries) s.render(); });
