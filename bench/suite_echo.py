"""The "Python ceiling" of performance.md, over UDP and TCP: uvloop, replies precomputed for each
question (the bytes after the header), the query's ID patched in. Nothing else is imported, so
its RSS is that of a bare uvloop process.

    python bench/suite_echo.py PORT TABLE.json

TABLE.json maps question bytes (hex) to the reply without its ID (hex). Over TCP every complete
message in a read is answered, and the answers go out in one write (performance.md: batching
flatters it, which is what a ceiling is for). Unknown questions get no answer. SIGTERM stops it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any


def serve(port: int, table: dict[bytes, bytes]) -> None:
    import uvloop

    class Udp(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: Any = transport

        def datagram_received(self, data: bytes, addr: Any) -> None:
            answer = table.get(data[12:])
            if answer is not None:
                self.transport.sendto(data[:2] + answer, addr)

    class Tcp(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: Any = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            buf = self.buffer + data
            out = []
            i = 0
            while len(buf) - i >= 2:
                size = (buf[i] << 8) | buf[i + 1]
                if len(buf) - i - 2 < size:
                    break
                msg = buf[i + 2 : i + 2 + size]
                i += 2 + size
                answer = table.get(msg[12:])
                if answer is not None:
                    out.append((len(answer) + 2).to_bytes(2, "big") + msg[:2] + answer)
            self.buffer = buf[i:]
            if out:
                self.transport.write(b"".join(out))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        udp, _ = await loop.create_datagram_endpoint(Udp, local_addr=("127.0.0.1", port))
        tcp = await loop.create_server(Tcp, "127.0.0.1", port, reuse_address=True)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await stop.wait()
        udp.close()
        tcp.close()

    uvloop.run(main())


def main() -> int:
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    table = {bytes.fromhex(q): bytes.fromhex(r) for q, r in json.loads(path.read_text()).items()}
    serve(port, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
