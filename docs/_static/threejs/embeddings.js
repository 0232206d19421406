// Embeddings: the 27 rows of wte as points in 3D (one PCA basis for every checkpoint), moving through training.
import { COLORS, THREE, checkpointAt, createView, fitDistance, orbit, polyline, readout, tokenClass, tokenLabel } from "./shared.js";

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

  const RADIUS = 0.045;
  const spheres = new THREE.InstancedMesh(new THREE.SphereGeometry(RADIUS, 16, 12), new THREE.MeshLambertMaterial(), V);
  for (let t = 0; t < V; t++) spheres.setColorAt(t, new THREE.Color(COLORS[tokenClass(vocab, t)]));
  scene.add(spheres);
  const light = new THREE.DirectionalLight(0xffffff, 1.8);
  light.position.set(2, 3, 4);
  scene.add(new THREE.AmbientLight(0xffffff, 1.6), light);
  // The axes, their titles and the letters: each title and letter placed beside its point where it crosses no
  // axis, covers no dot and no other label (shared.js: declutter).
  const AXIS = 1.5; // the points reach 1.4 (load)
  const ends = [0, 1, 2].map((a) => new THREE.Vector3().setComponent(a, AXIS));
  for (const end of ends) scene.add(polyline([end.clone().negate().toArray(), end.toArray()], COLORS.grid));
  view.addSegments(() => ends.map((end) => [end.clone().negate(), end]));
  const axes = ends.map((end) => view.label("", end, "mg-strong", null, { around: 4 }));
  const nameAxes = () => axes.forEach((l, a) => l.set(`PC${a + 1} ${(100 * d.pca.explained_variance_ratio[a]).toFixed(0)}%`));
  nameAxes();
  const dots = Array.from({ length: V }, () => new THREE.Vector3()); // where each sphere is now
  const labels = dots.map((at, t) => view.label(tokenLabel(vocab, t), at,
    t === vocab.BOS ? "mg-strong" : tokenClass(vocab, t) === "vowel" ? "mg-first" : "", null, { around: 3 }));
  view.addShapes(() => dots.map((at, t) => ({ at, radius: RADIUS, owner: labels[t].el })));
  view.label("rows of wte", new THREE.Vector3(-1.5, 1.5, 0), "", "points");
  const ANGLES = { theta: 0.6, phi: 1.1 };
  const ends3 = ends.flatMap((end) => [end, end.clone().negate()]);
  orbit(view, { ...ANGLES, radius: fitDistance(view, ends3, ANGLES) }); // room at the ends for the axes' titles

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
        labels[t].at.copy(dots[t]);
      }
      spheres.instanceMatrix.needsUpdate = true;
      text.textContent = `token embeddings (wte) at step ${step}; vowels orange, consonants blue, BOS green`;
      view.requestRender();
    },
  });
}
