// Spreadsheets (CSV and XLSX) read in the browser and typed through the decision's record
// schema, by the conventions of `rulebook check` (docs/cli.md, "Inputs"): the first row names
// the fields, dotted columns name nested fields and list positions counted from 1
// (`introducers.1.is_member`, `introducers[1].is_member`), an empty cell leaves the field out,
// and each cell is converted to its field's type.  The records become JSON Lines for the batch
// endpoint, each keeping its row; a cell that does not fit becomes that row's error.

const TRUE = new Set(["true", "yes", "y", "1", "是", "对", "√", "✓", "t"]);
const FALSE = new Set(["false", "no", "n", "0", "否", "错", "×", "✗", "f"]);
const DATE_FORMS = [/^(\d{4})-(\d{1,2})-(\d{1,2})$/, /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/, /^(\d{4})\.(\d{1,2})\.(\d{1,2})$/, /^(\d{4})年(\d{1,2})月(\d{1,2})日?$/];
const LIST_SPLIT = /[;；、\n]/;

export class CellError extends Error {
  constructor(column, want, cell) {
    super(`${want}: ${cell}`);
    this.column = column;
    this.want = want;
    this.cell = cell;
  }
}

function typesOf(schema) {
  const t = schema && schema.type;
  return typeof t === "string" ? [t] : Array.isArray(t) ? t : schema && schema.enum ? ["enum"] : [];
}

function iso(y, m, d) {
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return null;
  return dt.toISOString().slice(0, 10);
}

function toDate(cell, column) {
  if (typeof cell === "number") {
    // A spreadsheet date cell: days since 1899-12-30.
    const dt = new Date(Date.UTC(1899, 11, 30) + Math.floor(cell) * 86400000);
    return dt.toISOString().slice(0, 10);
  }
  const text = String(cell).trim();
  for (const form of DATE_FORMS) {
    const m = text.match(form);
    if (m) {
      const out = iso(Number(m[1]), Number(m[2]), Number(m[3]));
      if (out) return out;
      break;
    }
  }
  throw new CellError(column, "date", cell);
}

function convert(cell, schema, column) {
  const types = typesOf(schema);
  if (typeof cell === "string") {
    cell = cell.trim();
    if (cell.toLowerCase() === "null" && types.includes("null")) return null;
  }
  const kinds = types.filter((k) => k !== "null");
  const kind = kinds.length === 1 ? kinds[0] : null;
  if (kind === "string") {
    if (schema.format === "date") return toDate(cell, column);
    return String(cell);
  }
  if (kind === "integer") {
    if (typeof cell === "number" && Number.isInteger(cell)) return cell;
    const text = String(cell).trim();
    if (/^[+-]?\d+(\.0+)?$/.test(text)) return parseInt(text, 10);
    throw new CellError(column, "integer", cell);
  }
  if (kind === "number") {
    if (typeof cell === "number") return cell;
    const n = Number(String(cell).trim());
    if (String(cell).trim() === "" || Number.isNaN(n)) throw new CellError(column, "number", cell);
    return n;
  }
  if (kind === "boolean") {
    if (typeof cell === "boolean") return cell;
    if (cell === 0 || cell === 1) return cell === 1;
    const text = String(cell).trim().toLowerCase();
    if (TRUE.has(text)) return true;
    if (FALSE.has(text)) return false;
    throw new CellError(column, "boolean", cell);
  }
  if (kind === "array") {
    const text = String(cell);
    if (text.startsWith("[")) {
      let v;
      try {
        v = JSON.parse(text);
      } catch (_) {
        throw new CellError(column, "list", cell);
      }
      if (!Array.isArray(v)) throw new CellError(column, "list", cell);
      return v;
    }
    const items = schema.items || {};
    if (typesOf(items).includes("object")) throw new CellError(column, "list of objects (JSON or dotted columns)", cell);
    return text
      .split(LIST_SPLIT)
      .map((p) => p.trim())
      .filter((p) => p !== "")
      .map((p) => convert(p, items, column));
  }
  if (kind === "object") {
    const text = String(cell);
    if (text.startsWith("{")) {
      try {
        const v = JSON.parse(text);
        if (v && typeof v === "object" && !Array.isArray(v)) return v;
      } catch (_) {
        /* reported below */
      }
    }
    throw new CellError(column, "object (JSON or dotted columns)", cell);
  }
  return cell;
}

