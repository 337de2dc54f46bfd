"""A disk cache of built rulebooks, so that a second run starts without parsing or compiling.

Building a rulebook (YAML with positions, schema validation, parsing, checking,
generating and compiling Python code) costs far more than evaluating a record.
The result of a successful build is stored in the user's cache directory
(``platformdirs.user_cache_dir("rulebook-engine")``, or ``RULEBOOK_CACHE_DIR``;
``RULEBOOK_NO_CACHE=1`` turns the cache off) and read back by the next process
that builds the same rulebook.

What is stored: the compiled rulebook, pickled with two twists.  Objects that
live in a module of the running program (helpers, sentinels, enum classes, the
functions and calendars the plugins registered, module namespaces) are stored by
name and looked up again when read, so the rebuilt rulebook shares them with the
process as a fresh build does.  Functions made at run time (the generated code
of each condition and decision, the closures around them) are stored as their
marshalled code objects with their namespaces, cells and attributes.  The
checked trees (which key types by ``id`` of a node) are stored with their keys
turned into the nodes themselves.  Anything that cannot be stored that way
leaves the rulebook uncached: the cache is a pure speed-up, never a different
result.  A rulebook with errors is never stored (the build raises first).

Which entry: the file name is the SHA-256 of the key, which holds the rulebook's
text, its path and the working directory (which give the name it is shown by), the engine's own files (names,
sizes, modification times), the Python version and bytecode magic, and the
plugin set (each plugin's name, distribution, version and module file, the
functions and calendars registered, and the arrangement files read).  An entry
starts with a header that repeats that key, the engine and Python versions and
the files the build read besides the rulebook (record schemas beside it) with
their hashes, then the SHA-256 of the payload.  An entry whose header does not
match, whose files changed or whose checksum fails is ignored (and replaced by
the next build); so is one that does not unpickle.

Safety: pickled and marshalled data must come only from this engine.  The cache
directory is created with mode 0700 and used only when it is owned by the user
and not writable by group or others; entries are written to a temporary file
in the same directory and renamed into place, so a reader never sees half an
entry.  A cache that cannot be used (read-only, wrong owner, full disk) is
skipped silently: the build goes on without it.

Rulebook headers (what ``rulebook list`` and the registry read of every
installed rulebook) and the lines of a rulebook's examples (which ``rulebook
test`` names) are cached by the file's text as marshalled plain data;
``rulebook lint``'s diagnostics of a rulebook without errors are cached by the
rulebook's key and the day.  Lark's parser tables are cached in the same
directory (``engine.lang.parser``).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import marshal
import os
import pickle
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeGuard, TypeVar

from engine.cachedir import FORMAT, cache_dir, engine_fingerprint, lark_cache_file, write_atomic

__all__ = [
    "cache_dir",
    "cached_example_lines",
    "cached_header",
    "cached_lint",
    "cached_plain",
    "fingerprint",
    "flush",
    "lark_cache_file",
    "load_or_build",
]

_MAGIC = b"RBCACHE1"
_HEADER_LIMIT = 1 << 20  # a header is small; a bigger one is not ours

T = TypeVar("T")


# -- what the key is made of ----------------------------------------------------------------------------------


def _file_stamp(path: str | None) -> str:
    if not path:
        return "-"
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def plugin_fingerprint(pm: Any) -> str | None:
    """The plugin set, as what a build compiles in: each plugin (name, distribution, version,
    module file), each function's overloads and implementation, each calendar, and the
    arrangement files read.  None when a plugin was registered in-process without a
    distribution or module file (a test's plugin object): such a set is not cached."""
    cached = pm._cache.get("disk-cache:fingerprint")  # noqa: SLF001 - the manager's own memo
    if cached is not None:
        return cached[0]  # type: ignore[no-any-return]  # what this function stored below
    rows: list[str] = []
    result: str | None
    try:
        for name, plugin in pm._pm.list_name_plugin():  # noqa: SLF001 - the manager's pluggy registry
            info = pm.info(name)
            if info.distribution is None and not info.builtin:
                raise LookupError(name)  # registered in-process: nothing says what it is
            module = (
                plugin
                if isinstance(plugin, types.ModuleType)
                else sys.modules.get(getattr(type(plugin), "__module__", "") or "")
            )
            stamp = _file_stamp(getattr(module, "__file__", None))
            rows.append(f"plugin {name} {info.label} {info.entry_point} {stamp}")
        functions = pm.functions()
        for fname in functions.names():
            for o in functions.get(fname).overloads:
                impl = o.impl
                where = f"{getattr(impl, '__module__', '?')}.{getattr(impl, '__qualname__', type(impl).__name__)}"
                rows.append(f"function {fname} {o.params!r} {o.result!r} {o.member} {o.function} {o.variadic} {where}")
        for cal_name, cal in sorted(pm.calendars().items()):
            rows.append(f"calendar {cal_name} {type(cal).__module__}.{type(cal).__qualname__}")
        for folder in pm.calendar_folders():
            for file in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
                rows.append(f"arrangement {_file_stamp(str(file))}")
        result = hashlib.sha256("\n".join(rows).encode("utf-8", "surrogatepass")).hexdigest()
    except LookupError:
        result = None
    pm._cache["disk-cache:fingerprint"] = (result,)  # noqa: SLF001 - the manager's own memo
    return result


def fingerprint(pm: Any) -> str | None:
    """Engine and plugin set together (None: do not cache under this plugin set)."""
    plugins = plugin_fingerprint(pm)
    return None if plugins is None else hashlib.sha256(f"{engine_fingerprint()}\0{plugins}".encode()).hexdigest()


# -- objects that are stored by name ------------------------------------------------------------------------


_SIMPLE = (str, int, float, bool, bytes, type(None))


def _shared_objects(pm: Any) -> dict[int, tuple[Any, ...]]:
    """Objects referred to by name instead of being copied: every module's namespace, the
    values at the top level of the engine's modules, and the functions, overloads and
    calendars the plugins registered (a plugin's own module-level functions are stored by
    name by pickle itself)."""
    table: dict[int, tuple[Any, ...]] = {}
    for mod_name, mod in sorted(sys.modules.items()):
        namespace = getattr(mod, "__dict__", None)
        if not isinstance(mod, types.ModuleType) or namespace is None:
            continue
        table.setdefault(id(namespace), ("ns", mod_name))
        if mod_name == "engine" or mod_name.startswith("engine."):
            for attr, value in list(namespace.items()):
                if isinstance(value, _SIMPLE):
                    continue
                if isinstance(value, (type, types.FunctionType)) and value.__module__ != mod_name:
                    continue  # imported here: named by the module that defines it (or pickled by name)
                table.setdefault(id(value), ("attr", mod_name, attr))
    functions = pm.functions()
    table.setdefault(id(functions), ("functions",))
    for spec in (functions.get(n) for n in functions.names()):
        table.setdefault(id(spec), ("function", spec.name))
        for i, o in enumerate(spec.overloads):
            table.setdefault(id(o), ("overload", spec.name, i))
            table.setdefault(id(o.impl), ("impl", spec.name, i))
    calendars = pm.calendars()
    table.setdefault(id(calendars), ("calendars",))
    for name, cal in calendars.items():
        table.setdefault(id(cal), ("calendar", name))
    return table


def _resolve(token: tuple[Any, ...], pm: Any) -> Any:
    kind = token[0]
    if kind == "ns":
        return importlib.import_module(token[1]).__dict__
    if kind == "attr":
        return getattr(importlib.import_module(token[1]), token[2])
    if kind == "functions":
        return pm.functions()
    if kind in ("function", "overload", "impl"):
        functions = pm.functions()
        spec = functions.get(token[1])
        if spec is None:
            raise LookupError(token)
        if kind == "function":
            return spec
        o = spec.overloads[token[2]]
        return o if kind == "overload" else o.impl
    if kind == "calendars":
        return pm.calendars()
    if kind == "calendar":
        return pm.calendars()[token[1]]
    raise LookupError(token)


def _importable(fn: types.FunctionType) -> bool:
    """Whether pickle's own way (by module and qualified name) finds this very function."""
    qual = fn.__qualname__
    mod = sys.modules.get(fn.__module__ or "")
    if mod is None or "<" in qual:
        return False
    obj: Any = mod
    for part in qual.split("."):
        obj = getattr(obj, part, None)
    return obj is fn


def _make_function(
    code: bytes, namespace: dict[str, Any], name: str, qualname: str, defaults: Any, kwdefaults: Any, closure: Any
) -> types.FunctionType:
    fn = types.FunctionType(marshal.loads(code), namespace, name, defaults, closure)  # noqa: S302 - our own entry, in the user's private cache folder (see Safety above)
    fn.__qualname__ = qualname
    fn.__kwdefaults__ = kwdefaults
    return fn


def _new_instance(cls: type[T]) -> T:
    return cls.__new__(cls)


def _make_cell(*contents: Any) -> types.CellType:
    return types.CellType(*contents)


def _make_checked(node: Any, keyed: dict[str, list[tuple[Any, Any]]], rest: dict[str, Any]) -> Any:
    from engine.lang.check import Checked

    by_id: dict[str, Any] = {k: {id(n): v for n, v in pairs} for k, pairs in keyed.items()}
    return Checked(node=node, **by_id, **rest)


_ID_KEYED = ("types", "idents", "overloads")


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: dict[int, tuple[Any, ...]]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = shared

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _SIMPLE):
            return None
        return self.shared.get(id(obj))

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if cls is types.FunctionType:
            if _importable(obj):
                return NotImplemented
            attrs = {k: v for k, v in obj.__dict__.items() if k != "generated_ast"}
            return (
                _make_function,
                (
                    marshal.dumps(obj.__code__),
                    obj.__globals__,
                    obj.__name__,
                    obj.__qualname__,
                    obj.__defaults__,
                    obj.__kwdefaults__,
                    obj.__closure__,
                ),
                attrs or None,
            )
        if cls is types.CellType:
            try:
                return (_make_cell, (obj.cell_contents,))
            except ValueError:
                return (_make_cell, ())
        if cls.__name__ == "Checked" and cls.__module__ == "engine.lang.check":
            from dataclasses import fields

            from engine.lang import ast as A

            nodes = {id(n): n for n in A.walk(obj.node)}
            keyed = {k: [(nodes[i], v) for i, v in getattr(obj, k).items()] for k in _ID_KEYED}
            rest = {f.name: getattr(obj, f.name) for f in fields(obj) if f.name not in (*_ID_KEYED, "node")}
            return (_make_checked, (obj.node, keyed, rest))
        if cls.__name__ == "CompiledDecision" and cls.__module__ == "engine.evaluate":
            # not its generated traces: they remember the JSON of rules they reported, made of
            # record data, which has no place in a cache (they are compiled again when first used)
            state = dict(obj.__dict__, _traces={})
            return (_new_instance, (cls,), state)
        if cls in (types.ModuleType, types.CodeType, types.FrameType, types.GeneratorType):
            raise pickle.PicklingError(f"not stored: {cls.__name__}")
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, pm: Any) -> None:
        super().__init__(file)
        self.pm = pm

        self.memo_ids: dict[Any, Any] = {}

    def persistent_load(self, pid: Any) -> Any:
        try:
            return self.memo_ids[pid]
        except KeyError:
            found = self.memo_ids[pid] = _resolve(tuple(pid), self.pm)
            return found


