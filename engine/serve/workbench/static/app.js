// The workbench page: tabs (read, try, edit, saved drafts), the language switch, the token
// prompt, and the read and try parts.  The editor lives in edit.js, loaded only when the
// service runs with --edit.

import { ApiError, describe, getJSON, postJSON, postStream, rbPath, setToken, token, whenUnauthorized } from "./api.js";
import { clear, filePicker, h, show } from "./dom.js";
import { buildForm } from "./form.js";
import { adoptDefault, applyStatic, lang, onLangChange, pick, setLang, t } from "./i18n.js";
import { fileToJsonLines } from "./records.js";

export const state = {
  config: { edit: false, auth: false, user: null, samples: [] },
  rulebooks: [], // GET /rulebooks
  details: new Map(), // id|lang -> GET /rulebooks/{id}
  docs: new Map(), // id|version|lang -> the doc JSON
  tab: "read",
  reading: null, // {id, version} shown in the read tab, or null for the list
  trying: { id: null, version: "", decision: null, asOf: "", mode: "form" },
};

const $ = (sel) => document.querySelector(sel);

// -- messages -------------------------------------------------------------------------------

export function banner(text, ok = false) {
  const el = $("#banner");
  if (!text) {
    el.hidden = true;
    return;
  }
  el.textContent = text;
  el.classList.toggle("ok", ok);
  el.hidden = false;
}

export function failed(err) {
  if (err && err.name === "AbortError") return;
  banner(`${t("error")}: ${describe(err)}`);
}

// -- shared look-ups ------------------------------------------------------------------------

export async function loadRulebooks() {
  const data = await getJSON("/rulebooks");
  state.rulebooks = data.rulebooks || [];
  return state.rulebooks;
}

export async function rulebookDetail(id) {
  const key = `${id}|${lang()}`;
  if (!state.details.has(key)) state.details.set(key, await getJSON(`/rulebooks/${rbPath(id)}`));
  return state.details.get(key);
}

export async function rulebookDoc(id, version) {
  const key = `${id}|${version}|${lang()}`;
  if (!state.docs.has(key)) state.docs.set(key, await getJSON(`/workbench/api/rulebooks/${rbPath(id)}/doc`, { version }));
  return state.docs.get(key);
}

export function forgetRulebook(id) {
  for (const m of [state.details, state.docs]) for (const k of [...m.keys()]) if (k.startsWith(`${id}|`)) m.delete(k);
}

export function statusBadge(status) {
  return h(`span.badge.${status}`, { dataset: { status } }, t(`status.${status}`));
}

function effective(v) {
  if (!v.effective_from) return "";
  return v.effective_until ? t("doc.from_to", { from: v.effective_from, until: v.effective_until }) : t("doc.from_until", { from: v.effective_from });
}

// -- tabs -----------------------------------------------------------------------------------

const renderers = {};

export function showTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll(".tabs button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const p of document.querySelectorAll(".panel")) p.hidden = p.id !== `panel-${name}`;
  banner(null);
  const fn = renderers[name];
  if (fn) fn().catch(failed);
}

// -- read -----------------------------------------------------------------------------------

function rulebookTitle(rb) {
  const inForce = rb.versions.find((v) => v.version === rb.in_force);
  return pick((inForce || rb.versions[rb.versions.length - 1] || {}).title);
}

