// The reader's run, one per tab: driven a few steps per call in the worker, saved (store.js) after every action so it
// follows the reader from page to page, bit for bit (microgpt.live.Session.save/restore).
// The live panel and every page's run bar drive it; scenes listen to its "step" events.
import { runtime, PageError, mb } from "./runtime.js";
import * as store from "./store.js";

const STOP_GRACE_MS = 1000; // Stop lets the call in flight end this long, then ends the worker (and restores)
// Steps per call: as many as fit this long (at least one); every step's line comes back, and the run is saved after
// each call, so a reload loses at most this much training while a save's cost stays a small share of it.
const CALL_SECONDS = 0.1;

/** A model between the page's warning and its limit: the reader confirms before it is set up. */
export class ConfirmNeeded extends PageError {
  constructor(plan) {
    super({ field: "n-embd", message: plan.message });
    this.plan = plan;
  }
}

/** The page's own title (its h1 without the theme's link mark), for "restored from …". */
export function pageTitle() {
  const h1 = document.querySelector("h1")?.cloneNode(true);
  h1?.querySelector(".headerlink")?.remove();
  return h1?.textContent.trim() || document.title;
}

class LiveRun extends EventTarget {
  constructor() {
    super();
    this.rt = runtime();
    this.status = null; // {step, num_steps, vocab_size} once a run exists
    this.history = []; // [loss, learning_rate] of every step
    this.lines = [];
    this.state = "idle";
    this.phase = ""; // what the runtime is doing, with its numbers (every view's status while an action runs)
    this.pending = null; // what Stop interrupted, for Resume
    this.stopRequested = false;
    this.stopping = null; // {at, killed} while a Stop is carried out
    this.stamps = [];
    this.from = null; // {page, title} where the run restored here last changed; null: on this page
    this.current = Promise.resolve(); // actions run one after another
    this.rt.addEventListener("terminated", () => this.recover());
    // a reader may leave at any moment: the run is saved after every step, and once more when the tab is hidden
    addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") this.save(); });
  }

  get exists() { return this.status !== null; }

  get atHorizon() { return this.exists && this.status.step >= this.status.num_steps; }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  setState(state) { this.state = state; this.emit("state", state); }

  setPhase(text) { this.phase = text; this.emit("phase", text); }

  print(lines) {
    if (!lines.length) return;
    this.lines.push(...lines);
    this.emit("lines", lines);
  }

  async ensureRuntime() {
    if (this.rt.ready) return this.rt.load();
    this.setState("loading");
    this.setPhase("Downloading the Python runtime and the port…");
    return this.rt.load((loaded, total, active) => {
      this.emit("progress", { loaded, total });
      this.setPhase(active ? `Downloading the Python runtime and the port: ${mb(loaded)} of ${mb(total)} MB`
        : `Starting Python (${mb(loaded)} MB downloaded)…`);
    });
  }

  /** Restore the run this tab saved (on this page or another), if there is one. */
  restoreSaved() {
    let restored = false;
    return this.act(async () => { restored = await this.restoreWork("load"); }).then(() => restored);
  }

  async restoreWork(why) {
    const key = store.hasSaved() ? store.tabKey(false) : null;
    if (key === null || this.exists) return false;
    await this.ensureRuntime();
    this.setState("running");
    this.setPhase("Restoring your run…");
    const result = await this.rt.restore(key);
    if (result === null) { await store.forget(); return false; } // the tab's key, but no run (storage cleared)
    this.status = { step: result.step, num_steps: result.num_steps, vocab_size: result.vocab_size };
    this.history = result.history;
    this.lines = [];
    this.emit("reset");
    this.print(result.lines);
    if (result.sampling) this.pending = { sampling: true };
    this.from = result.saved && { page: result.saved.page, title: result.saved.title }; // changed there, not here
    const where = result.saved?.page === location.pathname ? "this page" : `“${result.saved?.title ?? "another page"}”`;
    result.message = why === "restart" ? `Restored your run at step ${result.step} of ${result.num_steps}.`
      : `Your run, restored from ${where}: step ${result.step} of ${result.num_steps}.`;
    this.emit("restored", result);
    this.emit("notice", result.message);
    this.emit("step", this.status);
    return true;
  }

