// Finds the page's scene figures, starts each when it scrolls into view and disposes it when it leaves,
// keeps at most MAX_LIVE WebGL contexts, drives the time-axis scenes from one step control, and falls back
// to the static picture (drawn at build time) whenever WebGL is missing, a scene fails or its context is lost.
// When the reader has a run of their own (live/run.js), a switch shows every scene on it instead: the scenes
// read its documents through the same fetchJSON, answered by the port in the worker, and follow it as it trains.

const MAX_LIVE = 4;
const SCENES = ["training", "embeddings", "attention", "sampling", "tokens", "forward", "autograd", "adam", "model"];
const figures = [...document.querySelectorAll("figure.mg-scene[data-scene]")];
const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;
const json = new Map();
const LIVE_BASE = "mg-live:/run/"; // the reader's run's documents: URLs under it are answered by live.document
const SOURCE_KEY = "microgpt-scene-source"; // the reader's choice, kept for the tab

function fetchRecorded(url) {
  if (!json.has(url)) {
    json.set(url, fetch(url).then((r) => {
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return r.json();
    }));
  }
  return json.get(url);
}

function webglAvailable() {
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    gl?.getExtension("WEBGL_lose_context")?.loseContext(); // give the probe's context back at once
    return Boolean(gl);
  } catch {
    return false;
  }
}

const entries = figures.map((fig) => ({
  fig,
  stage: fig.querySelector(".mg-scene-stage"),
  options: null,
  live: null,
  starting: null,
  visible: false,
  seen: 0,
  generation: 0,
  timeAxis: fig.dataset.timeAxis === "true",
  links: JSON.parse(fig.dataset.links || "{}"), // element id -> lines of microgpt.py
  code: JSON.parse(fig.dataset.code || "{}"), // line -> [its address, its text]
  excerpt: fig.querySelector("[data-scene-excerpt]"),
  keyHelp: null, // the sentence that says which keys the focused scene answers (showKeys)
  wait: null, // while the reader's run trains: which of its steps the scene shows (showWait)
}));

let step = 0;
let control = null;
let source = null; // the run shown: `recorded` or the reader's (liveSource), defined below

function setState(entry, state) {
  entry.fig.dataset.state = state;
}

/** Counts work under way for a scene (building it, loading a step) in its figure's data-busy: at 0, what the
 *  scene shows is what it will show, once its last requested frame is drawn (a state for the tests to wait on). */
function busy(entry, work) {
  const fig = entry.fig;
  fig.dataset.busy = String(Number(fig.dataset.busy || 0) + 1);
  return Promise.resolve(work).finally(() => { fig.dataset.busy = String(Number(fig.dataset.busy) - 1); });
}

function fallback(entry, reason) {
  stop(entry);
  entry.options?.remove(); // the static picture has no options: its row goes, room and all
  entry.options = null;
  setState(entry, "fallback");
  if (reason) console.warn(`microgpt scene ${entry.fig.dataset.scene}: showing the static picture (${reason})`);
}

function stop(entry) {
  entry.generation += 1; // a start still loading sees this and gives up,
  entry.starting = null; // and the next start need not wait for it (a scene back in view before it gave up)
  const scene = entry.live;
  entry.live = null;
  if (scene) {
    scene.canvas.removeEventListener("webglcontextlost", entry.onLost);
    scene.canvas.removeEventListener("webglcontextrestored", entry.onRestored);
    entry.fig.mgScene = null;
  }
  dispose(entry, scene);
  showKeys(entry);
  if (scene) setState(entry, "idle");
  showWait(entry);
}

/** Frees a scene (if there is one); its options row stays at its height (measured before the scene takes its
 *  controls away), empty, for the scene's next start: scenes stop as they scroll away (MAX_LIVE), and a row that
 *  went with them would change the page's height above the reader (scroll anchoring then moves the page back by as
 *  much, under a swipe in progress). */
function dispose(entry, scene) {
  if (entry.options) entry.options.style.minHeight = `${entry.options.getBoundingClientRect().height}px`;
  scene?.dispose();
  entry.options?.replaceChildren();
}

