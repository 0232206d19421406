// Autograd: a small expression's Value graph. First the forward values; then backward() one node at a time,
// in reverse topological order, each node pushing its gradient to its children. Beside it, the size of the
// graph one real training step builds: with the reader's run, the graph of its last step.
import { COLORS, THREE, button, createView, polyline, readout } from "./shared.js";

export async function create({ stage, options, data, source }) {
  const view = createView(stage, { orthographic: true });
  const nodes = data.nodes; // topological order: children first
  // Each node one column before its first use (the root last): a constant or an input stands beside the operation
  // that reads it, so edges span one column, but for a value used twice.
  const asap = [];
  for (const n of nodes) asap[n.id] = n.children.length ? 1 + Math.max(...n.children.map((c) => asap[c])) : 0;
  const depth = Math.max(...asap);
  const level = [];
  for (const n of [...nodes].reverse()) {
    level[n.id] ??= depth;
    for (const c of n.children) level[c] = Math.min(level[c] ?? Infinity, level[n.id] - 1);
  }
  // Within a column, nodes in the order of the nodes that use them (fewer crossings): from the root down.
  const row = []; // node id -> its place in its column, 0..1
  const columns = Array.from({ length: depth + 1 }, () => []);
  for (const n of nodes) columns[level[n.id]].push(n);
  const users = new Map(nodes.map((n) => [n.id, []]));
  for (const n of nodes) for (const c of n.children) users.get(c).push(n.id);
  for (let l = depth; l >= 0; l--) {
    const mean = (n) => { const u = users.get(n.id); return u.length ? u.reduce((a, id) => a + row[id], 0) / u.length : 0.5; };
    columns[l].sort((a, b) => mean(a) - mean(b));
    columns[l].forEach((n, k) => { row[n.id] = (k + 0.5) / columns[l].length; });
  }
  // Columns left to right on a wide canvas; on a tall one (a phone) rows from the top, the inputs first.
  const tall = view.box.clientHeight > view.box.clientWidth;
  const at = nodes.map((n) => {
    const along = level[n.id] / Math.max(depth, 1);
    return tall ? new THREE.Vector3(0.07 + 0.86 * row[n.id], 0.85 - 0.8 * along, 0)
      : new THREE.Vector3(0.05 + 0.9 * along, 0.84 - 0.76 * row[n.id], 0);
  });
  const edges = nodes.flatMap((n) => n.children.map((c) => [at[c], at[n.id]]));
  for (const [a, b] of edges) view.scene.add(polyline([a.toArray(), b.toArray()], COLORS.grid));
  const dots = new THREE.InstancedMesh(new THREE.CircleGeometry(0.012, 20), new THREE.MeshBasicMaterial(), nodes.length);
  const m = new THREE.Matrix4();
  const squash = () => view.box.clientHeight / Math.max(view.box.clientWidth, 1); // x's world unit is the width's
  let placed = 0;
  view.onBeforeRender(() => { // round dots on a canvas of any shape
    if (placed === squash()) return;
    placed = squash();
    nodes.forEach((n, i) => dots.setMatrixAt(i, m.makeScale(placed, 1, 1).setPosition(at[i].x, at[i].y, 0.01)));
    dots.instanceMatrix.needsUpdate = true;
  });
  view.scene.add(dots);
  // each value beside its node, wherever it covers no node, edge or other label (shared.js: declutter)
  const labels = nodes.map((n, i) => view.label("", at[i], "", null, { around: 7 }));
  view.addSegments(() => edges);
  // the four parts of the code, in two rows: each fits its half even on a phone
  view.label("Value: data and grad", new THREE.Vector3(0.02, 0.965, 0), "mg-left", "data");
  view.label("operations", new THREE.Vector3(0.02, 0.915, 0), "mg-left", "ops");
  view.label("topological order", new THREE.Vector3(0.5, 0.965, 0), "mg-left", "topo");
  view.label("backward()", new THREE.Vector3(0.5, 0.915, 0), "mg-left", "backward");
  view.addShapes(() => at.map((p, i) => ({ at: p, radius: 0.012 * squash(), owner: labels[i].el }))); // none on a node
  const text = readout(view);
  text.style.top = "auto";
  text.style.bottom = "0.4rem";
  let g = source.live ? await source.stepGraph() : data.step_graph;
  const order = [...nodes].reverse(); // the order backward() visits
  let done = 0; // nodes backward() has processed
  const color = new THREE.Color();

  const visit = (n) => () => { done = Math.max(0, Math.min(n(), nodes.length)); update(); }; // n(): how many, then
  const next = button(options, "Backward: next node ▶", visit(() => done + 1));
  const all = button(options, "Backward: all", visit(() => nodes.length));
  const reset = button(options, "Forward values only", visit(() => 0));
  view.keys({ ArrowRight: visit(() => done + 1), ArrowLeft: visit(() => done - 1), Home: visit(() => 0),
    End: visit(() => nodes.length) }, "→ and ← run backward() one node on or back, Home and End to none or all of it");

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
      // a constant's name is its value: once is enough; a long name (an input's) on a line of its own
      const head = Number(name) === n.data ? "" : name.length > 3 ? `${name}\n` : `${name} `;
      labels[i].set(`${head}${value}${final ? `\ng ${n.grad.toPrecision(3)}` : ""}`);
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