  /** After the worker was ended (Stop): a fresh one, and the run back from its last save, scenes and all. */
  recover() {
    const had = this.exists;
    this.status = null;
    this.act(async () => {
      if (!had) {
        this.emit("notice", "Stopped before the run was set up: nothing was lost.");
        return;
      }
      const started = performance.now();
      await this.restoreWork("restart");
      performance.measure("mg-live-restore", { start: started, end: performance.now() });
    });
  }

  /** Stop what runs: at once between steps, or (a step, a set-up or a load that takes longer) by ending the
   *  worker, which restores the run from its last save. */
  stop() {
    if (this.state !== "running" && this.state !== "loading") return;
    this.stopRequested = true;
    this.stopping = { at: performance.now(), killed: 0 };
    this.setPhase("Stopping…");
    const kill = () => {
      if (!this.stopping || this.rt.pending.size === 0) return;
      this.stopping.killed = performance.now();
      performance.measure("mg-live-stop", { start: this.stopping.at, end: this.stopping.killed });
      this.rt.terminate();
    };
    clearTimeout(this.stopTimer);
    if (this.state === "loading") kill();
    else this.stopTimer = setTimeout(kill, STOP_GRACE_MS);
  }

  /** What the run's next action would cost: the settings checked against the page's limits (live.plan). */
  async plan(settings, files) {
    await this.ensureRuntime();
    return this.rt.call("live.plan", [settings, ...(files?.args ?? [])], files?.bytes);
  }

  async start(settings, files, confirmed = false) {
    await this.ensureRuntime();
    this.setState("running");
    this.setPhase("Checking the settings…");
    const args = [settings, ...(files?.args ?? [])];
    const plan = await this.rt.call("live.plan", args, files?.bytes);
    this.emit("plan", plan);
    if (plan.level === "refuse") { // the plan (its size and time) came: the error carries it
      throw Object.assign(new PageError({ field: "n-embd", message: plan.message }), { plan });
    }
    if (plan.level === "warn" && !confirmed) throw new ConfirmNeeded(plan);
    this.setPhase(`Setting up the model with ${plan.num_params.toLocaleString("en")} parameters…`);
    const result = await this.rt.call("live.start", args, files?.bytes);
    this.status = { step: result.step, num_steps: result.num_steps, vocab_size: result.vocab_size };
    this.history = [];
    this.lines = [];
    this.stamps.length = 0;
    this.emit("reset");
    this.print(result.lines);
    this.emit("started", result);
    this.emit("step", this.status);
    await this.save(); // a Stop during the first step restores the run as set up
  }

  /** Run an action made of small calls, after the one before; its end (or an error) sets the state and saves. */
  act(work) {
    const run = () => this.perform(work);
    this.current = this.current.then(run, run);
    return this.current;
  }

  async perform(work) {
    this.from = null; // every action changes the run here, but a restore, which says where it last changed
    this.stopRequested = false;
    this.emit("error", null);
    this.setState("running"); // every view shows an action under way (its phase says which), until it ends
    let error = null;
    try {
      await work();
    } catch (e) {
      error = e instanceof PageError || e.field !== undefined ? e : new PageError({ message: String(e) });
    }
    if (this.stopping) { // the action ended because of Stop: what it was doing is pending, not an error
      clearTimeout(this.stopTimer);
      const { at, killed } = this.stopping;
      this.stopping = null;
      if (killed) return; // the worker was ended: recover() restores the run next, and sets the state
      performance.measure("mg-live-stop", { start: at, end: performance.now() });
    }
    await this.save(); // before the state says the action ended: a reader may leave the page at once
    this.setPhase("");
    if (error) {
      this.emit("error", error);
      this.setState(error instanceof ConfirmNeeded ? "idle" : "error"); // a question, not a failure
    } else {
      this.setState(this.pending ? "paused" : this.exists ? "done" : "idle");
    }
  }

  async save() {
    if (!this.exists || !this.rt.loaded) return;
    try {
      const started = performance.now();
      await this.rt.save(store.tabKey(true), this.saveMeta());
      performance.measure("mg-live-save", { start: started, end: performance.now() });
    } catch (e) {
      if (this.rt.loaded) this.unsaved(e.message ?? e);
    }
  }

