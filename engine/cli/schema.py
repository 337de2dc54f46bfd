"""`rulebook schema`: where the published JSON Schemas are, and editor settings that use them.

Every schema the engine publishes has a stable ``$id`` under
``https://rulebook-engine.example/schemas/`` (the rulebook format is
``SCHEMA_ID``).  The address names the schema; nothing is fetched from it: the
engine finds each schema in the installed package by its ``$id``
(:func:`installed_schemas`), offline.

``rulebook schema`` prints the ``$id`` of the rulebook schema and the file it is
installed as (``rulebook schema ID`` does the same for another published
schema).  ``rulebook schema --install`` writes the editor settings that check
rulebook files against the installed file: ``.vscode/settings.json`` in the
project folder gets a ``yaml.schemas`` entry (the setting of the YAML
language server, which VS Code's YAML extension and other editors read)
mapping ``**/rulebooks/**/*.yaml`` to it.  Existing settings are kept: the
file is merged, an older entry for the same schema (from an earlier
installation) is replaced, and a settings file the engine cannot rewrite
without losing something (comments, a syntax error) is left alone with the
lines to add shown instead.  ``rulebook init-plugin`` writes the same settings
into the new plugin's folder.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from engine.errors import Diagnostic, UsageError
from engine.messages import Text

__all__ = [
    "DEFAULT_PATTERNS",
    "SCHEMA_ID",
    "add_schema_parser",
    "cmd_schema",
    "install_editor_settings",
    "installed_schemas",
]

SCHEMA_ID = "https://rulebook-engine.example/schemas/rulebook.schema.json"
DEFAULT_PATTERNS = ("**/rulebooks/**/*.yaml",)
SETTINGS = Path(".vscode") / "settings.json"


def installed_schemas() -> dict[str, Path]:
    """``$id`` -> the installed file, for every schema the package ships (read offline)."""
    from engine.schemas import data_dir

    out = {}
    for path in sorted((data_dir() / "schemas").rglob("*.schema.json")):
        with path.open(encoding="utf-8") as f:
            schema_id = json.load(f).get("$id")
        if isinstance(schema_id, str):
            out[schema_id] = path.resolve()
    return out


def _schema_file(schema_id: str) -> Path:
    schemas = installed_schemas()
    if schema_id not in schemas:
        raise UsageError(
            Diagnostic(
                "usage.unknown-schema",
                Text(f"no published schema has the id `{schema_id}`", f"没有 id 为 `{schema_id}` 的已发布模式"),
                help=Text(
                    "published schemas: " + ", ".join(f"`{s}`" for s in schemas),
                    "已发布的模式：" + "、".join(f"`{s}`" for s in schemas),
                ),
            )
        )
    return schemas[schema_id]


def _strip_comments(text: str) -> str:
    """JSON with comments (as VS Code writes settings) -> JSON: comments and trailing commas removed."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            m = re.compile(r'"(?:[^"\\]|\\.)*"', re.S).match(text, i)
            end = m.end() if m else n
            out.append(text[i:end])
            i = end
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


class _CannotMerge(Exception):
    def __init__(self, why: Text) -> None:
        super().__init__(why.en)
        self.why = why


def _merged(existing: str | None, schema: Path, patterns: list[str]) -> str:
    settings: dict[str, Any] = {}
    if existing is not None and existing.strip():
        try:
            settings = json.loads(existing)
        except json.JSONDecodeError:
            try:
                json.loads(_strip_comments(existing))
            except json.JSONDecodeError as e:
                raise _CannotMerge(
                    Text(
                        f"it is not valid JSON ({e.msg}, line {e.lineno})",
                        f"它不是有效的 JSON（{e.msg}，第 {e.lineno} 行）",
                    )
                ) from None
            raise _CannotMerge(
                Text("it has comments, which rewriting it would lose", "其中有注释，重写会丢失这些注释")
            ) from None
        if not isinstance(settings, dict):
            raise _CannotMerge(Text("it does not hold a JSON object", "其内容不是 JSON 对象"))
    schemas = settings.get("yaml.schemas", {})
    if not isinstance(schemas, dict):
        raise _CannotMerge(Text("its `yaml.schemas` is not an object", "其中的 `yaml.schemas` 不是对象"))
    mine = str(schema)
    kept: dict[str, Any] = {}
    for key, value in schemas.items():
        # an earlier installation of the same schema (another folder): replaced by this one
        if key != mine and Path(key).name == schema.name and "rulebook" in key:
            continue
        kept[key] = value
    old = kept.get(mine, [])
    old_list = [old] if isinstance(old, str) else list(old)
    kept[mine] = old_list + [p for p in patterns if p not in old_list]
    settings["yaml.schemas"] = kept
    return json.dumps(settings, ensure_ascii=False, indent=4) + "\n"


def install_editor_settings(folder: Path, patterns: list[str] | None = None) -> Path:
    """Merge the rulebook schema's ``yaml.schemas`` entry into ``folder/.vscode/settings.json``.

    Returns:
        The settings file written.

    Raises:
        UsageError: the settings file exists and cannot be rewritten without losing
            something; the message shows the entry to add by hand.
    """
    schema = _schema_file(SCHEMA_ID)
    patterns = list(patterns or DEFAULT_PATTERNS)
    target = folder / SETTINGS
    existing = target.read_text(encoding="utf-8") if target.exists() else None
    try:
        text = _merged(existing, schema, patterns)
    except _CannotMerge as e:
        entry = json.dumps({"yaml.schemas": {str(schema): patterns}}, ensure_ascii=False)
        raise UsageError(
            Diagnostic(
                "usage.editor-settings",
                Text(f"`{target}` was left as it is: {e.why.en}", f"`{target}` 未作改动：{e.why.zh}"),
                help=Text(f"add this entry to it by hand: {entry}", f"请手动加入这一项：{entry}"),
            )
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def add_schema_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "schema",
        parents=[common],
        help=Text(
            "show the rulebook schema's id and installed file; --install writes editor settings",
            "显示规则集模式的 id 和安装位置；--install 写入编辑器设置",
        ),
    )
    p.add_argument(
        "schema_id",
        metavar="ID",
        nargs="?",
        default=SCHEMA_ID,
        help=Text(
            "the $id of a published schema (default: the rulebook format's)",
            "已发布模式的 $id（默认：规则集格式的模式）",
        ),
    )
    p.add_argument(
        "--install",
        action="store_true",
        help=Text(
            "write .vscode/settings.json so that editors check rulebook files against the installed schema",
            "写入 .vscode/settings.json，让编辑器按已安装的模式检查规则集文件",
        ),
    )
    p.add_argument(
        "--directory",
        default=".",
        help=Text(
            "the project folder for --install (default: here; ./- for a folder named -)",
            "--install 写入的项目文件夹（默认：当前目录；名为 - 的文件夹写作 ./-）",
        ),
    )
    p.add_argument(
        "--pattern",
        action="append",
        metavar="GLOB",
        help=Text(
            "files to check, relative to the project folder (repeatable; default: **/rulebooks/**/*.yaml)",
            "要检查的文件，相对于项目文件夹（可重复；默认：**/rulebooks/**/*.yaml）",
        ),
    )


def cmd_schema(io: Any) -> int:
    args = io.args
    schema = _schema_file(args.schema_id)
    if not args.install:
        io.stdout.write(f"{args.schema_id}\n  {schema}\n")
        return 0
    patterns = list(args.pattern or DEFAULT_PATTERNS)
    target = install_editor_settings(Path(args.directory), patterns)
    globs = ", ".join(f"`{p}`" for p in patterns)
    said = Text(
        f"wrote `{target}`: editors with the YAML language server check {globs} against `{schema}`",
        f"已写入 `{target}`：使用 YAML 语言服务器的编辑器将按 `{schema}` 检查 {globs}",
    )
    io.stdout.write(said.get(io.lang) + "\n")
    return 0
