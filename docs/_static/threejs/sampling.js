// Sampling: one generated name, position by position: every character's probability at the temperature,
// the random draw against the argmax, and the KV cache growing by one key and value per position.
import { COLORS, THREE, createView, select, tokenLabel } from "./shared.js";

export async function create({ stage, options, data, manifest }) {
  const view = createView(stage, { orthographic: true });
  const { scene } = view;
  const vocab = manifest.vocabulary;
  const V = vocab.vocab_size;
  const block = manifest.metadata.config.block_size;
  const temps = data.temperatures;
  let t = Math.max(0, temps.findIndex((x) => x.temperature === 0.5));
  let s = 0;
  let pos = 0;
  const X = (i) => 0.05 + (0.9 * (i + 0.5)) / V;
  const barW = 0.9 / V;

  const bars = new THREE.InstancedMesh(new THREE.PlaneGeometry(1, 1), new THREE.MeshBasicMaterial(), V);
  const strip = new THREE.InstancedMesh(new THREE.PlaneGeometry(1, 1), new THREE.MeshBasicMaterial(), V);
  const cache = new THREE.InstancedMesh(new THREE.PlaneGeometry(1, 1), new THREE.MeshBasicMaterial(), block);
  scene.add(bars, strip, cache);
  const drawMarker = new THREE.Mesh(new THREE.PlaneGeometry(0.004, 0.07), new THREE.MeshBasicMaterial({ color: COLORS.marker }));
  scene.add(drawMarker);
  for (let i = 0; i < V; i++) view.label(tokenLabel(vocab, i) === "BOS" ? "⏎" : tokenLabel(vocab, i), new THREE.Vector3(X(i), 0.3, 0));
  view.label("draw", new THREE.Vector3(0.03, 0.21, 0), "mg-right");
  view.label("cache", new THREE.Vector3(0.03, 0.08, 0), "mg-right");
  const cacheLabels = Array.from({ length: block }, (_, i) =>
    view.label("", new THREE.Vector3(0.05 + (i + 0.5) * (0.9 / block), 0.08, 0.01)));

  const readout = document.createElement("div");
  readout.className = "mg-readout";
  stage.appendChild(readout);
  view.onDispose(() => readout.remove());

  const sampleSelect = () => temps[t].samples.map((x, i) => [i, `${i + 1}: ${x.name || "(empty)"}`]);
  select(options, "Temperature", temps.map((x, i) => [i, String(x.temperature)]), (v) => {
    t = Number(v);
    fill(sampleEl, sampleSelect());
    s = 0; pos = 0; update();
  }).value = String(t);
  const sampleEl = select(options, "Sample", sampleSelect(), (v) => { s = Number(v); pos = 0; update(); });
  const button = (text, fn) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.addEventListener("click", fn);
    options.appendChild(b);
    return b;
  };
  button("◀ Previous position", () => { pos = Math.max(pos - 1, 0); update(); });
  button("Next position ▶", () => { pos = Math.min(pos + 1, positions().length - 1); update(); });

  function fill(el, items) {
    el.replaceChildren(...items.map(([value, text]) => Object.assign(document.createElement("option"), { value: String(value), textContent: text })));
  }
  const positions = () => temps[t].samples[s].positions;
  const matrix = new THREE.Matrix4();
  const color = new THREE.Color();

  function update() {
    const p = positions()[pos];
    const probs = p.probs;
    const total = probs.reduce((a, b) => a + b, 0);
    const top = Math.max(...probs, 1e-12);
    let left = 0.05;
    for (let i = 0; i < V; i++) {
      const h = 0.5 * (probs[i] / top) + 0.002;
      matrix.makeScale(barW * 0.8, h, 1).setPosition(X(i), 0.35 + h / 2, 0);
      bars.setMatrixAt(i, matrix);
      bars.setColorAt(i, color.set(i === p.token ? COLORS.chosen : i === p.argmax ? COLORS.argmax : COLORS.bar));
      const w = (0.9 * probs[i]) / total;
      matrix.makeScale(Math.max(w, 1e-6), 0.05, 1).setPosition(left + w / 2, 0.2, 0);
      strip.setMatrixAt(i, matrix);
      strip.setColorAt(i, color.set(i === p.token ? COLORS.chosen : i % 2 ? COLORS.bar : COLORS.grid));
      left += w;
    }
    drawMarker.position.set(0.05 + 0.9 * p.draw, 0.2, 0.02);
    const read = [vocab.BOS, ...positions().slice(0, pos).map((x) => x.token)];
    for (let i = 0; i < block; i++) {
      const on = i < read.length;
      matrix.makeScale(on ? 0.9 / block - 0.004 : 0, on ? 0.06 : 0, 1).setPosition(0.05 + (i + 0.5) * (0.9 / block), 0.08, 0);
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
    readout.textContent =
      `temperature ${temps[t].temperature}, sample ${s + 1}, position ${pos}: “${name}” so far. ` +
      `The draw ${p.draw.toFixed(3)} lands on ${chosen} (p = ${probs[p.token].toFixed(3)}); ` +
      `the most likely was ${best} (p = ${probs[p.argmax].toFixed(3)}).`;
    view.requestRender();
  }
  update();

  return { canvas: view.renderer.domElement, setStep() {}, dispose: view.dispose };
}
