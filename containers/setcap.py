"""Give files the capability ``cap_net_bind_service=+ep``, as ``setcap`` does.

Used by containers/Dockerfile on the Python interpreter, so that dnsd, running as the
non-root user 65532, can bind port 53. Writing the ``security.capability`` extended
attribute ourselves keeps the image free of libcap's tools (one fewer package to pin and
ship). The value is a version 2 ``struct vfs_cap_data`` (linux/capability.h): the magic
``VFS_CAP_REVISION_2`` with the effective flag, then permitted/inheritable masks for
capabilities 0-31 and 32-63. ``getcap`` reads it back as ``cap_net_bind_service=ep``.

Usage: ``python3 setcap.py FILE...`` (as root, or with CAP_SETFCAP). Exits 1 with a
message if a file cannot be given the capability.
"""

from __future__ import annotations

import os
import struct
import sys

CAP_NET_BIND_SERVICE = 10
VFS_CAP_REVISION_2 = 0x02000000
VFS_CAP_FLAGS_EFFECTIVE = 0x000001
XATTR = "security.capability"


def net_bind_service() -> bytes:
    """The 20-byte xattr value for ``cap_net_bind_service=+ep``."""
    return struct.pack(
        "<5I",
        VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
        1 << CAP_NET_BIND_SERVICE,  # permitted, capabilities 0-31
        0,  # inheritable, 0-31
        0,  # permitted, 32-63
        0,  # inheritable, 32-63
    )


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: setcap.py FILE...", file=sys.stderr)
        return 2
    value = net_bind_service()
    for path in argv:
        try:
            os.setxattr(path, XATTR, value, follow_symlinks=True)
            if os.getxattr(path, XATTR, follow_symlinks=True) != value:
                raise OSError(f"{XATTR} did not keep the value written")
        except OSError as exc:
            print(f"setcap.py: {path}: {exc}", file=sys.stderr)
            return 1
        print(f"{os.path.realpath(path)} cap_net_bind_service=ep")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
