// The live page: the form, the buttons and the transcript, showing the reader's run (run.js) as it trains.
// What to do is decided in Python (microgpt/live.py); this file only asks and shows.
import { liveRun, ConfirmNeeded } from "./run.js";
import { mb } from "./runtime.js";
import { drawCurves } from "./curves.js";

const panel = document.querySelector(".mg-live");
if (panel) setUp(panel);

const SPEED_KEY = "microgpt-live-seconds-per-node"; // the reader's measured speed, for the next estimate

function setUp(panel) {
  const $ = (selector) => panel.querySelector(selector);
  const form = $(".mg-live-form");
  const transcript = $('[data-live="transcript"]');
  const status = $('[data-live="status"]');
  const estimate = $('[data-live="estimate"]');
  const progress = $('[data-live="progress"]');
  const errorBox = $('[data-live="error"]');
  const confirmBox = $('[data-live="confirm"]');
  const horizon = $('[data-live="horizon"]');
  const locked = $('[data-live="locked"]');
  const rate = $('[data-live="rate"]');
  const docsInfo = $('[data-live="documents-info"]');
  const startWhy = $('[data-live="start-why"]');
  const controlsWhy = $('[data-live="controls-why"]');
  const noRunYet = controlsWhy.textContent; // the page's words for Resume and Reset before any run
  const curves = $('[data-live="curves"]');
  const more = $(".mg-live-more");
  const range = $("#mg-live-generate-range");
  const temperature = $("#mg-live-generate-temperature");
  const upload = form.elements.upload;
  const stopButton = $('button[data-action="stop"]');
  const resumeButton = $('button[data-action="resume"]');
  const resumeHome = resumeButton.nextElementSibling; // Resume's place among the training controls
  const leaving = $('[data-live="leaving"]'); // what leaving the page does to a run: said while it trains
  let stoppedAway = false; // Stop was pressed away from Resume: Resume takes its place, where the reader looks
  const errorHome = document.createComment("the error box's place when no field is named");
  errorBox.before(errorHome);
  const run = liveRun();
  let uploaded = null; // {name, bytes} of an uploaded file that is not valid UTF-8 (Python says why)
  let confirmed = null; // the action to repeat once the reader confirms a large model
  let plan = null; // live.plan of the settings the current run was started with

  const buttons = [...panel.querySelectorAll("button[data-action]")];
  const trainButtons = buttons.filter((b) => b.dataset.action === "train");

  let notice = null; // a message of the action that just ended (a restore's), kept over the plain step count

  /** Much of the panel sits above its buttons and changes while an action runs: the status, the progress bar, the
   *  documents' lines (a second after Run), the horizon, the settings' lock. Each change goes through here, and the
   *  page scrolls by what it added or took away above the row of the button pressed (the training row when none
   *  is), so that row stays where the reader aims: Stop, which appears beside the button pressed, or Train next;
   *  and what the reader reads below it stays too. A reader above the row, which is below the window, reads on. */
  const buttonsRow = $('button[data-action="run"]').parentElement;
  let pressedRow = null;
  function steady(change) {
    const row = pressedRow ?? buttonsRow;
    const before = row.getBoundingClientRect().top;
    change();
    const moved = row.getBoundingClientRect().top - before;
    if (moved && before < innerHeight) window.scrollBy({ top: moved, behavior: "instant" });
  }

  function showState(state) {
    steady(() => showStateNow(state));
    if (state !== "loading" && state !== "running") pressedRow = null;
  }

  function showStateNow(state) {
    panel.dataset.liveState = state;
    const busy = state === "loading" || state === "running";
    if (busy) notice = null;
    for (const button of buttons) {
      const action = button.dataset.action;
      if (action === "stop") continue;
      if (action === "resume") button.disabled = busy || !canResume();
      else if (action === "reset") button.disabled = busy || !run.exists;
      else if (action === "preset") button.disabled = busy || run.exists;
      else button.disabled = busy;
    }
    // Once an action ends, Stop keeps its place as an empty space until the next press moves it: a press aimed at
    // it a moment too late lands on nothing, not on the button that would otherwise slide under it
    if (busy) stopButton.hidden = false;
    stopButton.classList.toggle("mg-live-spent", !busy);
    leaving.hidden = !busy;
    if (state === "paused" && stoppedAway && canResume()) stopButton.before(resumeButton);
    else if (state !== "paused" && !busy) resumeHome.before(resumeButton);
    if (!busy) stoppedAway = false;
    for (const field of form.querySelectorAll(".mg-live-settings input, .mg-live-docs textarea")) {
      field.readOnly = run.exists || busy; // settings belong to the run: Reset to change them
    }
    upload.disabled = run.exists || busy;
    locked.hidden = !run.exists;
    form.elements.engine.disabled = run.exists || busy; // a select cannot be read-only
    progress.hidden = state !== "loading";
    showHorizon();
    if (state === "paused") say((notice ? `${notice} ` : "") + (run.pending?.sampling
      ? "Stopped while generating: Resume draws the rest." : notice ? "Resume goes on."
        : `Stopped at step ${run.status.step} of ${run.status.num_steps}: Resume goes on.`));
    if (state === "done") say(notice ?? (run.atHorizon ? `Trained ${run.status.step} steps: the planned horizon.`
      : `Step ${run.status.step} of ${run.status.num_steps}.`));
    if (state === "idle" && notice) say(notice);
  }

  /** Resume goes on with what Stop interrupted, or, after a reload or a restore, trains on to the horizon. */
  function canResume() {
    return Boolean(run.pending) || (run.exists && !run.atHorizon);
  }

  /** Every disabled control says why: aria-describedby names a visible sentence (the status while an action runs,
   *  the horizon's reason, the run that exists, or that there is none yet). */
  function explain(busy) {
    const s = run.status;
    startWhy.hidden = !run.exists;
    if (run.exists) {
      startWhy.textContent = `Your run has trained ${s.step} of its ${s.num_steps} steps. The presets start a new ` +
        `run: press Reset first to forget this one. ${run.atHorizon ? "To train this one further, press Extend the " +
          "horizon: it adds steps (the learning rate falls to zero at the last step, so a longer run needs a new " +
          "plan)." : "Resume trains it on to its last step; Train adds 1, 10 or 100 steps."}`;
    }
    controlsWhy.hidden = run.exists;
    controlsWhy.textContent = noRunYet;
    for (const button of buttons) {
      const action = button.dataset.action;
      if (action === "stop" || action === "confirm") continue;
      const why = !button.disabled ? null : busy ? status.id
        : action === "preset" && run.exists ? startWhy.id
          : (action === "train" || action === "resume") && run.atHorizon ? "mg-live-horizon-text"
            : !run.exists && (action === "resume" || action === "reset") ? controlsWhy.id : null;
      if (why) button.setAttribute("aria-describedby", why);
      else button.removeAttribute("aria-describedby");
    }
  }

  /** The status. It never shrinks until the reader's next press (or a resize), so the buttons below it hold still
   *  while the reader aims: its messages change as the runtime loads, as a check answers, as an action ends, and at
   *  a phone's width take one to three lines (a press aimed at Train landed elsewhere as one changed under it). */
  function say(text) {
    steady(() => {
      status.textContent = text;
      const least = Math.max(status.getBoundingClientRect().height, parseFloat(status.style.minHeight) || 0);
      status.style.minHeight = `${least}px`;
    });
  }
  const unpin = () => { status.style.minHeight = ""; }; // a press (the page may move now), or a new width
  addEventListener("resize", unpin);

  let shownField = null; // the field the error box names, if it names one
  const FIX_IT = "Nothing ran: fix the setting and try again.";
  const LOADED = "Python is loaded: it checks each setting as you leave its field.";

  /** The error of an action (or the check of a field the reader left, `leaving`: shown beside it the same way,
   *  without moving the page or the status). */
  function showError(error, leaving = false) {
    if (error?.field && !leaving && !(error instanceof ConfirmNeeded)) showErrorNow(error, leaving); // to its field
    else steady(() => showErrorNow(error, leaving));
  }

  function showErrorNow(error, leaving) {
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    confirmBox.hidden = true;
    shownField = null;
    if (!error) {
      errorBox.hidden = true;
      errorBox.textContent = "";
      if (status.textContent === FIX_IT) say(LOADED); // fixed: the status no longer asks for it
      return;
    }
    if (error instanceof ConfirmNeeded) {
      $('[data-live="confirm-text"]').textContent = `${labelOf(error.field)}: ${error.message}. Train it anyway?`;
      confirmBox.hidden = false;
      say("Waiting for you to confirm the model's size.");
      return;
    }
    const field = error.field && (form.elements[error.field] ?? panel.querySelector(`#mg-live-${error.field}`));
    if (PLANNED.has(error.field) && !run.exists && !error.plan) estimateFound(error); // a plan shows its own
    if (field && field.setAttribute) {
      field.setAttribute("aria-invalid", "true");
      if (field.closest(".mg-live-more")) more.open = true;
      // the message goes beside its field, which may be far from the button pressed; the field comes into view
      (field.closest(".mg-live-field, .mg-live-controls") ?? field.parentElement).append(errorBox);
      if (!leaving) field.scrollIntoView({ block: "center", behavior: "instant" });
      shownField = error.field;
    } else errorHome.after(errorBox);
    errorBox.textContent = field ? `${labelOf(error.field)}: ${error.message}` : error.message;
    errorBox.hidden = false;
    if (leaving) return;
    say(error.field === "learning-rate" && error.message.startsWith("Training stopped") ? error.message
      : error.field === "steps" ? error.message
        : field ? FIX_IT : "The run stopped with an error.");
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

  async function ensureRun(yes) {
    if (!run.exists) await run.start(settings(), documents(), yes);
  }

  // --- the estimate: parameters and time, from the reader's measured speed where known, else the benchmark ---

  function measuredSpeed(engine) { // per engine: one engine's speed says nothing of the other's
    try { return Number(localStorage.getItem(`${SPEED_KEY}-${engine}`)) || null; } catch { return null; }
  }

  const duration = (seconds) => seconds < 90 ? `${Math.max(1, Math.round(seconds))} s`
    : seconds < 5400 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`;

  function showEstimate(p) {
    const perNode = measuredSpeed(p.engine);
    const perStep = perNode ? perNode * p.mean_nodes : p.browser_seconds_per_step;
    const where = perNode ? "at your browser's measured speed" : `in a browser on the benchmark's machine (headless Chromium, the ${p.engine} engine)`;
    steady(() => {
      estimate.textContent = `${p.num_params.toLocaleString("en")} parameters; about ${Math.round(perStep * 1000)} ms a step ${where}: ` +
        `${p.num_steps.toLocaleString("en")} steps in about ${duration(p.num_steps * perStep)}.` +
        (p.level === "ok" ? "" : ` ${p.level === "refuse" ? "Too large for this page" : "Large"}: ${p.message}.`);
    });
  }

  /** Before the runtime loads: the default model's plan the page was built with (data-estimate: the benchmark's
   *  figures, from live.plan), for the engine and --steps in the form; the reader's measured speed where known.
   *  A changed model or documents: the default's figures, said to be the default's, until Python checks the new. */
  const shipped = JSON.parse(estimate.dataset.estimate);
  function estimateBeforeLoad() {
    steady(estimateBeforeLoadNow);
  }

  function estimateBeforeLoadNow() {
    const values = settings();
    const base = shipped.engines[values.engine] ?? Object.values(shipped.engines)[0];
    const steps = Number(values.steps.trim());
    if (!Number.isInteger(steps) || steps < 1) {
      estimate.textContent = "--steps: Python checks it, and the model's size and time, once you leave the field.";
      return;
    }
    const reshaped = shipped.shape.filter((name) => form.elements[name].value.trim() !== form.elements[name].dataset.default);
    showEstimate({ ...base, num_steps: steps });
    if (reshaped.length || documents()) {
      estimate.textContent = `The original's model on names.txt: ${estimate.textContent} ` +
        `${[...reshaped.map((n) => `--${n}`), ...(documents() ? ["the documents"] : [])].join(", ")} changed: ` +
        "Python checks that model's size and time once you leave the field.";
    }
  }

  /** What Python found wrong in the settings, in place of the model's size and time it cannot give until fixed. */
  function estimateFound(error) {
    steady(() => {
      estimate.textContent = `${labelOf(error.field)}: ${error.message.replace(/\.$/, "")}. Fix it, and Python gives the ` +
        "model's size and time.";
    });
  }

  /** The runtime, loaded in the background for the checks: no button waits for it (a Run pressed meanwhile waits
   *  for the same load, and shows it as its own); its progress is said in the status while no action speaks. */
  function loadToCheck() {
    const quiet = () => !acting();
    run.rt.load((loaded, total, active) => whenReleased(() => {
      if (!quiet() || run.rt.ready) return; // words only: a progress bar appearing now would move the buttons
      say(active ? `Downloading the Python runtime and the port: ${mb(loaded)} of ${mb(total)} MB, to check your ` +
        "settings (Run needs it too)…" : `Starting Python (${mb(loaded)} MB downloaded)…`);
    })).then(() => whenReleased(() => {
      if (!quiet()) return;
      say(LOADED);
      replan(true);
      checkTemperature(true);
    }), (error) => whenReleased(() => {
      if (!quiet()) return;
      showError(error, true);
      say("Python could not load here: nothing can run.");
    }));
  }

  // A field's check may answer while the reader presses a button (leaving the field is the press's first half): a
  // message or a progress bar shown then would move the button from under the pointer, and the press would be
  // lost. What the checks show waits for the press to end.
  let pressing = 0; // the timer that ends a press whose release never came (the pointer left the window)
  const held = [];
  function released() {
    if (!pressing) return;
    clearTimeout(pressing);
    pressing = 0;
    setTimeout(() => { for (const show of held.splice(0)) show(); }); // after the click the release makes
  }
  addEventListener("mousedown", () => { clearTimeout(pressing); pressing = setTimeout(released, 2000); }, true);
  addEventListener("mouseup", released, true);
  function whenReleased(show) {
    if (pressing) held.push(show);
    else show();
  }

  let planning = 0;
  const acting = () => run.exists || run.state === "running" || run.state === "loading"; // an action speaks now
  const PLANNED = new Set([...form.querySelectorAll(".mg-live-settings [name], .mg-live-docs [name]")]
    .map((field) => field.name)); // the fields live.plan checks (the Generate temperature has its own check)
  /** Python's check of the settings and documents (live.plan, as Run does) after each edit: a field the reader
   *  leaves (`leaving`) gets its message beside it; an edit clears a message its field no longer earns. Before
   *  the runtime has loaded, the first field the reader leaves loads it (the Run needs it anyway). */
  async function replan(leaving = false) {
    if (run.exists) return;
    if (!run.rt.ready) {
      whenReleased(estimateBeforeLoad);
      if (leaving && !run.rt.loaded) loadToCheck();
      return;
    }
    const mine = ++planning;
    try {
      const p = await run.rt.call("live.plan", [settings(), ...(documents()?.args ?? [])], documents()?.bytes);
      whenReleased(() => {
        if (mine !== planning || acting()) return;
        showEstimate(p);
        showReport(p.dataset_report);
        if (PLANNED.has(shownField)) showError(null);
      });
    } catch (e) {
      whenReleased(() => {
        if (mine !== planning || acting() || !e.field) return;
        estimateFound(e);
        if (leaving || e.field === shownField) showError(e, true); // typing keeps the message of its own field
        else if (PLANNED.has(shownField)) showError(null); // fixed here, wrong elsewhere: said when that is left
      });
    }
  }

  /** Generate's temperature, checked by Python as Generate checks it (live.check_temperature) when the reader
   *  leaves the field (`leaving`), and again as they fix it; a run may exist (Generate samples from it). */
  async function checkTemperature(leaving) {
    if (!run.rt.ready) {
      if (leaving && !run.rt.loaded) loadToCheck();
      return;
    }
    const busy = () => run.state === "running" || run.state === "loading";
    try {
      await run.rt.call("live.check_temperature", [temperature.value]);
      whenReleased(() => { if (!busy() && shownField === "generate-temperature") showError(null); });
    } catch (e) {
      whenReleased(() => { if (!busy() && e.field && (leaving || e.field === shownField)) showError(e, true); });
    }
  }

  function rememberSpeed() {
    const perSecond = run.stepsPerSecond();
    if (!perSecond || !plan) return;
    try { localStorage.setItem(`${SPEED_KEY}-${plan.engine}`, String(1 / perSecond / plan.mean_nodes)); }
    catch { /* no storage */ }
  }

  // --- drawing ---

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
    steady(showHorizonNow);
  }

  function showHorizonNow() {
    const at = run.atHorizon;
    horizon.hidden = !at;
    for (const b of trainButtons) if (at) b.disabled = true;
    if (at) $('[data-live="horizon-text"]').textContent = run.horizonReason();
    explain(run.state === "loading" || run.state === "running");
  }

  run.addEventListener("state", (e) => { showLines(); showState(e.detail); }); // an action's end shows all it printed
  run.addEventListener("phase", (e) => { if (e.detail) say(e.detail); });
  run.addEventListener("progress", ({ detail: { loaded, total } }) => {
    progress.max = total;
    progress.value = loaded;
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
    steady(() => { horizon.hidden = true; });
    curves.replaceChildren();
  });
  run.addEventListener("plan", (e) => { plan = e.detail; showEstimate(plan); showReport(plan.dataset_report); });
  /** microgpt.dataset_report, beside the documents: what they will do to the model, before and during a run. */
  function showReport(found) {
    const box = $('[data-live="dataset-report"]');
    steady(() => {
      if (!found) { box.replaceChildren(); return; }
      const head = Object.assign(document.createElement("p"), { textContent: `The documents: ${found.summary}.` });
      const notes = document.createElement("ul");
      for (const note of found.notes) notes.append(Object.assign(document.createElement("li"), { textContent: note }));
      box.replaceChildren(head, ...(found.notes.length ? [notes] : []));
    });
  }

  run.addEventListener("started", ({ detail }) => {
    showReport(detail.dataset_report);
    steady(() => { // the counts are in the report
      docsInfo.textContent = `The first after the shuffle: ${detail.preview.join(", ")}`;
    });
  });
  run.addEventListener("step", () => {
    drawSoon();
    showHorizon();
    const perSecond = run.stepsPerSecond();
    if (perSecond) rate.textContent = `${perSecond.toFixed(1)} steps per second`;
  });
  run.addEventListener("horizon", showHorizon);
  run.addEventListener("restored", ({ detail }) => {
    showReport(detail.dataset_report);
    for (const [name, value] of Object.entries(detail.form)) if (form.elements[name]) form.elements[name].value = value;
  });
  run.addEventListener("error", (e) => showError(e.detail));
  run.addEventListener("notice", (e) => { notice = e.detail; say(e.detail); });

  function markPrinter(line) {
    const which = line.startsWith("step ") ? 3 : line.startsWith("sample ") ? 5 : line.startsWith("--- inference") ||
      line === "" ? 4 : line.startsWith("num params") ? 2 : line.startsWith("vocab size") ? 1 : 0;
    panel.querySelectorAll(".mg-live-lines li").forEach((li, i) => li.classList.toggle("mg-live-now", i === which));
  }

  function perform(button, yes = false) {
    const action = button.dataset.action;
    const steps = Number(button.dataset.steps);
    let work = null;
    if (action === "run") work = async () => { await ensureRun(yes); await run.train(Infinity, true); };
    else if (action === "preset") {
      // the quick run keeps what the reader typed (Run checks it) and sets only --steps; the original's full run
      // is the original's settings, and says which of the reader's it put back
      const full = button.dataset.preset === "original";
      const changed = [];
      for (const input of form.querySelectorAll(".mg-live-settings input")) {
        const value = input.name === "steps" ? String(steps) : full ? input.dataset.default : input.value;
        if (input.name !== "steps" && input.value.trim() !== value) changed.push(`--${input.name}`);
        input.value = value;
      }
      if (changed.length) say(`The original's settings are back for ${changed.join(", ")}.`);
      work = async () => { await ensureRun(yes); await run.train(Infinity, true); };
    } else if (action === "train") work = async () => { await ensureRun(yes); await run.train(steps); };
    else if (action === "resume") work = () => (run.pending ? run.resume() : run.train(Infinity, true));
    else if (action === "generate") {
      work = async () => {
        await run.rt.call("live.check_temperature", [temperature.value]); // a bad one sets up no run
        await ensureRun(yes);
        await run.sample(temperature.value);
      };
    }
    else if (action === "extend") work = () => run.extend();
    else if (action === "reset") {
      work = async () => {
        await run.reset();
        steady(() => { docsInfo.textContent = ""; });
        say("Reset: the run is forgotten. Change the settings and run again.");
        replan();
      };
    }
    if (!work) return;
    confirmed = () => perform(button, true);
    if (action !== "reset") { // Stop sits beside the control that started the action, and says what leaving does
      button.after(stopButton);
      stopButton.parentElement.append(leaving);
    }
    pressedRow = button.parentElement;
    if (action !== "resume") resumeHome.before(resumeButton);
    run.act(work).then(rememberSpeed);
  }

  panel.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    unpin();
    if (button.dataset.action === "stop") {
      stoppedAway = stopButton.parentElement !== resumeHome.parentElement;
      run.stop();
    }
    else if (button.dataset.action === "confirm") { confirmBox.hidden = true; confirmed?.(); }
    else perform(button);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("input[type=text]")) {
      event.preventDefault();
      $(event.target === temperature ? 'button[data-action="generate"]' : 'button[data-action="run"]').click();
    }
  });
  let replanTimer = 0;
  form.addEventListener("input", (event) => {
    if (!PLANNED.has(event.target.name) || event.target === upload) return;
    clearTimeout(replanTimer);
    replanTimer = setTimeout(replan, 300);
  });
  form.addEventListener("change", (event) => { // the reader left a field (or chose an engine)
    if (event.target === temperature) { checkTemperature(true); return; }
    if (!PLANNED.has(event.target.name) || event.target === upload || event.target.readOnly) return;
    clearTimeout(replanTimer);
    replan(event.target.type !== "select-one"); // the engine is one of the page's: nothing to check before a load
  });
  let temperatureTimer = 0;
  const recheckTemperature = () => { // only to clear its message once fixed: a new one waits for the field's end
    clearTimeout(temperatureTimer);
    if (shownField === "generate-temperature") temperatureTimer = setTimeout(() => checkTemperature(false), 300);
  };
  range.addEventListener("input", () => { temperature.value = range.value; recheckTemperature(); });
  temperature.addEventListener("input", () => {
    const t = Number(temperature.value);
    if (Number.isFinite(t)) range.value = String(t);
    recheckTemperature();
  });
  upload.addEventListener("change", async () => {
    const file = upload.files[0];
    uploaded = null;
    if (!file) return;
    const bytes = await file.arrayBuffer();
    if (bytes.byteLength > Number(upload.dataset.maxBytes)) { // over the cap: never into the box (a megabyte of
      uploaded = { name: file.name, bytes }; // lines there freezes the page for seconds); Python says why, at Run
      form.elements.documents.value = "";
      docsInfo.textContent = `${file.name}: ${bytes.byteLength.toLocaleString("en")} bytes (not shown: over the cap).`;
      return replan(true);
    }
    try {
      // ignoreBOM keeps a leading byte-order mark as a character, as the original's open().read() does
      form.elements.documents.value = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
      upload.value = ""; // the text is in the box: what runs is what the box shows, not a file name beside it
      docsInfo.textContent = `${file.name}: ${bytes.byteLength.toLocaleString("en")} bytes, in the box above.`;
    } catch {
      uploaded = { name: file.name, bytes }; // not UTF-8: Python's parser says where, as the CLI does
      form.elements.documents.value = "";
      docsInfo.textContent = `${file.name}: ${bytes.byteLength.toLocaleString("en")} bytes (not shown: not UTF-8).`;
    }
    replan(true);
  });
  form.elements.documents.addEventListener("input", () => {
    if (uploaded) docsInfo.textContent = "";
    uploaded = null;
    upload.value = ""; // the pasted text runs, not the file chosen before
  });
  showState("idle");
  if (measuredSpeed(form.elements.engine.value)) estimateBeforeLoad(); // the reader's speed, from an earlier visit
  run.restoreSaved();
}
