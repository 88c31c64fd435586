"""The ``dnsd`` command: CoreDNS's flags, banner and signals.

Flags follow Go's flag package as CoreDNS parses them: ``-conf FILE``,
``--conf FILE`` and ``-conf=FILE`` are the same; booleans take no value.
dnsd adds ``-check`` (parse and set up every plugin, serve nothing) and
``-asyncio`` (stock asyncio instead of uvloop).
"""

from __future__ import annotations

import asyncio
import os
import platform
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dnsd import COREDNS_VERSION, __version__, revision, workers
from dnsd import log as dlog
from dnsd.config import ConfigSource
from dnsd.errors import CorefileError
from dnsd.instance import DEFAULT_COREFILE, Instance
from dnsd.log import core as log
from dnsd.plugin import REGISTRY
from dnsd.runtime import StartError
from dnsd.worker import ConfigFile, Role

USAGE = """Usage of dnsd:
  -asyncio
        use stock asyncio instead of uvloop (dnsd)
  -check
        parse the Corefile and set up every plugin, then exit (dnsd)
  -conf string
        Corefile to load (default "Corefile"); "stdin" reads it from standard input
  -dns.port string
        Default port (default "53")
  -p string
        Default port (same as -dns.port)
  -pidfile string
        Path to write pid file
  -plugins
        List installed plugins
  -quiet
        Quiet mode (no initialization output)
  -version
        Show version
"""

_BOOL = {"asyncio", "check", "plugins", "quiet", "version", "help", "h"}
_VALUE = {"conf": "conf", "dns.port": "port", "p": "port", "pidfile": "pidfile"}


class UsageError(Exception):
    """Bad command line."""


@dataclass
class Options:
    conf: str = ""
    port: str = "53"
    pidfile: str = ""
    asyncio: bool = False
    check: bool = False
    plugins: bool = False
    quiet: bool = False
    version: bool = False
    help: bool = False


def parse_args(argv: Sequence[str]) -> Options:
    """Go flag semantics: flags first, ``--`` or the first non-flag ends them."""
    opts = Options()
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-":
            args.insert(0, arg)
            break
        name, eq, value = arg.lstrip("-").partition("=")
        if name in _BOOL:
            on = not eq or value.lower() in ("1", "t", "true")
            if eq and value.lower() not in ("0", "1", "t", "f", "true", "false"):
                raise UsageError(f'invalid boolean value "{value}" for -{name}')
            setattr(opts, "help" if name == "h" else name, on)
        elif name in _VALUE:
            if not eq:
                if not args:
                    raise UsageError(f"flag needs an argument: -{name}")
                value = args.pop(0)
            setattr(opts, _VALUE[name], value)
        else:
            raise UsageError(f"flag provided but not defined: -{name}")
    if args:
        raise UsageError(f"extra command line arguments: {args}")
    if not opts.port.isdigit() or not 0 <= int(opts.port) <= 65535:
        raise UsageError(f'invalid value "{opts.port}" for flag -dns.port')
    return opts


def version_lines() -> list[str]:
    """What ``-version`` and the banner print."""
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return [
        f"dnsd-{__version__} (CoreDNS-{COREDNS_VERSION} compatible)",
        f"{sys.platform}/{machine}, python{platform.python_version()}, {revision()}",
    ]


