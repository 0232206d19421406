// Autograd: a small expression's Value graph. First the forward values; then backward() one node at a time,
// in reverse topological order, each node pushing its gradient to its children. Beside it, the size of the
// graph one real training step builds: with the reader's run, the graph of its last step.
import { COLORS, THREE, button, createView, polyline, readout } from "./shared.js";

export async function create({ stage, options, data, source }) {
  const view = createView(stage, { orthographic: true });
  const nodes = data.nodes; // topological order: children first
  const level = [];
  for (const n of nodes) level[n.id] = n.children.length ? 1 + Math.max(...n.children.map((c) => level[c])) : 0;
  const depth = Math.max(...level);
  const perLevel = [];
  const pos = nodes.map((n) => {
    const k = (perLevel[level[n.id]] = (perLevel[level[n.id]] || 0) + 1) - 1;
    return [level[n.id], k];
  });
  const X = (l) => 0.06 + (0.88 * l) / Math.max(depth, 1);
  const Y = (l, k) => 0.82 - (0.64 * (k + 0.5)) / perLevel[l];
  const at = nodes.map((n, i) => new THREE.Vector3(X(pos[i][0]), Y(pos[i][0], pos[i][1]), 0));
  for (const n of nodes) for (const c of n.children) view.scene.add(polyline([at[c].toArray(), at[n.id].toArray()], COLORS.grid));
  const dots = new THREE.InstancedMesh(new THREE.CircleGeometry(0.012, 20), new THREE.MeshBasicMaterial(), nodes.length);
  const m = new THREE.Matrix4();
  nodes.forEach((n, i) => dots.setMatrixAt(i, m.makeTranslation(at[i].x, at[i].y, 0.01)));
  view.scene.add(dots);
  const labels = nodes.map((n, i) => view.label("", at[i].clone().add(new THREE.Vector3(0, -0.045, 0))));
  view.label("Value: data and grad", new THREE.Vector3(0.02, 0.95, 0), "mg-left", "data");
  view.label("operations", new THREE.Vector3(0.3, 0.95, 0), "mg-left", "ops");
  view.label("topological order", new THREE.Vector3(0.48, 0.95, 0), "mg-left", "topo");
  view.label("backward()", new THREE.Vector3(0.74, 0.95, 0), "mg-left", "backward");
  const text = readout(view);
  text.style.top = "auto";
  text.style.bottom = "0.4rem";
  let g = source.live ? await source.stepGraph() : data.step_graph;
  const order = [...nodes].reverse(); // the order backward() visits
  let done = 0; // nodes backward() has processed
  const color = new THREE.Color();

  const next = button(options, "Backward: next node ▶", () => { done = Math.min(done + 1, nodes.length); update(); });
  const all = button(options, "Backward: all", () => { done = nodes.length; update(); });
  const reset = button(options, "Forward values only", () => { done = 0; update(); });

  function update() {
    next.disabled = all.disabled = done === nodes.length;
    reset.disabled = done === 0;
    const processed = new Set(order.slice(0, done).map((n) => n.id)); // their gradients are final
    nodes.forEach((n, i) => {
      const final = processed.has(n.id) || (n.id === data.output && done > 0);
      const current = done > 0 && order[done - 1].id === n.id;
      dots.setColorAt(i, color.set(current ? COLORS.chosen : final ? COLORS.rate : COLORS.bar));
      const name = n.label || n.op;
      labels[i].set(`${name}\n${n.data.toPrecision(3)}${final ? `\ng ${n.grad.toPrecision(3)}` : ""}`);
    });
    dots.instanceColor.needsUpdate = true;
    const visiting = done > 0 ? order[done - 1] : null;
    text.textContent = (visiting
      ? `backward() visited ${done} of ${nodes.length} nodes; the last, ${visiting.label || visiting.op} ` +
        `(grad ${visiting.grad.toPrecision(3)}), added its grad times each local derivative to its children. `
      : `${data.expression}: forward values. `) +
      (!source.live ? `One real training step (“${g.doc}”) builds `
        : g.engine === "floats" ? `Your run trains on the float engine, which builds no graph; its step ${g.step} ` +
          `(on “${g.doc}”) as the original's Value graph builds it: `
        : `Your run's step ${g.step} (on “${g.doc}”) built `) +
      `${g.nodes.toLocaleString("en")} Values, ` +
      `${g.edges.toLocaleString("en")} edges, ${g.depth.toLocaleString("en")} deep.`;
    view.requestRender();
  }
  update();
  return view.handle({
    async update() {
      if (!source.live) return;
      g = await source.stepGraph();
      update();
    },
  });
}
