// Editing a rulebook as a new draft: CodeMirror 6 (vendored) with YAML highlighting, line
// numbers and a lint gutter.  As the editor types, the text goes (debounced) to the server's
// diagnostics; each diagnostic is shown at its line and column with its help line and its
// "did you mean" (a click applies it).  Completion inside expressions and the article of the
// rule under the pointer come from the server too.  Each edit that has no error runs the
// rulebook's examples and, for a chosen data file, the records whose decision changes; the
// draft can be saved only when it loads cleanly and its examples pass.

import {
  EditorState, EditorView, autocompletion, bracketMatching, closeBrackets, closeBracketsKeymap, completionKeymap,
  defaultHighlightStyle, defaultKeymap, drawSelection, foldGutter, foldKeymap, forceLinting, highlightActiveLine,
  highlightActiveLineGutter, highlightSelectionMatches, history, historyKeymap, hoverTooltip, indentOnInput,
  indentWithTab, keymap, lineNumbers, lintGutter, lintKeymap, linter, searchKeymap, syntaxHighlighting, yaml,
} from "./vendor/codemirror.js";
import { ApiError, describe, getJSON, postJSON, postStream, rbPath } from "./api.js";
import { banner, failed, forgetRulebook, loadRulebooks, openDoc, rulebookDetail, state as app, statusBadge } from "./app.js";
import { clear, filePicker, h, show } from "./dom.js";
import { lang, onLangChange, pick, t } from "./i18n.js";
import { fileToJsonLines } from "./records.js";

const LINT_DELAY_MS = 300;
const EXAMPLE_CODES = new Set(["lint.example-mismatch"]);

const ed = {
  pending: null, // {id, version} asked for by "new draft", opened on the next render
  id: null,
  basedOn: null,
  view: null,
  diagnostics: [],
  ok: false, // the last diagnostics had no error
  builds: false, // the last diagnostics had no error but examples that disagree
  checkedText: null, // the text the last examples/impact ran on
  examples: null,
  examplesError: null,
  impact: null, // {progress, total, result, error}
  impactSource: { sample: "", records: null, fileName: "", decision: "", against: "" },
  controllers: { examples: null, impact: null },
  els: {},
  saved: null,
};

export function request(id, version) {
  ed.pending = { id, version };
}

// -- positions: the server counts 1-based lines and columns in characters ------------------

function posOf(doc, line, column) {
  const ln = doc.line(Math.min(Math.max(1, line || 1), doc.lines));
  let offset = 0;
  let chars = 1;
  for (const ch of ln.text) {
    if (chars >= (column || 1)) break;
    offset += ch.length; // a character beyond the BMP is two UTF-16 units
    chars += 1;
  }
  return ln.from + offset;
}

function lineColOf(doc, pos) {
  const ln = doc.lineAt(pos);
  return { line: ln.number, column: [...ln.text.slice(0, pos - ln.from)].length + 1 };
}

// -- a new draft's text -----------------------------------------------------------------------

