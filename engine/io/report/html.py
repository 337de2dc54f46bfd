"""`--format html`: one self-contained page a secretary can read and print.

The page gives the counts by outcome, a bar chart of failures per article
(plain HTML and CSS, no scripts, no external files), and every record that did
not pass with its explanation: each failed rule with its citation, message and
the values it saw.  Every piece of user text is escaped.  Record sections are
spooled to a temporary file, so memory stays constant.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from html import escape as _escape_html
from typing import IO, Any

from engine import messages
from engine.evaluate import Decision, InputRef, format_value
from engine.io.report import Spool, Summary, failed_rules, schema_items
from engine.io.terminal import escape_controls

__all__ = ["HtmlReport"]


def escape(text: str) -> str:
    """Text for the page: HTML's special characters as entities, and control characters and
    bidirectional controls shown as escapes (``\\x1b``; see ``engine.io.terminal``), which neither a
    browser nor a terminal the page is printed to then acts on."""
    return _escape_html(escape_controls(text, spacing=True))


WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "规则检查报告",
        "records": "条记录",
        "record": "条记录",
        "pass": "通过",
        "fail": "不通过",
        "indeterminate": "无法判断",
        "error": "无法读取",
        "by_article": "各条款未通过的记录数",
        "details": "未通过的记录",
        "values": "所见的值",
        "none": "全部记录均已通过。",
        "generated": "生成时间",
        "rulebook": "规则集",
        "schema": "不符合记录结构",
        "rejected": "拒绝（不符合记录结构）",
        "expected": "应为",
    },
    "en": {
        "title": "Rulebook check report",
        "records": "records",
        "record": "record",
        "pass": "pass",
        "fail": "fail",
        "indeterminate": "indeterminate",
        "error": "unreadable",
        "by_article": "Records failing each article",
        "details": "Records that did not pass",
        "values": "values seen",
        "none": "Every record passed.",
        "generated": "generated",
        "rulebook": "rulebook",
        "schema": "breaks its record schema",
        "rejected": "rejected (breaks its record schema)",
        "expected": "expected",
    },
}
RULE_STATUS_WORDS: dict[str, dict[str, str]] = {
    "zh": {"fail": "不符合", "error": "无法判断", "waived": "已豁免"},
    "en": {"fail": "fail", "error": "error", "waived": "waived"},
}
STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:60em;margin:2em auto;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:2em}
.counts span{display:inline-block;margin-right:1.5em;font-size:1.1em}
.pass{color:#1a7f37}.fail{color:#cf222e}.indeterminate,.error,.schema{color:#9a6700}
table.bars{border-collapse:collapse;width:100%}table.bars td{padding:.15em .4em;vertical-align:middle}
.bar{background:#cf222e;height:1em;min-width:2px}
section.record{border:1px solid #ddd;border-radius:4px;padding:.4em .8em;margin:.6em 0;page-break-inside:avoid}
section.record h3{font-size:1em;margin:.2em 0}.where{color:#666;font-weight:normal}
ul{margin:.2em 0 .4em 1.2em;padding:0}.values{color:#555;font-size:.9em}
@media print{body{margin:0}}
"""


def _where(ref: InputRef | None) -> str:
    if ref is None or ref.file is None:
        return ""
    return f"{ref.file}:{ref.line}" if ref.line is not None else ref.file