async function renderRead() {
  const panel = $("#panel-read");
  if (state.reading) return renderDoc(panel, state.reading.id, state.reading.version);
  clear(panel, h("p.muted", {}, t("loading")));
  const rbs = await loadRulebooks();
  const rows = rbs.map((rb) =>
    h(
      "tr",
      { dataset: { rulebook: rb.id } },
      h("td", {}, h("code", {}, rb.id), h("div", {}, rulebookTitle(rb)), h("small.muted", {}, rb.in_force ? t("read.in_force", { version: rb.in_force }) : t("read.no_in_force"))),
      h(
        "td",
        {},
        h(
          "div.rb-versions",
          {},
          rb.versions.map((v) =>
            h(
              "div.rb-version",
              { dataset: { version: v.version, status: v.status } },
              h("code", {}, v.version),
              statusBadge(v.status),
              h("small.muted", {}, effective(v)),
              h("button.open-doc", { type: "button", onclick: () => openDoc(rb.id, v.version) }, t("read.open")),
              h("button.open-try", { type: "button", onclick: () => openTry(rb.id, v.version) }, t("read.try")),
              state.config.edit ? h("button.open-edit", { type: "button", onclick: () => openEdit(rb.id, v.version) }, t("read.edit")) : null,
            ),
          ),
        ),
      ),
      h("td", {}, (rb.versions.find((v) => v.version === rb.in_force) || rb.versions[0] || { decisions: [] }).decisions.map((d) => h("div", {}, h("code", {}, d)))),
      h("td", {}, h("small.muted", {}, (rb.versions[0] || {}).supplied_by || "")),
    ),
  );
  clear(
    panel,
    h(
      "div.card",
      {},
      h("h2", {}, t("read.rulebooks")),
      h("table#rulebook-list", {}, h("thead", {}, h("tr", {}, h("th", {}, t("read.id")), h("th", {}, t("read.version")), h("th", {}, t("read.decisions")), h("th", {}, t("read.supplied")))), h("tbody", {}, rows)),
    ),
  );
}

export function openDoc(id, version) {
  state.reading = { id, version };
  showTab("read");
}

function first(obj, ...keys) {
  for (const k of keys) if (obj && obj[k] !== undefined && obj[k] !== null) return obj[k];
  return undefined;
}

function asList(x) {
  if (!x) return [];
  if (Array.isArray(x)) return x;
  return Object.entries(x).map(([name, v]) => (v && typeof v === "object" && !Array.isArray(v) ? { name, ...v } : { name, value: v }));
}

function exampleNames(list) {
  return asList(list).map((e) => (typeof e === "string" ? e : e.name || e.example || JSON.stringify(e)));
}

function renderRule(rule) {
  const when = first(rule, "when", "condition", "applies");
  const requires = first(rule, "require", "requires");
  const ex = first(rule, "examples") || {};
  const passing = exampleNames(first(rule, "examples_pass", "passing") || ex.pass || ex.passing);
  const failing = exampleNames(first(rule, "examples_fail", "failing") || ex.fail || ex.failing);
  const params = asList(first(rule, "parameters", "uses"));
  return h(
    "div.doc-rule",
    { dataset: { rule: rule.id } },
    h("div.head", {}, h("span.cite", {}, rule.cite || ""), h("code", {}, rule.id), h("span", {}, pick(rule.title)), rule.severity && rule.severity !== "error" ? h("span.badge", {}, rule.severity) : null),
    when ? h("div", {}, h("small.muted", {}, t("doc.applies")), h("pre", {}, pick(when))) : null,
    requires ? h("div", {}, h("small.muted", {}, t("doc.requires")), h("pre", {}, pick(requires))) : null,
    rule.message ? h("dl.kv", {}, h("dt", {}, t("doc.message")), h("dd", {}, pick(rule.message))) : null,
    rule.note ? h("div.note", {}, h("strong", {}, t("doc.note"), "："), pick(rule.note)) : null,
    params.length
      ? h("dl.kv", {}, h("dt", {}, t("doc.uses")), h("dd", {}, params.map((p) => h("span", {}, h("code", {}, p.name || p), p.value !== undefined ? ` = ${show(p.value)} ` : " "))))
      : null,
    passing.length || failing.length
      ? h("dl.kv", {}, passing.length ? [h("dt", {}, t("doc.examples_pass")), h("dd", {}, passing.join(", "))] : null, failing.length ? [h("dt", {}, t("doc.examples_fail")), h("dd", {}, failing.join(", "))] : null)
      : null,
  );
}