function today() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** A version not yet taken: today's date, then today's date with -2, -3, ... */
function freshVersion(taken) {
  const base = today();
  if (!taken.has(base)) return base;
  for (let n = 2; ; n += 1) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** The text with its top-level version and status set: the user sees (and may change) both. */
export function asNewDraft(text, version) {
  let out = text.replace(/^version:[^\n]*$/m, `version: "${version}"`);
  if (/^status:[^\n]*$/m.test(out)) out = out.replace(/^status:[^\n]*$/m, "status: draft");
  else out = out.replace(/^version:[^\n]*$/m, (m) => `${m}\nstatus: draft`);
  return out;
}

async function openDraft(id, version) {
  const src = await getJSON(`/workbench/api/rulebooks/${rbPath(id)}/source`, { version });
  const rbs = await loadRulebooks();
  const rb = rbs.find((r) => r.id === id) || { versions: [] };
  const fresh = freshVersion(new Set(rb.versions.map((v) => v.version)));
  ed.id = id;
  ed.basedOn = src.version || version;
  ed.saved = null;
  ed.examples = null;
  ed.impact = null;
  ed.diagnostics = [];
  ed.ok = false;
  ed.builds = false;
  ed.checkedText = null;
  if (ed.view) ed.view.destroy();
  ed.view = createEditor(asNewDraft(src.text, fresh));
}

// -- the editor -------------------------------------------------------------------------------

function suggestionApply(suggestion) {
  return (view, from, to) => {
    // The range may hold more than the misspelt name (`record.birth_dat`): replace its last word.
    const text = view.state.sliceDoc(from, to);
    const m = text.match(/[\p{L}\p{N}_-]+$/u);
    const start = m ? to - m[0].length : from;
    view.dispatch({ changes: { from: start, to, insert: suggestion }, selection: { anchor: start + suggestion.length } });
    view.focus();
  };
}

function toCodeMirror(doc, d) {
  const from = posOf(doc, d.line, d.column);
  let to = d.end_line ? posOf(doc, d.end_line, d.end_column) : from;
  if (to <= from) to = Math.min(doc.length, from + 1);
  const severity = d.severity === "warning" ? "warning" : d.severity === "info" ? "info" : "error";
  return {
    from,
    to,
    severity,
    source: d.code,
    message: d.message,
    renderMessage: () =>
      h(
        "div.cm-diag",
        {},
        h("div", {}, d.code ? h("code", {}, `[${d.code}] `) : null, d.message),
        d.help ? h("div.cm-diag-help", {}, t("edit.help", { help: d.help })) : null,
        d.suggestions && d.suggestions.length ? h("div.cm-diag-suggest", {}, t("edit.did_you_mean"), " ", d.suggestions.map((s) => h("code", {}, s, " "))) : null,
      ),
    actions: (d.suggestions || []).slice(0, 3).map((s) => ({ name: s, apply: suggestionApply(s) })),
  };
}

async function lintSource(view) {
  const text = view.state.doc.toString();
  ed.els.diagStatus && (ed.els.diagStatus.textContent = t("edit.checking"));
  let answer;
  try {
    answer = await postJSON("/workbench/api/diagnostics", { text, path: `${ed.id || "rulebook"}.yaml`, rulebook: ed.id || undefined });
  } catch (e) {
    if (ed.els.diagStatus) ed.els.diagStatus.textContent = describe(e);
    return [];
  }
  if (view.state.doc.toString() !== text) return []; // typed on meanwhile: the next run answers
  ed.diagnostics = answer.diagnostics || [];
  ed.ok = answer.ok !== undefined ? Boolean(answer.ok) : !ed.diagnostics.some((d) => d.severity === "error");
  // A text whose only errors are examples that disagree still builds: its examples and its
  // impact on data are what the editor wants to see next.
  ed.builds = !ed.diagnostics.some((d) => d.severity === "error" && !EXAMPLE_CODES.has(d.code));
  drawDiagnostics();
  if (ed.builds) checkText(text);
  else {
    for (const c of Object.values(ed.controllers)) if (c) c.abort();
    ed.checkedText = null;
    ed.examples = null;
    ed.impact = null;
    drawExamples();
    drawImpact();
  }
  drawSave();
  return ed.diagnostics.map((d) => toCodeMirror(view.state.doc, d));
}

const KIND = { field: "property", value: "variable", parameter: "constant", function: "function", keyword: "keyword" };

async function completionSource(ctx) {
  const word = ctx.matchBefore(/[\p{L}\p{N}_.]*/u);
  if (!ctx.explicit && (!word || word.from === word.to || /^\d/.test(word.text))) return null;
  const { line, column } = lineColOf(ctx.state.doc, ctx.pos);
  let answer;
  try {
    answer = await postJSON("/workbench/api/completions", { text: ctx.state.doc.toString(), line, column });
  } catch (_) {
    return null;
  }
  if (ctx.aborted || !answer.items || !answer.items.length) return null;
  const from = answer.from ? posOf(ctx.state.doc, line, answer.from) : word ? word.from : ctx.pos;
  return {
    from,
    options: answer.items.map((it) => ({ label: it.label, type: KIND[it.kind] || "text", detail: it.detail || undefined, info: it.doc ? pick(it.doc) : undefined })),
    validFor: /^[\p{L}\p{N}_]*$/u,
  };
}

const articleHover = hoverTooltip(async (view, pos) => {
  const { line, column } = lineColOf(view.state.doc, pos);
  let answer;
  try {
    answer = await postJSON("/workbench/api/hover", { text: view.state.doc.toString(), line, column });
  } catch (_) {
    return null;
  }
  if (!answer || !answer.rule) return null;
  return {
    pos,
    above: true,
    create: () => ({
      dom: h(
        "div.article",
        { dataset: { rule: answer.rule } },
        h("strong", {}, t("edit.hover_rule", { rule: answer.rule, cite: answer.cite || answer.article || "" })),
        answer.title ? h("div", {}, pick(answer.title)) : null,
        answer.note ? h("div.note", {}, pick(answer.note)) : null,
      ),
    }),
  };
});

function createEditor(text) {
  return new EditorView({
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(),
        foldGutter(),
        lintGutter(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        yaml(),
        EditorState.tabSize.of(2),
        linter(lintSource, { delay: LINT_DELAY_MS }),
        autocompletion({ override: [completionSource] }),
        articleHover,
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...foldKeymap, ...completionKeymap, ...lintKeymap, indentWithTab]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) {
            ed.ok = false;
            ed.builds = false;
            drawSave();
          }
        }),
      ],
    }),
  });
}

