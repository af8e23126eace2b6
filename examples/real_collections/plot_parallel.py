"""
=======================================
Featurize on several cores: ``n_jobs``
=======================================

Each image's row depends on that image alone, so images are featurized in
parallel: ``n_jobs`` runs joblib threads (the compiled kernels release the
GIL), and an enclosing :func:`joblib.parallel_config` chooses another joblib
backend: processes (``"loky"``), or a cluster (Dask, Ray). Whatever runs them,
the rows are those of ``n_jobs=1``, in input order.
"""

# %%
import joblib
import numpy as np

from haralick_learn import HaralickFeaturizer
from haralick_learn.datasets import load_sample_images

paths = load_sample_images().paths
serial = HaralickFeaturizer(n_jobs=1).fit_transform(paths)

# %%
# Threads
# -------
threads = HaralickFeaturizer(n_jobs=2).fit_transform(paths)
same = np.array_equal(threads, serial)
print("2 threads, rows identical and in order:", same)

# %%
# Processes, through joblib's configuration
# -----------------------------------------
# The featurizer's loop is an ordinary joblib ``Parallel``: the backend of an
# enclosing ``parallel_config`` runs it. Processes pay for starting and for
# importing the package in each worker; on one machine threads are the better
# choice.
with joblib.parallel_config(backend="loky", n_jobs=2):
    processes = HaralickFeaturizer().fit_transform(paths)
same = np.array_equal(processes, serial)
print("2 processes, rows identical and in order:", same)

# %%
# The order is input order, not completion order: shuffle the input, and the
# rows are shuffled the same way.
order = np.random.default_rng(0).permutation(len(paths))
shuffled_paths = [paths[i] for i in order]
shuffled = HaralickFeaturizer(n_jobs=2).fit_transform(shuffled_paths)
print("rows follow the input:", np.array_equal(shuffled, serial[order]))

# %%
# A cluster works the same way, with ``joblib.parallel_config(backend="dask")``
# inside a ``dask.distributed.Client``: :doc:`/scaling` shows how, what
# travels to the workers (paths, not pixels) and what to configure, and the
# :doc:`performance page </performance>` gives the measured speed-ups.
