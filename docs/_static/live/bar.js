// On every page but the live one: if the reader has a run (saved in this tab), a bar that shows it and trains
// it further here, so the run follows the reader from page to page. Nothing loads unless a run exists.
import { hasSaved } from "./store.js";

if (!document.querySelector(".mg-live") && hasSaved()) setUp();

/** Where the bar goes: at the top of the article's own content, inside the page's layout (never above the
 *  theme's header). */
function place(bar) {
  const article = document.querySelector("article[role=main]") ?? document.querySelector("main") ?? document.body;
  const first = article.querySelector(":scope > section, :scope > h1, :scope > div.section") ?? article.firstChild;
  const heading = first?.matches?.("section, div.section") ? first.querySelector(":scope > h1") : null;
  if (heading) heading.after(bar); // below the page's title, like a note
  else article.prepend(bar);
}

async function setUp() {
  const { liveRun } = await import("./run.js"); // only a reader with a run loads more than this file and store.js
  const run = liveRun();
  const bar = document.createElement("aside");
  bar.className = "mg-live-bar";
  bar.setAttribute("aria-label", "Your run");
  bar.dataset.liveState = "loading";
  const live = document.querySelector("script[data-live-page]")?.dataset.livePage ?? "";
  const style = Object.assign(document.createElement("link"), { rel: "stylesheet", href: new URL("live.css", import.meta.url) });
  document.head.append(style);
  // every message the status shows names the run itself ("Your run: step 20 of 30", "Your run, restored from …"):
  // no title before it, which would repeat it
  bar.innerHTML = `<p class="mg-live-bar-text"><span data-live="status" role="status">Your run: loading…</span>
    <a href="${encodeURI(live)}">Open the live page</a></p>
    <div class="mg-live-bar-controls" role="group" aria-label="Train your run">
    <button type="button" data-steps="10">Train 10 steps</button>
    <button type="button" data-steps="100">Train 100 steps</button>
    <button type="button" data-action="extend" hidden>Extend the horizon</button>
    <button type="button" data-action="stop" hidden>Stop</button>
    <button type="button" data-action="forget">Forget my run</button></div>
    <p class="mg-live-bar-horizon" data-live="horizon" id="mg-live-bar-horizon" hidden></p>
    <div class="mg-live-error" role="alert" data-live="error" hidden></div>
    <details><summary>What the original printed</summary>
    <pre class="mg-live-transcript" data-live="transcript" tabindex="0" role="region" aria-label="Transcript"></pre></details>`;
  place(bar);
  const status = bar.querySelector('[data-live="status"]');
  const transcript = bar.querySelector('[data-live="transcript"]');
  const errorBox = bar.querySelector('[data-live="error"]');
  const horizon = bar.querySelector('[data-live="horizon"]');
  const buttons = [...bar.querySelectorAll("button")];
  const stopButton = bar.querySelector('[data-action="stop"]');
  const extendButton = bar.querySelector('[data-action="extend"]');
  let notice = null;

  const show = () => {
    if (run.state === "running" || run.state === "loading") { if (run.phase) status.textContent = run.phase; return; }
    if (notice) { status.textContent = notice; return; }
    if (!run.exists) return;
    const s = run.status;
    status.textContent = `Your run: step ${s.step} of ${s.num_steps}` + (run.atHorizon ? " (the planned horizon)" : "") +
      (run.state === "paused" ? ", stopped" : "");
  };
  const showHorizon = () => {
    const at = run.atHorizon;
    horizon.hidden = !at;
    extendButton.hidden = !at;
    if (at) horizon.textContent = run.horizonReason();
    for (const b of buttons) {
      if (!b.dataset.steps) continue;
      if (at) { b.disabled = true; b.setAttribute("aria-describedby", horizon.id); }
      else b.removeAttribute("aria-describedby");
    }
  };
  run.addEventListener("state", ({ detail: state }) => {
    bar.dataset.liveState = state;
    const busy = state === "loading" || state === "running";
    if (busy) notice = null;
    for (const b of buttons) b.disabled = busy;
    if (busy) stopButton.hidden = false;
    stopButton.classList.toggle("mg-live-spent", !busy); // its place kept until the next press (live.js says why)
    stopButton.disabled = false;
    showHorizon();
    show();
  });
  run.addEventListener("phase", show);
  run.addEventListener("notice", ({ detail }) => { notice = detail; show(); });
  run.addEventListener("lines", (e) => {
    transcript.append(document.createTextNode(e.detail.map((l) => l + "\n").join("")));
  });
  run.addEventListener("reset", () => { transcript.textContent = ""; });
  run.addEventListener("step", () => { showHorizon(); show(); });
  run.addEventListener("error", ({ detail }) => {
    errorBox.hidden = !detail;
    errorBox.textContent = detail ? detail.message : "";
  });
  bar.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.disabled) return;
    const action = button.dataset.action;
    if (action === "stop") { run.stop(); return; }
    if (action === "forget") { run.act(() => run.reset()).then(() => bar.remove()); return; }
    button.after(stopButton); // Stop sits beside the control that started the action
    if (action === "extend") run.act(() => run.extend());
    else run.act(() => run.train(Number(button.dataset.steps)));
  });
  run.restoreSaved();
}