// -- examples and impact of a text without errors --------------------------------------------

function checkText(text) {
  if (text === ed.checkedText) return;
  ed.checkedText = text;
  runExamples(text);
  runImpact(text);
}

async function runExamples(text) {
  if (ed.controllers.examples) ed.controllers.examples.abort();
  const ctl = new AbortController();
  ed.controllers.examples = ctl;
  ed.examples = null;
  ed.examplesError = null;
  drawExamples(true);
  try {
    ed.examples = await postJSON("/workbench/api/examples", { text, rulebook: ed.id || undefined }, undefined, ctl.signal);
  } catch (e) {
    if (e.name === "AbortError") return;
    ed.examplesError = describe(e);
  }
  if (ed.controllers.examples !== ctl) return;
  drawExamples();
  drawSave();
}

function impactWanted() {
  const s = ed.impactSource;
  return Boolean(s.sample || s.records);
}

async function runImpact(text) {
  if (ed.controllers.impact) ed.controllers.impact.abort();
  if (!impactWanted()) {
    ed.impact = null;
    drawImpact();
    return;
  }
  const ctl = new AbortController();
  ed.controllers.impact = ctl;
  const s = ed.impactSource;
  ed.impact = { progress: 0, total: null, result: null, error: null };
  drawImpact();
  const body = { text };
  if (s.against) body.against = s.against;
  if (s.decision) body.decision = s.decision;
  if (s.records) body.records = s.records;
  else body.sample = s.sample;
  try {
    await postStream("/workbench/api/impact", body, {
      signal: ctl.signal,
      onLine: (line) => {
        if (ed.controllers.impact !== ctl || !ed.impact) return;
        if (line.error) ed.impact.error = describeProblem(line.error);
        else if (line.changed !== undefined) ed.impact.result = line;
        else if (line.progress !== undefined) {
          ed.impact.progress = line.progress;
          ed.impact.total = line.total;
        } else if (line.type && line.status) ed.impact.error = line.detail || line.title;
        drawImpact();
      },
    });
  } catch (e) {
    if (e.name === "AbortError") return;
    if (ed.controllers.impact === ctl && ed.impact) ed.impact.error = describe(e);
  }
  if (ed.controllers.impact === ctl) drawImpact();
}

function describeProblem(p) {
  return [p.detail || p.title || "", p.help].filter(Boolean).join("\n");
}

// -- drawing ----------------------------------------------------------------------------------

function goTo(line, column) {
  if (!ed.view) return;
  const pos = posOf(ed.view.state.doc, line, column);
  ed.view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
  ed.view.focus();
}

function drawDiagnostics() {
  const el = ed.els.diagnostics;
  if (!el) return;
  const errors = ed.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = ed.diagnostics.length - errors;
  ed.els.diagStatus.textContent = ed.diagnostics.length ? t("edit.diag_count", { errors, warnings }) : t("edit.diag_ok");
  ed.els.diagStatus.dataset.errors = String(errors);
  // Examples that disagree are listed under Examples (and marked in the editor at the example).
  const examples = ed.diagnostics.filter((d) => EXAMPLE_CODES.has(d.code));
  clear(
    el,
    examples.length ? h("p.muted", {}, t("edit.examples_disagree", { n: examples.length })) : null,
    ed.diagnostics.filter((d) => !EXAMPLE_CODES.has(d.code)).slice(0, 50).map((d) =>
      h(
        `div.diag.${d.severity || "error"}`,
        { dataset: { line: d.line, column: d.column, code: d.code || "" }, onclick: () => goTo(d.line, d.column) },
        h("div", {}, h("span.where", {}, `${d.line}:${d.column} `), d.code ? h("code", {}, `[${d.code}] `) : null, d.message),
        d.help ? h("div.help", {}, t("edit.help", { help: d.help })) : null,
        d.suggestions && d.suggestions.length
          ? h(
              "div",
              {},
              t("edit.did_you_mean"),
              d.suggestions.slice(0, 5).map((s) =>
                h("button.suggest", {
                  type: "button",
                  dataset: { suggestion: s },
                  onclick: (e) => {
                    e.stopPropagation();
                    const doc = ed.view.state.doc;
                    const from = posOf(doc, d.line, d.column);
                    const to = d.end_line ? posOf(doc, d.end_line, d.end_column) : from;
                    suggestionApply(s)(ed.view, from, Math.max(to, from));
                  },
                }, s),
              ),
            )
          : null,
      ),
    ),
  );
}