async function renderDoc(panel, id, version) {
  clear(panel, h("p.muted", {}, t("loading")));
  const doc = await rulebookDoc(id, version);
  const back = h("button", { type: "button", onclick: () => { state.reading = null; showTab("read"); } }, "← ", t("read.back"));
  let asPage = false;
  const body = h("div#doc");
  const toggle = h("button", { type: "button" }, t("read.doc_html"));
  const draw = () => {
    toggle.textContent = asPage ? t("read.doc_structured") : t("read.doc_html");
    if (asPage) {
      // The exact `rulebook doc` page, isolated: no script runs in it and it cannot reach the page.
      clear(body, h("iframe.docpage", { sandbox: "", srcdoc: doc.html || "", title: id }));
      return;
    }
    const params = asList(doc.parameters);
    const decisions = asList(doc.decisions);
    clear(
      body,
      h(
        "div.card",
        {},
        h("h2", {}, pick(doc.title), " ", statusBadge(doc.status || "draft")),
        h("dl.kv", {}, h("dt", {}, t("read.id")), h("dd", {}, h("code", {}, doc.id || id)), h("dt", {}, t("read.version")), h("dd", {}, h("code", {}, doc.version || version)), h("dt", {}, t("read.effective")), h("dd", {}, effective(doc)), doc.source ? [h("dt", {}, t("doc.source")), h("dd", {}, pick(doc.source.title || doc.source), doc.source.issued_by ? ` · ${doc.source.issued_by}` : "", doc.source.date ? ` · ${doc.source.date}` : "")] : null),
      ),
      params.length
        ? h(
            "div.card",
            {},
            h("h3", {}, t("doc.parameters")),
            h("table.params", {}, h("tr", {}, h("th", {}, t("doc.name")), h("th", {}, t("doc.value")), h("th", {}, t("doc.article")), h("th", {}, t("doc.meaning"))), params.map((p) => h("tr", { dataset: { parameter: p.name } }, h("td", {}, h("code", {}, p.name)), h("td", {}, show(p.value)), h("td", {}, p.cite || ""), h("td", {}, pick(first(p, "description", "meaning", "title")))))),
          )
        : null,
      decisions.map((d) =>
        h(
          "div.card.doc-decision",
          { dataset: { decision: d.name || d.id } },
          h("h2", {}, h("code", {}, d.name || d.id), " ", pick(d.title)),
          asList(d.values).length ? h("details", {}, h("summary", {}, t("doc.values")), asList(d.values).map((v) => h("div", {}, h("code", {}, v.name), h("pre", {}, pick(first(v, "expr", "expression", "value")))))) : null,
          asList(d.rules).map(renderRule),
          asList(d.outputs).length ? [h("h3", {}, t("doc.outputs")), asList(d.outputs).map((o) => h("div", {}, h("code", {}, o.name || o), o.expr || o.value ? h("pre", {}, pick(first(o, "expr", "expression", "value"))) : null))] : null,
        ),
      ),
    );
  };
  toggle.addEventListener("click", () => {
    asPage = !asPage;
    draw();
  });
  clear(panel, h("div.controls", {}, back, doc.html ? toggle : null), body);
  draw();
}

// -- try ------------------------------------------------------------------------------------

export function openTry(id, version) {
  Object.assign(state.trying, { id, version: version || "", decision: null });
  showTab("try");
}

let tryForm = null;

function decisionsOf(detail, version) {
  const versions = detail.versions || [];
  const v = versions.find((x) => x.version === version) || versions.find((x) => x.status === "in_force") || versions[versions.length - 1];
  return v ? v.decisions || {} : {};
}

