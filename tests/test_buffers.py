"""Working arrays kept between calls: what is reused, and what is never kept."""

import numpy as np

from haralick_learn import _buffers
import threading

from haralick_learn._buffers import kept_array, reused_arrays, working_array


def test_reused_arrays_stop_at_their_limit(monkeypatch):
    monkeypatch.setattr(_buffers, "REUSED_BYTES", 1000)
    monkeypatch.setattr(_buffers, "_REUSED", threading.local())  # none of this thread's yet
    with reused_arrays():
        small = working_array(50, np.float64)  # 400 bytes, 500 with room to grow
        large = working_array(100, np.float64)  # beyond the limit: a fresh array
    with reused_arrays():
        assert np.shares_memory(working_array(50, np.float64), small)
        assert not np.shares_memory(working_array(100, np.float64), large)
        zeros = working_array((3, 4), np.int32, zeroed=True)
        assert zeros.shape == (3, 4) and not zeros.any()
    # outside a block: fresh arrays
    assert not np.shares_memory(working_array(50, np.float64), small)
    # another thread: arrays of its own
    other = []

    def work():
        with reused_arrays():
            other.append(working_array(50, np.float64))
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert not np.shares_memory(other[0], small)


def test_kept_arrays_grow_and_the_largest_are_not_kept(monkeypatch):
    monkeypatch.setattr(_buffers, "KEPT_BYTES", 4096)
    first = kept_array("test", (10, 10), np.int32)
    assert np.shares_memory(kept_array("test", 120, np.int32), first)  # within its room
    grown = kept_array("test", 1000, np.int32)  # a larger buffer, kept from now on
    assert not np.shares_memory(grown, first)
    assert np.shares_memory(kept_array("test", 10, np.uint16), grown)
    assert not np.shares_memory(kept_array("test", 2000, np.int32), grown)  # never kept
    assert np.shares_memory(kept_array("test", 10, np.uint16), grown)
