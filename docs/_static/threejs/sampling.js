// Sampling: one generated name, position by position: every character's probability at the temperature,
// the random draw against the argmax, and the KV cache growing by one key and value per position. The recorded
// samples, or a fresh one at any temperature, drawn in the worker from the last checkpoint or the reader's run.
import { COLORS, THREE, button, createView, readout, select, setOptions, tokenLabel } from "./shared.js";

let fields = 0;

export async function create({ stage, options, data, manifest, snapshotUrl, source }) {
  const view = createView(stage, { orthographic: true });
  const { scene } = view;
  const vocab = manifest.vocabulary;
  const V = vocab.vocab_size;
  const block = manifest.metadata.config.block_size;
  const temps = data ? data.temperatures : []; // the reader's run has no recorded samples: it draws fresh ones
  let t = Math.max(0, temps.findIndex((x) => x.temperature === 0.5));
  let s = 0;
  let pos = 0;
  let fresh = null; // {temperature, name, positions, step}: a name drawn on demand, shown instead of a recorded one
  let runStep = null; // the reader's run's step now
  // The strips start right of their names ("draw", "cache"): a wider margin on a narrow screen.
  const L0 = Math.max(0.05, 50 / Math.max(view.box.clientWidth, 1));
  const W = 0.95 - L0;
  const X = (i) => L0 + 0.01 + (W * (i + 0.5)) / V;
  const barW = W / V;

  const bars = new THREE.InstancedMesh(new THREE.PlaneGeometry(1, 1), new THREE.MeshBasicMaterial(), V);
  const strip = new THREE.InstancedMesh(new THREE.PlaneGeometry(1, 1), new THREE.MeshBasicMaterial(), V);
  const cache = new THREE.InstancedMesh(new THREE.PlaneGeometry(1, 1), new THREE.MeshBasicMaterial(), block);
  scene.add(bars, strip, cache);
  const drawMarker = new THREE.Mesh(new THREE.PlaneGeometry(0.004, 0.07), new THREE.MeshBasicMaterial({ color: COLORS.marker }));
  scene.add(drawMarker);
  for (let i = 0; i < V; i++) {
    const bos = i === vocab.BOS;
    view.label(bos ? "BOS" : tokenLabel(vocab, i), new THREE.Vector3(X(i), 0.3, 0), "", bos ? "stop" : null);
  }
  view.label("probabilities", new THREE.Vector3(0.05, 0.9, 0), "mg-left", "probs");
  view.label("draw", new THREE.Vector3(L0 - 0.005, 0.2, 0), "mg-right", "draw");
  view.label("cache", new THREE.Vector3(L0 - 0.005, 0.08, 0), "mg-right", "cache");
  const cacheLabels = Array.from({ length: block }, (_, i) =>
    view.label("", new THREE.Vector3(L0 + (i + 0.5) * (W / block), 0.08, 0.01), "mg-inside")); // text in its cell

  const text = readout(view);

  // One temperature: a recorded one shows the names drawn when the site was built (choose among them), any
  // other draws a fresh name in the worker; "Draw a fresh name" draws one at the temperature shown.
  const id = `mg-temperature-${++fields}`;
  const tempLabel = Object.assign(document.createElement("label"), { textContent: "Temperature ", htmlFor: id });
  const number = Object.assign(document.createElement("input"),
    { type: "number", id, min: "0", max: "2", step: "0.1", value: String(temps[t]?.temperature ?? 0.5) });
  const suggestions = Object.assign(document.createElement("datalist"), { id: `${id}-list` });
  suggestions.append(...temps.map((x) => Object.assign(document.createElement("option"), { value: String(x.temperature) })));
  number.setAttribute("list", suggestions.id);
  tempLabel.append(number, suggestions);
  options.append(tempLabel);
  const sampleSelect = () => temps[t].samples.map((x, i) => [i, `${i + 1}: ${x.name || "(empty)"}`]);
  const pick = (v) => { s = Number(v); pos = 0; fresh = null; update(); };
  const sampleEl = temps.length ? select(options, "Recorded sample", sampleSelect(), pick) : null;
  number.addEventListener("change", () => {
    const recorded = temps.findIndex((x) => x.temperature === Number(number.value));
    if (recorded < 0 || number.value === "") return draw();
    t = recorded;
    setOptions(sampleEl, sampleSelect());
    s = 0; pos = 0; fresh = null; update();
  });
  const back = () => { if (!previous.disabled) { pos = Math.max(pos - 1, 0); update(); } };
  const on = () => { if (!next.disabled) { pos = Math.min(pos + 1, positions().length - 1); update(); } };
  const previous = button(options, "◀ Previous position", back);
  const next = button(options, "Next position ▶", on);
  view.keys({ ArrowLeft: back, ArrowRight: on }, "← and → go to the previous and next position");
  button(options, "Draw a fresh name", () => draw());
  const message = Object.assign(document.createElement("span"), { className: "mg-scene-message" });
  message.setAttribute("role", "status");
  options.append(message);

  let drawing = 0;
  async function draw() {
    const mine = ++drawing;
    const temperature = number.value;
    try {
      const size = await source.runtimeNote();
      message.classList.remove("mg-error");
      message.textContent = size ? `Drawing runs this port in your browser: loading the Python runtime (${size}, once)…`
        : `Drawing a name at temperature ${temperature}…`;
      text.textContent = message.textContent; // the picture says it is being redrawn
      const seed = Math.floor(Math.random() * 2 ** 31);
      const sample = await source.sample(temperature, seed, manifest, snapshotUrl);
      if (mine !== drawing) return;
      fresh = { ...sample, step: source.live ? source.step : manifest.checkpoints[manifest.checkpoints.length - 1] };
      pos = 0;
      message.textContent = "";
      update();
    } catch (e) {
      if (mine !== drawing) return;
      message.textContent = e.message;
      message.classList.add("mg-error");
      update();
    }
  }

  const positions = () => (fresh ?? temps[t].samples[s]).positions;
  const matrix = new THREE.Matrix4();
  const color = new THREE.Color();

  function update() {
    if (!fresh && !temps.length) { // the reader's run, before its first fresh name
      previous.disabled = next.disabled = true;
      view.requestRender();
      return;
    }
    const p = positions()[pos];
    if (sampleEl) sampleEl.disabled = Boolean(fresh); // a fresh name is no recorded sample
    previous.disabled = pos === 0;
    next.disabled = pos === positions().length - 1;
    const probs = p.probs;
    const total = probs.reduce((a, b) => a + b, 0);
    const top = Math.max(...probs, 1e-12);
    let left = L0;
    for (let i = 0; i < V; i++) {
      const h = 0.45 * (probs[i] / top) + 0.002;
      matrix.makeScale(barW * 0.8, h, 1).setPosition(X(i), 0.35 + h / 2, 0);
      bars.setMatrixAt(i, matrix);
      bars.setColorAt(i, color.set(i === p.token ? COLORS.chosen : i === p.argmax ? COLORS.argmax : COLORS.bar));
      const w = (W * probs[i]) / total;
      matrix.makeScale(Math.max(w, 1e-6), 0.05, 1).setPosition(left + w / 2, 0.2, 0);
      strip.setMatrixAt(i, matrix);
      strip.setColorAt(i, color.set(i === p.token ? COLORS.chosen : i % 2 ? COLORS.bar : COLORS.grid));
      left += w;
    }
    drawMarker.position.set(L0 + W * p.draw, 0.2, 0.02);
    const read = [vocab.BOS, ...positions().slice(0, pos).map((x) => x.token)];
    for (let i = 0; i < block; i++) {
      const on = i < read.length;
      matrix.makeScale(on ? W / block - 0.004 : 0, on ? 0.06 : 0, 1).setPosition(L0 + (i + 0.5) * (W / block), 0.08, 0);
      cache.setMatrixAt(i, matrix);
      cache.setColorAt(i, color.set(i === read.length - 1 ? COLORS.chosen : COLORS.grid));
      cacheLabels[i].set(on ? tokenLabel(vocab, read[i]) : "");
    }
    for (const m of [bars, strip, cache]) {
      m.instanceMatrix.needsUpdate = true;
      m.instanceColor.needsUpdate = true;
    }
    const name = positions().slice(0, pos).map((x) => tokenLabel(vocab, x.token)).join("");
    const chosen = tokenLabel(vocab, p.token);
    const best = tokenLabel(vocab, p.argmax);
    const what = fresh
      ? `a fresh name from ${source.live ? "your run" : "the recorded run"} at step ${fresh.step}` +
        `${runStep !== null && runStep !== fresh.step ? ` (your run is now at step ${runStep})` : ""}, ` +
        `temperature ${fresh.temperature}`
      : `temperature ${temps[t].temperature}, sample ${s + 1}`;
    text.textContent =
      `${what}, position ${pos}: “${name}” so far. ` +
      `The draw ${p.draw.toFixed(3)} lands on ${chosen} (p = ${probs[p.token].toFixed(3)}); ` +
      `the most likely was ${best} (p = ${probs[p.argmax].toFixed(3)}).`;
    view.requestRender();
  }
  update();
  if (source.live) {
    number.value = "0.5";
    await draw();
  }

  return view.handle({
    update() {
      if (!source.live) return;
      runStep = source.step;
      update();
    },
  });
}
