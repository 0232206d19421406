// The live page: the form, the buttons and the transcript, showing the reader's run (run.js) as it trains.
// What to do is decided in Python (microgpt/live.py); this file only asks and shows.
import { liveRun } from "./run.js";
import { drawCurves } from "./curves.js";

const panel = document.querySelector(".mg-live");
if (panel) setUp(panel);

function setUp(panel) {
  const $ = (selector) => panel.querySelector(selector);
  const form = $(".mg-live-form");
  const transcript = $('[data-live="transcript"]');
  const status = $('[data-live="status"]');
  const progress = $('[data-live="progress"]');
  const errorBox = $('[data-live="error"]');
  const horizon = $('[data-live="horizon"]');
  const rate = $('[data-live="rate"]');
  const docsInfo = $('[data-live="documents-info"]');
  const curves = $('[data-live="curves"]');
  const range = $("#mg-live-generate-range");
  const temperature = $("#mg-live-generate-temperature");
  const upload = form.elements.upload;
  const run = liveRun();
  let uploaded = null; // {name, bytes} of an uploaded file that is not valid UTF-8 (Python says why)

  const buttons = Object.fromEntries([...panel.querySelectorAll("button[data-action]")]
    .map((b) => [b.dataset.action + (b.dataset.steps ?? ""), b]));

  function showState(state) {
    panel.dataset.liveState = state;
    const busy = state === "loading" || state === "running";
    for (const [key, button] of Object.entries(buttons)) {
      if (key === "pause") button.disabled = state !== "running";
      else if (key === "resume") button.disabled = !(state === "paused" && run.pending);
      else if (key === "reset") button.disabled = busy || !run.exists;
      else button.disabled = busy;
    }
    for (const field of form.querySelectorAll(".mg-live-settings input, .mg-live-docs textarea")) {
      field.readOnly = run.exists || busy; // settings belong to the run: Reset to change them
    }
    upload.disabled = run.exists || busy;
    form.elements.engine.disabled = run.exists || busy; // a select cannot be read-only
    progress.hidden = state !== "loading";
    if (state === "paused") say(run.pending?.sampling ? "Paused while generating." : `Paused at step ${run.status.step}.`);
    if (state === "done") say(run.status.step >= run.status.num_steps
      ? `Trained ${run.status.step} steps: the planned horizon.` : `Step ${run.status.step} of ${run.status.num_steps}.`);
  }

  function say(text) { status.textContent = text; }

  function showError(error) {
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    if (!error) { errorBox.hidden = true; errorBox.textContent = ""; return; }
    const field = error.field && form.elements[error.field];
    if (field && field.setAttribute) field.setAttribute("aria-invalid", "true");
    errorBox.textContent = field ? `${labelOf(error.field)}: ${error.message}` : error.message;
    errorBox.hidden = false;
    say(error.field === "learning-rate" && error.message.startsWith("Training stopped") ? error.message
      : field ? "Nothing ran: fix the setting and try again." : "The run stopped with an error.");
  }

  function labelOf(field) {
    return field === "documents" ? "Documents" : field === "generate-temperature" ? "Temperature" : `--${field}`;
  }

  function settings() {
    const values = {};
    for (const input of form.querySelectorAll(".mg-live-settings input, .mg-live-settings select")) {
      values[input.name] = input.value;
    }
    return values;
  }

  function documents() {
    const text = form.elements.documents.value;
    if (uploaded) return { args: ["/data/upload", uploaded.name], bytes: { "/data/upload": uploaded.bytes } };
    if (text === "") return null; // names.txt
    return { args: ["/data/documents", "documents"],
      bytes: { "/data/documents": new TextEncoder().encode(text).buffer } };
  }

  async function ensureRun() {
    if (!run.exists) await run.start(settings(), documents());
  }

  // One redraw per DRAW_EVERY_MS at most, however many steps arrived (a fast engine brings dozens a second): the
  // transcript's layout and the curves are the main thread's cost here, and both grow with the run.
  const DRAW_EVERY_MS = 100;
  let frame = 0, drawnAt = 0, unshown = ""; // lines that arrived since the last redraw
  function showLines() {
    if (unshown) transcript.append(document.createTextNode(unshown));
    unshown = "";
  }
  function drawSoon() {
    if (frame) return;
    frame = setTimeout(() => requestAnimationFrame(() => {
      frame = 0;
      drawnAt = performance.now();
      showLines();
      transcript.scrollTop = transcript.scrollHeight;
      if (run.exists) drawCurves(curves, run.history, run.status.num_steps, run.status.vocab_size);
    }), Math.max(0, drawnAt + DRAW_EVERY_MS - performance.now()));
  }

  function showHorizon() {
    const at = run.exists && run.status.step >= run.status.num_steps;
    horizon.hidden = !at;
    if (at) {
      $('[data-live="horizon-text"]').textContent = `Reached the planned horizon of ${run.status.num_steps} steps, ` +
        "where the learning rate has decayed to 0: training further would need a negative rate. " +
        `Extend the horizon to ${2 * run.status.num_steps} steps to keep training (the rate decays towards the new end).`;
    }
  }

  run.addEventListener("state", (e) => { showLines(); showState(e.detail); }); // an action's end shows all it printed
  run.addEventListener("progress", ({ detail: { loaded, total } }) => {
    progress.max = total;
    progress.value = loaded;
    say(`Downloading the Python runtime and the port: ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`);
  });
  run.addEventListener("lines", (e) => {
    unshown += e.detail.map((l) => l + "\n").join("");
    drawSoon();
    markPrinter(e.detail[e.detail.length - 1]);
  });
  run.addEventListener("reset", () => {
    transcript.textContent = "";
    unshown = "";
    rate.textContent = "";
    horizon.hidden = true;
    curves.replaceChildren();
  });
  run.addEventListener("started", ({ detail }) => {
    docsInfo.textContent = `${detail.num_docs.toLocaleString("en")} documents, ${detail.vocab_size} tokens; ` +
      `the first after the shuffle: ${detail.preview.join(", ")}`;
  });
  run.addEventListener("step", () => {
    drawSoon();
    showHorizon();
    const perSecond = run.stepsPerSecond();
    if (perSecond) rate.textContent = `${perSecond.toFixed(1)} steps per second`;
    if (run.state === "running") say(`Step ${run.status.step} of ${run.status.num_steps}.`);
  });
  run.addEventListener("horizon", showHorizon);
  run.addEventListener("restored", ({ detail }) => {
    for (const [name, value] of Object.entries(detail.form)) if (form.elements[name]) form.elements[name].value = value;
  });
  run.addEventListener("error", (e) => showError(e.detail));
  run.addEventListener("notice", (e) => say(e.detail));

  function markPrinter(line) {
    const which = line.startsWith("step ") ? 3 : line.startsWith("sample ") ? 5 : line.startsWith("--- inference") ||
      line === "" ? 4 : line.startsWith("num params") ? 2 : line.startsWith("vocab size") ? 1 : 0;
    panel.querySelectorAll(".mg-live-lines li").forEach((li, i) => li.classList.toggle("mg-live-now", i === which));
  }

  panel.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    const action = button.dataset.action;
    if (action === "pause") run.pause();
    else if (action === "run") run.act(async () => { await ensureRun(); await run.train(Infinity, true); });
    else if (action === "train") run.act(async () => { await ensureRun(); await run.train(Number(button.dataset.steps)); });
    else if (action === "resume") run.act(() => run.resume());
    else if (action === "generate") run.act(async () => { await ensureRun(); await run.sample(temperature.value); });
    else if (action === "extend") run.act(() => run.extend());
    else if (action === "reset") {
      run.act(() => run.reset()).then(() => {
        docsInfo.textContent = "";
        say("Reset: the run is forgotten. Change the settings and run again.");
      });
    }
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("input[type=text]")) {
      event.preventDefault();
      (event.target === temperature ? buttons.generate : buttons.run).click();
    }
  });
  range.addEventListener("input", () => { temperature.value = range.value; });
  temperature.addEventListener("input", () => {
    const t = Number(temperature.value);
    if (Number.isFinite(t)) range.value = String(t);
  });
  upload.addEventListener("change", async () => {
    const file = upload.files[0];
    uploaded = null;
    if (!file) return;
    const bytes = await file.arrayBuffer();
    try {
      form.elements.documents.value = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      docsInfo.textContent = `${file.name}: ${bytes.byteLength.toLocaleString("en")} bytes, in the box above.`;
    } catch {
      uploaded = { name: file.name, bytes }; // not UTF-8: Python's parser says where, as the CLI does
      docsInfo.textContent = `${file.name}: ${bytes.byteLength.toLocaleString("en")} bytes.`;
    }
  });
  form.elements.documents.addEventListener("input", () => { uploaded = null; });
  showState("idle");
  run.restoreSaved().then((restored) => {
    if (restored) say(`Your run, carried from another page: step ${run.status.step} of ${run.status.num_steps}.`);
  });
}