function makeRoom() {
  const live = entries.filter((e) => e.live || e.starting);
  if (live.length < MAX_LIVE) return;
  const victim = live.sort((a, b) => (a.visible - b.visible) || (a.seen - b.seen))[0];
  stop(victim);
}

async function start(entry) {
  if (entry.live || entry.starting || entry.fig.dataset.state === "fallback") return;
  const name = entry.fig.dataset.scene;
  if (!SCENES.includes(name)) return fallback(entry, `unknown scene ${name}`);
  makeRoom();
  const generation = entry.generation;
  const current = () => generation === entry.generation && entry.visible;
  const starting = (async () => {
    const from = source;
    const snapshotUrl = from.snapshotUrl(entry);
    const [module, data, manifest] = await Promise.all([
      import(`./${name}.js`),
      document_(from, entry),
      from.fetchJSON(new URL("manifest.json", snapshotUrl).href),
    ]);
    if (!current()) return; // scrolled away, or evicted for another scene, while loading
    if (!entry.options) {
      entry.options = document.createElement("div");
      entry.options.className = "mg-scene-options";
      (entry.excerpt ?? entry.stage).after(entry.options);
    }
    const scene = await module.create({
      stage: entry.stage, options: entry.options, data, manifest, reducedMotion,
      snapshotUrl, fetchJSON: (url) => busy(entry, from.fetchJSON(url)), step, source: from,
    });
    if (!current()) { // evicted while the scene was being built: free it at once
      dispose(entry, scene);
      return;
    }
    entry.options.style.minHeight = ""; // its own controls again
    entry.onLost = (e) => {
      e.preventDefault(); // tells the browser we want the context back
      setState(entry, "fallback"); // the static picture until it is restored
    };
    entry.onRestored = () => {
      stop(entry); // the old scene's buffers died with the context: build it afresh
      setState(entry, "idle");
      if (entry.visible) start(entry);
    };
    scene.canvas.addEventListener("webglcontextlost", entry.onLost);
    scene.canvas.addEventListener("webglcontextrestored", entry.onRestored);
    scene.link((id, how) => onLink(entry, id, how));
    entry.live = scene;
    scene.select(selection?.entry === entry ? selection.id : null);
    if (litLine !== null) scene.highlight(Object.keys(entry.links).filter((id) => entry.links[id].includes(litLine)));
    entry.fig.mgScene = scene; // for the tests: its elements and three.js's memory counters
    showKeys(entry);
    entry.fig.dataset.source = from.live ? "live" : "recorded";
    if (from.live) entry.fig.dataset.liveStep = String(from.step);
    setState(entry, "live");
    if (entry.timeAxis) await scene.setStep(step);
    showWait(entry);
  })()
    .catch((err) => fallback(entry, err?.message || String(err)))
    .finally(() => { if (entry.starting === starting) entry.starting = null; });
  entry.starting = starting;
  busy(entry, starting);
  return starting;
}

function showStep(value) {
  step = value;
  if (control) {
    control.range.value = String(step);
    control.output.value = `step ${step} / ${control.range.max}`;
  }
  for (const e of entries) e.fig.dataset.step = String(step);
}

function setStep(value) {
  showStep(value);
  for (const e of entries) if (e.live && e.timeAxis) busy(e, e.live.setStep(step));
}

function setMax(max) {
  if (!control) return;
  control.max = max;
  control.range.max = String(max);
}

function makeControl(first) {
  const max = Number(first.fig.dataset.steps || 0);
  const bar = document.createElement("div");
  bar.className = "mg-step";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Training step shown by the scenes on this page");
  const play = document.createElement("button");
  play.type = "button";
  play.textContent = "Play";
  play.setAttribute("aria-pressed", "false");
  const label = document.createElement("label");
  label.textContent = "Training step";
  const range = document.createElement("input");
  range.type = "range";
  range.min = "0";
  range.max = String(max);
  range.step = "1";
  range.id = "mg-step-range";
  label.htmlFor = range.id;
  const output = document.createElement("output");
  output.htmlFor = range.id;
  bar.append(play, label, range, output);
  first.fig.prepend(bar); // the scene's own control (it drives the page's other time-axis scenes too)

  let timer = 0;
  const pause = () => {
    clearInterval(timer);
    timer = 0;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  };
  const state = { bar, range, output, play, max, pause };
  play.addEventListener("click", () => {
    const max = state.max;
    if (timer) return pause();
    if (step >= max) setStep(0);
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    timer = setInterval(() => {
      setStep(Math.min(step + Math.max(1, Math.round(max / 200)), max));
      if (step >= max) pause();
    }, 50);
  });
  range.addEventListener("input", () => { pause(); setStep(Number(range.value)); });
  return state;
}

