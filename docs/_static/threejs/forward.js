// The forward pass: gpt() for one position of a probe word (or a typed one), block by block, each with its real vector at
// the step shown: embeddings, RMSNorm, q/k/v, the heads, attn_wo, residual, RMSNorm, mlp_fc1, ReLU, mlp_fc2,
// residual, lm_head, softmax.
import { THREE, createView, fmt, readout, row, select, setOptions, tokenLabel, vectorRow, wordField, wordUpdater, stepNote } from "./shared.js";

const BLOCKS = [ // [element id, label, where the vector lives in the trace]
  ["embed", "wte + wpe", (tr, L, p) => row(tr.x0, p)],
  ["norm0", "rmsnorm", (tr, L, p) => row(tr.x_norm0, p)],
  ["norm1", "rmsnorm", (tr, L, p) => row(L.xn, p)],
  ["q", "q = attn_wq x", (tr, L, p) => row(L.q, p)],
  ["k", "k = attn_wk x", (tr, L, p) => row(L.k, p)],
  ["v", "v = attn_wv x", (tr, L, p) => row(L.v, p)],
  ["heads", "heads: weights", null],
  ["heads", "heads: output", (tr, L, p) => row(L.x_attn, p)],
  ["attn_wo", "attn_wo", (tr, L, p) => row(L.attn_out, p)],
  ["residual1", "+ residual", (tr, L, p) => row(L.x_mid, p)],
  ["norm2", "rmsnorm", (tr, L, p) => row(L.xn2, p)],
  ["fc1", "mlp_fc1", (tr, L, p) => row(L.h, p)],
  ["relu", "relu", (tr, L, p) => row(L.h_relu, p)],
  ["fc2", "mlp_fc2", (tr, L, p) => row(L.mlp_out, p)],
  ["residual2", "+ residual", (tr, L, p) => row(L.x_out, p)],
  ["logits", "lm_head", (tr, L, p) => row(tr.logits, p)],
  ["probs", "softmax", (tr, L, p) => row(tr.probs, p)],
];

export async function create({ stage, options, manifest, snapshotUrl, fetchJSON, source, step: initialStep }) {
  const view = createView(stage, { orthographic: true });
  const vocab = manifest.vocabulary;
  const { n_head: H, block_size: block } = manifest.metadata.config;
  let pos = 0;
  let step = initialStep;
  const text = readout(view);
  const top = 0.9;
  const rowH = 0.84 / BLOCKS.length;
  const y = (i) => top - rowH * (i + 0.5);
  const rows = BLOCKS.map(([id, name, get], i) => {
    view.label(name, new THREE.Vector3(0.2, y(i), 0), "mg-right", id);
    if (!get) { // the heads' attention weights: one short row per head
      return Array.from({ length: H }, (_, h) => vectorRow(view, block, { x: 0.22 + h * (0.52 / H), y: y(i), width: 0.5 / H, height: rowH * 0.7 }));
    }
    return vectorRow(view, 1, { x: 0.22, y: y(i) }); // resized on first update
  });
  const values = BLOCKS.map((_, i) => view.label("", new THREE.Vector3(0.76, y(i), 0), "mg-left"));
  const field = wordField(options, manifest.probes, manifest.probes[0] ?? "", (w) => { words.word = w; pos = 0; update(); });
  const words = wordUpdater({ manifest, snapshotUrl, fetchJSON, source }, field, draw);
  const update = () => words.update(step);
  const posEl = select(options, "Position", [], (v) => { pos = Number(v); update(); });

  function fillPositions(tokens) {
    setOptions(posEl, tokens.slice(0, -1).map((t, p) =>
      [p, `${p}: reads ${tokenLabel(vocab, t)}, predicts ${tokenLabel(vocab, tokens[p + 1])}`]));
    posEl.value = String(pos);
  }

  /** A row's summary that fits right of the rows (0.76 to the edge): fewer numbers on a narrow screen. */
  function fitted(v) {
    const room = (0.24 * view.box.clientWidth - 4) / 6.6; // characters of the labels' monospace font
    for (let k = 3; k >= 1; k--) {
      const t = `${v.length}: ${fmt(v, k)}`;
      if (t.length <= room) return t;
    }
    return String(v.length).length + 1 <= room ? `${v.length}` : "";
  }

  function draw(c, checkpoint, tr) {
    fillPositions([...tr.tokens, tr.targets[tr.targets.length - 1]]);
    const L = tr.layers[0];
    BLOCKS.forEach(([, , get], i) => {
      if (!get) {
        const n = L.attn_weights.shape[1];
        rows[i].forEach((r, h) => {
          const w = L.attn_weights.data.slice((h * n + pos) * n, (h * n + pos) * n + n);
          r.set(w.map((v, j) => (j <= pos ? v : 0)).concat(Array(block - n).fill(0)), 1);
        });
        const full = `p=${pos} reads ${pos + 1} position${pos ? "s" : ""}`;
        values[i].set(full.length <= (0.24 * view.box.clientWidth - 4) / 6.6 ? full : `${pos + 1}`);
        return;
      }
      const v = get(tr, L, pos);
      if (rows[i].mesh.count !== v.length) {
        rows[i].dispose();
        rows[i] = vectorRow(view, v.length, { x: 0.22, y: y(i), width: 0.52, height: rowH * 0.7 });
      }
      rows[i].set(v);
      values[i].set(fitted(v));
    });
    const target = tr.targets[pos];
    text.textContent = `“${words.word}” ${stepNote(words.manifest.checkpoints, c, step)}, position ${pos}: reads ${tokenLabel(vocab, tr.tokens[pos])}; ` +
      `p(next = ${tokenLabel(vocab, target)}) = ${row(tr.probs, pos)[target].toFixed(3)}, loss ${tr.losses[pos].toFixed(3)}`;
    view.requestRender();
  }
  await update();
  return view.handle({
    setStep(s) { step = s; return update().catch(() => {}); },
    update({ manifest: m }) { words.manifest = m; },
  });
}
