"""The process side of ``rulebook serve``: uvicorn, workers, signals, logging, the watcher.

The application itself is :func:`engine.serve.app.create_app`; this module runs it.

* **One worker** (the default): the socket is bound here (``--port 0`` picks a free
  port, which the log line ``serving on http://HOST:PORT`` names), and one
  ``uvicorn.Server`` serves the application built by :func:`make_app`.
* **Several workers** (``--workers N``): uvicorn's process supervisor starts N spawned
  processes, each listening on a socket of its own bound to the same port (``SO_REUSEPORT``),
  so that the kernel spreads new connections over them (see :func:`_bind_workers`).  A
  spawned process cannot be handed a built application, so each builds its own through
  :func:`worker_app`, an application factory reading the configuration from the
  environment (``ServeConfig.to_env()`` plus this module's ``RULEBOOK_SERVE_WATCH*``
  variables), which the supervisor's process sets before starting them.  Each worker
  loads and compiles the rulebooks itself, keeps its own metrics and, with ``--watch``,
  watches the files itself.
* **Stopping**: SIGTERM or SIGINT (Ctrl-C) stops taking new connections and lets the
  requests in progress finish, for at most ``graceful_timeout`` seconds (uvicorn's
  ``timeout_graceful_shutdown``); the application's ``state.draining`` is set at the
  first signal, so that a batch in progress ends at a line boundary (see
  ``engine.serve.app``).  The command then exits 0.  A second Ctrl-C stops at once.
* **Logs** go to standard error: uvicorn's own lines, one access line per request
  (``--no-access-log`` turns them off) and the service's (``rulebook.serve``: start,
  rulebooks that did not load, reloads).  The decision log (logger
  ``rulebook.serve.decisions``, one JSON object a line) goes to standard output, so
  that it can be piped apart from the human-readable lines.
"""

from __future__ import annotations

import functools
import logging
import logging.config
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import IO, Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from engine.serve.app import create_app
from engine.serve.config import ServeConfig
from engine.serve.rulebooks import RulebookSet
from engine.serve.watch import RulebookWatcher

__all__ = [
    "DEFAULT_GRACEFUL_TIMEOUT",
    "DEFAULT_WATCH_INTERVAL",
    "WATCH_ENV",
    "WATCH_INTERVAL_ENV",
    "ServerOptions",
    "log_config",
    "make_app",
    "serve",
    "worker_app",
]

DEFAULT_GRACEFUL_TIMEOUT = 30.0
DEFAULT_WATCH_INTERVAL = 1.0
WATCH_ENV = "RULEBOOK_SERVE_WATCH"
WATCH_INTERVAL_ENV = "RULEBOOK_SERVE_WATCH_INTERVAL"

log = logging.getLogger("rulebook.serve")


@dataclass(frozen=True)
class ServerOptions:
    """How the process serves (what the application answers is the :class:`ServeConfig`)."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    watch: bool = False
    watch_interval: float = DEFAULT_WATCH_INTERVAL
    graceful_timeout: float = DEFAULT_GRACEFUL_TIMEOUT
    log_level: str = "info"
    access_log: bool = True


def log_config(level: str = "info") -> dict[str, Any]:
    """The logging configuration of a server process (``logging.config.dictConfig``): every
    line to standard error except the decision log's, which goes to standard output."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "use_colors": False,
                "fmt": '%(asctime)s %(levelname)s access: %(client_addr)s "%(request_line)s" %(status_code)s',
            },
            "line": {"format": "%(message)s"},
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stderr"},
            "decisions": {
                "class": "engine.serve.decisionlog.LineHandler",
                "formatter": "line",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "rulebook.serve": {"handlers": ["stderr"], "level": level, "propagate": False},
            "rulebook.serve.decisions": {"handlers": ["decisions"], "level": "INFO", "propagate": False},
        },
    }


def make_app(config: ServeConfig, *, watch: bool = False, watch_interval: float = DEFAULT_WATCH_INTERVAL) -> Starlette:
    """Load the rulebooks, build the application and, with ``watch``, start watching the files.

    Called inside the serving process (an application factory), after uvicorn has set its
    signal handlers: the handlers of SIGTERM and SIGINT are wrapped here so that the first
    signal also sets ``app.state.draining`` and stops the watcher.
    """
    rulebooks = RulebookSet(config)
    rulebooks.load_all()
    _log_status(rulebooks, config.lang)
    app = create_app(config, rulebooks)
    watcher = RulebookWatcher(rulebooks, interval=watch_interval, lang=config.lang) if watch else None
    if watcher is not None:
        watcher.start()
        log.info("watching %d rulebook files every %ss", len(watcher.paths()), watch_interval)

    def on_stop() -> None:
        _set_draining(app)
        if watcher is not None:
            watcher.stop(wait=False)

    _chain_stop_signals(on_stop)
    return app


def worker_app() -> Starlette:
    """The application factory of a worker process (``--workers N``): the configuration
    comes from the environment the supervising process set."""
    environ = os.environ
    interval = float(environ.get(WATCH_INTERVAL_ENV) or DEFAULT_WATCH_INTERVAL)
    return make_app(ServeConfig.from_env(environ), watch=environ.get(WATCH_ENV) == "1", watch_interval=interval)


