// The page's words in Chinese and English.  The language follows the browser's preferences
// (navigator.languages) until the reader picks one on the page; that choice is remembered.

const WORDS = {
  zh: {
    "app.title": "规则集工作台",
    "app.subtitle": "阅读、试算、编辑规则集",
    "tab.read": "阅读",
    "tab.try": "试算",
    "tab.edit": "编辑",
    "tab.drafts": "保存记录",
    "lang.switch": "English",
    "mode.readonly": "只读：启动时加 --edit 才能编辑",
    "mode.edit": "可编辑",
    "user.none": "未登录",
    "user.as": "用户：{user}",
    "token.label": "访问令牌",
    "token.help": "本服务设置了令牌：请输入管理员给您的令牌（只保存在本浏览器标签页中）。",
    "token.save": "确定",
    "loading": "加载中…",
    "error": "出错了",
    "retry": "重试",
    "none": "无",
    "yes": "是",
    "no": "否",
    "close": "关闭",
    "read.rulebooks": "已安装的规则集",
    "read.id": "规则集",
    "read.title": "名称",
    "read.version": "版本",
    "read.status": "状态",
    "read.effective": "生效日期",
    "read.decisions": "决定",
    "read.supplied": "来源",
    "read.open": "查看条文",
    "read.try": "试算",
    "read.edit": "另存为新草稿",
    "read.in_force": "现行版本：{version}",
    "read.no_in_force": "目前没有现行版本",
    "read.back": "返回列表",
    "read.doc_html": "以 rulebook doc 页面显示",
    "read.doc_structured": "按条文显示",
    "status.draft": "草稿",
    "status.in_force": "现行",
    "status.repealed": "已废止",
    "doc.source": "依据",
    "doc.parameters": "参数",
    "doc.values": "中间值",
    "doc.outputs": "输出",
    "doc.rules": "规则",
    "doc.article": "条款",
    "doc.rule": "规则",
    "doc.requires": "要求",
    "doc.applies": "适用条件",
    "doc.severity": "严重程度",
    "doc.message": "提示",
    "doc.note": "解释说明",
    "doc.uses": "使用的参数",
    "doc.examples_pass": "通过的示例",
    "doc.examples_fail": "不通过的示例",
    "doc.name": "名称",
    "doc.value": "取值",
    "doc.meaning": "含义",
    "doc.from_until": "{from} 起",
    "doc.from_to": "{from} 至 {until}",
    "try.rulebook": "规则集",
    "try.version": "版本",
    "try.version_default": "评估日期的现行版本",
    "try.decision": "决定",
    "try.as_of": "评估日期",
    "try.as_of_help": "留空：按记录自身的日期",
    "try.form": "填写表单",
    "try.json": "粘贴 JSON",
    "try.file": "上传文件",
    "try.decide": "判定",
    "try.add": "添加一项",
    "try.remove": "删除",
    "try.unset": "（不填）",
    "try.json_placeholder": "在此粘贴一条记录（JSON 对象）",
    "try.json_bad": "这不是 JSON 对象：{error}",
    "try.file_help": "JSON Lines（.jsonl）、JSON（.json）、CSV（.csv）或 Excel（.xlsx）文件，每行一条记录。",
    "try.file_choose": "选择文件",
    "try.file_none": "未选择文件",
    "try.file_run": "逐条判定",
    "try.file_type": "不认识的文件类型 `{name}`：请用 .jsonl、.json、.csv 或 .xlsx",
    "try.progress": "已判定 {done} / {total} 条",
    "try.summary": "按条款汇总（{total} 条记录）",
    "try.outcomes": "结论：通过 {pass}，不通过 {fail}，待定 {indeterminate}，无法读取 {error}",
    "try.by_article": "条款",
    "try.failed": "不通过",
    "try.errors": "出错",
    "try.waived": "豁免",
    "try.records": "逐条结果（前 {n} 条）",
    "try.line": "行",
    "try.record": "记录",
    "try.outcome": "结论",
    "try.failed_rules": "不通过的规则",
    "try.empty_file": "文件中没有记录",
    "try.field_help": "字段 `{path}`",
    "outcome.pass": "通过",
    "outcome.fail": "不通过",
    "outcome.indeterminate": "待定",
    "outcome.error": "无法判定",
    "rstatus.pass": "通过",
    "rstatus.fail": "不通过",
    "rstatus.not_applicable": "不适用",
    "rstatus.error": "出错",
    "rstatus.waived": "豁免",
    "explain.head": "{record} · {rulebook}@{version} · {decision}",
    "explain.as_of": "评估日期：{as_of}",
    "explain.rule": "规则",
    "explain.article": "条款",
    "explain.status": "结果",
    "explain.values": "取值",
    "explain.message": "提示",
    "explain.note": "解释说明",
    "explain.outputs": "输出",
    "explain.no_outputs": "本决定没有输出",
    "explain.schema": "记录不符合记录格式：",
    "edit.pick": "打开一个版本作为新草稿",
    "edit.open": "打开为新草稿",
    "edit.based_on": "基于 {id}@{version}",
    "edit.nothing": "先在左上方选择规则集和版本，再点“打开为新草稿”。",
    "edit.diagnostics": "问题",
    "edit.diag_ok": "没有发现问题",
    "edit.diag_count": "{errors} 个错误，{warnings} 个警告",
    "edit.checking": "检查中…",
    "edit.help": "提示：{help}",
    "edit.did_you_mean": "是否想写：",
    "edit.examples": "示例",
    "edit.examples_disagree": "另有 {n} 个示例与规则不符，见下方“示例”",
    "edit.examples_result": "{passed} 个示例通过，{failed} 个不通过",
    "edit.examples_wait": "改正上面的问题后才能运行示例",
    "edit.example": "示例",
    "edit.expected": "预期",
    "edit.got": "实际",
    "edit.responsible": "相关规则",
    "edit.coverage": "规则覆盖：{covered} / {rules}",
    "edit.uncovered": "没有示例覆盖的规则：{rules}",
    "edit.impact": "对数据的影响",
    "edit.impact_against": "对比版本",
    "edit.impact_today": "今天的现行版本",
    "edit.impact_sample": "样本数据",
    "edit.impact_upload": "或上传文件",
    "edit.impact_none": "（不对比数据）",
    "edit.impact_progress": "已比较 {done} / {total} 条",
    "edit.impact_result": "{changed} / {total} 条记录的结论或输出会改变",
    "edit.impact_wait": "改正问题后才会比较",
    "edit.impact_by_article": "按条款：",
    "edit.impact_line": "行",
    "edit.impact_before": "原结论",
    "edit.impact_after": "新结论",
    "edit.impact_rules": "相关规则",
    "edit.save": "保存为新草稿",
    "edit.save_blocked": "有问题或示例不通过时不能保存",
    "edit.saved": "已保存 {id}@{version}（{path}），保存人 {who}，{when}",
    "edit.hover_rule": "规则 {rule} · {cite}",
    "drafts.title": "保存记录",
    "drafts.empty": "还没有保存过草稿",
    "drafts.when": "时间",
    "drafts.who": "保存人",
    "drafts.what": "规则集与版本",
    "drafts.based_on": "基于",
    "drafts.path": "文件",
    "drafts.anonymous": "（未设置令牌）",
  },
  en: {
    "app.title": "Rulebook workbench",
    "app.subtitle": "read, try and edit rulebooks",
    "tab.read": "Read",
    "tab.try": "Try",
    "tab.edit": "Edit",
    "tab.drafts": "Saved drafts",
    "lang.switch": "中文",
    "mode.readonly": "read-only: start with --edit to edit",
    "mode.edit": "editing on",
    "user.none": "not signed in",
    "user.as": "user: {user}",
    "token.label": "Access token",
    "token.help": "This service uses tokens: enter the token you were given (kept in this browser tab only).",
    "token.save": "OK",
    "loading": "loading…",
    "error": "Something went wrong",
    "retry": "Retry",
    "none": "none",
    "yes": "yes",
    "no": "no",
    "close": "Close",
    "read.rulebooks": "Installed rulebooks",
    "read.id": "Rulebook",
    "read.title": "Title",
    "read.version": "Version",
    "read.status": "Status",
    "read.effective": "Effective",
    "read.decisions": "Decisions",
    "read.supplied": "Supplied by",
    "read.open": "Articles",
    "read.try": "Try",
    "read.edit": "New draft",
    "read.in_force": "in force: {version}",
    "read.no_in_force": "no version in force today",
    "read.back": "Back to the list",
    "read.doc_html": "Show as the rulebook doc page",
    "read.doc_structured": "Show article by article",
    "status.draft": "draft",
    "status.in_force": "in force",
    "status.repealed": "repealed",
    "doc.source": "Source",
    "doc.parameters": "Parameters",
    "doc.values": "Named values",
    "doc.outputs": "Outputs",
    "doc.rules": "Rules",
    "doc.article": "Article",
    "doc.rule": "Rule",
    "doc.requires": "Requires",
    "doc.applies": "Applies when",
    "doc.severity": "Severity",
    "doc.message": "Message",
    "doc.note": "Interpretation note",
    "doc.uses": "Parameters used",
    "doc.examples_pass": "Examples that pass it",
    "doc.examples_fail": "Examples that fail it",
    "doc.name": "Name",
    "doc.value": "Value",
    "doc.meaning": "Meaning",
    "doc.from_until": "from {from}",
    "doc.from_to": "{from} to {until}",
    "try.rulebook": "Rulebook",
    "try.version": "Version",
    "try.version_default": "the version in force on the date",
    "try.decision": "Decision",
    "try.as_of": "Evaluation date",
    "try.as_of_help": "empty: the record's own date",
    "try.form": "Form",
    "try.json": "Paste JSON",
    "try.file": "Upload a file",
    "try.decide": "Decide",
    "try.add": "Add one",
    "try.remove": "Remove",
    "try.unset": "(not given)",
    "try.json_placeholder": "Paste one record here (a JSON object)",
    "try.json_bad": "this is not a JSON object: {error}",
    "try.file_help": "JSON Lines (.jsonl), JSON (.json), CSV (.csv) or Excel (.xlsx), one record per line or row.",
    "try.file_choose": "Choose a file",
    "try.file_none": "no file chosen",
    "try.file_run": "Decide every record",
    "try.file_type": "unknown kind of file `{name}`: use .jsonl, .json, .csv or .xlsx",
    "try.progress": "{done} of {total} records decided",
    "try.summary": "Summary by article ({total} records)",
    "try.outcomes": "outcomes: pass {pass}, fail {fail}, indeterminate {indeterminate}, unreadable {error}",
    "try.by_article": "Article",
    "try.failed": "failed",
    "try.errors": "errors",
    "try.waived": "waived",
    "try.records": "Records (first {n})",
    "try.line": "Line",
    "try.record": "Record",
    "try.outcome": "Outcome",
    "try.failed_rules": "Rules failed",
    "try.empty_file": "the file holds no record",
    "try.field_help": "field `{path}`",
    "outcome.pass": "pass",
    "outcome.fail": "fail",
    "outcome.indeterminate": "indeterminate",
    "outcome.error": "error",
    "rstatus.pass": "pass",
    "rstatus.fail": "fail",
    "rstatus.not_applicable": "not applicable",
    "rstatus.error": "error",
    "rstatus.waived": "waived",
    "explain.head": "{record} · {rulebook}@{version} · {decision}",
    "explain.as_of": "as of {as_of}",
    "explain.rule": "Rule",
    "explain.article": "Article",
    "explain.status": "Status",
    "explain.values": "Values",
    "explain.message": "Message",
    "explain.note": "Note",
    "explain.outputs": "Outputs",
    "explain.no_outputs": "this decision has no outputs",
    "explain.schema": "the record does not fit its record schema:",
    "edit.pick": "Open a version as a new draft",
    "edit.open": "Open as a new draft",
    "edit.based_on": "based on {id}@{version}",
    "edit.nothing": "Pick a rulebook and a version above, then “Open as a new draft”.",
    "edit.diagnostics": "Problems",
    "edit.diag_ok": "no problems found",
    "edit.diag_count": "errors: {errors}, warnings: {warnings}",
    "edit.checking": "checking…",
    "edit.help": "help: {help}",
    "edit.did_you_mean": "did you mean:",
    "edit.examples": "Examples",
    "edit.examples_disagree": "and {n} examples disagree with the rules: see Examples below",
    "edit.examples_result": "{passed} examples pass, {failed} fail",
    "edit.examples_wait": "the examples run once the problems above are fixed",
    "edit.example": "Example",
    "edit.expected": "Expected",
    "edit.got": "Got",
    "edit.responsible": "Rules responsible",
    "edit.coverage": "rule coverage: {covered} of {rules}",
    "edit.uncovered": "rules no example covers: {rules}",
    "edit.impact": "Impact on data",
    "edit.impact_against": "Against version",
    "edit.impact_today": "the version in force today",
    "edit.impact_sample": "Sample feed",
    "edit.impact_upload": "or upload a file",
    "edit.impact_none": "(no data)",
    "edit.impact_progress": "{done} of {total} records compared",
    "edit.impact_result": "{changed} of {total} records change decision or outputs",
    "edit.impact_wait": "compared once the problems are fixed",
    "edit.impact_by_article": "by article:",
    "edit.impact_line": "Line",
    "edit.impact_before": "Before",
    "edit.impact_after": "After",
    "edit.impact_rules": "Rules",
    "edit.save": "Save as a new draft",
    "edit.save_blocked": "cannot save while there are problems or failing examples",
    "edit.saved": "saved {id}@{version} ({path}) by {who}, {when}",
    "edit.hover_rule": "rule {rule} · {cite}",
    "drafts.title": "Saved drafts",
    "drafts.empty": "no draft has been saved yet",
    "drafts.when": "When",
    "drafts.who": "Saved by",
    "drafts.what": "Rulebook and version",
    "drafts.based_on": "Based on",
    "drafts.path": "File",
    "drafts.anonymous": "(no tokens configured)",
  },
};

