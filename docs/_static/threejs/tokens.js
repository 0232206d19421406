// Tokens in: a probe word's (or a typed word's) characters -> token ids (BOS at both ends) -> their rows of wte plus rows of wpe ->
// the sum, and that sum RMS-normalised: what gpt() starts from at each position.
import { THREE, createView, readout, row, tokenLabel, vectorRow, wordField, wordUpdater, stepNote } from "./shared.js";

export async function create({ stage, options, manifest, snapshotUrl, fetchJSON, source, step: initialStep }) {
  const view = createView(stage, { orthographic: true });
  const vocab = manifest.vocabulary;
  const columns = [["wte", "wte[token]"], ["wpe", "+ wpe[pos]"], ["sum", "= x"], ["rmsnorm", "rmsnorm(x)"]];
  const x0 = 0.2;
  const colW = 0.17;
  const gap = 0.025;
  let step = initialStep;
  let rows = [];
  const text = readout(view);
  const field = wordField(options, manifest.probes, manifest.probes[0] ?? "", (w) => { words.word = w; update(); });
  const words = wordUpdater({ manifest, snapshotUrl, fetchJSON, source }, field, draw);
  const update = () => words.update(step);

  function layout(n) {
    for (const r of rows) for (const v of r) v.dispose();
    view.clearLabels();
    const y = (t) => 0.8 - (0.7 * (t + 0.5)) / n;
    view.label("token", new THREE.Vector3(0.05, 0.87, 0), "", "tokens");
    columns.forEach(([id, name], c) => view.label(name, new THREE.Vector3(x0 + c * (colW + gap) + colW / 2, 0.87, 0), "", id));
    rows = Array.from({ length: n }, (_, t) =>
      columns.map((_, c) => vectorRow(view, manifest.metadata.config.n_embd,
        { x: x0 + c * (colW + gap), y: y(t), width: colW, height: Math.min(0.6 / n, 0.08) })));
    return y;
  }

  function draw(c, checkpoint, trace) {
    const n = trace.tokens.length;
    const y = layout(n);
    const sd = checkpoint.state_dict;
    const scaleOf = (t) => Math.max(...t.data.map(Math.abs), 1e-12);
    const scales = [scaleOf(sd.wte), scaleOf(sd.wpe), scaleOf(trace.x0), scaleOf(trace.x_norm0)];
    trace.tokens.forEach((tok, t) => {
      view.label(`${tokenLabel(vocab, tok)} → ${tok}`, new THREE.Vector3(0.05, y(t), 0), "mg-left");
      [row(sd.wte, tok), row(sd.wpe, t), row(trace.x0, t), row(trace.x_norm0, t)].forEach((v, col) => rows[t][col].set(v, scales[col]));
    });
    text.textContent = `“${words.word}” ${stepNote(words.manifest.checkpoints, c, step)}: each row is one position, reading the token on the left; ` +
      "its row of wte plus its position's row of wpe, summed, then rescaled to unit RMS (blue < 0 < orange)";
    view.requestRender();
  }
  await update();
  return view.handle({
    setStep(s) { step = s; return update().catch(() => {}); },
    update({ manifest: m }) { words.manifest = m; },
  });
}
