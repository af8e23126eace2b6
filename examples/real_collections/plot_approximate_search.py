"""
===================================================
Approximate search: ``algorithm="nndescent"``
===================================================

The exact search of :class:`~haralick_learn.DistanceNeighbors` compares every
query with every fitted row: past a few hundred thousand images that is too
much work. ``DistanceNeighbors(algorithm="nndescent")`` builds a graph of
neighbours (:class:`pynndescent.NNDescent`) and searches it; the neighbours it
returns may miss some of the exact ones, but their distances are exact and
ranked as the exact search ranks them. What it misses is measured by the
recall: the share of the exact k nearest neighbours that the approximate
search finds.

Requires pynndescent (``pip install "haralick_learn[approximate]"``).
pynndescent compiles its code with numba the first time it runs in a process,
about 30 s: the data here is kept small so that the rest takes a few seconds.
"""

# %%
# Feature rows of 360 real texture crops
# --------------------------------------
# The 90 sample photographs, each cut into its four 91 x 91 quarters, give
# 360 rows of 52 standardized Haralick features.
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.preprocessing import StandardScaler

from haralick_learn import DistanceNeighbors, HaralickFeaturizer
from haralick_learn.datasets import load_sample_images

crops = []
for path in load_sample_images().paths:
    with Image.open(path) as im:
        gray = np.asarray(im.convert("L"))
    half = gray.shape[0] // 2
    crops += [gray[r:r + half, c:c + half] for r in (0, half) for c in (0, half)]
X = StandardScaler().fit_transform(HaralickFeaturizer().fit_transform(crops))
print(f"{X.shape[0]} rows of {X.shape[1]} features")

# %%
# Exact and approximate neighbours of every row
# ---------------------------------------------
# ``kneighbors()`` without ``X`` gives each fitted row's neighbours, itself
# excluded, for the exact search and for graphs of several degrees (the
# graph's ``n_neighbors``, pynndescent's main trade-off between build time and
# recall; its default is 30). ``random_state`` makes the graph reproducible.
k = 10
exact_dist, exact = DistanceNeighbors(n_neighbors=k).fit(X).kneighbors()


def recall(found, truth):
    """Share of the exact neighbours found, over all rows."""
    return np.mean([len(np.intersect1d(f, t)) / len(t) for f, t in zip(found, truth)])


degrees = [4, 6, 10, 30]
recalls = []
for degree in degrees:
    approximate = DistanceNeighbors(
        n_neighbors=k, algorithm="nndescent",
        algorithm_params={"n_neighbors": degree, "random_state": 0},
    ).fit(X)
    dist, found = approximate.kneighbors()
    recalls.append(recall(found, exact))
    print(f"graph degree {degree:2d}: recall@{k} {recalls[-1]:.3f}")

# %%
# The distances returned are exact: where the approximate search finds the
# same neighbours (here with the last graph, of the default degree 30), it
# returns the same distances, bit for bit, ranked the same way.
same = (found == exact).all(axis=1)
print(f"rows with the same {k} neighbours: {same.sum()} of {len(X)}; "
      f"their distances identical: {np.array_equal(dist[same], exact_dist[same])}")

# %%
# Recall against the graph's degree
# ---------------------------------
fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
ax.plot(degrees, recalls, "o-")
ax.axhline(1, color="gray", lw=0.8, ls="--")
ax.set_xlabel("graph degree (algorithm_params n_neighbors)")
ax.set_ylabel(f"recall@{k}")
ax.set_title(f"nndescent on {len(X)} feature rows")
plt.show()

# %%
# On 360 rows the exact search is instant and is the right choice; the graph
# pays off on collections far larger than this one. The recall measured on a
# million real feature rows, and the time each search takes, are on the
# :doc:`performance page </performance>`; for new queries, ``algorithm_params={"epsilon": ...}``
# (default 0.1) searches more of the graph for a higher recall.