async function renderTry() {
  const panel = $("#panel-try");
  const tr = state.trying;
  if (!state.rulebooks.length) await loadRulebooks();
  if (!tr.id) tr.id = (state.rulebooks.find((r) => r.id === "hlj-musicians/membership") || state.rulebooks[0] || {}).id;
  if (!tr.id) return clear(panel, h("p.muted", {}, t("none")));
  const detail = await rulebookDetail(tr.id);
  const decisions = decisionsOf(detail, tr.version);
  if (!tr.decision || !(tr.decision in decisions)) tr.decision = Object.keys(decisions)[0];
  const spec = decisions[tr.decision] || {};

  const rbSel = h("select#try-rulebook", { onchange: (e) => { Object.assign(tr, { id: e.target.value, version: "", decision: null }); renderTry().catch(failed); } }, state.rulebooks.map((rb) => h("option", { value: rb.id }, rb.id)));
  rbSel.value = tr.id;
  const rb = state.rulebooks.find((r) => r.id === tr.id) || { versions: [] };
  const verSel = h("select#try-version", { onchange: (e) => { tr.version = e.target.value; renderTry().catch(failed); } }, h("option", { value: "" }, t("try.version_default")), rb.versions.map((v) => h("option", { value: v.version }, `${v.version} · ${t(`status.${v.status}`)}`)));
  verSel.value = tr.version;
  const decSel = h("select#try-decision", { onchange: (e) => { tr.decision = e.target.value; renderTry().catch(failed); } }, Object.entries(decisions).map(([name, d]) => h("option", { value: name }, `${name} · ${pick(d.title)}`)));
  decSel.value = tr.decision;
  const asOf = h("input#try-as-of", { type: "date", value: tr.asOf, title: t("try.as_of_help"), onchange: (e) => { tr.asOf = e.target.value; } });

  const result = h("div#try-result");
  const input = h("div#try-input");
  const modeBtn = (mode) => h("button", { type: "button", "aria-pressed": String(tr.mode === mode), dataset: { mode }, onclick: () => { syncInput(); tr.mode = mode; renderTry().catch(failed); } }, t(`try.${mode}`));

  let current = tryForm && tryForm.key === `${tr.id}|${tr.decision}` ? tryForm.value : {};
  tryForm = { key: `${tr.id}|${tr.decision}`, value: current, read: null };
  if (tr.mode === "form") {
    const form = buildForm(spec.record_schema);
    form.setValue(current);
    tryForm.read = () => form.value();
    clear(input, h("form#record-form", { onsubmit: (e) => { e.preventDefault(); decideOne(); } }, form.el, h("p", {}, h("button.primary#decide", { type: "submit" }, t("try.decide")))));
  } else if (tr.mode === "json") {
    const area = h("textarea.json#record-json", { placeholder: t("try.json_placeholder"), spellcheck: "false" });
    area.value = Object.keys(current).length ? JSON.stringify(current, null, 2) : "";
    tryForm.read = () => {
      const text = area.value.trim();
      const v = text ? JSON.parse(text) : {};
      if (!v || typeof v !== "object" || Array.isArray(v)) throw new SyntaxError("not an object");
      return v;
    };
    clear(input, area, h("p", {}, h("button.primary#decide", { type: "button", onclick: decideOne }, t("try.decide"))));
  } else {
    const file = h("input#try-file", { type: "file", accept: ".jsonl,.ndjson,.json,.csv,.tsv,.xlsx" });
    const run = h("button.primary#decide-file", { type: "button", onclick: () => decideFile(file.files[0], result) }, t("try.file_run"));
    clear(input, h("p.muted", {}, t("try.file_help")), h("p", {}, filePicker(file, { choose: t("try.file_choose"), none: t("try.file_none") })), h("p", {}, run));
  }

  function syncInput() {
    if (!tryForm.read) return;
    try {
      tryForm.value = tryForm.read();
    } catch (_) {
      /* a half-typed JSON text is not carried over to the form */
    }
  }

  async function decideOne() {
    let record;
    try {
      record = tryForm.read();
    } catch (e) {
      clear(result, h("p.error-text", {}, t("try.json_bad", { error: e.message })));
      return;
    }
    tryForm.value = record;
    clear(result, h("p.muted", {}, t("loading")));
    try {
      const answer = await postJSON(`/rulebooks/${rbPath(tr.id)}/decisions/${encodeURIComponent(tr.decision)}`, record, { as_of: tr.asOf, version: tr.version });
      clear(result, renderDecision(answer, spec));
      addNotes(result, answer).catch(() => {});
    } catch (e) {
      clear(result, h("p.error-text", {}, describe(e)));
    }
  }

  clear(
    panel,
    h(
      "div.card",
      {},
      h(
        "div.controls",
        {},
        h("label", {}, t("try.rulebook"), rbSel),
        h("label", {}, t("try.version"), verSel),
        h("label", {}, t("try.decision"), decSel),
        h("label", {}, t("try.as_of"), asOf),
      ),
      h("div.modes", {}, modeBtn("form"), modeBtn("json"), modeBtn("file")),
      h("div.try-grid", {}, input, result),
    ),
  );
}

