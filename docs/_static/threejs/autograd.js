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
  // the leaves (inputs and constants) get room on their right for their two-line labels; the other levels share the rest
  const X = (l) => (l === 0 ? 0.04 : 0.3 + (0.66 * (l - 1)) / Math.max(depth - 1, 1));
  const Y = (l, k) => 0.86 - (0.8 * (k + 0.5)) / perLevel[l];
  const at = nodes.map((n, i) => new THREE.Vector3(X(pos[i][0]), Y(pos[i][0], pos[i][1]), 0));
  for (const n of nodes) for (const c of n.children) view.scene.add(polyline([at[c].toArray(), at[n.id].toArray()], COLORS.grid));
  const dots = new THREE.InstancedMesh(new THREE.CircleGeometry(0.012, 20), new THREE.MeshBasicMaterial(), nodes.length);
  const m = new THREE.Matrix4();
  nodes.forEach((n, i) => dots.setMatrixAt(i, m.makeTranslation(at[i].x, at[i].y, 0.01)));
  view.scene.add(dots);
  // below the node on even levels, above it on odd ones: neighbouring levels' labels never meet, even on a phone
  const labels = nodes.map((n, i) => (pos[i][0] === 0
    ? view.label("", at[i].clone().add(new THREE.Vector3(0.02, 0, 0)), "mg-left")
    : pos[i][0] % 2
      ? view.label("", at[i].clone().add(new THREE.Vector3(-0.012, 0.02, 0)), "mg-over")
      : view.label("", at[i].clone().add(new THREE.Vector3(-0.012, -0.02, 0)), "mg-under")));
  // the four parts of the code, in two rows: each fits its half even on a phone
  view.label("Value: data and grad", new THREE.Vector3(0.02, 0.965, 0), "mg-left", "data");
  view.label("operations", new THREE.Vector3(0.02, 0.915, 0), "mg-left", "ops");
  view.label("topological order", new THREE.Vector3(0.5, 0.965, 0), "mg-left", "topo");
  view.label("backward()", new THREE.Vector3(0.5, 0.915, 0), "mg-left", "backward");
  view.addShapes(() => at.map((p, i) => ({ at: p, radius: 0.012, owner: labels[i].el }))); // no label on a node
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
      const value = n.data.toPrecision(3);
      const head = Number(name) === n.data ? "" : `${name} `; // a constant's name is its value: once is enough
      labels[i].set(`${head}${value}${final ? `\ng ${n.grad.toPrecision(3)}` : ""}`); // two lines at most
    });
    dots.instanceColor.needsUpdate = true;
    const visiting = done > 0 ? order[done - 1] : null;
    text.textContent = (visiting
      ? `backward() visited ${done} of ${nodes.length} nodes; the last, ${visiting.label || visiting.op} ` +
        `(grad ${visiting.grad.toPrecision(3)}), added its grad times each local derivative to its children. `
      : `${data.expression}: forward values. `) +
      (!source.live ? `One real training step (“${g.doc}”): its loss is the root of `
        : g.engine === "floats" ? `Your run trains on the float engine, which builds no graph; its step ${g.step} ` +
          `(on “${g.doc}”), as the original's Value graph computes it: its loss is the root of `
        : `Your run's step ${g.step} (on “${g.doc}”): its loss is the root of `) +
      `a graph of ${g.nodes.toLocaleString("en")} Values, ` +
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
