"""`--format junit`: JUnit XML, as CI servers read it.

One ``<testsuite>`` per decision and one ``<testcase>`` per record: a failed
record carries a ``<failure>`` listing each failed rule with its citation and
message; an indeterminate or unreadable record carries an ``<error>``.  A
record that breaks its record schema lists the violations in ``<system-out>``
(and in its failure or error text; a rejected record's ``<error>`` gives them).  The
element and attribute names follow the JUnit XML schema that Jenkins, GitLab
and GitHub test reporters accept.  Test cases are spooled to a temporary file,
so memory stays constant however many records there are.
"""

from __future__ import annotations

import re
import time
from typing import IO, Any

from engine import messages
from engine.evaluate import Decision, InputRef
from engine.io.report import Spool, Summary, failed_rules, schema_items

__all__ = ["JunitReport"]


# xml.sax.saxutils brings urllib and http.client with it: imported when a JUnit report is
# written, not whenever the formats are registered (every run of the command line)
def escape(text: str) -> str:
    from xml.sax import saxutils

    return saxutils.escape(text)


def quoteattr(text: str) -> str:
    from xml.sax import saxutils

    return saxutils.quoteattr(text)


# what XML 1.0 does not allow in text: control characters other than tab and line ends,
# surrogates, U+FFFE and U+FFFF
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    """Text safe for XML 1.0 (what it does not allow dropped)."""
    return _NOT_XML.sub("", text) if _NOT_XML.search(text) else text


def _where(ref: InputRef | None) -> str:
    if ref is None or ref.file is None:
        return ""
    return f"{ref.file}:{ref.line}" if ref.line is not None else ref.file


class JunitReport:
    # a record that passed is only counted and named here: the columnar engine need not explain it
    shows_passes = False

    def __init__(self, out: IO[str], *, lang: str = "zh", **_: Any) -> None:
        self.out = out
        self.lang = lang
        self.summary = Summary()
        self.spool = Spool()
        self.suite = ""
        self.failures = self.errors = self.tests = 0
        self.started = time.perf_counter()
        self.input_problems: list[str] = []  # rendered diagnostics about the input files

    def begin(self) -> None:
        return None

    def _case(self, classname: str, name: str, ref: InputRef | None, body: str = "") -> None:
        self.tests += 1
        attrs = f'classname={quoteattr(_clean(classname))} name={quoteattr(_clean(name))} time="0"'
        if ref is not None and ref.file is not None:
            attrs += f" file={quoteattr(_clean(ref.file))}"
            if ref.line is not None:
                attrs += f' line="{ref.line}"'
        self.spool.add(f"    <testcase {attrs}>{body}</testcase>\n" if body else f"    <testcase {attrs}/>\n")

    def write(self, decision: Decision) -> None:
        self.summary.add(decision)
        self.suite = f"{decision.rulebook}@{decision.version} {decision.decision}"
        classname = f"{decision.rulebook}.{decision.decision}"
        rid = decision.record_id or messages.msg("cli.no-id").get(self.lang)
        name = f"{rid} ({_where(decision.input)})" if decision.input else rid
        rules = failed_rules(decision)
        outcome = str(decision.outcome)
        label = "记录结构" if self.lang == "zh" else "schema"
        schema = [f"{label} {v['path']} [{v['severity']}]: {v['message']}" for v in schema_items(decision, self.lang)]
        # the violations are also the test case's output, where CI servers show them on a passing case
        out = f"<system-out>{escape(_clean(chr(10).join(schema)))}</system-out>" if schema else ""
        if outcome == "pass":
            self._case(classname, name, decision.input, out)
            return
        lines = []
        for r in rules:
            msg = r.message(self.lang) or ""
            lines.append(f"{r.spec.cite} {r.id} [{r.status}]: {msg}")
        if outcome == "error" and schema:  # rejected (schema enforcement reject): the violations say why
            lines = [*[x for x in schema if "[error]" in x], *lines]
        else:
            lines.extend(schema)
        text = escape(_clean("\n".join(lines)))
        if outcome == "fail":
            self.failures += 1
            body = f'<failure message={quoteattr(_clean(lines[0]) if lines else "fail")} type="fail">{text}</failure>'
        else:
            self.errors += 1
            body = f'<error message={quoteattr(_clean(lines[0]) if lines else outcome)} type="{outcome}">{text}</error>'
        self._case(classname, name, decision.input, body + out)

    def write_error(self, rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> None:
        self.summary.add_error()
        self.suite = self.suite or f"{rulebook}@{version} {decision}"
        self.errors += 1
        body = f'<error message={quoteattr(_clean(message))} type="unreadable">{escape(_clean(message))}</error>'
        unreadable = messages.msg("report.unreadable").get(self.lang)
        self._case(f"{rulebook}.{decision}", f"{unreadable} ({_where(ref)})", ref, body)

    def write_input_problem(self, ref: InputRef, note: Any) -> None:
        """A problem with an input as a whole (``engine.io.records.InputNote``), listed in the suite's
        ``<system-err>``: it concerns no single test case."""
        self.input_problems.append(note.problem.render(self.lang))

    def end(self) -> Summary:
        elapsed = time.perf_counter() - self.started
        self.out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.out.write(
            f'<testsuites name="rulebook" tests="{self.tests}" failures="{self.failures}" '
            f'errors="{self.errors}" time="{elapsed:.3f}">\n'
        )
        self.out.write(
            f'  <testsuite name={quoteattr(_clean(self.suite or "rulebook"))} tests="{self.tests}" '
            f'failures="{self.failures}" errors="{self.errors}" skipped="0" time="{elapsed:.3f}">\n'
        )
        self.spool.replay(self.out)
        problems = self.input_problems
        if problems:  # what was wrong with the input itself (a column no field has): the suite's own output
            self.out.write(f"    <system-err>{escape(_clean(chr(10).join(problems)))}</system-err>\n")
        self.out.write("  </testsuite>\n</testsuites>\n")
        self.out.flush()
        return self.summary