def read_corefile(opts: Options) -> tuple[str, str]:
    """(text, filename) per CoreDNS: -conf, else ./Corefile, else the builtin default."""
    if opts.conf == "stdin":
        return sys.stdin.read(), "stdin"
    path = opts.conf or "Corefile"
    try:
        with open(path, encoding="utf-8-sig") as f:
            return f.read(), path
    except FileNotFoundError:
        if opts.conf:
            raise CorefileError(f"open {path}: no such file or directory") from None
        return DEFAULT_COREFILE.format(port=opts.port), "Corefile"
    except OSError as exc:
        raise CorefileError(f"open {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CorefileError(f"{path}: not UTF-8 text: {exc.reason}") from None


def _reader(opts: Options) -> Callable[[], tuple[str, str]]:
    """Reads the Corefile again on every call; standard input is read once and kept."""
    if opts.conf != "stdin":
        return lambda: read_corefile(opts)
    first = read_corefile(opts)
    return lambda: first


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dnsd`` and ``python -m dnsd``."""
    try:
        opts = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        print(USAGE, end="", file=sys.stderr)
        return 2
    if opts.help:
        print(USAGE, end="", file=sys.stderr)
        return 0
    if opts.version:
        print("\n".join(version_lines()))
        return 0
    if opts.plugins:
        print(plugins_text(), end="")
        return 0
    dlog.setup()
    role = Role.from_env()
    try:
        reader = ConfigFile(role.folder) if role else _reader(opts)
        source = ConfigSource(reader, {"dns_port": opts.port})
        text, filename = source.read()
        instance = source.load(text, filename)
    except CorefileError as exc:
        print(exc, file=sys.stderr)
        return 1
    if opts.check:
        print(f"{filename}: OK")
        return 0
    return run(opts, instance, source)


def plugins_text() -> str:
    """``-plugins`` output in CoreDNS's layout."""
    lines = ["Server types:", "  dns", "", "Caddyfile loaders:", "  flag", "  default", ""]
    lines.append("Other plugins:")
    lines += [f"  dns.{name}" for name in sorted(REGISTRY.names())]
    return "\n".join(lines) + "\n"


def worker_args(opts: Options) -> list[str]:
    """The flags a *multisocket* worker gets: the same port and loop, quiet, no pid file."""
    return ["-dns.port", opts.port, "-quiet"] + (["-asyncio"] if opts.asyncio else [])


def run(opts: Options, instance: Instance, source: ConfigSource) -> int:
    """Serve until SIGTERM/SIGINT."""
    if not opts.asyncio and not os.environ.get("DNSD_ASYNCIO"):
        try:
            import uvloop

            return uvloop.run(_serve(opts, instance, source))
        except ImportError:
            log.warning("uvloop is not installed; using stock asyncio (slower)")
    return asyncio.run(_serve(opts, instance, source))


async def _serve(opts: Options, instance: Instance, source: ConfigSource) -> int:
    runtime = workers.new_runtime(worker_args(opts), source)
    stop = asyncio.Event()
    started = False
    loop = asyncio.get_running_loop()
    interrupts = 0

    async def reload() -> None:
        error = await runtime.reload(source.read_and_load)
        if error is not None:
            log.error("Restart failed: %s", error)

    def on_usr1() -> None:
        if not started:
            log.info("SIGUSR1: still starting, not reloading")
            return
        log.info("SIGUSR1: Reloading")
        loop.create_task(reload())

    def on_term() -> None:
        log.info("SIGTERM: Shutting down servers then terminating")
        stop.set()

    def on_int() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            log.info("SIGINT: Force quit")
            os._exit(2)
        log.info("SIGINT: Shutting down")
        stop.set()

    loop.add_signal_handler(signal.SIGUSR1, on_usr1)
    loop.add_signal_handler(signal.SIGTERM, on_term)
    loop.add_signal_handler(signal.SIGINT, on_int)
    loop.add_signal_handler(signal.SIGHUP, lambda: None)
    loop.add_signal_handler(signal.SIGQUIT, lambda: os._exit(0))
    # The handlers come first: start-up may wait for the Kubernetes API (startup_timeout) while
    # the listeners already serve, and a SIGTERM then must still get the lame duck, not kill.
    try:
        await runtime.start(instance)
    except StartError as exc:
        print(exc, file=sys.stderr)
        return 1
    started = True
    if opts.pidfile:
        with open(opts.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    if not opts.quiet:
        for line in instance.banner() + version_lines():
            print(line, flush=True)
    await stop.wait()
    await runtime.stop()
    if opts.pidfile:
        try:
            os.remove(opts.pidfile)
        except OSError:
            pass
    return 0
