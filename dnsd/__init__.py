"""dnsd: a cluster DNS server for Kubernetes that reads CoreDNS's Corefile."""

from __future__ import annotations

__version__ = "0.1.0"
#: The CoreDNS release whose behaviour (plugin order, flags, metrics) dnsd follows.
COREDNS_VERSION = "1.14.7"


def revision() -> str:
    """The git commit dnsd runs from (short), or "unknown" outside a checkout.

    Read from the files, without git: a worktree's ``.git`` is a file naming its
    git dir, whose refs may live in the common dir or in ``packed-refs``.
    """
    import os

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    gitdir = os.path.join(here, ".git")
    try:
        if os.path.isfile(gitdir):
            with open(gitdir) as f:
                gitdir = os.path.join(here, f.read().strip().removeprefix("gitdir: "))
        with open(os.path.join(gitdir, "HEAD")) as f:
            head = f.read().strip()
        if not head.startswith("ref: "):
            return head[:8]
        ref = head[5:]
        dirs = [gitdir]
        if os.path.isfile(os.path.join(gitdir, "commondir")):
            with open(os.path.join(gitdir, "commondir")) as f:
                dirs.append(os.path.join(gitdir, f.read().strip()))
        for d in dirs:
            if os.path.isfile(os.path.join(d, ref)):
                with open(os.path.join(d, ref)) as f:
                    return f.read().strip()[:8]
        for d in dirs:
            if os.path.isfile(os.path.join(d, "packed-refs")):
                with open(os.path.join(d, "packed-refs")) as f:
                    for line in f:
                        sha, _, name = line.strip().partition(" ")
                        if name == ref:
                            return sha[:8]
        return "unknown"
    except OSError:
        return "unknown"