/** Each rule's interpretation note, from the article page of the version that decided. */
async function addNotes(container, answer) {
  const doc = await rulebookDoc(answer.rulebook, answer.version);
  const notes = new Map();
  for (const d of asList(doc.decisions)) for (const r of asList(d.rules)) if (r.note) notes.set(`${d.name || d.id}|${r.id}`, pick(r.note));
  for (const row of container.querySelectorAll("tr.rule-note")) {
    const note = notes.get(`${answer.decision}|${row.dataset.rule}`);
    const cell = row.querySelector("td.note-cell");
    if (note && cell && !cell.childNodes.length) cell.append(h("details", {}, h("summary", {}, t("explain.note")), h("div.note", {}, note)));
  }
}

/** A snake_case name that may break after its underscores when its column is narrow. */
function breakable(name) {
  const parts = String(name).split("_");
  return parts.map((p, i) => (i < parts.length - 1 ? [`${p}_`, h("wbr")] : p));
}

/** The values a rule saw, one `name = value` a line (a long list wraps within its line). */
function valuesList(values) {
  return Object.entries(values || {}).map(([k, v]) => h("div.value", {}, breakable(k), ` = ${show(v, { yes: t("yes"), no: t("no") })}`));
}

const STATUS_MARK = { pass: "✓", fail: "✗", not_applicable: "–", error: "!", waived: "≈" };

/** One decision explained as `rulebook explain` shows it: each rule's article, status, values, message and note; then the outputs. */
export function renderDecision(d, spec = {}) {
  if (d.outcome === "error" && !d.rules) return h("div.explain", {}, h("p.error-text", {}, d.message || ""));
  const titles = new Map((spec.rules || []).map((r) => [r.id, pick(r.title)]));
  const outputs = Object.entries(d.outputs || {});
  return h(
    "div.explain.card",
    { dataset: { outcome: d.outcome } },
    h("div", {}, h(`span.badge.outcome.${d.outcome}#outcome`, { dataset: { outcome: d.outcome } }, t(`outcome.${d.outcome}`)), " ", h("span", {}, t("explain.head", { record: d.record ?? "—", rulebook: d.rulebook, version: d.version, decision: d.decision }))),
    h("div.muted", {}, t("explain.as_of", { as_of: d.as_of })),
    d.schema && d.schema.length ? h("div.error-text", {}, t("explain.schema"), h("ul", {}, d.schema.map((s) => h("li", {}, h("code", {}, s.path || "/"), " ", s.message || "")))) : null,
    h(
      "table.rules",
      {},
      // fixed column widths (style.css): the message takes what the others leave, so it reads as sentences
      h("colgroup", {}, ["status", "article", "rule", "message", "values"].map((c) => h(`col.col-${c}`))),
      h("thead", {}, h("tr", {}, h("th", {}, t("explain.status")), h("th", {}, t("explain.article")), h("th", {}, t("explain.rule")), h("th", {}, t("explain.message")), h("th", {}, t("explain.values")))),
      h(
        "tbody",
        {},
        (d.rules || []).map((r) => [
          h(
            `tr.rule-row.${r.status}`,
            { dataset: { rule: r.id, status: r.status } },
            h(`td.st.${r.status}`, {}, `${STATUS_MARK[r.status] || ""} ${t(`rstatus.${r.status}`)}`, r.severity && r.severity !== "error" ? h("small.muted", {}, ` (${r.severity})`) : null),
            h("td", {}, r.cite || ""),
            h("td", {}, h("code", {}, breakable(r.id)), h("div.muted", {}, titles.get(r.id) || "")),
            h("td.message", {}, r.message || ""),
            h("td.values", {}, valuesList(r.values)),
          ),
          h(`tr.rule-note`, { dataset: { rule: r.id } }, h("td", { colspan: "5", class: "note-cell" })),
        ]),
      ),
    ),
    h("h3", {}, t("explain.outputs")),
    outputs.length ? h("table.outputs#outputs", {}, outputs.map(([k, v]) => h("tr", { dataset: { output: k } }, h("th", {}, h("code", {}, k)), h("td", {}, show(v, { yes: t("yes"), no: t("no") }))))) : h("p.muted", {}, t("explain.no_outputs")),
  );
}

