"""dnsd.files: reading a reloaded data file never blocks, whatever is in its place."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import pytest

from dnsd.files import NOT_REGULAR, read_regular


def test_regular_file_and_symlink_are_read(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_bytes(b"10.0.0.1 a.example.org\n")
    (tmp_path / "link").symlink_to(path)
    assert read_regular(str(tmp_path / "link")) == b"10.0.0.1 a.example.org\n"
    assert read_regular(str(path), 5) == b"10.0."


def test_fifo_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "fifo"
    os.mkfifo(path)  # open() would wait for a writer forever
    with pytest.raises(OSError) as exc:
        read_regular(str(path))
    assert exc.value.errno == errno.EINVAL and exc.value.strerror == NOT_REGULAR


def test_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(OSError) as exc:
            read_regular(str(path))
    assert exc.value.errno in (errno.EINVAL, errno.ENXIO)  # Linux refuses open() of a socket


@pytest.mark.parametrize(
    ("make", "err"),
    [("missing", errno.ENOENT), ("directory", errno.EISDIR)],
)
def test_errors_are_those_of_open(tmp_path: Path, make: str, err: int) -> None:
    path = tmp_path / "x"
    if make == "directory":
        path.mkdir()
    with pytest.raises(OSError) as exc:
        read_regular(str(path))
    assert exc.value.errno == err and exc.value.strerror == os.strerror(err)
