// A form generated from a decision's record JSON Schema: dates as date pickers, enums as
// choices, booleans as checkboxes, nested objects as fieldsets, lists with add and remove.
// ``buildForm`` returns the form's element and two functions: ``value()`` (the record the form
// holds: a field left empty is left out, so the schema's default applies) and ``setValue``.

import { h } from "./dom.js";
import { lang, t } from "./i18n.js";

function types(schema) {
  const ty = schema.type;
  if (Array.isArray(ty)) return ty;
  if (ty) return [ty];
  if (schema.enum) return ["enum"];
  if (schema.properties) return ["object"];
  return [];
}

function mainType(schema) {
  if (schema.enum) return "enum";
  const ts = types(schema).filter((x) => x !== "null");
  return ts[0] || "string";
}

/**
 * The label of a field in the page's language: the schema's ``title`` (a string, or
 * ``{zh, en}``, or ``x-title-zh``/``x-title-en``); for Chinese, else the Chinese term the
 * description gives in brackets ("Date of birth (出生日期)."); else the field's name.
 */
export function labelOf(name, schema) {
  const title = schema.title;
  const l = lang();
  if (title && typeof title === "object" && title[l]) return title[l];
  if (schema[`x-title-${l}`]) return schema[`x-title-${l}`];
  if (typeof title === "string" && title) return title;
  if (l === "zh" && typeof schema.description === "string") {
    // Only a term that names the field itself: in its first clause, before any example or list.
    const m = schema.description.match(/^[^:：;；`(（]{0,80}[(（]([\u3400-\u9fff][\u3400-\u9fff·、]{0,15})[)）]/u);
    if (m) return m[1].trim();
  }
  return name;
}

function describeOf(schema) {
  const d = schema.description;
  if (d && typeof d === "object") return d[lang()] || d.en || "";
  return d || "";
}

let uid = 0;
function nextId() {
  uid += 1;
  return `f${uid}`;
}

/** One field: returns {el, get(): value or undefined, set(value)}. */
function field(name, schema, required, path) {
  const kind = mainType(schema);
  const label = labelOf(name, schema);
  const help = describeOf(schema);
  const id = nextId();
  const labelEl = h(
    "label",
    { for: id, title: help },
    label,
    required ? h("span.req", { "aria-hidden": "true" }, " *") : null,
    label !== name ? h("code.fname", {}, name) : null,
  );
  // The description is the field's tooltip: shown inline it would move the fields below it.
  const wrap = (control) => h("div.field", { dataset: { path }, title: help || null }, labelEl, control);

  if (kind === "object") {
    const inner = objectFields(schema, path);
    const fs = h("fieldset.object", { dataset: { path } }, h("legend", { title: help }, label, label !== name ? h("code.fname", {}, name) : null), inner.el);
    return { el: fs, get: inner.get, set: inner.set };
  }
  if (kind === "array") return arrayField(name, schema, label, help, path);
  if (kind === "enum") {
    const sel = h(
      "select",
      { id, name: path },
      h("option", { value: "" }, t("try.unset")),
      schema.enum.map((v) => h("option", { value: JSON.stringify(v) }, String(v))),
    );
    if (schema.default !== undefined) sel.value = JSON.stringify(schema.default);
    return {
      el: wrap(sel),
      get: () => (sel.value === "" ? undefined : JSON.parse(sel.value)),
      set: (v) => {
        sel.value = v === undefined ? "" : JSON.stringify(v);
      },
    };
  }
  if (kind === "boolean") {
    if (required || schema.default !== undefined) {
      const box = h("input", { id, name: path, type: "checkbox", checked: schema.default === true });
      return {
        el: h("div.field.bool", { dataset: { path }, title: help || null }, box, labelEl),
        get: () => box.checked,
        set: (v) => {
          box.checked = v === true;
        },
      };
    }
    // Optional without a default: absent differs from false, so the choice includes "not given".
    const sel = h("select", { id, name: path }, h("option", { value: "" }, t("try.unset")), h("option", { value: "true" }, t("yes")), h("option", { value: "false" }, t("no")));
    return {
      el: wrap(sel),
      get: () => (sel.value === "" ? undefined : sel.value === "true"),
      set: (v) => {
        sel.value = v === true ? "true" : v === false ? "false" : "";
      },
    };
  }
  if (kind === "integer" || kind === "number") {
    const inp = h("input", { id, name: path, type: "number", step: kind === "integer" ? "1" : "any", min: schema.minimum, max: schema.maximum });
    return {
      el: wrap(inp),
      get: () => (inp.value === "" ? undefined : Number(inp.value)),
      set: (v) => {
        inp.value = v === undefined || v === null ? "" : String(v);
      },
    };
  }
  // Strings: dates get a date picker; suggested values (the schema's examples) a list to pick from.
  const isDate = schema.format === "date";
  const listId = !isDate && Array.isArray(schema.examples) ? nextId() : null;
  const inp = h("input", { id, name: path, type: isDate ? "date" : "text", list: listId, pattern: schema.pattern });
  const nullable = types(schema).includes("null");
  const control = listId ? [inp, h("datalist", { id: listId }, schema.examples.map((v) => h("option", { value: String(v) })))] : inp;
  return {
    el: wrap(control),
    get: () => (inp.value === "" ? undefined : nullable && inp.value === "null" ? null : inp.value),
    set: (v) => {
      inp.value = v === undefined ? "" : v === null ? "null" : String(v);
    },
  };
}

function arrayField(name, schema, label, help, path) {
  const items = schema.items || { type: "string" };
  const rows = [];
  const list = h("div.items");
  const add = (value) => {
    const row = { f: null, el: null };
    const idx = rows.length + 1;
    row.f = field(`${idx}`, { ...items, title: undefined, description: undefined }, true, `${path}.${idx}`);
    const remove = h("button.remove", { type: "button", title: t("try.remove"), "aria-label": t("try.remove") }, "✕");
    row.el = h("div.item", {}, row.f.el, remove);
    remove.addEventListener("click", () => {
      rows.splice(rows.indexOf(row), 1);
      row.el.remove();
    });
    rows.push(row);
    list.append(row.el);
    if (value !== undefined) row.f.set(value);
  };
  const addBtn = h("button.add", { type: "button" }, "+ ", t("try.add"));
  addBtn.addEventListener("click", () => add());
  const fs = h("fieldset.array", { dataset: { path } }, h("legend", { title: help }, label, label !== name ? h("code.fname", {}, name) : null), list, addBtn);
  return {
    el: fs,
    get: () => {
      if (!rows.length) return undefined;
      return rows.map((r) => r.f.get()).filter((v) => v !== undefined);
    },
    set: (v) => {
      rows.splice(0).forEach((r) => r.el.remove());
      if (Array.isArray(v)) v.forEach((x) => add(x));
    },
  };
}

function objectFields(schema, path) {
  const required = new Set(schema.required || []);
  const props = Object.entries(schema.properties || {});
  const fields = props.map(([name, sub]) => [name, field(name, sub, required.has(name), path ? `${path}.${name}` : name)]);
  const el = h("div.fields", {}, fields.map(([, f]) => f.el));
  return {
    el,
    get: () => {
      const out = {};
      for (const [name, f] of fields) {
        const v = f.get();
        if (v !== undefined) out[name] = v;
      }
      return Object.keys(out).length ? out : undefined;
    },
    set: (obj) => {
      for (const [name, f] of fields) f.set(obj && typeof obj === "object" ? obj[name] : undefined);
    },
  };
}

/** The form of a record schema.  ``extra`` keeps fields the schema does not list (given as JSON). */
export function buildForm(schema) {
  const top = objectFields(schema || { properties: {} }, "");
  let extra = {};
  return {
    el: h("div.recordform", {}, top.el),
    value: () => ({ ...extra, ...(top.get() || {}) }),
    setValue: (obj) => {
      const known = new Set(Object.keys((schema && schema.properties) || {}));
      extra = {};
      for (const [k, v] of Object.entries(obj || {})) if (!known.has(k)) extra[k] = v;
      top.set(obj || {});
    },
  };
}
