// A file of records as JSON Lines for the batch and impact endpoints.  Spreadsheets (CSV, TSV,
// XLSX) are read by the engine itself (`POST /workbench/api/records`), exactly as `rulebook
// check` reads them: the cells are typed through the decision's record schema on the server, so
// the page keeps no copy of those rules.  JSON Lines and JSON files are passed on as they are.

import { postStream } from "./api.js";

const SHEETS = { ".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx" };

function decodeText(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
  } catch (_) {
    return new TextDecoder("gb18030").decode(bytes); // Excel's Chinese export
  }
}

/**
 * ``file`` as JSON Lines text, and what was said of it: ``{text, records, rows: [source row of
 * each line] | null, problems: [{row, message}], unknown: [warning message]}``; null for a kind of
 * file the engine does not read.  ``target``: ``{rulebook, decision, version}``, whose record schema
 * types a spreadsheet's cells.  A row the engine cannot read stays in the text as ``[]`` (not an
 * object), so the endpoint it is sent to counts it as unreadable and the line numbers still match.
 */
export async function fileToJsonLines(file, target) {
  const name = file.name.toLowerCase();
  const dot = name.lastIndexOf(".");
  const ext = dot >= 0 ? name.slice(dot) : "";
  if (ext === ".jsonl" || ext === ".ndjson") {
    const text = decodeText(new Uint8Array(await file.arrayBuffer()));
    return { text, records: text.split("\n").filter((l) => l.trim()).length, rows: null, problems: [], unknown: [] };
  }
  if (ext === ".json") {
    const value = JSON.parse(decodeText(new Uint8Array(await file.arrayBuffer())));
    const list = Array.isArray(value) ? value : [value];
    return { text: list.map((x) => JSON.stringify(x)).join("\n") + "\n", records: list.length, rows: null, problems: [], unknown: [] };
  }
  const format = SHEETS[ext];
  if (!format) return null;
  const out = [];
  const rows = [];
  const problems = [];
  const unknown = [];
  await postStream("/workbench/api/records", file, {
    query: { rulebook: target.rulebook, decision: target.decision, version: target.version, format, name: file.name },
    contentType: "application/octet-stream",
    onLine: (line) => {
      if (line.warning) {
        unknown.push(line.warning.message);
        return;
      }
      rows.push(line.input.line);
      if (line.record === null) {
        problems.push({ row: line.input.line, message: line.message });
        out.push("[]");
      } else {
        out.push(JSON.stringify(line.record));
      }
    },
  });
  return { text: out.length ? out.join("\n") + "\n" : "", records: out.length, rows, problems, unknown };
}
