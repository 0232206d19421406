// The loss and learning-rate curves of the live run, as SVG (no WebGL needed): the training scene's look.
const NS = "http://www.w3.org/2000/svg";
const W = 640, H = 240, PAD = { left: 44, right: 52, top: 12, bottom: 30 };
const COLORS = { raw: "#9aa5b8", average: "#2f5aa8", baseline: "#c0392b", rate: "#2f7d6d", axis: "currentColor" };
const WINDOW = 20; // steps in the moving average

function el(name, attrs, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function path(points, x, y) {
  return points.map(([a, b], i) => `${i ? "L" : "M"}${x(a).toFixed(1)},${y(b).toFixed(1)}`).join("");
}

/** Redraw: pairs is [loss, learning_rate] of steps 1, 2, ...; the x axis runs to the planned horizon. */
export function drawCurves(svg, pairs, numSteps, vocabSize) {
  const history = pairs.map(([loss, rate], i) => ({ step: i + 1, loss, learning_rate: rate }));
  const uniform = Math.log(vocabSize);
  const top = Math.max(uniform + 0.5, ...history.map((h) => h.loss));
  const peakRate = Math.max(1e-12, ...history.map((h) => h.learning_rate));
  const x = (step) => PAD.left + (W - PAD.left - PAD.right) * step / Math.max(numSteps, 1);
  const y = (loss) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - loss / top);
  const yRate = (r) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - r / peakRate);
  const average = history.map((h, i) => {
    const window = history.slice(Math.max(0, i - WINDOW + 1), i + 1);
    return [h.step, window.reduce((s, w) => s + w.loss, 0) / window.length];
  });
  const bottom = H - PAD.bottom;
  svg.replaceChildren(
    el("line", { x1: PAD.left, x2: W - PAD.right, y1: bottom, y2: bottom, stroke: COLORS.axis, "stroke-width": 1 }),
    el("line", { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: bottom, stroke: COLORS.axis, "stroke-width": 1 }),
    el("text", { x: PAD.left - 6, y: y(0) , "text-anchor": "end", "font-size": 11, fill: COLORS.axis }, "0"),
    el("text", { x: PAD.left - 6, y: y(uniform) + 4, "text-anchor": "end", "font-size": 11, fill: COLORS.baseline },
      uniform.toFixed(2)),
    el("text", { x: W - PAD.right + 6, y: yRate(peakRate) + 4, "font-size": 11, fill: COLORS.rate },
      String(+peakRate.toPrecision(3))),
    el("text", { x: W - PAD.right + 6, y: bottom, "font-size": 11, fill: COLORS.rate }, "0"),
    el("text", { x: PAD.left, y: H - 8, "font-size": 11, fill: COLORS.axis }, "step 0"),
    el("text", { x: W - PAD.right, y: H - 8, "text-anchor": "end", "font-size": 11, fill: COLORS.axis },
      `horizon ${numSteps}`),
    el("line", { x1: PAD.left, x2: W - PAD.right, y1: y(uniform), y2: y(uniform), stroke: COLORS.baseline,
      "stroke-dasharray": "5 4", "stroke-width": 1 }),
    el("path", { d: path(history.map((h) => [h.step, h.loss]), x, y), fill: "none", stroke: COLORS.raw,
      "stroke-width": 1 }),
    el("path", { d: path(average, x, y), fill: "none", stroke: COLORS.average, "stroke-width": 2 }),
    el("path", { d: path(history.map((h) => [h.step, h.learning_rate]), x, yRate), fill: "none",
      stroke: COLORS.rate, "stroke-width": 1.5 }),
  );
  if (history.length) {
    const last = history[history.length - 1];
    svg.setAttribute("aria-label", `Loss and learning rate per step: step ${last.step}, loss ${last.loss.toFixed(4)}, ` +
      `learning rate ${last.learning_rate.toPrecision(3)}`);
  }
}
