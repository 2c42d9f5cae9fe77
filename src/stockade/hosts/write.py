"""Write a rendered hosts file to disk: the one place in ``stockade.hosts`` that does I/O.

Rendering is pure (``render``); this module puts the bytes on disk with mode 0644 whatever
the umask, atomically by default so that no reader ever sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

HOSTS_FILE_MODE = 0o644


def write_hosts_file(
    path: str | os.PathLike[str], content: bytes, *, atomic: bool = True
) -> None:
    """Write ``content`` to ``path`` with mode 0644.

    ``atomic`` (the default) writes a temporary file beside ``path`` and renames it over
    ``path``. The rename gives ``path`` a new inode, so an existing bind mount of the old
    file keeps showing the old content; ``atomic=False`` rewrites the file in place as the
    kubelet does (``os.WriteFile`` then ``chmod``), which running bind mounts do see.
    """
    target = os.fspath(path)
    if not atomic:
        with open(target, "wb") as fh:
            fh.write(content)
        os.chmod(target, HOSTS_FILE_MODE)
        return
    directory = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".etc-hosts.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, HOSTS_FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
