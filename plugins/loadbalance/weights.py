"""The weight file of the ``weighted`` policy: parsing, and reloading it every ``reload``.

Format (CoreDNS's)::

    # comment
    www.example.com
    100.64.1.1 3
    100.64.1.2 1

A domain line, then ``ADDRESS WEIGHT`` lines (weight 1..255) for it; blank and
``#`` lines are ignored; an address not listed weighs 1. Domains are matched
case-insensitively (CoreDNS compares the owner name as written), and an
IPv4-mapped IPv6 address is the same as its IPv4 address (Go's ``IP.Equal``).

The file is read again every ``reload`` (0: never). Its contents are compared
with the last read; a changed file that does not parse is logged and the old
weights stay (CoreDNS's behaviour; the same bad contents are not reported twice).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
from collections.abc import Mapping

from dnsd.files import read_regular
from dnsd.log import plugin_logger
from dnsd.plugins.loadbalance.policy import DomainWeights, Owner

log = plugin_logger("loadbalance")

Table = Mapping[Owner, DomainWeights]

_V4_MAPPED = bytes(10) + b"\xff\xff"


class WeightFileError(ValueError):
    """The weight file cannot be read or parsed; the message says where."""


def read(path: str) -> bytes:
    """The file's bytes; WeightFileError when it cannot be read."""
    try:
        return read_regular(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WeightFileError(f"cannot read weight file {path}: {reason}") from None


def parse(data: bytes, path: str) -> Table:
    """The weights in ``data`` (read from ``path``, named in errors as ``PATH:LINE``)."""
    table: dict[Owner, dict[bytes, int]] = {}
    current: dict[bytes, int] | None = None
    text = data.decode("utf-8", errors="replace")
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        fields = line.split()
        if len(fields) == 1:
            current = table.setdefault(_domain(fields[0], where), {})
        elif len(fields) == 2:
            ip = _address(fields[0], where)
            weight = _weight(fields[1], where)
            if current is None:
                raise WeightFileError(f"{where}: missing domain name before '{line}'")
            for form in ip:
                current[form] = weight
        else:
            raise WeightFileError(f"{where}: could not parse weight line '{line}'")
    return table


def _domain(text: str, where: str) -> Owner:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        raise WeightFileError(f"{where}: wrong domain name '{text}' (missing weight value?)")
    labels = tuple(label.encode().lower() for label in text.rstrip(".").split("."))
    if labels == (b"",):
        return ()
    if any(not 0 < len(label) < 64 for label in labels):
        raise WeightFileError(f"{where}: wrong domain name '{text}'")
    return labels


def _address(text: str, where: str) -> tuple[bytes, ...]:
    """The address's byte forms: IPv4 also as IPv4-mapped IPv6, and the reverse."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        raise WeightFileError(f"{where}: wrong IP address '{text}'") from None
    packed = ip.packed
    if len(packed) == 4:
        return packed, _V4_MAPPED + packed
    if packed[:12] == _V4_MAPPED:
        return packed, packed[12:]
    return (packed,)


def _weight(text: str, where: str) -> int:
    if text.isascii() and text.isdigit() and 1 <= int(text) <= 255:
        return int(text)
    raise WeightFileError(f"{where}: wrong weight value '{text}' (want 1 to 255)")


class WeightFile:
    """The current weights of one ``weighted`` policy, reloaded in the background."""

    def __init__(self, path: str, reload: float) -> None:
        self.path = path
        self.reload = reload
        data = read(path)
        #: Owner -> address -> weight; replaced as a whole on reload.
        self.table: Table = parse(data, path)
        self._digest = hashlib.sha256(data).digest()
        self._task: asyncio.Task[None] | None = None

    def check(self) -> bool:
        """Read the file again; True when new weights were loaded. Errors are logged."""
        try:
            data = read(self.path)
        except WeightFileError as exc:
            log.error("%s", exc)
            return False
        digest = hashlib.sha256(data).digest()
        if digest == self._digest:
            return False
        self._digest = digest
        try:
            table = parse(data, self.path)
        except WeightFileError as exc:
            log.error("%s; keeping the previous weights", exc)
            return False
        self.table = table
        log.info("Successfully reloaded weight file %s", self.path)
        return True

    async def start(self) -> None:
        """Start the reload loop (none when ``reload`` is 0)."""
        if self.reload > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="loadbalance-weights"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.reload)
            self.check()
