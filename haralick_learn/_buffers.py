"""Working arrays kept from one call to the next, a set per thread.

A new array of many megabytes costs its first writes a page fault per page,
and the kernel zeroes every page it hands out: for the two image-sized
working arrays of a region table (the labels' int32 copy and the regions'
levels), about a tenth of the table's time, spent again on every call. They
are kept here instead, one of each name per thread, up to
:data:`KEPT_BYTES` each (a larger one is allocated for the call, and freed).
"""

import threading

import numpy as np

__all__ = ["KEPT_BYTES", "kept_array"]

#: The largest working array kept (a 16-megapixel image's int32 labels).
KEPT_BYTES = 64 << 20

_KEPT = threading.local()


def kept_array(name, shape, dtype):
    """An uninitialised C-contiguous array, in this thread's kept buffer ``name``.

    The caller's array until that thread asks for ``name`` again: a
    caller asks for it once per pass, and lets it go before returning.

    Examples
    --------
    >>> first = kept_array("example", (2, 3), np.int32)
    >>> first.shape, first.dtype
    ((2, 3), dtype('int32'))
    >>> np.shares_memory(kept_array("example", 4, np.uint16), first)
    True
    """
    dtype = np.dtype(dtype)
    n_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if n_bytes > KEPT_BYTES:
        return np.empty(shape, dtype)
    kept = _KEPT.__dict__.setdefault("arrays", {})
    buffer = kept.get(name)
    if buffer is None or buffer.nbytes < n_bytes:
        # int64: an aligned start for every type; a quarter more, for the next call's array
        # a little larger (the boxes of another batch)
        buffer = kept[name] = np.empty(min(KEPT_BYTES, n_bytes + n_bytes // 4) // 8 + 1,
                                       np.int64)
    return buffer.view(np.uint8)[:n_bytes].view(dtype).reshape(shape)
