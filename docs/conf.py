"""Sphinx configuration: numpydoc API reference, MyST Markdown pages, sphinx-gallery.

Build: ``pip install ".[docs]" && sphinx-build -W -b html docs docs/_build/html``.
"""

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
    # MathJax from the build itself, not from a CDN: formulas render without a network.
    "sphinx-mathjax-offline",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "gen_modules", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# -- API reference ------------------------------------------------------------
autosummary_generate = True
numpydoc_show_class_members = True
numpydoc_class_members_toctree = False  # methods listed on the class page, no stub pages
numpydoc_xref_param_type = False
# The warning's page lists its own attribute, not Exception's add_note / with_traceback.
numpydoc_show_inherited_class_members = {"haralick_learn.ImageFeaturizationWarning": False}
extlinks = {"doi": ("https://doi.org/%s", "doi:%s")}
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"

# -- Markdown pages (docs/*.md, kept as plain Markdown for GitHub) ----------------
myst_enable_extensions = ["colon_fence", "dollarmath", "amsmath"]
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
    # "Examples using X" on each API page: the examples that use a haralick_learn name.
    "doc_module": ("haralick_learn",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"haralick_learn": None},
    "show_memory": False,
    # The computation-times pages load jQuery and DataTables from CDNs: without a network they
    # show nothing useful, and the examples' times are in each example's own page.
    "write_computation_times": False,
    # Examples without a figure: the three sample textures, not sphinx-gallery's logo.
    "default_thumb_file": str(DOCS / "images" / "default_thumbnail.png"),
}

# -- HTML ---------------------------------------------------------------------------
try:
    import pydata_sphinx_theme  # noqa: F401

    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
        # Getting started, Install, User guide, Examples, API in the top bar; the rest in "More".
        "header_links_before_dropdown": 5,
    }
except ImportError:
    html_theme = "alabaster"
html_title = f"haralick_learn {release}"
# Pages without sub-pages: no empty "Section Navigation" column.
html_sidebars = {page: [] for page in (
    "index", "getting_started", "install", "scaling", "performance", "glossary", "design",
    "changelog", "citing", "conventions", "api",
)}
html_static_path = ["_static"]
html_css_files = ["custom.css"]


# -- Checks and docstring fixes ------------------------------------------------------

def check_api_reference(app):
    """Warn (an error under -W) when a public name is missing from the API reference, api.md."""
    from sphinx.util import logging

    listed = set(re.findall(r"^\s+(\w+)\s*$", (DOCS / "api.md").read_text(), re.M))
    public = {name for name in haralick_learn.__all__ if not name.startswith("__")}
    public |= set(haralick_learn.datasets.__all__)
    for name in sorted(public - listed):
        logging.getLogger(__name__).warning(
            f"haralick_learn.{name} is public but missing from docs/api.md: "
            "add it to an autosummary list there (one line)"
        )


# -- Links to other projects' documentation ----------------------------------------
# intersphinx needs each project's objects.inv from the network at build time, which this
# project's build machines do not have. Instead, references to these packages' objects
# (``:class:`~sklearn.pipeline.Pipeline```, ``{class}`joblib.Memory```) resolve to their
# documentation by the URL scheme each project uses for its API pages.
_SKLEARN = "https://scikit-learn.org/stable/"
_EXTERNAL_URLS = {
    "sklearn": lambda name, owner: (
        f"{_SKLEARN}api/{name}.html" if _is_module(name)
        else f"{_SKLEARN}modules/generated/{owner}.html#{name}"
    ),
    "numpy": lambda name, owner: (
        f"https://numpy.org/doc/stable/reference/generated/{owner}.html#{name}"
    ),
    "scipy": lambda name, owner: (
        f"https://docs.scipy.org/doc/scipy/reference/generated/{owner}.html#{name}"
    ),
    "joblib": lambda name, owner: (
        f"https://joblib.readthedocs.io/en/stable/generated/{owner}.html#{name}"
    ),
    "pandas": lambda name, owner: (
        f"https://pandas.pydata.org/docs/reference/api/{owner}.html#{name}"
    ),
    "skimage": lambda name, owner: (
        f"https://scikit-image.org/docs/stable/api/{name.rsplit('.', 1)[0]}.html#{name}"
    ),
    "PIL": lambda name, owner: (
        f"https://pillow.readthedocs.io/en/stable/reference/{name.split('.')[1]}.html#{name}"
    ),
}


def _is_module(name):
    import importlib

    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def _owner(name):
    """The documented page of ``name``: a class for a method (``a.B.c`` -> ``a.B``)."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part[:1].isupper():
            return ".".join(parts[:i + 1])
    return name


def resolve_external_reference(app, env, node, contnode):
    """Resolve ``py`` references to scikit-learn, numpy, scipy, joblib... by URL."""
    from docutils import nodes

    if node.get("refdomain") != "py":
        return None
    name = node["reftarget"].lstrip("~.")
    rule = _EXTERNAL_URLS.get(name.split(".")[0])
    if rule is None or "." not in name:
        return None
    reference = nodes.reference("", "", internal=False, refuri=rule(name, _owner(name)),
                                reftitle=f"{name} (external documentation)")
    reference += contnode
    return reference


# Names the site refers to without a page to link to (Python's own, Dask's).
nitpicky = True
nitpick_ignore_regex = [
    ("py:.*", r"(os|pathlib|warnings|dask|distributed|matplotlib|ray|pynndescent|zarr)(\..*)?"),
    ("py:.*", r"(str|int|float|bool|bytes|list|tuple|dict|object|callable|None|True|False)"),
]


_REF_WITH_TITLE = re.compile(r":ref:`([^`<]+?)\s*<[^`>]+>`")
_REF_BARE = re.compile(r":ref:`([^`]+)`")


def drop_foreign_refs(app, what, name, obj, options, lines):
    """Inherited scikit-learn methods: their ``:ref:`` labels live in scikit-learn's docs.

    ``fit_transform``, ``get_params``, ``set_output``... are documented with their
    scikit-learn docstrings, whose ``:ref:`User Guide <label>``` would be undefined labels
    here: link to scikit-learn's user guide (or gallery) instead.
    """
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn"):
        return
    text = "\n".join(lines)
    if ":ref:" not in text:
        return
    text = _REF_WITH_TITLE.sub(rf"`\1 <{_SKLEARN}user_guide.html>`__", text)
    text = _REF_BARE.sub(rf"`an example of scikit-learn's <{_SKLEARN}auto_examples/index.html>`__",
                         text)
    lines[:] = text.split("\n")


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
    app.connect("autodoc-process-docstring", drop_foreign_refs, priority=400)
    app.connect("missing-reference", resolve_external_reference)