function drawExamples(running = false) {
  const el = ed.els.examples;
  if (!el) return;
  if (!ed.builds && !running) return clear(el, h("p.muted", {}, t("edit.examples_wait")));
  if (running || (!ed.examples && !ed.examplesError)) return clear(el, h("p.muted", {}, t("edit.checking")));
  if (ed.examplesError) return clear(el, h("p.error-text", {}, ed.examplesError));
  const x = ed.examples;
  const failedList = x.failed || [];
  const cov = x.coverage || {};
  clear(
    el,
    h(`p.${failedList.length ? "error-text" : "ok"}#examples-summary`, { dataset: { passed: x.passed, failed: failedList.length } }, t("edit.examples_result", { passed: x.passed ?? 0, failed: failedList.length })),
    failedList.length
      ? h(
          "table#examples-failed",
          {},
          h("tr", {}, h("th", {}, t("edit.example")), h("th.nowrap", {}, `${t("edit.expected")} → ${t("edit.got")}`), h("th", {}, t("edit.responsible"))),
          failedList.map((f) =>
            h(
              "tr.example-failed",
              { dataset: { example: f.example }, onclick: () => f.line && goTo(f.line, 1) },
              h("td", {}, h("code", {}, f.example), f.decision ? h("div.muted", {}, f.decision) : null, f.line ? h("small.muted", {}, ` :${f.line}`) : null),
              h("td.nowrap", {}, `${summarise(f.expected)} → ${summarise(f.got)}`),
              h("td", {}, (f.rules || []).map((r, i) => [i ? ", " : "", typeof r === "string" ? h("code", {}, r) : [h("code", {}, r.id || r.rule), " ", h("small.muted", {}, r.cite || r.article || "")]])),
            ),
          ),
        )
      : null,
    cov.rules !== undefined ? h("p.muted", {}, t("edit.coverage", { covered: cov.covered, rules: cov.rules })) : null,
    cov.uncovered && cov.uncovered.length ? h("p.muted", {}, t("edit.uncovered", { rules: cov.uncovered.map((u) => (typeof u === "string" ? u : u.id || u.rule)).join(", ") })) : null,
  );
}

function drawImpact() {
  const el = ed.els.impactResult;
  if (!el) return;
  if (!impactWanted()) return clear(el);
  if (!ed.builds && !ed.impact) return clear(el, h("p.muted", {}, t("edit.impact_wait")));
  const im = ed.impact;
  if (!im) return clear(el);
  if (im.error) return clear(el, h("p.error-text", {}, im.error));
  if (!im.result) {
    return clear(el, h("progress.progress#impact-progress", { max: String(im.total || 1), value: String(im.progress || 0) }), h("p.muted", {}, t("edit.impact_progress", { done: im.progress || 0, total: im.total ?? "…" })));
  }
  const r = im.result;
  const byArticle = Object.entries(r.by_article || {});
  clear(
    el,
    h("p#impact-summary", { dataset: { changed: r.changed, total: r.total } }, h("strong", {}, t("edit.impact_result", { changed: r.changed, total: r.total }))),
    byArticle.length ? h("div#impact-articles", {}, t("edit.impact_by_article"), " ", byArticle.map(([a, n]) => h("span.badge", { dataset: { article: a } }, `${a}: ${n}`))) : null,
    (r.records || []).length
      ? h(
          "table#impact-records",
          {},
          h("tr", {}, h("th.num", {}, t("edit.impact_line")), h("th", {}, t("try.record")), h("th", {}, t("edit.impact_before")), h("th", {}, t("edit.impact_after")), h("th", {}, t("edit.impact_rules"))),
          r.records.map((c) => h("tr", {}, h("td.num", {}, c.line ?? ""), h("td", {}, c.id ?? "—", c.decision ? h("div.muted", {}, c.decision) : null), h("td", {}, summarise(c.before)), h("td", {}, summarise(c.after)), h("td", {}, (c.rules || []).map((x) => (typeof x === "string" ? x : `${x.cite || x.article || ""} ${x.id || x.rule || ""}`)).join(", ")))),
        )
      : null,
  );
}

