// Training: the loss of every step, its moving average, two yardsticks (uniform guessing, a bigram model counted on
// the run's names), and the learning rate beneath.
import { COLORS, THREE, createView, polyline, readout } from "./shared.js";

const WINDOW = 25; // steps in the moving average

export async function create({ stage, data, manifest }) {
  const view = createView(stage, { orthographic: true });
  const { scene, label } = view;
  const curves = new THREE.Group(); // what the documents draw: rebuilt when the reader's run takes a step
  scene.add(curves);
  const marker = polyline([[0, 0.05, 0.03], [0, 0.86, 0.03]], COLORS.marker); // below the legend
  scene.add(marker);
  const dot = new THREE.Mesh(new THREE.CircleGeometry(0.008, 16), new THREE.MeshBasicMaterial({ color: COLORS.baseline }));
  scene.add(dot);
  const text = readout(view);
  let drawn = null;

  function build(d, vocabSize) {
    for (const child of [...curves.children]) {
      curves.remove(child);
      child.traverse((o) => { o.geometry?.dispose(); o.material?.dispose(); });
    }
    view.clearLabels();
    const loss = d.loss.map((x) => (typeof x === "number" ? x : NaN));
    const rate = d.learning_rate;
    const n = loss.length;
    const { uniform, bigram } = d.yardsticks; // bigram: null when no document is left to score it on
    const finite = [...loss.filter(Number.isFinite), uniform, ...(bigram === null ? [] : [bigram])];
    const lo = Math.min(...finite) - 0.1;
    const hi = Math.max(...finite) + 0.1;
    const maxRate = Math.max(...rate.filter(Number.isFinite), 1e-12);
    const X = (step) => 0.08 + (0.9 * step) / Math.max(n, 1);
    const Y = (v) => 0.38 + (0.46 * (Math.min(Math.max(v, lo), hi) - lo)) / (hi - lo); // the top rows: legend
    const R = (v) => 0.07 + (0.2 * v) / maxRate;

    const average = loss.map((_, i) => {
      const window = loss.slice(Math.max(0, i - WINDOW + 1), i + 1).filter(Number.isFinite);
      return window.length ? window.reduce((a, b) => a + b, 0) / window.length : NaN;
    });
    curves.add(polyline(loss.map((v, i) => [X(i + 1), Y(v), 0]), COLORS.raw));
    curves.add(polyline(average.map((v, i) => [X(i + 1), Y(v), 0.01]), COLORS.average));
    curves.add(polyline([[X(0), Y(uniform), 0.02], [X(n), Y(uniform), 0.02]], COLORS.baseline, { dashed: true }));
    if (bigram !== null) {
      curves.add(polyline([[X(0), Y(bigram), 0.02], [X(n), Y(bigram), 0.02]], COLORS.bigram, { dotted: true }));
    }
    curves.add(polyline(rate.map((v, i) => [X(i + 1), R(v), 0]), COLORS.rate));
    curves.add(polyline([[X(0), 0.07, 0], [X(n), 0.07, 0]], COLORS.grid));
    curves.add(polyline([[X(0), 0.38, 0], [X(n), 0.38, 0]], COLORS.grid));

    for (let v = Math.ceil(lo * 2) / 2; v <= hi; v += 0.5) label(v.toFixed(1), new THREE.Vector3(0.07, Y(v), 0), "mg-right");
    // the yardsticks' legend, above the curves, never on them (the loss after step 100 crosses both lines)
    label(`dashed: uniform guessing, −ln(1/${vocabSize}) = ${uniform.toFixed(2)}`,
      new THREE.Vector3(X(n), 0.955, 0), "mg-right mg-yardstick");
    if (bigram !== null) {
      label(`dotted: a bigram model, ${bigram.toFixed(2)} on names it never counted`,
        new THREE.Vector3(X(n), 0.9, 0), "mg-right mg-yardstick");
    }
    label(`${maxRate}`, new THREE.Vector3(0.07, R(maxRate), 0), "mg-right");
    label("loss", new THREE.Vector3(0.09, 0.95, 0), "mg-left", "loss");
    label("learning rate", new THREE.Vector3(0.09, 0.3, 0), "mg-left", "learning_rate");
    label("step", new THREE.Vector3((X(0) + X(n / 4)) / 2, 0.03, 0), "", "step"); // in the tick row, between ticks
    label("0", new THREE.Vector3(0.07, R(0), 0), "mg-right");
    for (const s of new Set([0, Math.round(n / 4), Math.round(n / 2), Math.round((3 * n) / 4), n])) {
      label(String(s), new THREE.Vector3(X(s), 0.03, 0));
    }
    const sticks = Object.entries({ uniform, bigram }).filter(([, v]) => v !== null) // where each line is drawn:
      .map(([k, v]) => [k, { value: v, y: 1 - Y(v) }]); // y from the canvas's top, as a fraction of its height
    drawn = { d, loss, rate, n, X, Y, average, sticks: Object.fromEntries(sticks) };
  }

  function setStep(step) {
    const { d, loss, rate, n, X, Y, average } = drawn;
    const s = Math.min(Math.max(step, 0), n);
    marker.position.x = X(s);
    const i = s - 1;
    if (i >= 0 && Number.isFinite(average[i])) {
      dot.visible = true;
      dot.position.set(X(s), Y(average[i]), 0.04);
      const value = Number.isFinite(loss[i]) ? loss[i].toFixed(4) : "not finite";
      text.textContent = `step ${s}: loss ${value} on “${d.doc[i]}”, ` +
        `average of the last ${WINDOW} ${average[i].toFixed(3)}, learning rate ${rate[i].toPrecision(3)}`;
    } else {
      dot.visible = false;
      text.textContent = "step 0: before training";
    }
    view.requestRender();
  }

  build(data, manifest.vocabulary.vocab_size);
  return view.handle({
    setStep,
    update({ data: d, manifest: m }) { build(d, m.vocabulary.vocab_size); },
    yardsticks: () => drawn.sticks,
  });
}