// Lines <-> scene elements: the mapping comes from each figure's data-links (one JSON file in the package).
// Selecting an element (click, tap, Enter) keeps its lines lit, here and in the scene's excerpt, until another
// selection or Escape; hovering or focusing one only previews its lines. Neither scrolls the page.
let selection = null; // {entry, id}

const linesOf = (entry, id) => (id && entry.links[id]) || [];

function lightLines(lines) {
  for (const el of document.querySelectorAll(".mg-line.mg-lit")) el.classList.remove("mg-lit");
  for (const n of lines) for (const el of document.querySelectorAll(`.mg-line[data-line="${n}"]`)) el.classList.add("mg-lit");
}

function onLink(entry, id, how) {
  if (how === "select") return select(id === null ? null : { entry, id });
  lightLines(id ? linesOf(entry, id) : selection ? linesOf(selection.entry, selection.id) : []);
}

function select(next) {
  selection = next;
  for (const e of entries) {
    e.live?.select(selection?.entry === e ? selection.id : null);
    showExcerpt(e);
  }
  lightLines(selection ? linesOf(selection.entry, selection.id) : []);
}

/** "lines 39–41, 43–45" from [39, 40, 41, 43, 44, 45]. */
function span(lines) {
  const runs = [];
  for (const n of [...lines].sort((a, b) => a - b)) {
    const last = runs.at(-1);
    if (last && n === last[1] + 1) last[1] = n;
    else runs.push([n, n]);
  }
  const text = runs.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(", ");
  return `${lines.length > 1 ? "lines" : "line"} ${text}`;
}

const EXCERPT_LINES = 4; // a range this long shows whole; a longer one its first lines, and says how many more

/** The scene's excerpt: the selected element's line numbers and code (all of a short range, the first lines of a
 *  long one), linking to the lines. */
function showExcerpt(entry) {
  const box = entry.excerpt;
  if (!box) return;
  const id = selection?.entry === entry ? selection.id : null;
  const lines = [...linesOf(entry, id)].sort((a, b) => a - b);
  box.replaceChildren();
  box.dataset.lines = linesOf(entry, id).join(",");
  box.hidden = !lines.length;
  if (!lines.length) return;
  const [href] = entry.code[lines[0]] ?? [""];
  const link = Object.assign(document.createElement("a"), { href, textContent: `microgpt.py ${span(lines)}` });
  link.addEventListener("click", (ev) => { // shown on this page (maybe without an anchor): go there
    const line = document.querySelector(`.mg-line[data-line="${lines[0]}"]`);
    if (!line) return;
    ev.preventDefault();
    line.scrollIntoView({ block: "center", behavior: reducedMotion ? "auto" : "smooth" });
    line.querySelector("a")?.focus({ preventScroll: true });
  });
  const shown = lines.length > EXCERPT_LINES ? lines.slice(0, EXCERPT_LINES - 1) : lines;
  const code = document.createElement("code");
  code.className = "mg-excerpt-code";
  const texts = shown.map((n) => (entry.code[n]?.[1] ?? "").trimEnd());
  const indent = Math.min(...texts.filter((t) => t.trim()).map((t) => t.length - t.trimStart().length), 80);
  let previous = null;
  shown.forEach((n, i) => {
    if (previous !== null && n !== previous + 1) code.append(Object.assign(document.createElement("span"),
      { className: "mg-excerpt-line mg-excerpt-gap", textContent: "⋮" }));
    const row = Object.assign(document.createElement("span"), { className: "mg-excerpt-line" });
    row.dataset.line = String(n);
    row.append(Object.assign(document.createElement("span"), { className: "mg-excerpt-n", textContent: `${n}` }),
      texts[i].slice(indent));
    code.append(row);
    previous = n;
  });
  if (shown.length < lines.length) {
    const rest = lines.length - shown.length;
    code.append(Object.assign(document.createElement("span"), { className: "mg-excerpt-line mg-excerpt-more",
      textContent: `… and ${rest} more line${rest > 1 ? "s" : ""}: follow the link for all ${lines.length}` }));
  }
  const clear = Object.assign(document.createElement("button"), { type: "button", textContent: "Clear" });
  clear.setAttribute("aria-label", "Clear the selection (Escape)");
  clear.addEventListener("click", () => select(null));
  box.append(link, " ", clear, code);
}

