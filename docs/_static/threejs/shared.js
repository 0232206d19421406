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
  bigram: 0xd35400,
};

export const isDark = () =>
  document.body.dataset.theme === "dark" ||
  (document.body.dataset.theme !== "light" && matchMedia("(prefers-color-scheme: dark)").matches);

/** A renderer filling `stage` (below its readout, if any), a scene and a camera; renders only when asked. */
export function createView(stage, { orthographic = false, fov = 45, antialias = true } = {}) {
  const renderer = new THREE.WebGLRenderer({ antialias });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.domElement.setAttribute("role", "img"); // the picture; the stage around it also holds controls
  renderer.domElement.setAttribute("aria-label", stage.getAttribute("aria-label") || "");
  const box = document.createElement("div"); // the canvas and its labels; a readout sits above, never over it
  box.className = "mg-canvas-box";
  stage.appendChild(box);
  box.appendChild(renderer.domElement);
  const labels = document.createElement("div");
  labels.className = "mg-labels";
  box.appendChild(labels);

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
    declutter();
    renderer.render(scene, camera);
    stage.dataset.frames = String(Number(stage.dataset.frames || 0) + 1); // frames drawn: a state tests wait on
  }
  /** Pull labels that stick out sideways back inside the canvas; then fade every label that would cover one
   *  placed before it (element handles first, then bold ones, then those marked first), or a drawn shape the
   *  scene registered (addShapes) other than its own. */
  function declutter() {
    const rank = (el) => (el.dataset.element ? 0 : el.classList.contains("mg-strong") ? 1 :
      el.classList.contains("mg-first") ? 2 : 3);
    const shown = [...labels.children].filter((el) => !el.hidden && el.textContent);
    for (const el of shown) el.style.marginLeft = "";
    const edge = box.getBoundingClientRect();
    const rects = shown.map((el) => el.getBoundingClientRect()); // one layout for all the labels
    rects.forEach((r, i) => {
      const dx = Math.max(0, edge.left - r.left) - Math.max(0, r.right - edge.right);
      if (dx && r.width < edge.width && !around.has(shown[i])) { // (one placed by its spots is inside)
        shown[i].style.marginLeft = `${dx}px`;
        rects[i] = new DOMRect(r.x + dx, r.y, r.width, r.height);
      }
    });
    const meets = (r, k) => r.left < k.right - 1 && k.left < r.right - 1 && r.top < k.bottom - 1 && k.top < r.bottom - 1;
    const drawn = shapeRects(edge);
    const lines = segmentsOnScreen(edge);
    const inside = (q) => q.left >= edge.left && q.right <= edge.right && q.top >= edge.top && q.bottom <= edge.bottom;
    /** Place the labels in this order: each where it covers no label placed before it, no drawn shape and no drawn
     *  line; one that cannot is crowded (faded). A label placed by spots (label's `around` or `spots`) tries each
     *  of its spots near its point, in order. */
    const attempt = (order) => {
      const kept = [];
      const keptApart = []; // those placed with `apart`
      const free = (r, el, own) => !kept.some((k) => meets(r, k)) && !lines.some((g) => crosses(g, r)) &&
        !drawn.some((k) => (own || k.owner !== el) && meets(r, k));
      const clear = (r, apart) => !apart || !keptApart.some((k) => meets(new DOMRect(r.x, r.y - apart, r.width,
        r.height + 2 * apart), k));
      const placed = new Map(); // index -> its rect, or null when crowded
      for (const i of order) {
        let r = rects[i];
        const placing = around.get(shown[i]);
        if (placing) {
          const c = placing.at.clone().project(camera);
          const x = edge.left + ((c.x + 1) / 2) * edge.width;
          const y = edge.top + ((1 - c.y) / 2) * edge.height;
          const { width: w, height: h } = r;
          r = placing.spots(w, h).map(([dx, dy]) => new DOMRect(x + dx, y + dy, w, h))
            .find((q) => inside(q) && free(q, shown[i], true) && clear(q, placing.apart)) ?? null;
        } else if (!free(r, shown[i], false)) r = null;
        placed.set(i, r);
        if (r) kept.push(r);
        if (r && placing?.apart) keptApart.push(r);
      }
      return placed;
    };
    // by rank (element handles first, then bold ones, then those marked first); labels left out go first next time
    let order = shown.map((_, i) => i).sort((a, b) => rank(shown[a]) - rank(shown[b]) || a - b);
    let best = attempt(order);
    const missing = (placed) => [...placed].filter(([, r]) => !r).map(([i]) => i);
    for (let tries = 0; tries < 3 && missing(best).length; tries++) {
      const failed = missing(best).filter((i) => around.has(shown[i]));
      if (!failed.length) break;
      order = [...order.filter((i) => rank(shown[i]) === 0), ...failed,
        ...order.filter((i) => rank(shown[i]) !== 0 && !failed.includes(i))];
      const next = attempt(order);
      if (missing(next).length < missing(best).length) best = next;
    }
    for (const [i, r] of best) {
      const crowded = !r;
      if (r && around.has(shown[i])) {
        shown[i].style.left = `${r.left - edge.left}px`;
        shown[i].style.top = `${r.top - edge.top}px`;
      }
      shown[i].classList.toggle("mg-crowded", crowded);
      if (shown[i].dataset.element) shown[i].tabIndex = crowded ? -1 : 0; // nor is a faded one
    }
    for (const el of labels.children) if (el.hidden) el.classList.remove("mg-crowded");
  }
  const segments = []; // functions returning [[world point, world point], ...]: drawn lines labels must not cross
  /** The registered segments on screen (page coordinates), each [x1, y1, x2, y2]. */
  function segmentsOnScreen(edge) {
    const out = [];
    const toScreen = (v) => {
      const c = v.clone().project(camera);
      return [edge.left + ((c.x + 1) / 2) * edge.width, edge.top + ((1 - c.y) / 2) * edge.height];
    };
    for (const get of segments) for (const [a, b] of get()) out.push([...toScreen(a), ...toScreen(b)]);
    return out;
  }
  const around = new Map(); // label element -> {at: its world point, spots(w, h)}: labels placed by spots (declutter)
  const shapes = []; // functions returning [{at: world point, radius: world size, owner: its label's element}]
  /** The screen boxes of the registered shapes (dots, nodes): labels must not cover them. */
  function shapeRects(edge) {
    const right = new THREE.Vector3().setFromMatrixColumn(camera.matrixWorld, 0);
    const out = [];
    for (const get of shapes) {
      for (const { at, radius, owner = null } of get()) {
        const c = at.clone().project(camera);
        if (c.z > 1 || c.z < -1) continue;
        const e = at.clone().addScaledVector(right, radius).project(camera);
        const x = edge.left + ((c.x + 1) / 2) * edge.width;
        const y = edge.top + ((1 - c.y) / 2) * edge.height;
        const r = Math.max(2, Math.hypot(((e.x - c.x) / 2) * edge.width, ((e.y - c.y) / 2) * edge.height));
        out.push({ left: x - r, right: x + r, top: y - r, bottom: y + r, owner });
      }
    }
    return out;
  }
  function requestRender() {
    if (!frame) frame = requestAnimationFrame(render);
  }
  function resize() {
    const width = Math.max(box.clientWidth, 1);
    const height = Math.max(box.clientHeight, 1);
    renderer.setSize(width, height, false);
    if (!orthographic) {
      camera.aspect = width / height;
      camera.updateProjectionMatrix();
    }
    requestRender();
  }
  const observer = new ResizeObserver(resize);
  observer.observe(box);
  resize();

  const keyBindings = []; // [{map: {key: fn}, say}]: what the focused scene does with keys (scenes.js listens)
  const elements = new Map(); // element id -> its handles (buttons over the canvas)
  let linkTo = () => {};
  let selected = null; // the element the reader selected: its handles are pressed

  /** Mark the handles of the selected element (null: none) as pressed. */
  function select(id) {
    selected = id;
    for (const [key, els] of elements) for (const el of els) el.setAttribute("aria-pressed", String(key === id));
  }

  /** A text label at a 3D point, re-placed on every render; text is inserted as text.
   *  With `element`, the label is a button: hovering, focusing or clicking it shows the lines that make it.
   *  With `around`, declutter places it `around` px or more from its point, on the side where it covers nothing;
   *  with `spots(w, h)`, at the first of these offsets [[dx, dy], ...] of its top left corner from its point that
   *  covers nothing; with `apart`, at least `apart` px above or below any other label placed with `apart` that it
   *  stands over or under (two titles stacked with no gap read as one). */
  function label(text, position, className = "", element = null, { around: gap = 0, spots = null, apart = 0 } = {}) {
    const el = document.createElement(element ? "button" : "span");
    el.className = `mg-label ${className}`.trim();
    if (gap || spots) {
      el.classList.add("mg-around");
      around.set(el, { at: position, spots: spots ?? aroundSpots(gap), apart });
    }
    el.textContent = text;
    if (element) {
      el.type = "button";
      el.classList.add("mg-element");
      el.dataset.element = element;
      el.title = "Select to show the lines of microgpt.py that compute this"; // the name stays the visible text
      el.setAttribute("aria-pressed", String(element === selected));
      el.addEventListener("mouseenter", () => linkTo(element, "preview"));
      el.addEventListener("mouseleave", () => linkTo(null, "preview"));
      el.addEventListener("focus", () => linkTo(element, "preview"));
      el.addEventListener("blur", () => linkTo(null, "preview"));
      el.addEventListener("click", () => linkTo(element === selected ? null : element, "select"));
      if (!elements.has(element)) elements.set(element, []);
      elements.get(element).push(el);
    }
    labels.appendChild(el);
    const at = position.clone();
    let off = false; // put away by the scene (show(false)): hidden until shown again
    const place = () => {
      const p = at.clone().project(camera);
      el.style.left = `${((p.x + 1) / 2) * 100}%`;
      el.style.top = `${((1 - p.y) / 2) * 100}%`;
      el.hidden = off || p.z > 1 || p.z < -1 || Math.abs(p.x) > 1.02 || Math.abs(p.y) > 1.02; // behind or out of view
      if (element) el.tabIndex = el.hidden ? -1 : 0; // a hidden handle is no tab stop
    };
    beforeRender.push(place);
    return { el, at, set: (t) => { el.textContent = t; }, show: (on) => { off = !on; requestRender(); } };
  }

  /** The size a label of this text and class takes (a layout decided before its labels are placed). */
  function measure(text, className = "") {
    const el = Object.assign(document.createElement("span"), { className: `mg-label ${className}`.trim(), textContent: text });
    labels.appendChild(el);
    const { width, height } = el.getBoundingClientRect();
    el.remove();
    return { width, height };
  }

  function clearLabels() {
    labels.replaceChildren();
    around.clear();
    beforeRender.length = 0;
    elements.clear();
  }

  const highlighters = [];
  /** Light up the handles (and whatever the scene adds with onHighlight) of these element ids. */
  function highlight(ids) {
    for (const [id, els] of elements) for (const el of els) el.classList.toggle("mg-lit", ids.includes(id));
    for (const fn of highlighters) fn(ids);
    requestRender();
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
    box.remove();
  }

  return {
    THREE, renderer, scene, camera, stage, box, labels,
    requestRender, resize, label, measure, clearLabels, dispose, highlight,
    onDispose: (fn) => cleanups.push(fn),
    onBeforeRender: (fn) => beforeRender.push(fn),
    onHighlight: (fn) => highlighters.push(fn),
    /** Keys the focused scene answers: {key: fn} (KeyboardEvent.key names), and what they do, said in a few words
     *  for the scene's one-sentence key help. */
    keys: (map, say) => keyBindings.push({ map, say }),
    /** Drawn shapes labels must not cover: fn() -> [{at, radius, owner}] in world units, read at each render. */
    addShapes: (fn) => shapes.push(fn),
    /** Drawn lines labels must not cross: fn() -> [[a, b], ...] world points, read at each render. */
    addSegments: (fn) => segments.push(fn),
    /** The scene's side of line linking: ids of its elements, and where to report hover/focus/click. */
    elementIds: () => [...elements.keys()],
    linkWith: (fn) => { linkTo = fn; },
    /** Report an element as if its handle were clicked ("select") or hovered ("preview"): e.g. from the canvas. */
    link: (id, how) => linkTo(id, how),
    /** The handle for what a scene returns to the loader. */
    handle: (extra) => ({
      canvas: renderer.domElement, dispose, highlight, select, setStep() {}, keys: () => keyBindings,
      elements: () => [...elements.keys()], link: (fn) => { linkTo = fn; },
      memory: () => ({ ...renderer.info.memory }),
      /** Every drawn line's segments on screen (page coordinates [x1, y1, x2, y2]): for the tests. */
      lines: () => drawnLines(scene, camera, box.getBoundingClientRect()), ...extra,
    }),
  };
}

