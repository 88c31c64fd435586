"""Setup of *k8s_external*: ``k8s_external [ZONES...] { apex LABEL; ttl N; headless;
fallthrough [ZONES...] }`` (CoreDNS's options).

The plugin answers from the *kubernetes* plugin of the same server block: setup refuses a block
without it, and a start-up hook finds its handler by name and binds to its data (plugins never
import each other; see :mod:`.source`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsd.address import normalize_zones
from dnsd.controller import Controller
from dnsd.fall import Fallthrough

NAME = "k8s_external"
KUBERNETES = "kubernetes"


@dataclass(frozen=True)
class K8sExternalOptions:
    """Every option with CoreDNS's default."""

    #: Absolute lowercase zones; by default the server block's zones.
    zones: tuple[str, ...] = ()
    #: The label under each zone holding the name server's own names (``ns1.dns.<zone>``).
    apex: str = "dns"
    ttl: int = 5
    #: Also answer headless Services' endpoints and endpoint names.
    headless: bool = False
    fallthrough: Fallthrough = Fallthrough()

    @property
    def primary_zone(self) -> str:
        """The zone PTR targets are named in: the first zone that is not a reverse zone."""
        forward = [z for z in self.zones if not _reverse(z)]
        return (forward or [*self.zones, "."])[0]


def _reverse(zone: str) -> bool:
    return zone.endswith(("in-addr.arpa.", "ip6.arpa."))


def parse(c: Controller) -> K8sExternalOptions:
    """Read every ``k8s_external`` of the block; as in CoreDNS, a later occurrence replaces the
    zones and adds its options to the earlier ones."""
    values: dict[str, object] = {}
    while c.next():
        args = c.remaining_args()
        try:
            values["zones"] = tuple(normalize_zones(args)) if args else tuple(c.zones)
        except ValueError as exc:
            c.err(str(exc))
        while c.next_block():
            _option(c, values)
    return K8sExternalOptions(**values)  # type: ignore[arg-type]


def _option(c: Controller, values: dict[str, object]) -> None:
    prop = c.val()
    if prop not in ("apex", "ttl", "headless", "fallthrough"):
        c.unknown_property()
    args = c.remaining_args()
    if prop == "ttl":
        if len(args) != 1:
            c.arg_err()
        if not args[0].lstrip("-").isdigit():
            c.err(f"ttl must be an integer: '{args[0]}'")
        ttl = int(args[0])
        if not 0 <= ttl <= 3600:
            c.err(f"ttl must be in range [0, 3600]: {ttl}")
        values["ttl"] = ttl
    elif prop == "apex":
        if len(args) != 1:
            c.arg_err()
        label = args[0].rstrip(".")
        if not label or "." in label or len(label) > 63:
            c.err(f"apex must be a single DNS label: '{args[0]}'")
        values["apex"] = label
    elif prop == "headless":
        if args:
            c.arg_err()
        values["headless"] = True
    else:
        try:
            values["fallthrough"] = Fallthrough.from_args(args)
        except ValueError as exc:
            c.err(str(exc))


def setup(c: Controller) -> None:
    """Check that the block has *kubernetes*, parse, add the handler and the hooks binding it."""
    from dnsd.plugins.k8s_external.handler import K8sExternal

    if KUBERNETES not in c.block.plugins:
        c.next()
        c.err("requires the kubernetes plugin in the same server block")
    handler = K8sExternal(parse(c))
    block = c.block

    async def bind() -> None:
        # After every setup of the block (kubernetes comes later in ORDER), before serving.
        kubernetes = next((h for h in block.handlers if h.name == KUBERNETES), None)
        if kubernetes is None:
            raise RuntimeError(f"{NAME}: kubernetes plugin not loaded")
        handler.bind(kubernetes)

    async def unbind() -> None:
        handler.unbind()

    c.add_handler(handler)
    c.on_startup(bind)
    c.on_shutdown(unbind)