const STORE_KEY = "rulebook-workbench.lang";

function fromBrowser() {
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const t = String(tag).toLowerCase();
    if (t.startsWith("zh")) return "zh";
    if (t.startsWith("en")) return "en";
  }
  return null;
}

let current = (() => {
  try {
    const kept = localStorage.getItem(STORE_KEY);
    if (kept === "zh" || kept === "en") return kept;
  } catch (_) {
    /* storage refused (private mode): follow the browser */
  }
  return fromBrowser() || "zh";
})();

const listeners = [];

export function lang() {
  return current;
}

/** The page's language was not chosen by the reader nor by the browser: the server's default applies. */
export function adoptDefault(serverDefault) {
  let kept = null;
  try {
    kept = localStorage.getItem(STORE_KEY);
  } catch (_) {
    kept = null;
  }
  if (!kept && !fromBrowser() && (serverDefault === "zh" || serverDefault === "en")) setLang(serverDefault, false);
}

export function setLang(value, remember = true) {
  if (value !== "zh" && value !== "en") return;
  current = value;
  if (remember) {
    try {
      localStorage.setItem(STORE_KEY, value);
    } catch (_) {
      /* not remembered: still switched */
    }
  }
  document.documentElement.lang = value === "zh" ? "zh-CN" : "en";
  applyStatic();
  for (const fn of listeners) fn(value);
}

export function onLangChange(fn) {
  listeners.push(fn);
}

/** The word for ``key`` in the page's language, with ``{name}`` filled from ``vars``. */
export function t(key, vars = {}) {
  const table = WORDS[current];
  const text = key in table ? table[key] : key in WORDS.en ? WORDS.en[key] : key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** A text of both languages from the server ({zh, en} or a plain string) in the page's language. */
export function pick(text) {
  if (text == null) return "";
  if (typeof text === "string") return text;
  if (typeof text === "object") return text[current] ?? text.en ?? text.zh ?? "";
  return String(text);
}

/** Fill every element carrying data-i18n (text) or data-i18n-title / data-i18n-placeholder. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  document.title = t("app.title");
}

export const KNOWN_KEYS = Object.keys(WORDS.en);
export const WORDS_FOR_TESTS = WORDS;