  /** What a save records besides the run, for the restore's message: the page where the run last changed (a
   *  page that only showed it is not where it came from). */
  saveMeta() { return { page: location.pathname, title: pageTitle(), ...this.from, step: this.status.step }; }

  unsaved(why) { this.emit("notice", `Your run is not carried to other pages: ${why}`); }

  async train(steps, thenSample) {
    this.setState("running");
    this.stamps.length = 0; // the rate is this press's: time paused or spent reading before it is not training
    let left = steps;
    this.pending = null;
    if (this.atHorizon && !thenSample) throw new PageError({ field: "steps", message: this.horizonReason() });
    const total = Math.min(this.status.step + left, this.status.num_steps);
    while (left > 0 && this.status.step < this.status.num_steps) {
      if (this.stopRequested) { this.pending = { train: left, thenSample }; return; }
      const rate = this.stepsPerSecond();
      this.setPhase(`Training: step ${this.status.step + 1} of ${total}` +
        (rate ? ` at ${rate.toFixed(rate < 1 ? 2 : 1)} steps/s` : ""));
      this.pending = { train: left, thenSample }; // if Stop has to end the worker, Resume goes on from the save
      // saved (in the same message) before it is shown: a reload or a Stop loses at most the call in flight, never a
      // step the reader saw
      const result = await this.rt.train([Math.min(left, this.status.num_steps - this.status.step), CALL_SECONDS],
        store.tabKey(true), this.saveMeta());
      this.pending = null;
      Object.assign(this.status, { step: result.step, num_steps: result.num_steps });
      const now = performance.now(); // one stamp for the call's steps, which came back together
      for (const s of result.steps) { this.history.push([s.loss, s.learning_rate]); this.stamps.push(now); }
      if (result.unsaved) this.unsaved(result.unsaved);
      this.print(result.lines);
      this.emit("step", this.status);
      left -= result.steps.length;
      if (result.error) throw new PageError({ field: "learning-rate", message: result.error });
      if (!result.steps.length) break;
    }
    if (this.status.step >= this.status.num_steps) this.emit("horizon", this.status);
    if (thenSample) await this.sample(null);
  }

  /** Why Train does nothing at the horizon, and what to do. */
  horizonReason() {
    const n = this.status.num_steps;
    return `Reached the planned horizon of ${n} steps, where the learning rate has decayed to 0: Train stops here. ` +
      `Extend the horizon to ${2 * n} steps to train further (the rate then decays towards the new end).`;
  }

  async sample(temperature) {
    this.setState("running");
    this.setPhase("Sampling names…");
    const head = temperature === null ? await this.rt.call("live.start_sampling")
      : await this.rt.call("live.generate", [temperature]);
    this.print(head.lines);
    await this.drawNames();
  }

  async drawNames() {
    this.pending = null;
    for (let drawn = 1; ; drawn++) {
      if (this.stopRequested) { this.pending = { sampling: true }; return; }
      this.setPhase(`Sampling: name ${drawn}`);
      const result = await this.rt.call("live.sample_next");
      this.print(result.lines);
      if (result.done) break;
    }
  }

  resume() {
    const what = this.pending;
    this.pending = null;
    if (!what) return Promise.resolve();
    return what.sampling ? this.drawNames() : this.train(what.train, what.thenSample);
  }

  async extend() {
    this.setPhase("Extending the horizon…");
    Object.assign(this.status, await this.rt.call("live.extend", [2 * this.status.num_steps]));
    this.emit("step", this.status);
  }

  async reset() {
    if (this.rt.loaded) await this.rt.call("live.reset");
    try { await store.forget(); } catch { /* nothing was stored */ }
    this.status = null; this.history = []; this.lines = []; this.pending = null; this.stamps.length = 0;
    this.emit("reset");
  }

  /** Over the last 20 steps of this press: the steps trained since the first of their calls came back, over the
   *  time since (the steps of one call share its stamp); null until two calls have come back. */
  stepsPerSecond() {
    const recent = this.stamps.slice(-20);
    const seconds = (recent[recent.length - 1] - recent[0]) / 1000; // NaN without steps, 0 within one call
    return seconds > 0 ? recent.filter((t) => t > recent[0]).length / seconds : null;
  }
}

let shared = null;
export function liveRun() {
  shared ??= new LiveRun();
  return shared;
}
