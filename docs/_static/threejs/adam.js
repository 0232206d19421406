// Adam: for a recorded parameter, its value, gradient, first and second moments and the step taken, over
// training; the learning rate beneath, decaying linearly to zero at the last step and never below it.
import { COLORS, THREE, createView, polyline, readout, select } from "./shared.js";

const CHARTS = [ // [element id, label, series]
  ["update", "value", (p) => p.value.slice(1)],
  ["grad", "grad", (p) => p.grad],
  ["m", "m", (p) => p.m],
  ["v", "v", (p) => p.v],
  ["learning_rate", "learning rate", (p, d) => d.learning_rate],
];

export async function create({ stage, options, data: first }) {
  const view = createView(stage, { orthographic: true });
  let data = first; // the reader's run replaces it after every step (update): the traces grow
  let n = data.learning_rate.length;
  const { beta1, beta2 } = data.metadata.train; // the run's own settings
  const X = (i) => 0.12 + (0.85 * i) / Math.max(n, 1);
  const bandH = 0.8 / CHARTS.length;
  const y0 = (c) => 0.88 - bandH * (c + 1) + 0.02;
  let param = 0;
  let step = n;
  const group = new THREE.Group();
  view.scene.add(group);
  CHARTS.forEach(([id, name], c) => view.label(name, new THREE.Vector3(0.1, y0(c) + bandH / 2, 0), "mg-right", id));
  const hats = [2, 3].map((c, i) => view.label("", new THREE.Vector3(0.97, y0(c) + bandH - 0.02, 0.03), "mg-right", ["m_hat", "v_hat"][i]));
  const marker = polyline([[0, 0.05, 0.02], [0, 0.9, 0.02]], COLORS.marker);
  view.scene.add(marker);
  const text = readout(view);
  select(options, "Parameter", data.params.map((p, i) => [i, p.name]), (v) => { param = Number(v); draw(); });

  function draw() {
    for (const child of [...group.children]) {
      group.remove(child);
      child.traverse((o) => { o.geometry?.dispose(); o.material?.dispose(); });
    }
    const p = data.params[param];
    CHARTS.forEach(([, , series], c) => {
      const ys = series(p, data);
      const finite = ys.filter(Number.isFinite);
      const lo = Math.min(0, ...finite);
      const hi = Math.max(0, ...finite, 1e-12);
      const Y = (v) => y0(c) + ((bandH - 0.04) * (v - lo)) / (hi - lo || 1);
      group.add(polyline([[X(0), Y(0), 0], [X(n), Y(0), 0]], COLORS.grid));
      group.add(polyline(ys.map((v, i) => [X(i + 1), Y(v), 0.01]), c === 4 ? COLORS.rate : COLORS.average));
    });
    setStep(step);
  }

  function setStep(s) {
    step = Math.max(0, Math.min(s, n));
    marker.position.x = X(step);
    const p = data.params[param];
    const i = step - 1;
    if (i >= 0) {
      const m = p.m[i];
      const v = p.v[i];
      hats[0].set(`m̂ = ${(m / (1 - beta1 ** (i + 1))).toPrecision(3)}`);
      hats[1].set(`v̂ = ${(v / (1 - beta2 ** (i + 1))).toPrecision(3)}`);
      text.textContent = `${p.name} after step ${step}: value ${p.value[step].toPrecision(4)}, grad ${p.grad[i].toPrecision(3)}, ` +
        `step taken ${p.update[i].toPrecision(3)} at learning rate ${data.learning_rate[i].toPrecision(3)}`;
    } else {
      hats[0].set("m̂");
      hats[1].set("v̂");
      text.textContent = `${p.name} before training: ${p.value[0].toPrecision(4)}`;
    }
    view.requestRender();
  }
  draw();
  return view.handle({
    setStep,
    update({ data: next }) {
      data = next;
      n = data.learning_rate.length;
      draw();
    },
  });
}