/** Offsets of a w x h label's top left corner all around its point, `gap` px and further away. */
function aroundSpots(gap) {
  return (w, h) => [gap, 2 * gap, 3.5 * gap, 5 * gap].flatMap((g) => {
    const d = g * 0.7;
    return [[g, -h / 2], [-g - w, -h / 2], [-w / 2, -g - h], [-w / 2, g], [d, -d - h], [d, d],
      [-d - w, -d - h], [-d - w, d], [-gap, g], [-gap, -g - h], [gap - w, g], [gap - w, -g - h]];
  });
}

/** Does segment [x1, y1, x2, y2] pass through rectangle r (shrunk by a pixel each side)? */
export function crosses([x1, y1, x2, y2], r) {
  const [left, right, top, bottom] = [r.left + 1, r.right - 1, r.top + 1, r.bottom - 1];
  let [t0, t1] = [0, 1]; // Liang-Barsky: clip the segment to the rectangle
  const dx = x2 - x1;
  const dy = y2 - y1;
  for (const [p, q] of [[-dx, x1 - left], [dx, right - x1], [-dy, y1 - top], [dy, bottom - y1]]) {
    if (p === 0) { if (q < 0) return false; continue; }
    const t = q / p;
    if (p < 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
    if (t0 > t1) return false;
  }
  return true;
}

/** The segments of every visible line object of a scene, on screen (page coordinates). */
function drawnLines(scene, camera, edge) {
  const out = [];
  const v = new THREE.Vector3();
  const toScreen = (obj, i) => {
    v.fromBufferAttribute(obj.geometry.attributes.position, i).applyMatrix4(obj.matrixWorld).project(camera);
    return [edge.left + ((v.x + 1) / 2) * edge.width, edge.top + ((1 - v.y) / 2) * edge.height];
  };
  scene.updateMatrixWorld();
  scene.traverseVisible((obj) => {
    if (!obj.isLine || !obj.geometry.attributes.position) return;
    const n = obj.geometry.attributes.position.count;
    const step = obj.isLineSegments ? 2 : 1;
    for (let i = 0; i + 1 < n; i += step) {
      const a = toScreen(obj, i);
      const b = toScreen(obj, i + 1);
      if (a.every(Number.isFinite) && b.every(Number.isFinite) && (a[0] !== b[0] || a[1] !== b[1])) out.push([...a, ...b]);
    }
  });
  return out;
}

/** Orbit the camera around `target`: drag with a mouse, or arrow keys and +/- on the focused scene. A finger
 *  scrolls the page as it does anywhere else; it turns the scene only in turn mode (the "Turn" button), and
 *  "Reset view" puts the camera back. The view's angles and distance are in the stage's data-view (a state for
 *  the tests). The returned state's `place()` applies a changed target, base distance (`base`), radius or angles;
 *  a scene may replace its `reset()`. */
export function orbit(view, { target = new THREE.Vector3(), radius = 4, theta = 0.6, phi = 1.1 } = {}) {
  const { camera, stage, requestRender } = view;
  const state = { radius, theta, phi, target, base: radius, turning: false };
  const start = { radius, theta, phi, target: target.clone() };
  const place = () => {
    state.phi = Math.min(Math.max(state.phi, 0.15), Math.PI - 0.15);
    state.radius = Math.min(Math.max(state.radius, state.base * 0.4), state.base * 3);
    camera.position.setFromSphericalCoords(state.radius, state.phi, state.theta).add(state.target);
    camera.lookAt(state.target);
    stage.dataset.view = [state.theta, state.phi, state.radius].map((v) => v.toFixed(3)).join(" ");
    requestRender();
  };
  state.reset = () => {
    Object.assign(state, { radius: start.radius, theta: start.theta, phi: start.phi, base: start.radius });
    state.target.copy(start.target);
    place();
  };
  let drag = null;
  const down = (e) => {
    if (e.pointerType === "touch" && !state.turning) return; // a swipe scrolls the page
    if (e.target.closest?.("button, a, input, select")) return;
    drag = { x: e.clientX, y: e.clientY };
    stage.setPointerCapture?.(e.pointerId);
  };
  const move = (e) => {
    if (!drag) return;
    state.theta -= (e.clientX - drag.x) * 0.01;
    state.phi -= (e.clientY - drag.y) * 0.01;
    drag = { x: e.clientX, y: e.clientY };
    place();
  };
  const up = () => { drag = null; };
  const by = (theta, phi, zoom) => () => {
    state.theta += theta;
    state.phi += phi;
    state.radius *= zoom;
    place();
  };
  view.keys({ ArrowLeft: by(0.1, 0, 1), ArrowRight: by(-0.1, 0, 1), ArrowUp: by(0, -0.1, 1), ArrowDown: by(0, 0.1, 1),
    "+": by(0, 0, 0.9), "=": by(0, 0, 0.9), "-": by(0, 0, 1.1) }, "arrow keys turn the view, + and − zoom");
  const bar = stage.closest("figure")?.querySelector(".mg-scene-options") ?? stage;
  const turn = button(bar, "Turn", () => {
    state.turning = !state.turning;
    turn.setAttribute("aria-pressed", String(state.turning));
    stage.classList.toggle("mg-turning", state.turning); // touch-action: none, while turning
  });
  turn.setAttribute("aria-pressed", "false");
  turn.title = "Turn the scene with a finger (a swipe scrolls the page otherwise)";
  const reset = button(bar, "Reset view", () => state.reset());
  stage.addEventListener("pointerdown", down);
  stage.addEventListener("pointermove", move);
  stage.addEventListener("pointerup", up);
  stage.addEventListener("pointercancel", up);
  view.onDispose(() => {
    stage.removeEventListener("pointerdown", down);
    stage.removeEventListener("pointermove", move);
    stage.removeEventListener("pointerup", up);
    stage.removeEventListener("pointercancel", up);
    stage.classList.remove("mg-turning");
    delete stage.dataset.view;
    turn.remove();
    reset.remove();
  });
  state.place = place;
  place();
  return state;
}

/** The orbit's distance at which these world points fill at most `fill` of the canvas's width and height, seen
 *  from the orbit's angles (a 3D scene sized to its canvas, whatever the canvas's shape). */
export function fitDistance(view, points, { target = new THREE.Vector3(), theta = 0.6, phi = 1.1, fill = 0.8 } = {}) {
  const camera = view.camera.clone();
  let [near, far] = [0.1, 1000];
  for (let i = 0; i < 40; i++) { // the points fit from `far`, not from `near`
    const r = Math.sqrt(near * far);
    camera.position.setFromSphericalCoords(r, phi, theta).add(target);
    camera.lookAt(target);
    camera.updateMatrixWorld();
    const fits = points.every((p) => {
      const c = p.clone().project(camera);
      return c.z < 1 && Math.abs(c.x) <= fill && Math.abs(c.y) <= fill;
    });
    if (fits) far = r;
    else near = r;
  }
  return far;
}

/** A line through points [[x, y, z], ...]; non-finite points break the line instead of breaking the scene. */
export function polyline(points, color, { dashed = false, dotted = false, width = 1 } = {}) {
  const group = new THREE.Group();
  let run = [];
  const flush = () => {
    if (run.length > 1) {
      const geometry = new THREE.BufferGeometry().setFromPoints(run.map((p) => new THREE.Vector3(...p)));
      const material = dashed || dotted
        ? new THREE.LineDashedMaterial({ color, linewidth: width, ...(dotted ? { dashSize: 0.005, gapSize: 0.004 }
          : { dashSize: 0.015, gapSize: 0.012 }) })
        : new THREE.LineBasicMaterial({ color, linewidth: width });
      const line = new THREE.Line(geometry, material);
      if (dashed || dotted) line.computeLineDistances();
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
  const el = setOptions(document.createElement("select"), options);
  el.addEventListener("change", () => onChange(el.value));
  label.appendChild(el);
  container.appendChild(label);
  return el;
}

/** Replace a select's options with [value, text] pairs; the text comes from data and is set as text. */
export function setOptions(el, items) {
  el.replaceChildren(...items.map(([value, text]) => Object.assign(document.createElement("option"),
    { value: String(value), textContent: text })));
  return el;
}

/** A button in the figure's options row. */
export function button(container, text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", onClick);
  container.appendChild(b);
  return b;
}

/** The checkpoint file at or before a step: [its step, its contents]. */
export async function loadCheckpoint(manifest, step, snapshotUrl, fetchJSON) {
  const c = checkpointAt(manifest.checkpoints, step);
  const url = new URL(`checkpoints/step-${String(c).padStart(4, "0")}.json`, snapshotUrl).href;
  return [c, await fetchJSON(url)];
}

/** The checkpoint at or before a step. */
export function checkpointAt(checkpoints, step) {
  let best = checkpoints[0];
  for (const c of checkpoints) if (c <= step) best = c;
  return best;
}

export const tokenLabel = (vocab, t) => (t === vocab.BOS ? "BOS" : vocab.uchars[t]);
export const tokenClass = (vocab, t) => (t === vocab.BOS ? "bos" : "aeiou".includes(vocab.uchars[t]) ? "vowel" : "consonant");

/** Blue for negative, white for zero, orange for positive; t in [-1, 1]. */
export function diverging(t, color = new THREE.Color()) {
  const v = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  return v < 0 ? color.setRGB(1 + 0.82 * v, 1 + 0.55 * v, 1 + 0.2 * v) : color.setRGB(1 - 0.1 * v, 1 - 0.6 * v, 1 - 0.95 * v);
}

/** A row of `length` coloured cells in an orthographic scene: one number of a vector per cell. */
export function vectorRow(view, length, { x = 0, y = 0, width = 1, height = 0.03 } = {}) {
  const mesh = new THREE.InstancedMesh(new THREE.PlaneGeometry(1, 1), new THREE.MeshBasicMaterial(), Math.max(length, 1));
  const cell = width / Math.max(length, 1);
  const m = new THREE.Matrix4();
  for (let i = 0; i < length; i++) {
    m.makeScale(cell * 0.88, height, 1).setPosition(x + cell * (i + 0.5), y, 0);
    mesh.setMatrixAt(i, m);
  }
  view.scene.add(mesh);
  const color = new THREE.Color();
  return {
    mesh,
    dispose() {
      view.scene.remove(mesh);
      mesh.geometry.dispose();
      mesh.material.dispose();
      mesh.dispose();
    },
    /** Colour the cells by value / scale (scale defaults to the row's largest magnitude). */
    set(values, scale = Math.max(...values.map(Math.abs), 1e-12)) {
      values.forEach((v, i) => mesh.setColorAt(i, diverging(v / scale, color)));
      mesh.instanceColor.needsUpdate = true;
    },
  };
}

/** Row r (a flat array) of a row-major tensor {shape, data}. */
export const row = (t, r) => t.data.slice(r * t.shape[t.shape.length - 1], (r + 1) * t.shape[t.shape.length - 1]);

/** A line of text above the canvas (never over it). */
export function readout(view) {
  const el = document.createElement("div");
  el.className = "mg-readout";
  view.stage.insertBefore(el, view.box);
  view.onDispose(() => el.remove());
  return el;
}

export const fmt = (values, k = 4) =>
  `[${values.slice(0, k).map((v) => (v >= 0 ? " " : "") + v.toFixed(2)).join(",")}${values.length > k ? ", …" : ""}]`;

let fields = 0;

/** A labelled text field in the options row for any word (the probe words offered as suggestions); onWord(word)
 *  when the reader presses Enter or leaves the field. `say` shows a message beside it, always as text. */
export function wordField(container, probes, value, onWord) {
  const id = `mg-word-${++fields}`;
  const label = document.createElement("label");
  label.textContent = "Word ";
  const input = Object.assign(document.createElement("input"), {
    type: "text", value, spellcheck: false, autocomplete: "off", size: 12, className: "mg-word",
  });
  input.setAttribute("list", `${id}-list`);
  input.setAttribute("aria-describedby", `${id}-message`);
  const list = Object.assign(document.createElement("datalist"), { id: `${id}-list` });
  list.append(...probes.map((p) => Object.assign(document.createElement("option"), { value: p })));
  label.append(input, list);
  const message = Object.assign(document.createElement("span"), { id: `${id}-message`, className: "mg-scene-message" });
  message.setAttribute("role", "status");
  container.append(label, message);
  input.addEventListener("change", () => onWord(input.value));
  return {
    input,
    say(text, error = false) {
      message.textContent = text;
      message.classList.toggle("mg-error", error);
      input.setAttribute("aria-invalid", String(error));
    },
  };
}

/** A word's trace at a checkpoint: a recorded probe's as it is, any other word traced by the run's source (the port
 *  in the worker, through that checkpoint's weights). Rejects with the port's message for a word it cannot trace. */
export async function traceOf(source, manifest, c, checkpoint, word, field) {
  if (Object.hasOwn(checkpoint.traces, word)) return checkpoint.traces[word];
  const size = await source.runtimeNote();
  if (size) field.say(`Tracing a word of your own runs this port in your browser: loading the Python runtime (${size}, once)…`);
  return source.trace(word, c, checkpoint, manifest);
}

/** "at step 100" for a checkpoint shown at its own step; between checkpoints, says it shows the nearest one kept
 *  and how often checkpoints are kept. */
export function stepNote(checkpoints, c, step) {
  if (step === undefined || step === null || c === step) return `at step ${c}`;
  const every = checkpoints.length > 1 ? checkpoints[1] - checkpoints[0] : 0;
  return `at step ${c}, the nearest checkpoint at or before step ${step}` +
    (every ? ` (this scene reads checkpoints, one every ${every} steps)` : "");
}

/** Update a scene for a word: load the checkpoint at `step`, trace `word` there, then draw(c, checkpoint, trace).
 *  A newer call wins; a word the port cannot trace leaves the picture as it was and says why. */
export function wordUpdater({ manifest: first, snapshotUrl, fetchJSON, source }, field, draw) {
  let request = 0;
  const state = { manifest: first, word: first.probes[0] ?? "" };
  state.update = async (step) => {
    const mine = ++request;
    const [c, checkpoint] = await loadCheckpoint(state.manifest, step, snapshotUrl, fetchJSON);
    if (mine !== request) return;
    if (!state.word) return field.say("Type a word to trace it through the model.");
    let trace;
    try {
      trace = await traceOf(source, state.manifest, c, checkpoint, state.word, field);
    } catch (e) {
      if (mine === request) field.say(e.message, true);
      return;
    }
    if (mine !== request) return;
    if (trace.word && trace.word !== state.word) { // read as the model reads it (e.g. its case folded)
      state.word = trace.word;
      field.input.value = trace.word;
    }
    field.say(trace.note ?? "");
    draw(c, checkpoint, trace);
  };
  return state;
}
