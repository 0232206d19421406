// Shared by every scene: renderer and camera set-up, resize to the container, render on demand,
// a keyboard- and pointer-driven orbit, text labels, colours, and a dispose that frees what was made.
import * as THREE from "three"; // resolved by the page's import map to the pinned, vendored build

export { THREE };

export const COLORS = {
  vowel: 0xd35400,
  consonant: 0x2f5aa8,
  bos: 0x2f7d6d,
  raw: 0x9aa5b8,
  average: 0x2f5aa8,
  baseline: 0xc0392b,
  rate: 0x2f7d6d,
  marker: 0x222222,
  chosen: 0xd35400,
  argmax: 0x2f7d6d,
  bar: 0x8a9bb8,
  grid: 0xb8bec8,
};

export const isDark = () =>
  document.body.dataset.theme === "dark" ||
  (document.body.dataset.theme !== "light" && matchMedia("(prefers-color-scheme: dark)").matches);

/** A renderer filling `stage`, a scene and a camera; renders only when asked. */
export function createView(stage, { orthographic = false, fov = 45 } = {}) {
  const renderer = new THREE.WebGLRenderer({ antialias: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.domElement.setAttribute("aria-hidden", "true");
  stage.appendChild(renderer.domElement);
  const labels = document.createElement("div");
  labels.className = "mg-labels";
  stage.appendChild(labels);

  const scene = new THREE.Scene();
  scene.background = new THREE.Color(isDark() ? 0x1e2127 : 0xf8f9fb);
  const camera = orthographic
    ? new THREE.OrthographicCamera(0, 1, 1, 0, -10, 10)
    : new THREE.PerspectiveCamera(fov, 1, 0.05, 100);
  const cleanups = [];
  const beforeRender = [];
  let frame = 0;

  function render() {
    frame = 0;
    camera.updateMatrixWorld(); // labels project with this frame's camera, not the last one
    for (const fn of beforeRender) fn();
    renderer.render(scene, camera);
  }
  function requestRender() {
    if (!frame) frame = requestAnimationFrame(render);
  }
  function resize() {
    const width = Math.max(stage.clientWidth, 1);
    const height = Math.max(stage.clientHeight, 1);
    renderer.setSize(width, height, false);
    if (!orthographic) {
      camera.aspect = width / height;
      camera.updateProjectionMatrix();
    }
    requestRender();
  }
  const observer = new ResizeObserver(resize);
  observer.observe(stage);
  resize();

  /** A text label at a 3D point, re-placed on every render; text is inserted as text. */
  function label(text, position, className = "") {
    const el = document.createElement("span");
    el.className = `mg-label ${className}`.trim();
    el.textContent = text;
    labels.appendChild(el);
    const at = position.clone();
    const place = () => {
      const p = at.clone().project(camera);
      el.style.left = `${((p.x + 1) / 2) * 100}%`;
      el.style.top = `${((1 - p.y) / 2) * 100}%`;
      el.hidden = p.z > 1 || p.z < -1;
    };
    beforeRender.push(place);
    return { el, at, set: (t) => { el.textContent = t; } };
  }

  function clearLabels() {
    labels.replaceChildren();
    beforeRender.length = 0;
  }

  function dispose() {
    if (frame) cancelAnimationFrame(frame);
    observer.disconnect();
    for (const fn of cleanups.splice(0)) fn();
    scene.traverse((obj) => {
      obj.geometry?.dispose();
      const materials = Array.isArray(obj.material) ? obj.material : obj.material ? [obj.material] : [];
      for (const m of materials) {
        m.map?.dispose();
        m.dispose();
      }
      obj.dispose?.();
    });
    scene.clear();
    renderer.dispose();
    renderer.forceContextLoss();
    renderer.domElement.remove();
    labels.remove();
  }

  return {
    THREE, renderer, scene, camera, stage, labels,
    requestRender, resize, label, clearLabels, dispose,
    onDispose: (fn) => cleanups.push(fn),
    onBeforeRender: (fn) => beforeRender.push(fn),
  };
}

/** Orbit the camera around `target`: drag with a pointer, or arrow keys and +/- on the focused stage. */
export function orbit(view, { target = new THREE.Vector3(), radius = 4, theta = 0.6, phi = 1.1 } = {}) {
  const { camera, stage, requestRender } = view;
  const state = { radius, theta, phi };
  const place = () => {
    state.phi = Math.min(Math.max(state.phi, 0.15), Math.PI - 0.15);
    state.radius = Math.min(Math.max(state.radius, radius * 0.4), radius * 3);
    camera.position.setFromSphericalCoords(state.radius, state.phi, state.theta).add(target);
    camera.lookAt(target);
    requestRender();
  };
  let drag = null;
  const down = (e) => { drag = { x: e.clientX, y: e.clientY }; stage.setPointerCapture?.(e.pointerId); };
  const move = (e) => {
    if (!drag) return;
    state.theta -= (e.clientX - drag.x) * 0.01;
    state.phi -= (e.clientY - drag.y) * 0.01;
    drag = { x: e.clientX, y: e.clientY };
    place();
  };
  const up = () => { drag = null; };
  const key = (e) => {
    const moves = { ArrowLeft: [0.1, 0, 1], ArrowRight: [-0.1, 0, 1], ArrowUp: [0, -0.1, 1], ArrowDown: [0, 0.1, 1],
      "+": [0, 0, 0.9], "=": [0, 0, 0.9], "-": [0, 0, 1.1] };
    const m = moves[e.key];
    if (!m) return;
    e.preventDefault();
    state.theta += m[0];
    state.phi += m[1];
    state.radius *= m[2];
    place();
  };
  stage.tabIndex = 0;
  stage.addEventListener("pointerdown", down);
  stage.addEventListener("pointermove", move);
  stage.addEventListener("pointerup", up);
  stage.addEventListener("pointercancel", up);
  stage.addEventListener("keydown", key);
  view.onDispose(() => {
    stage.removeEventListener("pointerdown", down);
    stage.removeEventListener("pointermove", move);
    stage.removeEventListener("pointerup", up);
    stage.removeEventListener("pointercancel", up);
    stage.removeEventListener("keydown", key);
    stage.removeAttribute("tabindex");
  });
  place();
  return state;
}

/** A line through points [[x, y, z], ...]; non-finite points break the line instead of breaking the scene. */
export function polyline(points, color, { dashed = false, width = 1 } = {}) {
  const group = new THREE.Group();
  let run = [];
  const flush = () => {
    if (run.length > 1) {
      const geometry = new THREE.BufferGeometry().setFromPoints(run.map((p) => new THREE.Vector3(...p)));
      const material = dashed
        ? new THREE.LineDashedMaterial({ color, dashSize: 0.015, gapSize: 0.012, linewidth: width })
        : new THREE.LineBasicMaterial({ color, linewidth: width });
      const line = new THREE.Line(geometry, material);
      if (dashed) line.computeLineDistances();
      group.add(line);
    }
    run = [];
  };
  for (const p of points) {
    if (p.every(Number.isFinite)) run.push(p);
    else flush();
  }
  flush();
  return group;
}

/** A select element in the figure's options row; its labels come from data and are set as text. */
export function select(container, labelText, options, onChange) {
  const label = document.createElement("label");
  label.textContent = `${labelText} `;
  const el = document.createElement("select");
  options.forEach(([value, text]) => {
    const o = document.createElement("option");
    o.value = String(value);
    o.textContent = text;
    el.appendChild(o);
  });
  el.addEventListener("change", () => onChange(el.value));
  label.appendChild(el);
  container.appendChild(label);
  return el;
}

/** The checkpoint at or before a step. */
export function checkpointAt(checkpoints, step) {
  let best = checkpoints[0];
  for (const c of checkpoints) if (c <= step) best = c;
  return best;
}

export const tokenLabel = (vocab, t) => (t === vocab.BOS ? "BOS" : vocab.uchars[t]);
export const tokenClass = (vocab, t) => (t === vocab.BOS ? "bos" : "aeiou".includes(vocab.uchars[t]) ? "vowel" : "consonant");
