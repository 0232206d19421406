// The whole model: every matrix of state_dict as a grid of cells (row i of a matrix beside number i of the vector
// it makes), laid out along the path gpt() takes, with the probe word's vectors at the chosen position between
// them. Stages move the camera along the path; the step control recolours the weights as they form in training.
import {
  THREE, button, createView, diverging, loadCheckpoint, orbit, readout, row, select, setOptions,
  tokenLabel, wordField, wordUpdater, stepNote
} from "./shared.js";

const GAP = 3; // cells between two blocks of a stage
const STAGE_GAP = 7; // cells between stages
const TITLE = "mg-strong mg-title"; // a stage's title: bold, on two lines at most (scenes.css)
const LIT = new THREE.Color(0xd35400);
const FRAME = new THREE.Color(0x9aa5b8);
const PICK = new THREE.Color(0x222222);

// Each stage: its title, what the readout says, and its blocks [element id, label, kind, source].
// A matrix's source is its state_dict name (with {li} for the layer); a vector's is its key in the trace.
const EMBED = ["Embeddings in", "the token's row of wte plus the position's row of wpe, then rmsnorm (lines 109-112)"];
const LAYER = [
  ["Queries, keys, values", "rmsnorm, then three matrices: q, k, v (lines 116-122); row i of a matrix makes number i"],
  ["Attention heads", "each head weighs the cached positions (lines 123-132): a row per head, one cell per position"],
  ["attn_wo and the residual", "the heads' output through attn_wo, plus the block's input (lines 133-134)"],
  ["MLP: widen and ReLU", "rmsnorm, mlp_fc1 widens to {wide} numbers, ReLU keeps the positive ones (lines 136-139)"],
  ["MLP: narrow and residual", "mlp_fc2 narrows back to {n_embd}, plus the MLP's input (lines 140-141)"],
];
const OUT = ["Scores out", "lm_head scores the 27 tokens; softmax makes them probabilities (lines 143-144, 97-101)"];

function layout({ n_layer, n_embd }) {
  const stages = [[...EMBED, [
    ["wte", "wte", "matrix", "wte"], ["wpe", "wpe", "matrix", "wpe"],
    ["x0", "x", "vector", "x0"], ["x_norm0", "rmsnorm", "vector", "x_norm0"]]]];
  for (let li = 0; li < n_layer; li++) {
    const L = (s) => s.replace("{li}", li);
    const at = (key) => `layers.${li}.${key}`;
    stages.push(
      [...LAYER[0], [["xn", "rmsnorm", "vector", at("xn")], ["attn_wq", L("layer{li}.attn_wq"), "matrix", L("layer{li}.attn_wq")],
        ["q", "q", "vector", at("q")], ["attn_wk", L("layer{li}.attn_wk"), "matrix", L("layer{li}.attn_wk")],
        ["k", "k", "vector", at("k")], ["attn_wv", L("layer{li}.attn_wv"), "matrix", L("layer{li}.attn_wv")],
        ["v", "v", "vector", at("v")]]],
      [...LAYER[1], [["attn_weights", "attn_weights", "heads", at("attn_weights")],
        ["x_attn", "x_attn", "vector", at("x_attn")]]],
      [...LAYER[2], [["attn_wo", L("layer{li}.attn_wo"), "matrix", L("layer{li}.attn_wo")],
        ["attn_out", "x", "vector", at("attn_out")], ["x_mid", "+ residual", "vector", at("x_mid")]]],
      [...LAYER[3], [["xn2", "rmsnorm", "vector", at("xn2")], ["mlp_fc1", L("layer{li}.mlp_fc1"), "matrix", L("layer{li}.mlp_fc1")],
        ["h", "x", "vector", at("h")], ["h_relu", "relu", "vector", at("h_relu")]]],
      [...LAYER[4], [["mlp_fc2", L("layer{li}.mlp_fc2"), "matrix", L("layer{li}.mlp_fc2")],
        ["mlp_out", "x", "vector", at("mlp_out")], ["x_out", "+ residual", "vector", at("x_out")]]],
    );
  }
  stages.push([...OUT, [["lm_head", "lm_head", "matrix", "lm_head"], ["logits", "logits", "vector", "logits"],
    ["probs", "softmax", "vector", "probs"]]]);
  const fill = (text) => text.replace("{wide}", String(4 * n_embd)).replace("{n_embd}", String(n_embd));
  return stages.map(([title, text, blocks]) => ({ title, text: fill(text), blocks: blocks.map(([id, name, kind, source]) => ({ id, name, kind, source })) }));
}

