// Attention: for a probe word (or any word the reader types), each head's causal attention weights as bars (query rows, key columns).
import { THREE, createView, orbit, readout, select, tokenLabel, wordField, wordUpdater, stepNote } from "./shared.js";

export async function create({ stage, options, manifest, snapshotUrl, fetchJSON, source, step: initialStep }) {
  const view = createView(stage);
  const { scene } = view;
  const vocab = manifest.vocabulary;
  const { n_head: H, block_size: maxN, n_layer: L } = manifest.metadata.config;
  const gap = 1.5;
  const bars = new THREE.InstancedMesh(new THREE.BoxGeometry(0.8, 1, 0.8), new THREE.MeshLambertMaterial(), H * maxN * maxN);
  scene.add(bars);
  const light = new THREE.DirectionalLight(0xffffff, 2);
  light.position.set(3, 6, 5);
  scene.add(new THREE.AmbientLight(0xffffff, 1.5), light);

  let layer = 0;
  let step = initialStep;
  const text = readout(view);
  const field = wordField(options, manifest.probes, manifest.probes[0] ?? "", (w) => { words.word = w; update(); });
  const words = wordUpdater({ manifest, snapshotUrl, fetchJSON, source }, field, draw);
  const update = () => words.update(step);
  if (L > 1) select(options, "Layer", Array.from({ length: L }, (_, i) => [i, String(i)]), (v) => { layer = Number(v); update(); });

  const matrix = new THREE.Matrix4();
  const color = new THREE.Color();
  let orbitState = null;

  function draw(c, checkpoint, trace) {
    const w = trace.layers[layer].attn_weights;
    const n = w.shape[1];
    const width = H * n + (H - 1) * gap;
    let i = 0;
    for (let h = 0; h < H; h++) {
      for (let q = 0; q < maxN; q++) {
        for (let k = 0; k < maxN; k++, i++) {
          const weight = q < n && k <= q ? w.data[(h * n + q) * n + k] : 0;
          const x = h * (n + gap) + k - width / 2;
          const z = q - n / 2;
          const height = Math.max(weight * 3, 0.001);
          matrix.makeScale(1, height, 1).setPosition(x, height / 2, z);
          if (!(q < n && k <= q)) matrix.makeScale(0, 0, 0);
          bars.setMatrixAt(i, matrix);
          bars.setColorAt(i, color.setHSL(0.6 - 0.6 * weight, 0.65, 0.5));
        }
      }
    }
    bars.instanceMatrix.needsUpdate = true;
    bars.instanceColor.needsUpdate = true;
    view.clearLabels();
    const tokens = trace.tokens.map((t) => tokenLabel(vocab, t));
    for (let h = 0; h < H; h++) {
      const x0 = h * (n + gap) - width / 2;
      view.label(`head ${h}`, new THREE.Vector3(x0 + (n - 1) / 2, 0, n / 2 + 1.3), "mg-strong", "heads");
      tokens.forEach((tok, j) => view.label(tok, new THREE.Vector3(x0 + j, 0, n / 2 + 0.4)));
    }
    tokens.forEach((tok, q) => view.label(tok, new THREE.Vector3(-width / 2 - 2.6, 0, q - n / 2), "mg-right")); // clear of the bars
    view.label("attention weights", new THREE.Vector3(0, 3.4, -n / 2), "", "weights");
    if (!orbitState) orbitState = orbit(view, { radius: Math.max(width, 8) * 0.8, theta: 0.25, phi: 0.9 });
    text.textContent = `“${words.word}” ${stepNote(words.manifest.checkpoints, c, step)}: row = the position reading, column = the position read; ` +
      "bar height = attention weight (each row sums to 1)";
    view.requestRender();
  }

  await update();
  return view.handle({
    setStep(s) { step = s; return update().catch(() => {}); },
    update({ manifest: m }) { words.manifest = m; },
  });
}
