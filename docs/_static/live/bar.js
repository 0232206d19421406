// On every page but the live one: if the reader has a run (saved in this tab), a bar that shows it and trains
// it further here, so the run follows the reader from page to page. Nothing loads unless a run exists.
import { hasSavedRun, liveRun } from "./run.js";

if (!document.querySelector(".mg-live") && hasSavedRun()) setUp();

function setUp() {
  const run = liveRun();
  const bar = document.createElement("aside");
  bar.className = "mg-live-bar";
  bar.setAttribute("aria-label", "Your run");
  bar.dataset.liveState = "loading";
  const live = document.querySelector("script[data-live-page]")?.dataset.livePage ?? "";
  const style = Object.assign(document.createElement("link"), { rel: "stylesheet", href: new URL("live.css", import.meta.url) });
  document.head.append(style);
  bar.innerHTML = `<p class="mg-live-bar-text"><strong>Your run</strong> <span data-live="status" role="status">
    loading…</span> <a href="${encodeURI(live)}">the live page</a></p>
    <div class="mg-live-bar-controls" role="group" aria-label="Train your run">
    <button type="button" data-steps="10">Train 10 steps</button>
    <button type="button" data-steps="100">Train 100 steps</button>
    <button type="button" data-action="pause" disabled>Pause</button>
    <button type="button" data-action="forget">Forget my run</button></div>
    <div class="mg-live-error" role="alert" data-live="error" hidden></div>
    <details><summary>What the original printed</summary>
    <pre class="mg-live-transcript" data-live="transcript" tabindex="0" role="region" aria-label="Transcript"></pre></details>`;
  const main = document.querySelector("article[role=main], main, body");
  main.prepend(bar);
  const status = bar.querySelector('[data-live="status"]');
  const transcript = bar.querySelector('[data-live="transcript"]');
  const errorBox = bar.querySelector('[data-live="error"]');
  const buttons = [...bar.querySelectorAll("button")];

  const show = () => {
    if (!run.exists) return;
    const s = run.status;
    status.textContent = `step ${s.step} of ${s.num_steps}` + (s.step >= s.num_steps ? " (the planned horizon)" : "");
  };
  run.addEventListener("state", ({ detail: state }) => {
    bar.dataset.liveState = state;
    const busy = state === "loading" || state === "running";
    for (const b of buttons) b.disabled = b.dataset.action === "pause" ? state !== "running" : busy;
    show();
  });
  run.addEventListener("lines", (e) => {
    transcript.append(document.createTextNode(e.detail.map((l) => l + "\n").join("")));
  });
  run.addEventListener("reset", () => { transcript.textContent = ""; });
  run.addEventListener("step", show);
  run.addEventListener("error", ({ detail }) => {
    errorBox.hidden = !detail;
    errorBox.textContent = detail ? detail.message : "";
  });
  bar.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.disabled) return;
    if (button.dataset.action === "pause") run.pause();
    else if (button.dataset.action === "forget") run.act(() => run.reset()).then(() => bar.remove());
    else run.act(() => run.train(Number(button.dataset.steps)));
  });
  run.restoreSaved();
}