def _log_status(rulebooks: RulebookSet, lang: str) -> None:
    status = rulebooks.status()
    for item in status.get("rulebooks", ()):
        if item.get("status") != "loaded":
            log.error("%s did not load:\n%s", item.get("path"), (item.get("diagnostic") or {}).get(lang, ""))
    log.info(
        "%d rulebook files loaded; ready: %s",
        sum(1 for item in status.get("rulebooks", ()) if item.get("status") == "loaded"),
        "yes" if status.get("ready") else "no",
    )


def _set_draining(app: Starlette) -> None:
    draining = getattr(app.state, "draining", None)
    if draining is not None and hasattr(draining, "set"):
        draining.set()


def _chain_stop_signals(on_stop: Callable[[], None]) -> None:
    """Call ``on_stop`` first when SIGTERM or SIGINT arrives, then the handler already set (uvicorn's)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def handler(signum: int, frame: FrameType | None, previous: Callable[..., Any] = previous) -> None:
            on_stop()
            previous(signum, frame)

        signal.signal(sig, handler)


def _bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # accepted sockets whose protocol says TCP; without it every answer on a kept-alive
    # connection waits about 40 ms for the client's delayed acknowledgement
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _bind_workers(host: str, port: int, workers: int) -> list[socket.socket]:
    """The listening sockets of the workers: one each on one port (SO_REUSEPORT), where the system
    has that option, else one socket that all of them share.

    With one shared socket the worker that wakes first accepts every connection waiting (asyncio
    accepts up to the backlog at once), so a client that opens its connections together (a proxy's
    pool, a load generator) may be served by one worker while the others idle.  With a socket
    each, the kernel spreads new connections over the workers.
    """
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        return [_bind(host, port)]
    if port != 0:  # a port some other program listens on is refused, not silently shared
        _bind(host, port).close()
    first = _bind(host, port, reuse_port=True)
    port = first.getsockname()[1]
    sockets = [first]
    try:
        sockets += [_bind(host, port, reuse_port=True) for _ in range(workers - 1)]
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class _Supervisor(Multiprocess):
    """uvicorn's supervisor of worker processes (start, health checks, a worker that dies replaced,
    SIGHUP restarts each in turn, SIGTERM stops them all), with a listening socket per worker when
    there are as many sockets as workers (see :func:`_bind_workers`)."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.own = len(sockets) == self.processes_num

    def new_process(self, index: int) -> Process:
        return Process(self.config, [self.sockets[index]] if self.own else self.sockets)

    def init_processes(self) -> None:
        for index in range(self.processes_num):
            process = self.new_process(index)
            process.start()
            self.processes.append(process)

    def keep_subprocess_alive(self) -> None:
        for index, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # the next one would fail the same way
                log.error("worker process %s could not start; stopping", process.pid)
                self.should_exit.set()
                return
            log.warning("worker process %s stopped answering; starting another", process.pid)
            replacement = self.new_process(index)
            replacement.start()
            self.processes[index] = replacement

    def restart_all(self) -> None:
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self.new_process(index)
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                log.error("a new worker process was not ready in time; keeping the old ones")
                return
            old.terminate()
            old.join()
            self.processes[index] = new


def serve(config: ServeConfig, options: ServerOptions, *, stderr: IO[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; returns the exit code (0 after a clean stop).

    Raises ``UsageError`` when the address cannot be bound.
    """
    from engine.errors import Diagnostic, UsageError
    from engine.messages import Text, os_reason

    logging.config.dictConfig(log_config(options.log_level))
    try:
        sockets = _bind_workers(options.host, options.port, options.workers)
    except OSError as e:
        where = f"{options.host}:{options.port}"
        reason = os_reason(e)
        raise UsageError(
            Diagnostic(
                "usage.arguments",
                Text(f"cannot listen on `{where}`: {reason.get('en')}", f"无法在 `{where}` 上监听：{reason.get('zh')}"),
                help=Text("choose another --port or --host", "请换一个 --port 或 --host"),
            )
        ) from None
    host, port = sockets[0].getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    common: dict[str, Any] = {
        "log_config": log_config(options.log_level),
        "access_log": options.access_log,
        "timeout_graceful_shutdown": options.graceful_timeout,
        "lifespan": "on",
        "proxy_headers": True,
        "server_header": False,
    }
    stopped: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, frame: stopped.append(signum)) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        if options.workers == 1:
            factory = functools.partial(make_app, config, watch=options.watch, watch_interval=options.watch_interval)
            uconfig = uvicorn.Config(factory, factory=True, **common)
            log.info("serving on http://%s:%s (1 worker, process %d)", shown, port, os.getpid())
            uvicorn.Server(uconfig).run(sockets=sockets)
        else:
            os.environ.update(config.to_env())
            os.environ[WATCH_ENV] = "1" if options.watch else "0"
            os.environ[WATCH_INTERVAL_ENV] = str(options.watch_interval)
            uconfig = uvicorn.Config("engine.serve.server:worker_app", factory=True, workers=options.workers, **common)
            log.info("serving on http://%s:%s (%d workers)", shown, port, options.workers)
            _Supervisor(uconfig, sockets).run()
    finally:
        for sock in sockets:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for stream in (sys.stdout, stderr or sys.stderr):
            stream.flush()
    log.info("stopped")
    return 0
