"""Reading the data files that plugins reload (hosts files, zone files, weight files).

A reload runs in a worker thread and must come back: ``open()`` of a FIFO put in a file's place
blocks until some writer opens it, which may be never, and then the reloads stop for good and the
process cannot exit (asyncio waits for its worker threads). So the file is opened without
blocking and anything but a regular file (symlinks are followed) is refused with an OSError whose
``strerror`` says why, as an unreadable file is.
"""

from __future__ import annotations

import errno
import os
import stat

NOT_REGULAR = "not a regular file"


def read_regular(path: str, limit: int = -1) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit`` if not negative).

    OSError as ``open``/``read`` raise them; a directory is EISDIR, a FIFO, socket or device
    is EINVAL with the strerror :data:`NOT_REGULAR`.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, NOT_REGULAR, path)
        return f.read(limit)