function summarise(side) {
  if (side === null || side === undefined) return "—";
  if (typeof side === "string") return t(`outcome.${side}`);
  const parts = [];
  if (side.outcome) parts.push(t(`outcome.${side.outcome}`));
  if (side.outputs) for (const [k, v] of Object.entries(side.outputs)) parts.push(`${k} = ${show(v)}`);
  return parts.join("; ") || JSON.stringify(side);
}

function canSave() {
  return Boolean(ed.view && ed.ok && ed.examples && !(ed.examples.failed || []).length && ed.examples.ok !== false && ed.checkedText === ed.view.state.doc.toString());
}

function drawSave() {
  const btn = ed.els.save;
  if (!btn) return;
  btn.disabled = !canSave();
  ed.els.saveHint.textContent = canSave() ? "" : t("edit.save_blocked");
}

async function save() {
  if (!canSave()) return;
  const text = ed.view.state.doc.toString();
  ed.els.save.disabled = true;
  try {
    const r = await postJSON("/workbench/api/drafts", { text, based_on: ed.basedOn });
    ed.saved = r;
    forgetRulebook(r.id || ed.id);
    await loadRulebooks();
    clear(
      ed.els.saved,
      h("p.ok#saved", { dataset: { version: r.version } }, t("edit.saved", { id: r.id, version: r.version, path: r.path, who: r.saved_by || t("drafts.anonymous"), when: r.saved_at })),
      h("button", { type: "button", onclick: () => openDoc(r.id, r.version) }, t("read.open")),
    );
    banner(t("edit.saved", { id: r.id, version: r.version, path: r.path, who: r.saved_by || t("drafts.anonymous"), when: r.saved_at }), true);
  } catch (e) {
    const p = e instanceof ApiError ? e.problem : null;
    if (p && Array.isArray(p.diagnostics)) {
      ed.diagnostics = p.diagnostics;
      drawDiagnostics();
    }
    clear(ed.els.saved, h("p.error-text", {}, describe(e)));
  }
  drawSave();
}

// -- the panel --------------------------------------------------------------------------------

async function picker() {
  const rbs = app.rulebooks.length ? app.rulebooks : await loadRulebooks();
  const rbSel = h("select#edit-rulebook", {}, rbs.map((rb) => h("option", { value: rb.id }, rb.id)));
  const verSel = h("select#edit-version");
  const fill = () => {
    const rb = rbs.find((r) => r.id === rbSel.value) || { versions: [] };
    clear(verSel, rb.versions.map((v) => h("option", { value: v.version }, `${v.version} · ${t(`status.${v.status}`)}`)));
    if (rb.in_force) verSel.value = rb.in_force;
  };
  rbSel.value = ed.id || (rbs.find((r) => r.id === "hlj-musicians/membership") || rbs[0] || {}).id || "";
  fill();
  if (ed.basedOn && rbSel.value === ed.id) verSel.value = ed.basedOn;
  rbSel.addEventListener("change", fill);
  const open = h("button.primary#open-draft", { type: "button", onclick: () => { ed.pending = { id: rbSel.value, version: verSel.value }; render(document.querySelector("#panel-edit")).catch(failed); } }, t("edit.open"));
  return h("div.controls", {}, h("label", {}, t("try.rulebook"), rbSel), h("label", {}, t("try.version"), verSel), open, ed.id ? h("span.muted#based-on", {}, t("edit.based_on", { id: ed.id, version: ed.basedOn })) : null);
}

