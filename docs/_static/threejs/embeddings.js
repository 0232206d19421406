// Embeddings: the 27 rows of wte as points in 3D (one PCA basis for every checkpoint), moving through training.
import { COLORS, THREE, checkpointAt, createView, orbit, polyline, readout, tokenClass, tokenLabel } from "./shared.js";

export async function create({ stage, data, manifest }) {
  const view = createView(stage);
  const { scene } = view;
  const vocab = manifest.vocabulary;
  const V = data.wte_pca.shape[1];
  let d = data; // the reader's run replaces it after every step (update)
  let K = 0;
  let at = null;
  function load(next) {
    d = next;
    K = d.wte_pca.shape[0];
    const points = d.wte_pca.data;
    let extent = 1e-9;
    for (const v of points) if (Number.isFinite(v)) extent = Math.max(extent, Math.abs(v));
    const scale = 1.4 / extent;
    at = (k, t, i) => points[(k * V + t) * 3 + i] * scale;
  }
  load(data);

  const spheres = new THREE.InstancedMesh(new THREE.SphereGeometry(0.045, 16, 12), new THREE.MeshLambertMaterial(), V);
  for (let t = 0; t < V; t++) spheres.setColorAt(t, new THREE.Color(COLORS[tokenClass(vocab, t)]));
  scene.add(spheres);
  const light = new THREE.DirectionalLight(0xffffff, 1.8);
  light.position.set(2, 3, 4);
  scene.add(new THREE.AmbientLight(0xffffff, 1.6), light);
  const axes = [0, 1, 2].map((a) => {
    const end = [0, 0, 0];
    end[a] = 1.6;
    scene.add(polyline([[-end[0], -end[1], -end[2]], end], COLORS.grid));
    return view.label("", new THREE.Vector3(...end.map((v) => v * 1.08)), "mg-strong");
  });
  const nameAxes = () => axes.forEach((l, a) => l.set(`PC${a + 1} ${(100 * d.pca.explained_variance_ratio[a]).toFixed(0)}%`));
  nameAxes();
  const labels = Array.from({ length: V }, (_, t) =>
    view.label(tokenLabel(vocab, t), new THREE.Vector3(),
      `mg-left${t === vocab.BOS ? " mg-strong" : tokenClass(vocab, t) === "vowel" ? " mg-first" : ""}`));
  const dots = Array.from({ length: V }, () => new THREE.Vector3()); // where each sphere is now
  view.addShapes(() => dots.map((at, t) => ({ at, radius: 0.045, owner: labels[t].el })));
  view.label("rows of wte", new THREE.Vector3(-1.5, 1.5, 0), "", "points");
  orbit(view, { radius: 4.2 });

  const text = readout(view);
  const matrix = new THREE.Matrix4();

  return view.handle({
    update({ data: next }) { load(next); nameAxes(); },
    setStep(step) {
      const c = checkpointAt(d.checkpoints, step);
      const k = d.checkpoints.indexOf(c);
      const next = Math.min(k + 1, K - 1);
      const span = d.checkpoints[next] - c;
      const f = span > 0 ? Math.min((step - c) / span, 1) : 0; // between checkpoints: move smoothly
      for (let t = 0; t < V; t++) {
        const p = [0, 1, 2].map((i) => (1 - f) * at(k, t, i) + f * at(next, t, i));
        matrix.makeTranslation(p[0], p[1], p[2]);
        dots[t].set(p[0], p[1], p[2]);
        spheres.setMatrixAt(t, matrix);
        labels[t].at.set(p[0] + 0.06, p[1], p[2]);
      }
      spheres.instanceMatrix.needsUpdate = true;
      text.textContent = `token embeddings (wte) at step ${step}; vowels orange, consonants blue, BOS green`;
      view.requestRender();
    },
  });
}