# -- entries --------------------------------------------------------------------------------------------------


def _entry(header: dict[str, Any], payload: bytes) -> bytes:
    head = marshal.dumps(header)
    return b"".join((_MAGIC, len(head).to_bytes(4, "big"), head, hashlib.sha256(payload).digest(), payload))


def _read_entry(path: Path, want: dict[str, Any]) -> tuple[dict[str, Any], bytes] | None:
    """The header and payload of an entry whose header holds ``want`` and whose checksum holds."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4:
        return None
    size = int.from_bytes(data[len(_MAGIC) : len(_MAGIC) + 4], "big")
    start = len(_MAGIC) + 4
    if size > _HEADER_LIMIT or len(data) < start + size + 32:
        return None
    try:
        header = marshal.loads(data[start : start + size])  # noqa: S302 - our own entry, in the user's private cache folder (see Safety above)
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(header, dict) or any(header.get(k) != v for k, v in want.items()):
        return None
    digest = data[start + size : start + size + 32]
    payload = data[start + size + 32 :]
    if hashlib.sha256(payload).digest() != digest:
        return None
    return header, payload


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _dependencies(book: Any, base_dir: Path) -> list[tuple[str, str]]:
    """The files the build read besides the rulebook (record schemas named by a path), hashed."""
    out = []
    for d in book.book.decisions:
        kind = d.record_kind
        if kind.endswith(".json"):
            path = base_dir / kind
            try:
                out.append((str(path), hashlib.sha256(path.read_bytes()).hexdigest()))
            except OSError:
                out.append((str(path), "missing"))
    return out


def _dependencies_hold(deps: Any) -> bool:
    if not isinstance(deps, list):
        return False
    for path, digest in deps:
        try:
            now = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            now = "missing"
        if now != digest:
            return False
    return True


def _compiled(book: Any) -> frozenset[str]:
    """The decisions of ``book`` whose whole-decision functions are compiled (they are compiled
    when a decision is first evaluated)."""
    return frozenset(name for name, d in book.decisions.items() if getattr(d, "_lazy", None) is None)


# Rulebooks built or read in this process, stored when it ends: by then the decisions it
# evaluated are compiled, and the next process finds them so (a decision compiled later is
# stored again then).  Entry name -> (folder, header, book, pid, decisions compiled when read).
_PENDING: dict[str, tuple[Path, dict[str, Any], Any, Any, int, frozenset[str] | None]] = {}
_AT_EXIT: list[bool] = []


def _remember(
    folder: Path, name: str, header: dict[str, Any], book: Any, pm: Any, stored: frozenset[str] | None
) -> None:
    _PENDING[name] = (folder, header, book, pm, os.getpid(), stored)
    if not _AT_EXIT:
        import atexit

        atexit.register(flush)
        _AT_EXIT.append(True)


def flush() -> None:
    """Store the rulebooks of this process that are new, or have more decisions compiled than
    their entry (called when the process ends; never in a forked child)."""
    pending = list(_PENDING.items())
    _PENDING.clear()
    for name, (folder, header, book, pm, pid, stored) in pending:
        if pid != os.getpid():
            continue
        compiled = _compiled(book)
        if (stored is not None and compiled <= stored) or not folder.is_dir():
            continue  # nothing new, or the directory went away (a test's, removed before exit)
        try:
            buf = io.BytesIO()
            _Pickler(buf, _shared_objects(pm)).dump(book)
        except Exception:  # noqa: BLE001, S112 - what cannot be stored is built again next time
            continue
        write_atomic(folder, name, _entry(header, buf.getvalue()))


def load_or_build(path: Path, text: bytes, build: Callable[[Path, bytes], Any]) -> Any:
    """The compiled rulebook of ``path`` whose bytes are ``text``: from the cache, else
    ``build(path, text)`` (stored in the cache when the process ends, if it built)."""
    folder = cache_dir("rulebooks")
    if folder is None:
        return build(path, text)
    from engine.pluginmanager import get_plugin_manager

    pm = get_plugin_manager()
    prints = fingerprint(pm)
    if prints is None:
        return build(path, text)
    resolved = path.resolve()
    # the name messages show the file by follows from its place and the working directory
    key = _key("rulebook", prints, str(resolved), os.getcwd(), hashlib.sha256(text).hexdigest())
    want = {"format": FORMAT, "key": key, "python": sys.version, "engine": engine_fingerprint()}
    name = key[:40] + ".rbc"
    found = _load_entry(folder / name, want, pm)
    if found is not None and type(found[1]).__name__ == "CompiledRulebook":
        book = found[1]
        _remember(folder, name, found[0], book, pm, _compiled(book))
        return book
    book = build(path, text)  # raises for a rulebook with errors: nothing is stored then
    _remember(folder, name, dict(want, files=_dependencies(book, resolved.parent)), book, pm, None)
    return book


def _load_entry(path: Path, want: dict[str, Any], pm: Any) -> tuple[dict[str, Any], Any] | None:
    """(header, object) of the entry at ``path`` when its header matches ``want``, the files it
    depends on are unchanged and it unpickles; else None (the caller builds anew)."""
    found = _read_entry(path, want)
    if found is None or not _dependencies_hold(found[0].get("files")):
        return None
    try:
        return found[0], _Unpickler(io.BytesIO(found[1]), pm).load()
    except Exception:  # noqa: BLE001 - an entry that does not load is made again
        return None


def cached_lint(path: Path, lint: Callable[[], tuple[list[Any], Any]]) -> list[Any]:
    """``rulebook lint``'s diagnostics for the rulebook file ``path``: from the cache, else
    ``lint()``, which returns them with the compiled rulebook (None when it did not build).

    Stored only for a rulebook that built and whose diagnostics hold no error (warnings
    only, or none), keyed as a built rulebook is plus today's date (lint evaluates the
    conditions that read no record with today's date); a rulebook with errors is linted
    anew every time.
    """
    folder = cache_dir("lint")
    if folder is None:
        return lint()[0]
    from engine.pluginmanager import get_plugin_manager

    pm = get_plugin_manager()
    prints = fingerprint(pm)
    try:
        text = path.read_bytes()
    except OSError:
        text = None
    if prints is None or text is None:
        return lint()[0]
    import datetime as _dt

    resolved = path.resolve()
    key = _key(
        "lint", prints, str(resolved), os.getcwd(), hashlib.sha256(text).hexdigest(), _dt.date.today().isoformat()
    )
    want = {"format": FORMAT, "key": key, "python": sys.version, "engine": engine_fingerprint()}
    name = key[:40] + ".rbl"
    found = _load_entry(folder / name, want, pm)
    if found is not None and isinstance(found[1], list):
        return found[1]
    diagnostics, book = lint()
    if book is None or any(getattr(d, "severity", "error") == "error" for d in diagnostics):
        return diagnostics
    try:
        buf = io.BytesIO()
        _Pickler(buf, _shared_objects(pm)).dump(diagnostics)
    except Exception:  # noqa: BLE001 - not stored: linted again next time
        return diagnostics
    write_atomic(folder, name, _entry(dict(want, files=_dependencies(book, resolved.parent)), buf.getvalue()))
    return diagnostics


# -- plain data: headers, example lines -----------------------------------------------------------------------------


def cached_plain(kind: str, text: str, read: Callable[[], T], check: Callable[[object], TypeGuard[T]]) -> T:
    """Plain data (dicts, lists, strings, numbers, None) that ``read()`` derives from the
    rulebook text ``text`` alone, by ``kind`` and that text: from the cache, else ``read()``.
    A value read back that ``check`` refuses is read again."""
    folder = cache_dir("plain")
    if folder is None:
        return read()
    key = _key(kind, engine_fingerprint(), hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())
    want = {"format": FORMAT, "key": key, "python": sys.version, "engine": engine_fingerprint()}
    name = key[:40] + ".rbp"
    found = _read_entry(folder / name, want)
    if found is not None:
        try:
            stored = marshal.loads(found[1])  # noqa: S302 - our own entry, in the user's private cache folder (see Safety above)
        except (ValueError, EOFError, TypeError):
            pass
        else:
            if check(stored):
                return stored
    value = read()
    try:
        payload = marshal.dumps(value)  # type: ignore[arg-type]  # plain data; what marshal cannot write raises
    except ValueError:
        return value
    write_atomic(folder, name, _entry(want, payload))
    return value


def cached_header(text: str, read: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    """A rulebook's header fields (read from ``text`` alone; None: not a rulebook), cached by that text."""
    return cached_plain("header", text, read, _is_header)


def _is_header(v: object) -> TypeGuard[dict[str, Any] | None]:
    return v is None or isinstance(v, dict)


def cached_example_lines(text: str, read: Callable[[], list[int | None]]) -> list[int | None]:
    """The line of each embedded example of the rulebook ``text`` (what ``rulebook test`` points
    at), cached by that text: finding them needs the YAML loaded with positions."""
    return cached_plain("example-lines", text, read, _is_example_lines)


def _is_example_lines(v: object) -> TypeGuard[list[int | None]]:
    return isinstance(v, list) and all(x is None or isinstance(x, int) for x in v)
