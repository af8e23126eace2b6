"""Writing a file users receive: whole or not at all.

Standard library only, so that the command line imports it at once.
"""

import contextlib
import os
import secrets
import shutil

__all__ = ["atomic_output"]


@contextlib.contextmanager
def atomic_output(path, *, directory=False):
    """Write ``path`` whole or not at all: under a temporary name beside it, renamed at the end.

    Yields the temporary path to write into: an empty file, or an empty
    directory with ``directory=True`` (a Zarr store). When the block ends, the
    temporary is renamed to ``path`` (replacing a file of that name, and
    keeping its permissions; through a symbolic link, the file it names). If
    the block raises, Ctrl-C included, the temporary is removed: an
    interrupted run leaves neither a partial output under its final name nor
    a temporary (hidden, ``.NAME.XXXXXXXX.partial``) beside it.
    """
    target = os.path.realpath(path)
    folder, name = os.path.split(target)
    while True:
        temporary = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.partial")
        try:
            if directory:
                os.mkdir(temporary)
            else:
                open(temporary, "x").close()  # reserves the name, with the umask's permissions
            break
        except FileExistsError:
            continue
    try:
        yield temporary
        if not directory and os.path.isfile(target):
            shutil.copymode(target, temporary)
        os.replace(temporary, target)
    except BaseException:
        if directory:
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.remove(temporary)
        raise
