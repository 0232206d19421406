// The live page: the form, the buttons and the transcript, driving microgpt.live in the worker a step per call.
// What to do is decided in Python (microgpt/live.py); this file only asks and shows.
import { runtime } from "./runtime.js";
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
  const rt = runtime();

  let session = null; // {num_steps, step, vocab_size} once a run is set up
  let history = []; // {step, loss, learning_rate} of every step trained
  let pending = null; // what Pause interrupted: {train: n, thenSample: bool} or {sampling: true}
  let stopRequested = false;
  let upload_ = null; // {name, bytes} of an uploaded file that is not valid UTF-8 (Python says why)
  const stamps = []; // step completion times, for steps per second

  const buttons = Object.fromEntries([...panel.querySelectorAll("button[data-action]")]
    .map((b) => [b.dataset.action + (b.dataset.steps ?? ""), b]));

  function setState(state) {
    panel.dataset.liveState = state;
    const busy = state === "loading" || state === "running";
    for (const [key, button] of Object.entries(buttons)) {
      if (key === "pause") button.disabled = state !== "running";
      else if (key === "resume") button.disabled = !(state === "paused" && pending);
      else if (key === "reset") button.disabled = busy || session === null;
      else if (key === "extend") button.disabled = busy;
      else button.disabled = busy;
    }
    for (const field of form.querySelectorAll(".mg-live-settings input, .mg-live-docs textarea, .mg-live-docs input")) {
      field.readOnly = session !== null || busy; // settings belong to the run: Reset to change them
      if (field.type === "file") field.disabled = session !== null || busy;
    }
  }

  function print(lines) {
    if (!lines.length) return;
    transcript.append(document.createTextNode(lines.map((l) => l + "\n").join("")));
    transcript.scrollTop = transcript.scrollHeight;
    markPrinter(lines[lines.length - 1]);
  }

  function markPrinter(line) {
    const which = line.startsWith("step ") ? 3 : line.startsWith("sample ") ? 5 : line.startsWith("--- inference") ||
      line === "" ? 4 : line.startsWith("num params") ? 2 : line.startsWith("vocab size") ? 1 : 0;
    panel.querySelectorAll(".mg-live-lines li").forEach((li, i) => li.classList.toggle("mg-live-now", i === which));
  }

  function say(text) { status.textContent = text; }

  function showError(error) {
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    if (!error) { errorBox.hidden = true; errorBox.textContent = ""; return; }
    const field = error.field && form.elements[error.field];
    if (field && field.setAttribute) {
      field.setAttribute("aria-invalid", "true");
      errorBox.textContent = `${labelOf(error.field)}: ${error.message}`;
    } else {
      errorBox.textContent = error.message;
    }
    errorBox.hidden = false;
  }

  function labelOf(field) {
    return field === "documents" ? "Documents" : field === "generate-temperature" ? "Temperature" : `--${field}`;
  }

  async function ensureRuntime() {
    if (rt.loaded) { await rt.load(); return; }
    setState("loading");
    progress.hidden = false;
    say("Downloading the Python runtime and the port…");
    await rt.load((loaded, total) => {
      progress.max = total;
      progress.value = loaded;
      say(`Downloading the Python runtime and the port: ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`);
    });
    progress.hidden = true;
  }

  function settings() {
    const values = {};
    for (const input of form.querySelectorAll(".mg-live-settings input")) values[input.name] = input.value;
    return values;
  }

  async function ensureSession() {
    if (session) return;
    await ensureRuntime();
    setState("running");
    say("Setting up: shuffling the documents and drawing the parameters…");
    const text = form.elements.documents.value;
    let args = [settings()], files;
    if (upload_) {
      files = { "/data/upload": upload_.bytes };
      args = [settings(), "/data/upload", upload_.name];
    } else if (text !== "") {
      files = { "/data/documents": new TextEncoder().encode(text).buffer };
      args = [settings(), "/data/documents", "documents"];
    }
    const result = await rt.call("live.start", args, files);
    session = result;
    history = [];
    transcript.textContent = "";
    print(result.lines);
    docsInfo.textContent = `${result.num_docs.toLocaleString("en")} documents, ${result.vocab_size} tokens; ` +
      `the first after the shuffle: ${result.preview.join(", ")}`;
    draw();
  }

  function draw() {
    if (session) drawCurves(curves, history, session.num_steps, session.vocab_size);
  }

  let frame = 0;
  function drawSoon() {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); });
  }

  function showRate() {
    const recent = stamps.slice(-20);
    if (recent.length < 2) return;
    const perSecond = (recent.length - 1) / ((recent[recent.length - 1] - recent[0]) / 1000);
    rate.textContent = `${perSecond.toFixed(1)} steps per second`;
  }

  function showHorizon() {
    const at = session && session.step >= session.num_steps;
    horizon.hidden = !at;
    if (at) {
      $('[data-live="horizon-text"]').textContent = `Reached the planned horizon of ${session.num_steps} steps, ` +
        "where the learning rate has decayed to 0: training further would need a negative rate. " +
        `Extend the horizon to ${2 * session.num_steps} steps to keep training (the rate decays towards the new end).`;
    }
  }

  // One action at a time, each made of small calls so Pause can stop between them.
  async function act(work) {
    showError(null);
    stopRequested = false;
    try {
      await work();
      setState(pending ? "paused" : session ? "done" : "idle");
    } catch (e) {
      showError(e);
      if (!e.step) say(e.field ? "Nothing ran: fix the setting and try again." : "The run stopped with an error.");
      setState("error");
    }
  }

  async function train(steps, thenSample) {
    await ensureSession();
    setState("running");
    let left = steps;
    pending = null;
    while (left > 0 && session.step < session.num_steps) {
      if (stopRequested) { pending = { train: left, thenSample }; say(`Paused at step ${session.step}.`); return; }
      const result = await rt.call("live.train", [1]);
      Object.assign(session, { step: result.step, num_steps: result.num_steps });
      for (const s of result.steps) { history.push(s); stamps.push(performance.now()); }
      print(result.lines);
      drawSoon();
      showRate();
      say(`Step ${session.step} of ${session.num_steps}.`);
      left -= result.steps.length;
      if (result.error) { say(result.error); throw { field: "learning-rate", message: result.error, step: true }; }
      if (!result.steps.length) break;
    }
    showHorizon();
    if (thenSample) await sample(null);
    else if (session.step >= session.num_steps) say(`Trained ${session.step} steps: the planned horizon.`);
  }

  async function sample(temperatureValue) {
    await ensureSession();
    setState("running");
    const head = temperatureValue === null ? await rt.call("live.start_sampling")
      : await rt.call("live.generate", [temperatureValue]);
    print(head.lines);
    await drawNames();
  }

  async function drawNames() {
    pending = null;
    for (;;) {
      if (stopRequested) { pending = { sampling: true }; say("Paused while generating."); return; }
      const result = await rt.call("live.sample_next");
      print(result.lines);
      if (result.done) break;
    }
    say(`Generated at step ${session.step}.`);
  }

  async function resume() {
    const what = pending;
    pending = null;
    if (!what) return;
    if (what.sampling) await drawNames();
    else await train(what.train, what.thenSample);
  }

  panel.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    const action = button.dataset.action;
    if (action === "pause") { stopRequested = true; return; }
    if (action === "run") act(() => train(Infinity, true));
    else if (action === "train") act(() => train(Number(button.dataset.steps), false));
    else if (action === "resume") act(resume);
    else if (action === "generate") act(() => sample(temperature.value));
    else if (action === "extend") act(async () => {
      Object.assign(session, await rt.call("live.extend", [2 * session.num_steps]));
      showHorizon();
      draw();
      say(`The horizon is now ${session.num_steps} steps.`);
    });
    else if (action === "reset") act(async () => {
      if (rt.loaded) await rt.call("live.reset");
      session = null; history = []; pending = null; stamps.length = 0;
      transcript.textContent = ""; rate.textContent = ""; docsInfo.textContent = "";
      horizon.hidden = true;
      curves.replaceChildren();
      say("Reset: the run is forgotten. Change the settings and run again.");
      setState("idle");
    });
  });
  panel.addEventListener("submit", (event) => event.preventDefault());
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
    upload_ = null;
    if (!file) return;
    const bytes = await file.arrayBuffer();
    try {
      form.elements.documents.value = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      docsInfo.textContent = `${file.name}: ${bytes.byteLength.toLocaleString("en")} bytes, in the box above.`;
    } catch {
      upload_ = { name: file.name, bytes }; // not UTF-8: Python's parser says where, as the CLI does
      docsInfo.textContent = `${file.name}: ${bytes.byteLength.toLocaleString("en")} bytes.`;
    }
  });
  form.elements.documents.addEventListener("input", () => { upload_ = null; });
  setState("idle");
}
