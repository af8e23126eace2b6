"""Whether numba's on-disk cache already holds a module's compiled kernels for this machine.

The kernels are compiled (``cache=True``) on their first call on a machine,
which takes seconds, and the machine code is saved in numba's cache (the
``__pycache__`` beside the sources, else the user's cache folder); later
processes load it at once. The command line says so before work that will
compile, and only then.
"""

from importlib import import_module

__all__ = ["compiled_here"]


def compiled_here(module_name, kernel_name=None):
    """Whether numba's cache holds machine code of the module's kernels for this CPU.

    True when at least one ``cache=True`` kernel of the module (or the kernel
    ``kernel_name`` of it) has a cache entry compiled for this CPU from the
    current sources (numba drops a kernel's entries when its source file
    changes): a module whose kernels were never run here, or that changed
    since (a new version), gives False. A command's first run compiles the
    kernels it uses together, so one entry is a sign that the others are
    cached too. Reads only numba's small index files; if numba's cache
    layout differs from what is read here, gives False.

    Parameters
    ----------
    module_name : str
        A module of this package, e.g. ``"haralick_learn.texture.windowed"``.
    kernel_name : str, default=None
        One kernel of the module (e.g. ``"map_rows_ordered"``, which only some
        maps run), instead of any.

    Returns
    -------
    bool
    """
    module = import_module(module_name)
    kernels = vars(module) if kernel_name is None else {kernel_name: getattr(module, kernel_name)}
    try:
        from numba.core.caching import FunctionCache
        from numba.core.dispatcher import Dispatcher
        from numba.core.registry import cpu_target

        machine = cpu_target.target_context.codegen().magic_tuple()
        for kernel in kernels.values():
            cache = getattr(kernel, "_cache", None)
            if isinstance(kernel, Dispatcher) and isinstance(cache, FunctionCache):
                # numba's index: {(signature, the CPU's magic tuple, code hashes): data file}
                if any(key[1] == machine for key in cache._cache_file._load_index()):
                    return True
    except Exception:  # numba's private cache layout changed: assume nothing is cached
        return False
    return False
