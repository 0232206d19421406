// Finds the page's scene figures, starts each when it scrolls into view and disposes it when it leaves,
// keeps at most MAX_LIVE WebGL contexts, drives the time-axis scenes from one step control, and falls back
// to the static picture (drawn at build time) whenever WebGL is missing, a scene fails or its context is lost.

const MAX_LIVE = 4;
const SCENES = ["training", "embeddings", "attention", "sampling", "tokens", "forward", "autograd", "adam", "model"];
const figures = [...document.querySelectorAll("figure.mg-scene[data-scene]")];
const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;
const json = new Map();

function fetchJSON(url) {
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
}));

let step = 0;
let control = null;

function setState(entry, state) {
  entry.fig.dataset.state = state;
}

function fallback(entry, reason) {
  stop(entry);
  setState(entry, "fallback");
  if (reason) console.warn(`microgpt scene ${entry.fig.dataset.scene}: showing the static picture (${reason})`);
}

function stop(entry) {
  entry.generation += 1; // a start still loading sees this and gives up
  const scene = entry.live;
  entry.live = null;
  if (scene) {
    scene.canvas.removeEventListener("webglcontextlost", entry.onLost);
    scene.canvas.removeEventListener("webglcontextrestored", entry.onRestored);
    scene.dispose();
  }
  if (scene) entry.fig.mgScene = null;
  entry.options?.remove();
  entry.options = null;
  if (scene) setState(entry, "idle");
}

function makeRoom() {
  const live = entries.filter((e) => e.live || e.starting);
  if (live.length < MAX_LIVE) return;
  const victim = live.sort((a, b) => (a.visible - b.visible) || (a.seen - b.seen))[0];
  stop(victim);
  victim.starting = null; // its start, if still loading, will see the new generation and stop
}

async function start(entry) {
  if (entry.live || entry.starting || entry.fig.dataset.state === "fallback") return;
  const name = entry.fig.dataset.scene;
  if (!SCENES.includes(name)) return fallback(entry, `unknown scene ${name}`);
  makeRoom();
  const generation = entry.generation;
  const current = () => generation === entry.generation && entry.visible;
  entry.starting = (async () => {
    const url = entry.fig.dataset.snapshot;
    const [module, data, manifest] = await Promise.all([
      import(`./${name}.js`),
      fetchJSON(url),
      fetchJSON(new URL("manifest.json", new URL(url, location.href)).href),
    ]);
    if (!current()) return; // scrolled away, or evicted for another scene, while loading
    entry.options = document.createElement("div");
    entry.options.className = "mg-scene-options";
    entry.stage.after(entry.options);
    const scene = await module.create({
      stage: entry.stage, options: entry.options, data, manifest, reducedMotion,
      snapshotUrl: new URL(url, location.href), fetchJSON, step,
    });
    if (!current()) { // evicted while the scene was being built: free it at once
      scene.dispose();
      entry.options?.remove();
      entry.options = null;
      return;
    }
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
    scene.link((id, scroll) => lightLines(entry, id, scroll));
    entry.live = scene;
    if (litLine !== null) scene.highlight(Object.keys(entry.links).filter((id) => entry.links[id].includes(litLine)));
    entry.fig.mgScene = scene; // for the tests: its elements and three.js's memory counters
    setState(entry, "live");
    if (entry.timeAxis) scene.setStep(step);
  })()
    .catch((err) => fallback(entry, err?.message || String(err)))
    .finally(() => { entry.starting = null; });
  return entry.starting;
}

function setStep(value) {
  step = value;
  if (control) {
    control.range.value = String(step);
    control.output.value = `step ${step} / ${control.range.max}`;
  }
  for (const e of entries) {
    e.fig.dataset.step = String(step);
    if (e.live && e.timeAxis) e.live.setStep(step);
  }
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
  first.fig.before(bar);

  let timer = 0;
  const pause = () => {
    clearInterval(timer);
    timer = 0;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  };
  play.addEventListener("click", () => {
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
  return { bar, range, output, play, max };
}

// Lines <-> scene elements: the mapping comes from each figure's data-links (one JSON file in the package).
function lightLines(entry, id, scroll) {
  for (const el of document.querySelectorAll(".mg-line.mg-lit")) el.classList.remove("mg-lit");
  let first = null;
  for (const n of (id && entry.links[id]) || []) {
    const line = document.getElementById(`L${n}`);
    if (line) {
      line.classList.add("mg-lit");
      first ??= line;
    }
  }
  if (scroll && first) first.scrollIntoView({ block: "nearest", behavior: reducedMotion ? "auto" : "smooth" });
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
  if (!figures.length) return;
  if (!webglAvailable()) {
    for (const e of entries) setState(e, "fallback");
    return;
  }
  for (const e of entries) {
    e.fig.classList.add("mg-can-render");
    setState(e, "idle");
  }
  const first = entries.find((e) => e.timeAxis);
  if (first) {
    control = makeControl(first);
    setStep(control.max);
  }
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
}

init();