// Notes are in rows of their own; rows without a note stay empty and take no room.
const noteRowStyle = document.createElement("style");
noteRowStyle.textContent = "tr.rule-note td:empty{display:none}tr.rule-note td{border-bottom:1px solid var(--line)}tr.rule-row:has(+ tr.rule-note td:not(:empty)) td{border-bottom:none}";
document.head.append(noteRowStyle);

/** A whole file decided by the batch endpoint, streamed, with a progress bar and a summary per article. */
async function decideFile(file, result) {
  if (!file) return;
  const tr = state.trying;
  let converted;
  try {
    converted = await fileToJsonLines(file, { rulebook: tr.id, decision: tr.decision, version: tr.version });
  } catch (e) {
    clear(result, h("p.error-text", {}, describe(e)));
    return;
  }
  if (!converted) {
    clear(result, h("p.error-text", {}, t("try.file_type", { name: file.name })));
    return;
  }
  if (!converted.records) {
    clear(result, h("p.error-text", {}, t("try.empty_file")));
    return;
  }
  const total = converted.records;
  const bar = h("progress.progress#batch-progress", { max: String(total), value: "0" });
  const counter = h("div.muted#batch-count", {}, t("try.progress", { done: 0, total }));
  const summary = h("div#batch-summary");
  const notes = [
    ...converted.unknown.map((message) => h("p.error-text", {}, message)),
  ];
  clear(result, h("div.card", {}, notes, bar, counter, summary));
  const outcomes = { pass: 0, fail: 0, indeterminate: 0, error: 0 };
  const byArticle = new Map();
  const shown = [];
  let done = 0;
  let stopped = null;
  const problemsByRow = new Map(converted.problems.map((p) => [p.row, p]));
  try {
    await postStream(`/rulebooks/${rbPath(tr.id)}/decisions/${encodeURIComponent(tr.decision)}/batch`, converted.text, {
      query: { as_of: tr.asOf, version: tr.version },
      contentType: "application/x-ndjson",
      onLine: (d) => {
        if (d.type && d.status && !d.outcome) {
          stopped = d; // the batch's last line: why it stopped early
          return;
        }
        done += 1;
        const row = converted.rows ? converted.rows[(d.input && d.input.line ? d.input.line : done) - 1] : null;
        outcomes[d.outcome] = (outcomes[d.outcome] || 0) + 1;
        for (const r of d.rules || []) {
          if (!["fail", "error", "waived"].includes(r.status)) continue;
          const key = r.cite || String(r.article);
          const c = byArticle.get(key) || { fail: 0, error: 0, waived: 0, rules: new Set() };
          c[r.status] += 1;
          c.rules.add(r.id);
          byArticle.set(key, c);
        }
        if (shown.length < 200) {
          const p = row !== null ? problemsByRow.get(row) : null;
          shown.push({ line: row ?? (d.input && d.input.line) ?? done, record: d.record, outcome: d.outcome, failed: (d.rules || []).filter((r) => r.status === "fail" || r.status === "error").map((r) => `${r.cite} ${r.id}`), message: p ? p.message : d.message });
        }
        if (done % 50 === 0 || done === total) {
          bar.value = done;
          counter.textContent = t("try.progress", { done, total });
        }
      },
    });
  } catch (e) {
    clear(summary, h("p.error-text", {}, describe(e)));
    return;
  }
  bar.value = done;
  counter.textContent = t("try.progress", { done, total });
  const articles = [...byArticle.entries()];
  clear(
    summary,
    stopped ? h("p.error-text", {}, stopped.detail || "") : null,
    h("h3", {}, t("try.summary", { total: done })),
    h("p#batch-outcomes", {}, t("try.outcomes", outcomes)),
    articles.length
      ? h("table#batch-articles", {}, h("tr", {}, h("th", {}, t("try.by_article")), h("th.num", {}, t("try.failed")), h("th.num", {}, t("try.errors")), h("th.num", {}, t("try.waived")), h("th", {}, t("explain.rule"))), articles.map(([a, c]) => h("tr", { dataset: { article: a } }, h("td", {}, a), h("td.num", {}, c.fail), h("td.num", {}, c.error), h("td.num", {}, c.waived), h("td", {}, [...c.rules].join(", ")))))
      : null,
    h("h3", {}, t("try.records", { n: shown.length })),
    h("table#batch-records", {}, h("tr", {}, h("th.num", {}, t("try.line")), h("th", {}, t("try.record")), h("th", {}, t("try.outcome")), h("th", {}, t("try.failed_rules"))), shown.map((s) => h("tr", {}, h("td.num", {}, s.line), h("td", {}, s.record ?? "—"), h(`td.st.${s.outcome}`, {}, t(`outcome.${s.outcome}`)), h("td", {}, s.failed.join(", ") || s.message || "")))),
  );
}

