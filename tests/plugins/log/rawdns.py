"""One DNS exchange with the exact bytes: the reply's wire and the client's port (for log lines)."""

from __future__ import annotations

import asyncio


async def exchange(
    host: str, port: int, query: bytes, *, tcp: bool, timeout: float = 2.0
) -> tuple[bytes, int]:
    """Send ``query`` over UDP or TCP; return (reply bytes, the local port used)."""
    if tcp:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        try:
            local_port = int(writer.get_extra_info("sockname")[1])
            writer.write(len(query).to_bytes(2, "big") + query)
            await writer.drain()
            size = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), timeout), "big")
            return await asyncio.wait_for(reader.readexactly(size), timeout), local_port
        finally:
            writer.close()
            await writer.wait_closed()
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[bytes] = loop.create_future()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: object) -> None:
            if not answer.done():
                answer.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=(host, port))
    try:
        local_port = int(transport.get_extra_info("sockname")[1])
        transport.sendto(query)
        return await asyncio.wait_for(answer, timeout), local_port
    finally:
        transport.close()