class HtmlReport:
    # a record that passed is only counted and named here: the columnar engine need not explain it
    shows_passes = False

    def __init__(self, out: IO[str], *, lang: str = "zh", **_: Any) -> None:
        self.out = out
        self.lang = lang
        self.w = WORDS[lang]
        self.status_words = RULE_STATUS_WORDS[lang]
        self.summary = Summary()
        self.spool = Spool()
        self.articles: Counter[str] = Counter()
        self.rulebook = ""
        self.sections = 0

    def begin(self) -> None:
        return None

    def write(self, decision: Decision) -> None:
        self.summary.add(decision)
        self.rulebook = self.rulebook or f"{decision.rulebook}@{decision.version} · {decision.decision}"
        outcome = str(decision.outcome)
        schema = schema_items(decision, self.lang)
        if outcome == "pass" and not schema:
            return
        rules = failed_rules(decision)
        for cite in {r.spec.cite for r in rules if r.status == "fail"}:
            self.articles[cite] += 1
        record = decision.rules[0].record if decision.rules else None
        name = record.get("name") if isinstance(record, dict) else None
        head = escape(decision.record_id or messages.msg("cli.no-id").get(self.lang)) + (
            f" {escape(name)}" if isinstance(name, str) else ""
        )
        items = []
        for r in rules:
            status = self.status_words.get(str(r.status), str(r.status))
            values = ", ".join(f"{escape(k)} = {escape(format_value(v, self.lang))}" for k, v in r.values.items())
            items.append(
                f"<li><b>{escape(r.spec.cite)}</b> <code>{escape(r.id)}</code> [{escape(status)}]: "
                f"{escape(r.message(self.lang) or '')}"
                + (f'<div class="values">{escape(self.w["values"])}: {values}</div>' if values else "")
                + "</li>"
            )
        for v in schema:
            items.append(
                f'<li class="schema"><b>{escape(self.w["schema"])}</b> <code>{escape(v["path"])}</code>: '
                f'{escape(v["message"])}<div class="values">{escape(self.w["expected"])}: '
                f"{escape(v['expected'])}</div></li>"
            )
        word = self.w["rejected"] if outcome == "error" and schema else self.w[outcome]
        self.sections += 1
        self.spool.add(
            f'<section class="record"><h3><span class="{outcome}">{escape(word)}</span> '
            f'{head} <span class="where">{escape(_where(decision.input))}</span></h3>'
            f"<ul>{''.join(items)}</ul></section>\n"
        )

    def write_error(self, rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> None:
        self.summary.add_error()
        self.spool.add(
            f'<section class="record"><h3><span class="error">{escape(self.w["error"])}</span> '
            f'<span class="where">{escape(_where(ref))}</span></h3><p>{escape(message)}</p></section>\n'
        )

    def end(self) -> Summary:
        w = self.w
        s = self.summary
        o = s.outcomes
        self.out.write(
            f'<!DOCTYPE html>\n<html lang="{"zh-CN" if self.lang == "zh" else "en"}">\n<head>'
            f'<meta charset="utf-8"><title>{escape(w["title"])}</title><style>{STYLE}</style></head>\n'
            f"<body>\n<h1>{escape(w['title'])}</h1>\n"
        )
        now = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        self.out.write(f"<p>{escape(w['rulebook'])}: {escape(self.rulebook)} · {escape(w['generated'])}: {now}</p>\n")
        self.out.write(
            '<p class="counts">'
            f"<span>{s.total} {escape(w['record'] if s.total == 1 else w['records'])}</span>"
            + "".join(
                f'<span class="{k}">{escape(w[k])} {o.get(k, 0)}</span>'
                for k in ("pass", "fail", "indeterminate", "error")
            )
            + (f'<span class="schema">{escape(w["schema"])} {s.schema_records}</span>' if s.schema_records else "")
            + "</p>\n"
        )
        if self.articles:
            top = max(self.articles.values())
            self.out.write(f'<h2>{escape(w["by_article"])}</h2>\n<table class="bars">\n')
            for cite, n in sorted(self.articles.items(), key=lambda kv: (-kv[1], kv[0])):
                width = max(1, round(100 * n / top))
                self.out.write(
                    f'<tr><td style="width:10em">{escape(cite)}</td><td style="width:3em;text-align:right">'
                    f'{n}</td><td><div class="bar" style="width:{width}%"></div></td></tr>\n'
                )
            self.out.write("</table>\n")
        self.out.write(f"<h2>{escape(w['details'])}</h2>\n")
        if s.total == o.get("pass", 0) and not self.sections:
            self.out.write(f"<p>{escape(w['none'])}</p>\n")
        self.spool.replay(self.out)
        self.out.write("</body>\n</html>\n")
        self.out.flush()
        return self.summary