addEventListener("keydown", (ev) => { if (ev.key === "Escape" && selection) select(null); });

// Keys on a focused scene (its stage, or a label in it; never a field or a button outside it): what the scene binds
// (turning a 3D view, its stage or position), then the page's step control on keys left free. They never scroll
// the page; the scene says which keys do what in one sentence (its description, shown while it has the focus).

/** The key bindings a live scene answers, [{map: {key: fn}, say}], the step control's last. */
function keyBindings(entry) {
  const own = entry.live?.keys?.() ?? [];
  if (!entry.live || !entry.timeAxis || !control) return own;
  const taken = new Set(own.flatMap((b) => Object.keys(b.map)));
  const free = (...keys) => keys.every((k) => !taken.has(k));
  const pair = [["ArrowLeft", "ArrowRight", "arrow keys"], ["[", "]", "[ and ]"]].find(([a, b]) => free(a, b, "Home", "End"));
  if (!pair) return own;
  const [back, on, name] = pair;
  const stride = () => Math.max(1, Math.round(control.max / 100));
  const to = (n) => () => {
    control.pause();
    setStep(Math.max(0, Math.min(n(), control.max)));
  };
  const map = { [back]: to(() => step - stride()), [on]: to(() => step + stride()), Home: to(() => 0), End: to(() => control.max) };
  if (back === "ArrowLeft" && free("ArrowUp", "ArrowDown")) Object.assign(map, { ArrowDown: map[back], ArrowUp: map[on] });
  return [...own, { map, say: `${name} move the training step, Home and End to its first and last` }];
}

function showKeys(entry) {
  if (!entry.keyHelp) return;
  const says = keyBindings(entry).map((b) => b.say);
  entry.keyHelp.textContent = says.length ? `Keys: ${says.join("; ")}.` : "";
}

function onKey(entry, ev) {
  if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.target.closest?.("input, select, textarea, [contenteditable]")) return;
  const binding = keyBindings(entry).find((b) => Object.hasOwn(b.map, ev.key));
  if (!binding) return;
  ev.preventDefault(); // the scene's key: the page does not scroll
  binding.map[ev.key]();
}

let litLine = null;
function lightElements(line) {
  if (line === litLine) return;
  litLine = line;
  for (const e of entries) {
    if (!e.live) continue;
    const ids = line === null ? [] : Object.keys(e.links).filter((id) => e.links[id].includes(line));
    e.live.highlight(ids);
  }
}

function watchLines() {
  const lineOf = (target) => {
    const el = target instanceof Element ? target.closest(".mg-line[data-line]") : null;
    return el ? Number(el.dataset.line) : null;
  };
  document.addEventListener("mouseover", (ev) => lightElements(lineOf(ev.target)));
  document.addEventListener("focusin", (ev) => lightElements(lineOf(ev.target)));
  document.addEventListener("focusout", () => lightElements(null));
}