export function columnParts(name) {
  return String(name)
    .trim()
    .replace(/\[/g, ".")
    .replace(/\]/g, "")
    .split(".")
    .filter(Boolean);
}

function subSchema(schema, part) {
  if (!schema || typeof schema !== "object") return {};
  if (/^\d+$/.test(part)) return schema.items || {};
  return (schema.properties || {})[part] || {};
}

function place(record, parts, value) {
  let target = record;
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    const next = last ? null : parts[i + 1];
    const container = () => (next !== null && /^\d+$/.test(next) ? [] : {});
    if (Array.isArray(target)) {
      const index = parseInt(part, 10) - 1;
      while (target.length <= index) target.push(null);
      if (last) target[index] = value;
      else {
        if (target[index] === null) target[index] = container();
        target = target[index];
      }
    } else if (last) target[part] = value;
    else {
      if (!(part in target) || typeof target[part] !== "object" || target[part] === null) target[part] = container();
      target = target[part];
    }
  });
}

/** Header names that name no field of the schema (kept as text, read by no rule). */
export function unknownColumns(header, schema) {
  return header.filter((name) => {
    let s = schema;
    for (const part of columnParts(name)) {
      if (part === "waivers" && s === schema) return false;
      const props = s && s.properties;
      if (/^\d+$/.test(part)) {
        if (!s || !s.items) return true;
        s = s.items;
      } else if (props && Object.keys(props).length) {
        if (!(part in props)) return true;
        s = props[part];
      } else return false;
    }
    return false;
  });
}

/** One row as a record, or a CellError. */
export function rowToRecord(header, row, schema) {
  const record = {};
  header.forEach((name, i) => {
    const cell = row[i];
    if (cell === undefined || cell === null || (typeof cell === "string" && cell.trim() === "")) return;
    const parts = columnParts(name);
    if (!parts.length) return;
    let s = schema;
    for (const p of parts) s = subSchema(s, p);
    place(record, parts, convert(cell, s, name));
  });
  return record;
}

// -- CSV --------------------------------------------------------------------------------------

export function decodeText(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
  } catch (_) {
    return new TextDecoder("gb18030").decode(bytes); // Excel's Chinese CSV export
  }
}

