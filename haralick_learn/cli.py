"""The ``haralick-learn`` command."""

import argparse
import os
import sys


def _demo(args):
    import matplotlib

    matplotlib.use("Agg")  # files only: the demo must run without a display
    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from . import DistanceNeighbors, FilenameLabelExtractor, HaralickFeaturizer
    from .datasets import load_sample_images

    paths = load_sample_images().paths
    query = args.query
    if not 0 <= query < len(paths):
        raise ValueError(f"--query must be an index in [0, {len(paths) - 1}], got {query}")
    labels = FilenameLabelExtractor().fit_transform(paths)
    print(f"{len(paths)} sample images, classes: {', '.join(np.unique(labels))}")

    # The featurizer is stateless, so featurizing once and cross-validating
    # the rest of the pipeline gives the scores of the full pipeline on paths.
    features = HaralickFeaturizer(n_jobs=args.n_jobs, verbose=1).fit_transform(paths)
    classifier = Pipeline([("preproc", StandardScaler()), ("classifier", LogisticRegression())])
    scores = cross_val_score(classifier, features, labels, cv=5)
    print(f"5-fold accuracy: {scores.mean():.1%} (+/- {scores.std():.1%})")

    scaled = StandardScaler().fit_transform(features)
    neighbors = DistanceNeighbors(n_neighbors=3).fit(scaled)
    distances, indices = neighbors.kneighbors()
    print(f"3 images most similar to {os.path.basename(paths[query])}:")
    for rank, (d, i) in enumerate(zip(distances[query], indices[query]), start=1):
        print(f"  {rank}. {os.path.basename(paths[i])}  distance {d:.3f}")

    fig, axes = plt.subplots(1, 4, figsize=(12, 3.6), layout="constrained")
    shown = [(paths[query], "original")] + [
        (paths[i], f"{os.path.basename(paths[i])}\ndistance {d:.2f}")
        for d, i in zip(distances[query], indices[query])
    ]
    for ax, (path, title) in zip(axes, shown):
        with Image.open(path) as im:
            ax.imshow(np.asarray(im.convert("RGB")))
        ax.set_title(title)
        ax.axis("off")
    out = os.path.abspath(args.output)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"Wrote the similar-images figure to {out}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="haralick-learn",
        description="Haralick texture features for scikit-learn: classify images, "
        "find similar ones.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    demo = commands.add_parser(
        "demo",
        help="classify the shipped sample images and show the most similar ones",
        description="Run the whole flow on the 90 sample images shipped with the "
        "package: featurize, 5-fold accuracy, 3 most similar images to a query, "
        "and a PNG figure of them.",
    )
    demo.add_argument("--query", type=int, default=0, help="index of the query image (default 0)")
    demo.add_argument(
        "-o", "--output", default="similar_images.png",
        help="where to write the figure (default ./similar_images.png)",
    )
    demo.add_argument("--n-jobs", type=int, default=None, help="images featurized in parallel")
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None):
    """Entry point of the ``haralick-learn`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (OSError, ValueError, TypeError) as exc:
        print(f"haralick-learn {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