function init() {
  source = recorded;
  if (!figures.length) return;
  if (!webglAvailable()) {
    for (const e of entries) setState(e, "fallback");
    return;
  }
  for (const [i, e] of entries.entries()) {
    e.fig.classList.add("mg-can-render");
    setState(e, "idle");
    e.keyHelp = Object.assign(document.createElement("p"), { className: "mg-scene-keys", id: `mg-scene-keys-${i}` });
    e.stage.append(e.keyHelp);
    e.stage.setAttribute("aria-describedby", e.keyHelp.id);
    e.stage.addEventListener("keydown", (ev) => onKey(e, ev));
  }
  const first = entries.find((e) => e.timeAxis);
  if (first) {
    control = makeControl(first);
    setStep(control.max);
  }
  recordedMax = control?.max ?? 0;
  const observer = new IntersectionObserver((seen) => {
    for (const s of seen) {
      const entry = entries.find((e) => e.fig === s.target);
      entry.visible = s.isIntersecting;
      if (entry.visible) {
        entry.seen = performance.now();
        start(entry);
      } else {
        stop(entry);
      }
    }
  }, { rootMargin: "150px 0px" });
  for (const e of entries) observer.observe(e.fig);
  watchLines();
  addEventListener("pagehide", () => { for (const e of entries) stop(e); });
  watchRun().catch((err) => console.warn(`microgpt scenes: your run cannot be shown (${err?.message ?? err})`));
}

// --- the run the scenes show: the recorded one, or the reader's own ------------------------------------------

const CHECKPOINT_SCENES = ["attention", "tokens", "forward", "model"]; // read checkpoints/step-NNNN.json
let run = null; // live/run.js's run, on pages where the reader may have one
let rt = null; // live/runtime.js's runtime: a word typed on the recorded run is traced there too
let recordedMax = 0;
let recordedStep = 0; // where the step control stood on the recorded run
let switcher = null;
let refreshes = 0;

async function python() {
  rt ??= (await import("../live/runtime.js")).runtime();
  return rt;
}

/** Call microgpt.live in the worker (its first call loads the runtime). */
const call = async (name, args) => (await python()).call(name, args);

function memo(cache, key, make) {
  if (!cache.has(key)) {
    const promise = make();
    cache.set(key, promise);
    promise.catch(() => cache.delete(key));
  }
  return cache.get(key);
}

