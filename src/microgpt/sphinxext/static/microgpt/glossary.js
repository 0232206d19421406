// Glossary previews: hovering or focusing a link to a glossary term shows the term's definition, read from the
// built glossary page itself (fetched once, from this site: nothing external), in a tooltip beside the link.
const TERM_LINK = "a.reference.internal[href*='#term-']";
const pages = new Map(); // glossary page URL -> Promise<Document>
let tip = null;
let shownFor = null;
let timer = 0;

function glossaryPage(url) {
  if (!pages.has(url)) {
    pages.set(url, fetch(url)
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${url}: ${r.status}`))))
      .then((text) => new DOMParser().parseFromString(text, "text/html")));
  }
  return pages.get(url);
}

async function definition(link) {
  const url = new URL(link.href, document.baseURI);
  const id = decodeURIComponent(url.hash.slice(1));
  url.hash = "";
  const page = await glossaryPage(url.href);
  let node = page.getElementById(id);
  while (node && node.tagName !== "DD") node = node.nextElementSibling; // a <dt> may share its <dd>
  return node;
}

function tooltip() {
  if (!tip) {
    tip = document.createElement("div");
    tip.id = "mg-term-preview";
    tip.className = "mg-term-preview";
    tip.setAttribute("role", "tooltip");
    tip.hidden = true;
    document.body.append(tip);
  }
  return tip;
}

async function show(link) {
  let dd;
  try {
    dd = await definition(link);
  } catch {
    return; // no preview (e.g. a page opened from file://): the link still works
  }
  if (!dd || shownFor !== link) return;
  const box = tooltip();
  box.replaceChildren(...[...dd.childNodes].map((n) => document.importNode(n, true)));
  box.querySelectorAll("a, [id]").forEach((el) => { el.removeAttribute("id"); el.setAttribute("tabindex", "-1"); });
  box.hidden = false;
  const r = link.getBoundingClientRect();
  const width = Math.min(360, document.documentElement.clientWidth - 16);
  box.style.width = `${width}px`;
  box.style.left = `${Math.max(8, Math.min(r.left, document.documentElement.clientWidth - width - 8)) + scrollX}px`;
  const below = r.bottom + 6;
  const above = r.top - box.offsetHeight - 6;
  box.style.top = `${(below + box.offsetHeight > innerHeight && above > 0 ? above : below) + scrollY}px`;
  link.setAttribute("aria-describedby", box.id);
}

function hide() {
  clearTimeout(timer);
  if (shownFor) shownFor.removeAttribute("aria-describedby");
  shownFor = null;
  if (tip) tip.hidden = true;
}

function enter(event) {
  const link = event.target.closest?.(TERM_LINK);
  if (!link || link === shownFor) return;
  hide();
  shownFor = link;
  timer = setTimeout(() => show(link), event.type === "focusin" ? 0 : 250);
}

function leave(event) {
  const link = event.target.closest?.(TERM_LINK);
  if (link && link === shownFor && !link.contains(event.relatedTarget)) hide();
}

document.addEventListener("pointerover", (e) => { if (e.pointerType !== "touch") enter(e); });
document.addEventListener("pointerout", leave);
document.addEventListener("focusin", enter);
document.addEventListener("focusout", leave);
document.addEventListener("keydown", (e) => { if (e.key === "Escape") hide(); });
addEventListener("scroll", hide, { passive: true });
