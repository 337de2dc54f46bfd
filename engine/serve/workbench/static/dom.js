// Building the page's elements: h("tag.class#id", {attributes}, ...children).  Text is always set
// as text (never as HTML), so whatever a rulebook or a record holds is shown, not run.

export function h(spec, attrs = {}, ...children) {
  const [head, id] = spec.split("#");
  const [tag, ...classes] = head.split(".");
  const el = document.createElement(tag || "div");
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A value of a record or a trace, shown as the CLI shows it: lists joined, booleans in words. */
export function show(value, words = { yes: "yes", no: "no" }) {
  if (value === null || value === undefined) return "—";
  if (value === true) return words.yes;
  if (value === false) return words.no;
  if (Array.isArray(value)) return value.length ? value.map((v) => show(v, words)).join(", ") : "[]";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/**
 * A file input shown in the page's language: the browser's own control (whose button and "no file"
 * text follow the browser's language, not the page's) stays in the page for the keyboard and for
 * screen readers but out of sight; a button-like label opens it and a text says which file is chosen.
 * ``texts``: { choose, none }.  Returns the picker; ``input.value = ""`` followed by a "change"
 * event shows "none" again.
 */
export function filePicker(input, texts) {
  input.classList.add("visually-hidden");
  const name = h("span.file-name.muted", {}, texts.none);
  const shown = () => {
    const f = input.files && input.files[0];
    name.textContent = f ? f.name : texts.none;
  };
  input.addEventListener("change", shown);
  return h("span.file-picker", {}, input, h("label.button.file-button", { for: input.id }, texts.choose), name);
}