/** Before the first call that needs the Python runtime, how much it downloads (null once it is loaded). */
async function runtimeNote() {
  const r = await python();
  if (r.loaded) return null;
  const { total_bytes: bytes } = await r.manifest();
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

const recordedTraces = new Map();
const recorded = {
  live: false,
  name: "the recorded run",
  fetchJSON: fetchRecorded,
  snapshotUrl: (entry) => new URL(entry.fig.dataset.snapshot, location.href),
  runtimeNote,
  /** A typed word, traced in the worker through the checkpoint's exact weights. */
  trace: (word, c, checkpoint, manifest) => memo(recordedTraces, `${c}/${word}`, () =>
    call("live.trace_checkpoint", [JSON.stringify(checkpoint), manifest.vocabulary.uchars, word])),
  /** A fresh name from the last checkpoint, at any temperature. */
  async sample(temperature, seed, manifest, snapshotUrl) {
    const { loadCheckpoint } = await import("./shared.js");
    const [, checkpoint] = await loadCheckpoint(manifest, Infinity, snapshotUrl, fetchRecorded);
    return call("live.sample_checkpoint", [JSON.stringify(checkpoint), manifest.vocabulary.uchars, temperature, seed]);
  },
};

/** The reader's run as a source: the same documents, written by the port in the worker for the steps so far. */
function liveSource() {
  const docs = new Map(); // "name@step/horizon" (checkpoints: "name/horizon") -> parsed document
  const traces = new Map();
  const graphs = new Map();
  let at = run.status.step;
  let horizon = run.status.num_steps;
  const fetchJSON = (url) => {
    if (!url.startsWith(LIVE_BASE)) return fetchRecorded(url);
    const name = url.slice(LIVE_BASE.length);
    const key = name.startsWith("checkpoints/") ? `${name}/${horizon}` : `${name}@${at}/${horizon}`;
    return memo(docs, key, () => run.rt.call("live.document", [name]).then(JSON.parse));
  };
  return {
    live: true,
    name: "your run",
    fetchJSON,
    snapshotUrl: (entry) => new URL(entry.fig.dataset.snapshot.split("/").pop(), LIVE_BASE),
    runtimeNote,
    trace: (word, c) => memo(traces, `${c}/${word}`, () => run.rt.call("live.trace", [word, c])),
    sample: (temperature, seed) => run.rt.call("live.sample", [temperature, seed]),
    stepGraph: () => memo(graphs, at, () => run.rt.call("live.step_graph")),
    get step() { return at; },
    /** A new step: documents of other steps are stale (checkpoints stay until the manifest drops them). */
    advance({ step: s, num_steps: n }) {
      if (n !== horizon) docs.clear(); // the horizon is in every document's metadata
      at = s;
      horizon = n;
      for (const key of docs.keys()) if (key.includes("@") && !key.endsWith(`@${at}/${horizon}`)) docs.delete(key);
      for (const key of graphs.keys()) if (key !== at) graphs.delete(key);
    },
    keep(manifest) {
      const wanted = new Set(manifest.checkpoints.map((c) => `checkpoints/step-${String(c).padStart(4, "0")}.json/${horizon}`));
      for (const key of docs.keys()) if (!key.includes("@") && !wanted.has(key)) docs.delete(key);
      for (const key of traces.keys()) if (!manifest.checkpoints.includes(Number(key.split("/")[0]))) traces.delete(key);
    },
  };
}

/** A scene's document from a source. The sampling scene draws fresh names from the reader's run instead of
 *  asking for its inference.json (samples at three temperatures: seconds of work in the worker). */
function document_(from, entry) {
  if (from.live && entry.fig.dataset.scene === "sampling") return Promise.resolve(null);
  return from.fetchJSON(from.snapshotUrl(entry).href);
}

/** Every scene on the chosen run: rebuilt once (its WebGL context too), then updated step by step. */
function useSource(next) {
  if (next === source) return;
  if (!source.live) recordedStep = step;
  source = next;
  for (const e of entries) {
    stop(e);
    e.starting = null;
  }
  if (control) {
    control.pause();
    setMax(source.live ? run.status.step : recordedMax);
    showStep(source.live ? run.status.step : recordedStep);
  }
  showSwitch();
  for (const e of entries) if (e.visible && e.fig.dataset.state !== "fallback") start(e);
}

function makeSwitch() {
  const box = document.createElement("div");
  box.className = "mg-source";
  box.setAttribute("role", "radiogroup");
  box.setAttribute("aria-label", "Run shown by the scenes on this page");
  box.hidden = true;
  box.append(Object.assign(document.createElement("span"), { textContent: "Show" }));
  const radios = {};
  for (const [value, text] of [["recorded", "the recorded run"], ["live", "your run"]]) {
    const label = document.createElement("label");
    const input = Object.assign(document.createElement("input"), { type: "radio", name: "mg-source", value });
    const span = Object.assign(document.createElement("span"), { textContent: text });
    label.append(input, " ", span);
    box.append(label);
    radios[value] = { input, span };
    input.addEventListener("change", () => {
      if (!input.checked) return;
      try { sessionStorage.setItem(SOURCE_KEY, value); } catch { /* the choice lasts for this page only */ }
      useSource(value === "live" && run?.exists ? liveSource() : recorded);
    });
  }
  if (control) control.bar.append(box);
  else {
    const bar = document.createElement("div");
    bar.className = "mg-step mg-source-bar";
    bar.append(box);
    entries[0].fig.before(bar);
  }
  return { box, radios };
}

/** Each caption names the run its scene draws: the recorded one, or the reader's with its steps. */
function showSource() {
  for (const e of entries) {
    const el = e.fig.querySelector("[data-caption-source]");
    if (!el) continue;
    el.dataset.recorded ??= el.textContent;
    el.textContent = source.live
      ? `Drawn from your run, trained ${run.status.step} of ${run.status.num_steps} steps.`
      : el.dataset.recorded;
  }
}

function showSwitch() {
  showSource();
  if (!switcher) return;
  const exists = Boolean(run?.exists);
  switcher.box.hidden = !exists;
  switcher.box.closest(".mg-source-bar")?.toggleAttribute("hidden", !exists);
  switcher.box.dataset.sceneSource = source.live ? "live" : "recorded";
  switcher.radios[source.live ? "live" : "recorded"].input.checked = true;
  if (exists) switcher.radios.live.span.textContent = `your run (step ${run.status.step})`;
}

async function watchRun() {
  const onLivePage = Boolean(document.querySelector(".mg-live"));
  if (!onLivePage && !(await import("../live/store.js")).hasSaved()) return; // no run to show: nothing more loads
  const { liveRun } = await import("../live/run.js");
  run = liveRun();
  switcher = makeSwitch();
  const choose = () => {
    let choice = null;
    try { choice = sessionStorage.getItem(SOURCE_KEY); } catch { /* no storage: show the reader's run */ }
    useSource(choice === "recorded" ? recorded : liveSource());
  };
  run.addEventListener("started", choose);
  run.addEventListener("restored", choose);
  run.addEventListener("reset", () => { useSource(recorded); showSwitch(); });
  run.addEventListener("step", onLiveStep);
  run.addEventListener("state", () => { for (const e of entries) showWait(e); });
  if (run.exists) choose();
}

/** After each step of the reader's run: ask the worker, at once, for every document the visible scenes need
 *  (so it answers before the run's next step), then update each scene in place and time it (performance
 *  measures "mg-live-scene <name>", from the step's arrival to the frame that shows it). */
function onLiveStep() {
  showSwitch();
  for (const e of entries) showWait(e);
  if (!source.live || !run.exists) return;
  const t0 = performance.now();
  const n = run.status.step;
  const following = !control || step >= control.max;
  source.advance(run.status);
  const shown = entries.filter((e) => e.live);
  const manifest = source.fetchJSON(`${LIVE_BASE}manifest.json`);
  for (const e of shown) {
    document_(source, e);
    if (following && CHECKPOINT_SCENES.includes(e.fig.dataset.scene)) {
      source.fetchJSON(`${LIVE_BASE}checkpoints/step-${String(n).padStart(4, "0")}.json`);
    }
  }
  if (shown.some((e) => e.fig.dataset.scene === "autograd")) source.stepGraph();
  const mine = ++refreshes;
  const from = source;
  manifest.then(async (m) => {
    if (mine !== refreshes || from !== source) return; // a newer step, or the other run, took over
    from.keep(m);
    setMax(n);
    if (following) showStep(n);
    await Promise.all(shown.map((e) => busy(e, refresh(e, m, n, t0))));
  }).catch((err) => console.warn(`microgpt scenes: step ${n} of your run not shown (${err?.message ?? err})`));
}

async function refresh(entry, manifest, n, t0) {
  const scene = entry.live;
  if (!scene) return;
  const data = await document_(source, entry);
  if (entry.live !== scene) return;
  await scene.update?.({ data, manifest });
  if (entry.timeAxis) await scene.setStep(step);
  await new Promise(requestAnimationFrame); // after the frame the scene asked for: it is on screen
  if (entry.live !== scene) return;
  entry.fig.dataset.liveStep = String(n);
  showWait(entry);
  performance.measure(`mg-live-scene ${entry.fig.dataset.scene}`, { start: t0, detail: { step: n } });
}

/** While the reader's run trains, a scene says which of its steps it shows: it redraws between training steps
 *  (the worker answers its documents then), so it may be a step or more behind the run. */
function showWait(entry) {
  const training = Boolean(source?.live && entry.live && run?.exists && run.state === "running");
  if (!training) {
    if (entry.wait) entry.wait.hidden = true;
    return;
  }
  if (!entry.wait) {
    entry.wait = Object.assign(document.createElement("p"), { className: "mg-scene-wait" });
    entry.wait.dataset.sceneWait = "";
    entry.stage.after(entry.wait);
  }
  const now = run.status.step;
  const chosen = entry.timeAxis && control && step < control.max; // the reader moved the step control back
  const shown = chosen ? step : Number(entry.fig.dataset.liveStep);
  entry.wait.hidden = false;
  entry.wait.textContent = `Showing step ${shown}${chosen ? " (the step control's)" : ""}; your run is training, ` +
    `now at step ${now}. This scene redraws between training steps.`;
}

init();
