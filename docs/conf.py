"""Sphinx configuration: numpydoc API reference, MyST Markdown pages, sphinx-gallery.

Build: ``pip install ".[docs]" && sphinx-build -W -b html docs docs/_build/html``.
"""

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document this checkout even when another copy of the package is installed.
sys.path.insert(0, str(ROOT))

import haralick_learn  # noqa: E402
import haralick_learn.datasets  # noqa: E402

project = "haralick_learn"
author = "haralick_learn developers"
copyright = "haralick_learn developers, MIT licence"
version = release = haralick_learn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# -- API reference ------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = True
numpydoc_class_members_toctree = False  # methods listed on the class page, no stub pages
numpydoc_xref_param_type = False
extlinks = {"doi": ("https://doi.org/%s", "doi:%s")}

# -- Markdown pages (docs/*.md, kept as plain Markdown for GitHub) ----------------
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# -- Examples gallery --------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "abort_on_example_error": True,
    "within_subsection_order": "FileNameSortKey",
}

# -- HTML ---------------------------------------------------------------------------
try:
    import pydata_sphinx_theme  # noqa: F401

    html_theme = "pydata_sphinx_theme"
    html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
except ImportError:
    html_theme = "alabaster"
html_title = f"haralick_learn {release}"
html_static_path = []


# -- Checks and docstring fixes ------------------------------------------------------

def check_api_reference(app):
    """Warn (an error under -W) when a public name is missing from api_reference.rst."""
    from sphinx.util import logging

    listed = set(re.findall(r"^\s+(\w+)\s*$", (DOCS / "api_reference.rst").read_text(), re.M))
    public = {name for name in haralick_learn.__all__ if not name.startswith("__")}
    public |= set(haralick_learn.datasets.__all__)
    for name in sorted(public - listed):
        logging.getLogger(__name__).warning(
            f"haralick_learn.{name} is public but missing from docs/api_reference.rst: "
            "add it to the autosummary list there (one line)"
        )


_SHAPE = re.compile(r"of shape \(([^)]*)\)")
_BARE_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")


def quote_fitted_attributes_in_shapes(app, what, name, obj, options, lines):
    """``of shape (n_samples_fit_, ...)``: quote names ending in ``_``.

    In reStructuredText a bare ``word_`` is a link to a target named ``word``,
    so an unquoted fitted attribute in a shape is a docutils error. scikit-learn
    writes them as ```n_features_in_```; this does it for docstrings that do not.
    """
    def quote(match):
        return "of shape (" + _BARE_TRAILING_UNDERSCORE.sub(r"`\1`", match.group(1)) + ")"

    lines[:] = [_SHAPE.sub(quote, line) for line in lines]


def setup(app):
    app.connect("builder-inited", check_api_reference)
    app.connect("autodoc-process-docstring", quote_fitted_attributes_in_shapes, priority=400)