async function impactControls() {
  const s = ed.impactSource;
  const samples = (app.config.samples || []).map((x) => (typeof x === "string" ? { name: x } : x));
  const sampleSel = h("select#impact-sample", {}, h("option", { value: "" }, t("edit.impact_none")), samples.map((x) => h("option", { value: x.name }, x.records !== undefined ? `${x.name} (${x.records})` : x.name)));
  sampleSel.value = s.records ? "" : s.sample;
  const detail = ed.id ? await rulebookDetail(ed.id) : { versions: [] };
  const versions = detail.versions || [];
  const againstSel = h("select#impact-against", {}, h("option", { value: "" }, t("edit.impact_today")), versions.map((v) => h("option", { value: v.version }, `${v.version} · ${t(`status.${v.status}`)}`)));
  againstSel.value = s.against;
  const base = versions.find((v) => v.version === ed.basedOn) || versions[0] || { decisions: {} };
  const decSel = h("select#impact-decision", {}, h("option", { value: "" }, "—"), Object.keys(base.decisions || {}).map((d) => h("option", { value: d }, d)));
  decSel.value = s.decision;
  const file = h("input#impact-file", { type: "file", accept: ".jsonl,.ndjson,.json,.csv,.tsv,.xlsx" });
  const rerun = () => {
    ed.checkedText = null;
    if (ed.builds && ed.view) checkText(ed.view.state.doc.toString());
    else drawImpact();
  };
  sampleSel.addEventListener("change", () => {
    Object.assign(s, { sample: sampleSel.value, records: null, fileName: "" });
    file.value = "";
    file.dispatchEvent(new Event("change"));
    rerun();
  });
  againstSel.addEventListener("change", () => {
    s.against = againstSel.value;
    rerun();
  });
  decSel.addEventListener("change", () => {
    s.decision = decSel.value;
    rerun();
  });
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    const decision = s.decision || Object.keys(base.decisions || {})[0];
    try {
      const conv = await fileToJsonLines(f, { rulebook: ed.id, decision, version: base.version });
      if (!conv) throw new Error(t("try.file_type", { name: f.name }));
      Object.assign(s, { records: conv.text, sample: "", fileName: f.name });
      sampleSel.value = "";
      rerun();
    } catch (e) {
      failed(e);
    }
  });
  return h(
    "div.controls",
    {},
    h("label", {}, t("edit.impact_sample"), sampleSel),
    h("div.field", {}, h("span", {}, t("edit.impact_upload")), filePicker(file, { choose: t("try.file_choose"), none: t("try.file_none") })),
    h("label", {}, t("edit.impact_against"), againstSel),
    h("label", {}, t("try.decision"), decSel),
  );
}

export async function render(panel) {
  if (!app.config.edit) return clear(panel, h("p.muted", {}, t("mode.readonly")));
  if (ed.pending) {
    const { id, version } = ed.pending;
    ed.pending = null;
    clear(panel, h("p.muted", {}, t("loading")));
    await openDraft(id, version);
  }
  const top = h("div.card", {}, h("h2", {}, t("edit.pick")), await picker());
  if (!ed.view) return clear(panel, top, h("p.muted", {}, t("edit.nothing")));
  const editorBox = h("div#editor");
  editorBox.append(ed.view.dom);
  ed.els = {
    diagStatus: h("p.muted#diag-status", {}, t("edit.checking")),
    diagnostics: h("div#diagnostics"),
    examples: h("div#examples"),
    impactResult: h("div#impact"),
    save: h("button.primary#save-draft", { type: "button", onclick: save, disabled: true }, t("edit.save")),
    saveHint: h("span.muted#save-hint"),
    saved: h("div#save-result"),
  };
  const side = h(
    "div.side",
    {},
    h("div.card", {}, h("div.save-row", {}, ed.els.save, ed.els.saveHint), ed.els.saved),
    h("div.card", {}, h("h3", {}, t("edit.diagnostics")), ed.els.diagStatus, ed.els.diagnostics),
    h("div.card", {}, h("h3", {}, t("edit.examples")), ed.els.examples),
    h("div.card", {}, h("h3", {}, t("edit.impact")), await impactControls(), ed.els.impactResult),
  );
  clear(panel, top, h("div.edit-grid", {}, editorBox, side));
  drawDiagnostics();
  if (!ed.diagnostics.length && !ed.checkedText) ed.els.diagStatus.textContent = t("edit.checking");
  drawExamples();
  drawImpact();
  drawSave();
  if (ed.saved) clear(ed.els.saved, h("p.ok#saved", { dataset: { version: ed.saved.version } }, t("edit.saved", { id: ed.saved.id, version: ed.saved.version, path: ed.saved.path, who: ed.saved.saved_by || t("drafts.anonymous"), when: ed.saved.saved_at })));
  ed.view.requestMeasure();
}

// Messages from the server are in the page's language: ask again when it changes.
onLangChange(() => {
  if (ed.view) {
    ed.checkedText = null;
    forceLinting(ed.view);
  }
});

export { lang, statusBadge };
