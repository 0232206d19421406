// The code editor of the exercises and the runnable cells: CodeMirror 6 (Python highlighting, indentation, undo),
// vendored by the build (src/microgpt/sphinxext/editor.py) into the folder editor.json names, and loaded on the
// first edit. The keys every code field follows: Shift+Enter runs, Escape leaves (no Tab trap), Tab indents and
// Shift+Tab dedents, Enter after a line ending in ":" indents the next (the Python language's indentation). On a
// touch screen, whose keyboard has no Tab, Indent and Dedent buttons do it. If the editor cannot load, a plain
// textarea with the same keys takes its place.
//   const editor = await createEditor(parent, {doc, label, describedBy, onRun, onLeave});
//   editor.value; editor.value = "..."; editor.select(from, to, backward); editor.focus(); editor.destroy();
//   editor.dom (in parent); editor.input
const base = new URL("./", import.meta.url);
const FILES = ["codemirror-state", "codemirror-view", "codemirror-commands", "codemirror-language",
  "codemirror-lang-python"];
let loading = null;

function load() {
  if (!loading && !document.querySelector("link[data-mg-editor]")) { // the editor's styles, with the editor
    const link = document.head.appendChild(document.createElement("link"));
    Object.assign(link, { rel: "stylesheet", href: new URL("editor.css", base).href });
    link.dataset.mgEditor = "";
  }
  loading ??= fetch(new URL("editor.json", base), { cache: "no-cache" })
    .then((r) => { if (!r.ok) throw new Error(`editor.json: HTTP ${r.status}`); return r.json(); })
    .then(({ vendor }) => Promise.all(FILES.map((name) => import(new URL(`${vendor}${name}.js`, base).href))));
  loading.catch(() => { loading = null; });
  return loading;
}

export async function createEditor(parent, options) {
  let editor;
  try {
    editor = codemirror(parent, options, await load());
  } catch (e) {
    console.warn(`microgpt: the code editor could not load (${e?.message ?? e}); a plain text field instead`);
    editor = textarea(parent, options);
  }
  return withTouchKeys(editor);
}

/** A touch screen's keyboard has no Tab: Indent and Dedent buttons under the code (shown only where the main
 *  pointer is coarse, editor.css), acting on the current line or selection; the code keeps the focus. */
function withTouchKeys(editor) {
  const box = document.createElement("div");
  box.className = "mg-editor-box";
  editor.dom.replaceWith(box);
  const bar = document.createElement("div");
  bar.className = "mg-editor-touch";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Indentation");
  for (const [text, out] of [["Indent →", false], ["← Dedent", true]]) {
    const b = Object.assign(document.createElement("button"), { type: "button", textContent: text });
    b.addEventListener("mousedown", (e) => e.preventDefault()); // the code keeps the focus (and the keyboard stays)
    b.addEventListener("click", () => { editor.indent(out); editor.focus(); });
    bar.append(b);
  }
  box.append(editor.dom, bar);
  const destroy = editor.destroy;
  return Object.assign(editor, { dom: box, destroy() { destroy(); box.remove(); } });
}

function codemirror(parent, { doc, label, describedBy, onRun, onLeave }, modules) {
  const [{ EditorState }, { EditorView, keymap, drawSelection }, commands, language, { python }] = modules;
  const { defaultKeymap, history, historyKeymap, indentMore, indentLess } = commands;
  const { syntaxHighlighting, defaultHighlightStyle, indentUnit, bracketMatching } = language;
  const keys = keymap.of([
    { key: "Shift-Enter", run: () => { onRun?.(); return true; } },
    { key: "Escape", run: () => { onLeave?.(); return true; } },
    { key: "Tab", run: indentMore, shift: indentLess },
    ...historyKeymap, ...defaultKeymap,
  ]);
  const attributes = { "aria-label": label, ...(describedBy ? { "aria-describedby": describedBy } : {}) };
  const view = new EditorView({
    parent,
    state: EditorState.create({ doc, extensions: [keys, history(), drawSelection(), python(), bracketMatching(),
      syntaxHighlighting(defaultHighlightStyle), indentUnit.of("    "), EditorState.tabSize.of(4),
      EditorView.contentAttributes.of(attributes),
      EditorView.editorAttributes.of({ class: "mg-editor" })] }), // (a class added by hand goes at the next focus)
  });
  // the keys typed in the code are the code's: the page's own shortcuts (Sphinx's "/" focuses the search box, and
  // a contenteditable is not among the fields it leaves alone) listen on the document, past this
  view.dom.addEventListener("keydown", (e) => e.stopPropagation());
  return {
    dom: view.dom,
    input: view.contentDOM,
    get value() { return view.state.doc.toString(); },
    set value(text) { view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }); },
    select(from, to, backward = false) {
      const end = (n) => Math.min(Math.max(n, 0), view.state.doc.length);
      view.dispatch({ selection: backward ? { anchor: end(to), head: end(from) } : { anchor: end(from), head: end(to) } });
    },
    indent(out) { (out ? indentLess : indentMore)(view); },
    focus() { view.focus(); },
    destroy() { view.destroy(); },
  };
}

function textarea(parent, { doc, label, describedBy, onRun, onLeave }) {
  const area = document.createElement("textarea");
  Object.assign(area, { className: "mg-editor mg-editor-plain", spellcheck: false, value: doc,
    rows: Math.max(doc.split("\n").length, 2) });
  area.setAttribute("aria-label", label);
  area.setAttribute("autocapitalize", "off");
  if (describedBy) area.setAttribute("aria-describedby", describedBy);
  area.addEventListener("input", () => { area.rows = Math.max(area.value.split("\n").length, 2); });
  area.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.shiftKey) { e.preventDefault(); onRun?.(); }
    else if (e.key === "Enter" && !e.altKey && !e.ctrlKey && !e.metaKey) { e.preventDefault(); newline(area); }
    else if (e.key === "Escape") { e.preventDefault(); onLeave?.(); }
    else if (e.key === "Tab" && !e.altKey && !e.ctrlKey && !e.metaKey) { e.preventDefault(); indent(area, e.shiftKey); }
  });
  parent.appendChild(area);
  return {
    dom: area,
    input: area,
    get value() { return area.value; },
    set value(text) { area.value = text; },
    select(from, to, backward = false) { area.setSelectionRange(from, to, backward ? "backward" : "forward"); },
    indent(out) { indent(area, out, true); },
    focus() { area.focus(); },
    destroy() { area.remove(); },
  };
}

function newline(area) {
  // as CodeMirror's Python indentation does: the line's own indent, and 4 more after a line ending in ":"
  const { value, selectionStart: start, selectionEnd: end } = area;
  const line = value.slice(value.lastIndexOf("\n", start - 1) + 1, start);
  const indent = line.match(/^ */)[0] + (/:\s*(#.*)?$/.test(line) ? "    " : "");
  area.setRangeText(`\n${indent}`, start, end, "end");
  area.dispatchEvent(new Event("input"));
}

function indent(area, out, wholeLines = false) {
  // Tab indents the selected lines (or inserts spaces at the caret); Shift+Tab dedents them. The touch buttons
  // (`wholeLines`) always shift whole lines.
  const { value, selectionStart: start, selectionEnd: end } = area;
  const lineStart = value.lastIndexOf("\n", start - 1) + 1;
  if (!out && start === end && !wholeLines) { area.setRangeText("    ", start, end, "end"); return; }
  const lines = value.slice(lineStart, end).split("\n");
  const changed = lines.map((l) => (out ? l.replace(/^ {1,4}/, "") : "    " + l)).join("\n");
  area.setRangeText(changed, lineStart, end, "select");
}