// -- saved drafts ---------------------------------------------------------------------------

async function renderDrafts() {
  const panel = $("#panel-drafts");
  clear(panel, h("p.muted", {}, t("loading")));
  const data = await getJSON("/workbench/api/drafts");
  const list = Array.isArray(data) ? data : data.drafts || data.saves || [];
  clear(
    panel,
    h(
      "div.card",
      {},
      h("h2", {}, t("drafts.title")),
      list.length
        ? h(
            "table#drafts-list",
            {},
            h("tr", {}, h("th", {}, t("drafts.when")), h("th", {}, t("drafts.who")), h("th", {}, t("drafts.what")), h("th", {}, t("drafts.based_on")), h("th", {}, t("drafts.path"))),
            [...list].reverse().map((s) => h("tr", { dataset: { version: s.version } }, h("td", {}, s.saved_at || ""), h("td", {}, s.saved_by || t("drafts.anonymous")), h("td", {}, h("code", {}, `${s.id}@${s.version}`)), h("td", {}, s.based_on ? h("code", {}, s.based_on) : "—"), h("td", {}, h("code", {}, s.path || "")))),
          )
        : h("p.muted", {}, t("drafts.empty")),
    ),
  );
}

// -- edit (loaded on demand) ----------------------------------------------------------------

let editModule = null;
async function edit() {
  if (!editModule) editModule = await import("./edit.js");
  return editModule;
}

export function openEdit(id, version) {
  edit()
    .then((m) => {
      m.request(id, version);
      showTab("edit");
    })
    .catch(failed);
}

renderers.read = renderRead;
renderers.try = renderTry;
renderers.drafts = renderDrafts;
renderers.edit = async () => (await edit()).render($("#panel-edit"));

// -- start ----------------------------------------------------------------------------------

function showWho() {
  const c = state.config;
  const mode = $("#mode");
  mode.textContent = c.edit ? t("mode.edit") : t("mode.readonly");
  mode.classList.toggle("edit", Boolean(c.edit));
  $("#user").textContent = c.auth ? (c.user ? t("user.as", { user: c.user }) : t("user.none")) : "";
  $("#tab-edit").hidden = !c.edit;
  $("#tab-drafts").hidden = !c.edit;
}

function askToken() {
  const dialog = $("#token-dialog");
  if (dialog.open) return;
  applyStatic(dialog);
  $("#token-input").value = token();
  dialog.showModal();
}

async function boot() {
  try {
    state.config = await getJSON("/workbench/api/config");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return; // the token dialog is open
    throw e;
  }
  adoptDefault(state.config.lang_default);
  showWho();
  showTab(state.tab);
  document.body.dataset.ready = "true";
}

function start() {
  applyStatic();
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  whenUnauthorized(askToken);
  $("#token-dialog").addEventListener("close", () => {
    setToken($("#token-input").value.trim());
    boot().catch(failed);
  });
  for (const b of document.querySelectorAll(".tabs button")) {
    b.addEventListener("click", () => {
      if (b.dataset.tab === "read") state.reading = null; // the tab itself leads back to the list
      showTab(b.dataset.tab);
    });
  }
  $("#lang-switch").addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
  onLangChange(() => {
    showWho();
    showTab(state.tab);
  });
  boot().catch(failed);
}

start();
