// The reader's run, one per tab: driven a few steps per call in the worker, saved (store.js) after every action so it
// follows the reader from page to page, bit for bit (microgpt.live.Session.save/restore).
// The live panel and every page's run bar drive it; scenes listen to its "step" events.
import { runtime, PageError } from "./runtime.js";
import * as store from "./store.js";

const SAVE_EVERY_MS = 5000; // while training, save at most this often (and always when an action ends)
const CALL_SECONDS = 0.03; // steps per call: as many as fit this long (at least one), every step's line comes back

class LiveRun extends EventTarget {
  constructor() {
    super();
    this.rt = runtime();
    this.status = null; // {step, num_steps, vocab_size} once a run exists
    this.history = []; // [loss, learning_rate] of every step
    this.lines = [];
    this.state = "idle";
    this.pending = null; // what Pause interrupted
    this.stopRequested = false;
    this.stamps = [];
    this.savedAt = 0;
    this.rt.addEventListener("terminated", () => { // a cell's Stop ended the worker: rebuild from the last save
      if (!this.exists) return;
      this.status = null;
      this.pending = null;
      this.emit("reset");
      this.restoreSaved();
    });
  }

  get exists() { return this.status !== null; }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  setState(state) { this.state = state; this.emit("state", state); }

  print(lines) {
    if (!lines.length) return;
    this.lines.push(...lines);
    this.emit("lines", lines);
  }

  async ensureRuntime() {
    if (this.rt.loaded) return this.rt.load();
    this.setState("loading");
    return this.rt.load((loaded, total) => this.emit("progress", { loaded, total }));
  }

  /** Restore the run another page saved, if there is one. */
  async restoreSaved() {
    const key = store.hasSaved() ? store.tabKey(false) : null;
    if (key === null || this.exists) return false;
    let restored = false;
    await this.act(async () => {
      await this.ensureRuntime();
      const result = await this.rt.restore(key);
      if (result === null) { await store.forget(); return; } // the tab's key, but no run (storage cleared)
      restored = true;
      this.status = { step: result.step, num_steps: result.num_steps, vocab_size: result.vocab_size };
      this.history = result.history;
      this.lines = [];
      this.emit("reset");
      this.print(result.lines);
      if (result.sampling) this.pending = { sampling: true };
      this.emit("restored", result);
      this.emit("step", this.status);
    });
    return restored;
  }

  async start(settings, files) {
    await this.ensureRuntime();
    this.setState("running");
    const args = [settings];
    if (files) args.push(...files.args);
    const result = await this.rt.call("live.start", args, files?.bytes);
    this.status = { step: result.step, num_steps: result.num_steps, vocab_size: result.vocab_size };
    this.history = [];
    this.lines = [];
    this.emit("reset");
    this.print(result.lines);
    this.emit("started", result);
    this.emit("step", this.status);
  }

  /** Run an action made of small calls; its end (or an error) sets the state and saves the run. */
  async act(work) {
    this.stopRequested = false;
    this.emit("error", null);
    let error = null;
    try {
      await work();
    } catch (e) {
      error = e instanceof PageError || e.field !== undefined ? e : new PageError({ message: String(e) });
    }
    await this.save(); // before the state says the action ended: a reader may leave the page at once
    if (error) {
      this.emit("error", error);
      this.setState("error");
    } else {
      this.setState(this.pending ? "paused" : this.exists ? "done" : "idle");
    }
  }

  async save() {
    if (!this.exists || !this.rt.loaded) return;
    this.savedAt = performance.now();
    try {
      await this.rt.save(store.tabKey(true));
    } catch (e) {
      this.emit("notice", `Your run is not carried to other pages: ${e.message ?? e}`);
    }
  }

  async train(steps, thenSample) {
    this.setState("running");
    let left = steps;
    this.pending = null;
    while (left > 0 && this.status.step < this.status.num_steps) {
      if (this.stopRequested) { this.pending = { train: left, thenSample }; return; }
      const result = await this.rt.call("live.train", [Math.min(left, this.status.num_steps - this.status.step),
        CALL_SECONDS]);
      Object.assign(this.status, { step: result.step, num_steps: result.num_steps });
      for (const s of result.steps) { this.history.push([s.loss, s.learning_rate]); this.stamps.push(performance.now()); }
      this.print(result.lines);
      this.emit("step", this.status);
      left -= result.steps.length;
      if (result.error) throw new PageError({ field: "learning-rate", message: result.error });
      if (!result.steps.length) break;
      if (performance.now() - this.savedAt > SAVE_EVERY_MS) await this.save();
    }
    if (this.status.step >= this.status.num_steps) this.emit("horizon", this.status);
    if (thenSample) await this.sample(null);
  }

  async sample(temperature) {
    this.setState("running");
    const head = temperature === null ? await this.rt.call("live.start_sampling")
      : await this.rt.call("live.generate", [temperature]);
    this.print(head.lines);
    await this.drawNames();
  }

  async drawNames() {
    this.pending = null;
    for (;;) {
      if (this.stopRequested) { this.pending = { sampling: true }; return; }
      const result = await this.rt.call("live.sample_next");
      this.print(result.lines);
      if (result.done) break;
    }
  }

  pause() { this.stopRequested = true; }

  resume() {
    const what = this.pending;
    this.pending = null;
    if (!what) return Promise.resolve();
    return what.sampling ? this.drawNames() : this.train(what.train, what.thenSample);
  }

  async extend() {
    Object.assign(this.status, await this.rt.call("live.extend", [2 * this.status.num_steps]));
    this.emit("step", this.status);
  }

  async reset() {
    if (this.rt.loaded) await this.rt.call("live.reset");
    try { await store.forget(); } catch { /* nothing was stored */ }
    this.status = null; this.history = []; this.lines = []; this.pending = null; this.stamps.length = 0;
    this.emit("reset");
  }

  stepsPerSecond() {
    const recent = this.stamps.slice(-20);
    return recent.length < 2 ? null : (recent.length - 1) / ((recent[recent.length - 1] - recent[0]) / 1000);
  }
}

let shared = null;
export function liveRun() {
  shared ??= new LiveRun();
  return shared;
}