/** Rows of a CSV text (quoted fields, doubled quotes, line breaks inside quotes); separator sniffed. */
export function parseCSV(text) {
  const first = text.split(/\r?\n/, 1)[0] || "";
  const counts = [",", "\t", ";"].map((s) => [s, first.split(s).length]);
  counts.sort((a, b) => b[1] - a[1]);
  const sep = counts[0][1] > 1 ? counts[0][0] : ",";
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 1;
        } else quoted = false;
      } else cell += c;
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === sep) {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

// -- XLSX (a zip of XML parts; inflated with the browser's own DecompressionStream) -----------

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function unzip(buffer) {
  const view = new DataView(buffer);
  let eocd = -1;
  for (let i = buffer.byteLength - 22; i >= Math.max(0, buffer.byteLength - 65558); i -= 1) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not an XLSX file (no zip directory)");
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const files = new Map();
  const dec = new TextDecoder();
  for (let n = 0; n < count; n += 1) {
    const method = view.getUint16(p + 10, true);
    const size = view.getUint32(p + 20, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = dec.decode(new Uint8Array(buffer, p + 46, nameLen));
    files.set(name, { method, size, local });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return async (name) => {
    const f = files.get(name);
    if (!f) return null;
    const start = f.local + 30 + view.getUint16(f.local + 26, true) + view.getUint16(f.local + 28, true);
    const raw = new Uint8Array(buffer, start, f.size);
    return dec.decode(f.method === 0 ? raw : await inflate(raw));
  };
}

function colIndex(ref) {
  let n = 0;
  for (const ch of ref.replace(/\d+$/, "")) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** The rows of the first sheet of an XLSX file: strings, numbers and booleans as the cells hold them. */
export async function parseXLSX(buffer) {
  const read = await unzip(buffer);
  const xml = (text) => new DOMParser().parseFromString(text, "application/xml");
  const shared = [];
  const sst = await read("xl/sharedStrings.xml");
  if (sst) {
    for (const si of xml(sst).getElementsByTagName("si")) {
      shared.push(Array.from(si.getElementsByTagName("t")).map((x) => x.textContent).join(""));
    }
  }
  let sheetPath = "xl/worksheets/sheet1.xml";
  const wb = await read("xl/workbook.xml");
  const rels = await read("xl/_rels/workbook.xml.rels");
  if (wb && rels) {
    const first = xml(wb).getElementsByTagName("sheet")[0];
    const rid = first && (first.getAttribute("r:id") || first.getAttributeNS("http://schemas.openxmlformats.org/officeDocument/2006/relationships", "id"));
    for (const rel of xml(rels).getElementsByTagName("Relationship")) {
      if (rel.getAttribute("Id") === rid) {
        const target = rel.getAttribute("Target");
        sheetPath = target.startsWith("/") ? target.slice(1) : `xl/${target}`;
      }
    }
  }
  const sheet = await read(sheetPath);
  if (!sheet) throw new Error("the workbook has no sheet");
  const rows = [];
  for (const r of xml(sheet).getElementsByTagName("row")) {
    const row = [];
    for (const c of r.getElementsByTagName("c")) {
      const type = c.getAttribute("t");
      const v = c.getElementsByTagName("v")[0];
      let value = "";
      if (type === "s") value = shared[Number(v && v.textContent)] ?? "";
      else if (type === "inlineStr") value = Array.from(c.getElementsByTagName("t")).map((x) => x.textContent).join("");
      else if (type === "b") value = v ? v.textContent === "1" : "";
      else if (type === "str" || type === "e") value = v ? v.textContent : "";
      else if (v) value = Number(v.textContent);
      row[colIndex(c.getAttribute("r") || "A1")] = value;
    }
    rows[Number(r.getAttribute("r") || rows.length + 1) - 1] = row;
  }
  return Array.from(rows, (row) => Array.from(row || [], (x) => (x === undefined ? "" : x)));
}

/**
 * A file as JSON Lines text for the batch endpoint, and what was said of it:
 * ``{text, records, rows: [source row of each line], problems: [{row, column, want, cell}], unknown: [column]}``.
 * JSON Lines and JSON files are passed on (a JSON array becomes one line per element).
 */
export async function fileToJsonLines(file, schema) {
  const name = file.name.toLowerCase();
  const buffer = await file.arrayBuffer();
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
    const text = decodeText(new Uint8Array(buffer));
    const lines = text.split("\n");
    return { text, records: lines.filter((l) => l.trim()).length, rows: null, problems: [], unknown: [] };
  }
  if (name.endsWith(".json")) {
    const value = JSON.parse(decodeText(new Uint8Array(buffer)));
    const list = Array.isArray(value) ? value : [value];
    return { text: list.map((x) => JSON.stringify(x)).join("\n") + "\n", records: list.length, rows: null, problems: [], unknown: [] };
  }
  let rows;
  if (name.endsWith(".csv") || name.endsWith(".tsv")) rows = parseCSV(decodeText(new Uint8Array(buffer)));
  else if (name.endsWith(".xlsx")) rows = await parseXLSX(buffer);
  else return null;
  rows = rows.filter((r) => r && r.some((c) => String(c).trim() !== ""));
  if (!rows.length) return { text: "", records: 0, rows: [], problems: [], unknown: [] };
  const header = rows[0].map((c) => String(c).trim());
  const out = [];
  const rowNumbers = [];
  const problems = [];
  rows.slice(1).forEach((row, i) => {
    try {
      out.push(JSON.stringify(rowToRecord(header, row, schema)));
    } catch (e) {
      if (!(e instanceof CellError)) throw e;
      problems.push({ row: i + 2, column: e.column, want: e.want, cell: String(e.cell) });
      out.push("[]"); // not an object: the batch answers it with this line's error, keeping the count
    }
    rowNumbers.push(i + 2);
  });
  return { text: out.join("\n") + "\n", records: out.length, rows: rowNumbers, problems, unknown: unknownColumns(header, schema) };
}