const traceAt = (trace, path) => path.split(".").reduce((o, k) => o[k], trace);

export async function create({ stage, options, manifest, snapshotUrl, fetchJSON, source, step: initialStep, reducedMotion }) {
  const view = createView(stage, { fov: 35, antialias: false });
  const { scene, camera } = view;
  camera.near = 0.5;
  camera.far = 5000; // the overview stands a few hundred cells away
  camera.updateProjectionMatrix();
  const vocab = manifest.vocabulary;
  const config = manifest.metadata.config;
  const { n_head: H, block_size: block } = config;
  const stages = layout(config);
  const last = manifest.checkpoints[manifest.checkpoints.length - 1];
  const final = (await loadCheckpoint(manifest, last, snapshotUrl, fetchJSON))[1]; // fixes each matrix's colour scale
  const vectorLength = (path) => { // from the model's shapes: any word's trace has them
    const key = path.split(".").pop();
    if (key === "h" || key === "h_relu") return final.state_dict["layer0.mlp_fc1"].shape[0];
    return key === "logits" || key === "probs" ? vocab.vocab_size : config.n_embd;
  };
  const shapeOf = (b) => (b.kind === "matrix" ? final.state_dict[b.source].shape
    : b.kind === "heads" ? [H, block] : [vectorLength(b.source), 1]);

  // Place the blocks: along x, each stage's blocks side by side; wte over wpe, and q/k/v's matrices stacked.
  let x = 0;
  let cells = 0;
  const blocks = [];
  for (const [s, st] of stages.entries()) {
    const stacked = st.blocks.filter((b) => ["wpe", "attn_wk", "attn_wv", "k", "v"].includes(b.id));
    let column = null;
    for (const b of st.blocks) {
      const [rows, cols] = shapeOf(b);
      Object.assign(b, { stage: s, rows, cols, first: cells });
      cells += rows * cols;
      if (stacked.includes(b)) { // under the block before it of the same kind
        const above = column[b.kind === "vector" ? "vector" : "matrix"];
        Object.assign(b, { x: above.x, top: above.top - above.rows - GAP });
        column[b.kind === "vector" ? "vector" : "matrix"] = b;
      } else {
        Object.assign(b, { x, top: 0 });
        column = { ...column, [b.kind === "vector" ? "vector" : "matrix"]: b };
        x += cols + GAP;
      }
      blocks.push(b);
    }
    x += STAGE_GAP - GAP;
  }
  // centre every stage's stack vertically on y = 0
  const extents = stages.map((_, s) => {
    const mine = blocks.filter((b) => b.stage === s);
    const top = Math.max(...mine.map((b) => b.top));
    const bottom = Math.min(...mine.map((b) => b.top - b.rows));
    for (const b of mine) b.top -= (top + bottom) / 2;
    const left = Math.min(...mine.map((b) => b.x));
    return { left, width: Math.max(...mine.map((b) => b.x + b.cols)) - left, height: top - bottom, mine };
  });
  // On a narrow stage the path folds into rows: as many as make the cells largest in the whole-model view (a
  // phone's overview is a picture, not a strip), of those where each row's stage titles fit side by side; each row
  // reads left to right, under a band that holds its titles.
  const rowsOf = (k) => { // the stages in k rows of about equal width
    const total = extents.reduce((sum, e) => sum + e.width + STAGE_GAP, 0);
    const rows = [[]];
    let used = 0;
    for (const e of extents) {
      if (used > 0 && used + e.width / 2 > (total / k) * rows.length && rows.length < k) rows.push([]);
      rows.at(-1).push(e);
      used += e.width + STAGE_GAP;
    }
    return rows;
  };
  const narrow = stage.clientWidth < 600; // a phone: the whole-model view names the stages only
  const ROW_GAP = narrow ? 4 : 16; // cells under a row of stages: room for its vectors' names where they are shown
  const [wide, high] = [Math.max(stage.clientWidth, 1), Math.max(stage.clientHeight - 40, 1)]; // the canvas's, about
  const titleSizes = stages.map((st) => view.measure(st.title, TITLE));
  const nameHigh = view.measure(stages[0].blocks[0].name, "mg-element").height + 2; // a block's name, over it
  const titleBand = Math.max(...titleSizes.map((r) => r.height)) + 8;
  const band = titleBand + (narrow ? 0 : nameHigh); // px over a row: its titles, over its blocks' names if shown
  const widthOf = (rows) => Math.max(...rows.map((r) => r.reduce((sum, e) => sum + e.width + STAGE_GAP, -STAGE_GAP)));
  const pxPerCell = (rows) => {
    const h = rows.reduce((sum, r) => sum + Math.max(...r.map((e) => e.height)) + ROW_GAP, 0);
    return Math.min(wide / widthOf(rows), Math.max(high - rows.length * band, 1) / h);
  };
  const titlesFit = (rows) => { // each title over its stage, moved right by half its width at most (the labels may
    // move by three quarters: room for the canvas's height, here an estimate)
    const px = pxPerCell(rows);
    const x0 = (wide - widthOf(rows) * px) / 2;
    return rows.every((r) => {
      let [at, right] = [0, -Infinity];
      for (const e of r) {
        const { width: w } = titleSizes[extents.indexOf(e)];
        const left = x0 + (at + e.width / 2) * px - w / 2;
        const placed = Math.max(left, right + 8, 0);
        if (placed - left > 0.5 * w || placed + w > wide) return false;
        right = placed + w;
        at += e.width + STAGE_GAP;
      }
      return true;
    });
  };
  const choices = [1, 2, 3, 4].filter((k) => k <= extents.length).map(rowsOf);
  let layoutRows = null;
  for (const rows of choices.some(titlesFit) ? choices.filter(titlesFit) : choices) {
    if (!layoutRows || pxPerCell(rows) > pxPerCell(layoutRows) * 1.15) layoutRows = rows;
  }
  const bandCells = band / pxPerCell(layoutRows);
  let rowTop = 0;
  let width = 0;
  for (const [k, r] of layoutRows.entries()) {
    rowTop -= bandCells; // its titles' band
    const h = Math.max(...r.map((e) => e.height));
    let at = 0;
    for (const e of r) {
      e.row = k;
      for (const b of e.mine) Object.assign(b, { x: b.x - e.left + at, top: b.top + rowTop - h / 2 });
      at += e.width + STAGE_GAP;
    }
    width = Math.max(width, at - STAGE_GAP);
    rowTop -= h + ROW_GAP;
  }
  for (const b of blocks) b.top -= (rowTop + ROW_GAP) / 2; // the rows and their bands centred on y = 0

  const mesh = new THREE.InstancedMesh(new THREE.PlaneGeometry(0.86, 0.86),
    new THREE.MeshBasicMaterial({ side: THREE.DoubleSide }), cells);
  const matrix = new THREE.Matrix4();
  for (const b of blocks) {
    for (let r = 0; r < b.rows; r++) {
      for (let c = 0; c < b.cols; c++) {
        matrix.makeTranslation(b.x + c + 0.5 - width / 2, b.top - r - 0.5, 0);
        mesh.setMatrixAt(b.first + r * b.cols + c, matrix);
      }
    }
  }
  scene.add(mesh);

  // A frame around each block (lit with its lines) and one around the rows gpt() picks from wte and wpe.
  const frames = new THREE.LineSegments(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ vertexColors: true }));
  const framePoints = [];
  const rect = (x0, y0, w, h) => {
    const [a, b, c, d] = [[x0, y0], [x0 + w, y0], [x0 + w, y0 - h], [x0, y0 - h]];
    for (const [p, q] of [[a, b], [b, c], [c, d], [d, a]]) framePoints.push(p[0], p[1], 0.02, q[0], q[1], 0.02);
  };
  for (const b of blocks) rect(b.x - 0.3 - width / 2, b.top + 0.3, b.cols + 0.6, b.rows + 0.6);
  rect(0, 0, 0, 0);
  rect(0, 0, 0, 0); // the picked rows of wte and wpe, placed on update
  frames.geometry.setAttribute("position", new THREE.Float32BufferAttribute(framePoints, 3));
  frames.geometry.setAttribute("color", new THREE.Float32BufferAttribute(framePoints.map(() => 0), 3));
  scene.add(frames);
  const positions = frames.geometry.attributes.position;
  const colors = frames.geometry.attributes.color;
  const paintFrame = (i, color) => { for (let v = i * 8; v < i * 8 + 8; v++) colors.setXYZ(v, color.r, color.g, color.b); };
  let lit = [];
  const paintFrames = () => {
    blocks.forEach((b, i) => paintFrame(i, lit.includes(b.id) ? LIT : FRAME));
    paintFrame(blocks.length, PICK);
    paintFrame(blocks.length + 1, PICK);
    colors.needsUpdate = true;
  };
  function pickRow(k, b, r) { // frame k (after the blocks') around row r of block b
    const x0 = b.x - 0.15 - width / 2;
    const y0 = b.top - r + 0.1;
    const pts = [[x0, y0], [x0 + b.cols + 0.3, y0], [x0 + b.cols + 0.3, y0 - 1.2], [x0, y0 - 1.2]];
    let v = (blocks.length + k) * 8;
    for (let e = 0; e < 4; e++) {
      for (const p of [pts[e], pts[(e + 1) % 4]]) positions.setXYZ(v++, p[0], p[1], 0.03);
    }
    positions.needsUpdate = true;
  }
  paintFrames();
  view.onHighlight((ids) => { lit = ids; paintFrames(); });
  const frameSegments = []; // the blocks' frames (not the picked rows'): labels must not cross them
  for (let i = 0; i < blocks.length * 8; i += 2) {
    frameSegments.push([new THREE.Vector3(positions.getX(i), positions.getY(i), 0.02),
      new THREE.Vector3(positions.getX(i + 1), positions.getY(i + 1), 0.02)]);
  }
  view.addSegments(() => frameSegments);

  // One label per block: a handle linked to the lines that make it; above a matrix, down along under a vector.
  const blockLabels = blocks.map((b) => {
    const vector = b.kind === "vector";
    const at = new THREE.Vector3(b.x + b.cols / 2 - width / 2, vector ? b.top - b.rows - 1 : b.top + 1, 0);
    return view.label(b.name, at, vector ? "mg-down" : "mg-above", b.id); // clear of its frame
  });
  // Each stage's title (on two lines, scenes.css) over its stage, above its blocks' top: in the first band up where it
  // covers no other label (nor any frame), moved sideways by up to three quarters of its width, or in a band higher,
  // a line clear of any title it stands over or under (two stacked with no gap read as one heading).
  const titleLine = view.measure("M", TITLE).height;
  const titleSpots = (w, h) => { // over the blocks' names where they are shown (on a phone, in a stage's view only)
    const lift = narrow && current === 0 ? 0 : nameHigh;
    return [1, 2, 3, 4].flatMap((up) =>
      [0, -0.25, 0.25, -0.5, 0.5, -0.75, 0.75].map((shift) => [-w / 2 + shift * w, -lift - up * (h + 2) - 2]));
  };
  const stageTitles = stages.map((st, s) => {
    const mine = blocks.filter((b) => b.stage === s);
    const top = Math.max(...mine.map((b) => b.top)); // its own blocks' top, so it stands nearer them than others do
    const left = Math.min(...mine.map((b) => b.x));
    const right = Math.max(...mine.map((b) => b.x + b.cols));
    return view.label(st.title, new THREE.Vector3((left + right) / 2 - width / 2, top + 1, 0), TITLE, null,
      { spots: titleSpots, apart: titleLine });
  });

  // The camera: an overview, then one stop per stage.
  const stops = [{ title: "The whole model", text: "every weight of state_dict, along the path gpt() takes; " +
    (narrow ? "choose a stage to see its blocks and their names, or press Turn, then drag to turn it"
      : "choose a stage, or drag to turn it (on a touch screen, press Turn, then drag)"), box: [0, width, Math.max(...blocks.map((b) => b.top)) + bandCells,
    Math.min(...blocks.map((b) => b.top - b.rows)) - 9] }];
  stages.forEach((st, s) => {
    const mine = blocks.filter((b) => b.stage === s);
    stops.push({ title: st.title, text: st.text, box: [Math.min(...mine.map((b) => b.x)) - 2,
      Math.max(...mine.map((b) => b.x + b.cols)) + 2, Math.max(...mine.map((b) => b.top)) + 7,
      Math.min(...mine.map((b) => b.top - b.rows)) - 9] });
  });
  const fit = ([left, right, top, bottom], above = 0) => { // `above`: px kept free over the box (for titles)
    const widen = Math.max(0, 44 - (right - left)) / 2; // a narrow stage keeps its neighbours' edges in view
    [left, right] = [left - widen, right + widen];
    const tan = Math.tan(THREE.MathUtils.degToRad(camera.fov / 2));
    const aspect = Math.max(camera.aspect, 0.2);
    let [distance, extra] = [0, 0];
    for (let i = 0; i < 3; i++) { // the px above, in world units at the distance that fits both
      distance = Math.max((top + extra - bottom) / 2 / tan, (right - left) / 2 / tan / aspect) * 1.08;
      extra = (above * 2 * distance * tan) / Math.max(view.box.clientHeight, 1);
    }
    return { target: new THREE.Vector3((left + right) / 2 - width / 2, (top + extra + bottom) / 2, 0), distance };
  };
  let current = 0;
  const orbitState = orbit(view, { ...(({ target, distance }) => ({ target, radius: distance }))(fit(stops[0].box)),
    theta: 0, phi: Math.PI / 2 });
  let flight = 0;
  function go(s) {
    current = Math.max(0, Math.min(stops.length - 1, s));
    const { target, distance } = fit(stops[current].box, current ? 1.5 * titleBand + nameHigh : 0); // its title too
    const from = { target: orbitState.target.clone(), radius: orbitState.radius, theta: orbitState.theta, phi: orbitState.phi };
    const to = { theta: current ? 0.18 : 0, phi: current ? 1.4 : Math.PI / 2 };
    cancelAnimationFrame(flight);
    const t0 = performance.now();
    const ms = reducedMotion ? 0 : 600;
    const fly = (now) => {
      const f = ms ? Math.min((now - t0) / ms, 1) : 1;
      const e = f * f * (3 - 2 * f);
      orbitState.base = distance;
      orbitState.target.lerpVectors(from.target, target, e);
      orbitState.radius = from.radius + (distance - from.radius) * e;
      orbitState.theta = from.theta + (to.theta - from.theta) * e;
      orbitState.phi = from.phi + (to.phi - from.phi) * e;
      orbitState.place();
      if (f < 1) flight = requestAnimationFrame(fly);
    };
    fly(t0);
    stageSelect.value = String(current);
    prev.disabled = current === 0;
    next.disabled = current === stops.length - 1;
    stageTitles.forEach((l, i) => l.el.classList.toggle("mg-lit", i === current - 1));
    for (const l of blockLabels) l.show(!(narrow && current === 0)); // on a phone, a stage's view names its blocks
    describe();
  }
  view.onDispose(() => cancelAnimationFrame(flight));
  orbitState.reset = () => go(current); // back to the stage's own view

  const prev = button(options, "◀ Previous stage", () => go(current - 1));
  const stageSelect = select(options, "Stage", stops.map((st, i) => [i, st.title]), (v) => go(Number(v)));
  const next = button(options, "Next stage ▶", () => go(current + 1));
  let pos = 0;
  let step = initialStep;
  const field = wordField(options, manifest.probes, manifest.probes[0] ?? "", (w) => { words.word = w; pos = 0; update(); });
  const words = wordUpdater({ manifest, snapshotUrl, fetchJSON, source }, field, draw);
  const posEl = select(options, "Position", [], (v) => { pos = Number(v); update(); });
  const back = () => go(current - 1);
  const on = () => go(current + 1);
  view.keys({ PageUp: back, "[": back, PageDown: on, "]": on, Home: () => go(0) },
    "Page Up and Page Down (or [ and ]) go to the previous and next stage, Home to the whole model");

  // Click a block: its lines light up, and the readout says what it is.
  const raycaster = new THREE.Raycaster();
  const plane = new THREE.Plane(new THREE.Vector3(0, 0, 1), 0);
  let pressed = null;
  const down = (e) => { pressed = [e.clientX, e.clientY]; };
  const click = (e) => {
    if (!pressed || Math.hypot(e.clientX - pressed[0], e.clientY - pressed[1]) > 4) return; // a drag, not a click
    if (e.target.closest?.(".mg-element")) return; // a block's handle: its own click selects it
    const r = view.renderer.domElement.getBoundingClientRect();
    if (e.clientY < r.top) return; // on the readout
    raycaster.setFromCamera(new THREE.Vector2(((e.clientX - r.left) / r.width) * 2 - 1, 1 - ((e.clientY - r.top) / r.height) * 2), camera);
    const hit = raycaster.ray.intersectPlane(plane, new THREE.Vector3()); // every block lies in z = 0
    const b = hit && blocks.find((k) => hit.x >= k.x - width / 2 && hit.x <= k.x + k.cols - width / 2 &&
      hit.y <= k.top && hit.y >= k.top - k.rows);
    if (b) view.link(b.id, "select");
    if (b) view.highlight([b.id]);
    chosen = b || null;
    describe();
  };
  stage.addEventListener("pointerdown", down); // on the stage: the orbit captures the pointer there
  stage.addEventListener("pointerup", click);
  view.onDispose(() => {
    stage.removeEventListener("pointerdown", down);
    stage.removeEventListener("pointerup", click);
  });

  const text = readout(view);
  let chosen = null;
  let shown = "";
  function describe() {
    const st = stops[current];
    const what = chosen ? `${chosen.name}: ${chosen.rows}×${chosen.cols}` +
      (chosen.kind === "matrix" ? " weights (blue < 0 < orange)" : " numbers") : `${current}/${stops.length - 1} ${st.title}: ${st.text}`;
    text.textContent = `${shown}\n${what}`;
  }

  const color = new THREE.Color();
  const scales = Object.fromEntries(blocks.filter((b) => b.kind === "matrix")
    .map((b) => [b.source, Math.max(...final.state_dict[b.source].data.map(Math.abs), 1e-12)]));
  const update = () => words.update(step);
  function draw(c, checkpoint, tr) {
    const tokens = [...tr.tokens, tr.targets[tr.targets.length - 1]];
    setOptions(posEl, tokens.slice(0, -1).map((t, p) =>
      [p, `${p}: reads ${tokenLabel(vocab, t)}, predicts ${tokenLabel(vocab, tokens[p + 1])}`]));
    posEl.value = String(pos);
    for (const b of blocks) {
      if (b.kind === "matrix") {
        const w = checkpoint.state_dict[b.source].data;
        for (let i = 0; i < w.length; i++) mesh.setColorAt(b.first + i, diverging(w[i] / scales[b.source], color));
      } else if (b.kind === "heads") { // head h's weights over the positions it can read: 0..pos
        const aw = traceAt(tr, b.source);
        const n = aw.shape[1];
        for (let h = 0; h < H; h++) {
          for (let t = 0; t < block; t++) {
            const v = t <= pos && t < n ? aw.data[(h * n + pos) * n + t] : NaN;
            mesh.setColorAt(b.first + h * block + t, Number.isFinite(v) ? diverging(v, color) : color.set(FRAME).multiplyScalar(1.05));
          }
        }
      } else {
        const v = row(traceAt(tr, b.source), pos);
        const scale = Math.max(...v.map(Math.abs), 1e-12);
        v.forEach((value, i) => mesh.setColorAt(b.first + i, diverging(value / scale, color)));
      }
    }
    mesh.instanceColor.needsUpdate = true;
    pickRow(0, blocks.find((b) => b.id === "wte"), tr.tokens[pos]);
    pickRow(1, blocks.find((b) => b.id === "wpe"), pos);
    const target = tr.targets[pos];
    shown = `“${words.word}” ${stepNote(words.manifest.checkpoints, c, step)}, position ${pos}: reads ${tokenLabel(vocab, tr.tokens[pos])}, ` +
      `p(next = ${tokenLabel(vocab, target)}) = ${row(tr.probs, pos)[target].toFixed(3)}`;
    describe();
    view.requestRender();
  }
  await update();
  go(0);
  return view.handle({
    setStep(s) { step = s; return update().catch(() => {}); },
    update({ manifest: m }) { words.manifest = m; },
    stage: () => current,
  });
}
