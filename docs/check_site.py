"""Check a built HTML site: internal links resolve, API pages link to their examples.

Usage: ``python docs/check_site.py docs/_build/html`` (after ``sphinx-build -b html``).

* Every relative ``href`` and ``src`` of every page names a file that exists and, when it has a
  ``#fragment``, an ``id`` (or ``name``) on that page. External links (``https:``, ``mailto:``)
  are not checked: the build machines have no network.
* No page loads a script or a stylesheet from the network (``https://``, ``//host``): the
  site, formulas included, works offline.
* Every API page (``generated/*.html``, one per public class and function) has an "Examples
  using" section that links to at least one gallery example: sphinx-gallery's backreferences
  work, and every public name is used by an example.

Prints one line per problem and exits with 1 if there is any, else prints a summary.
"""

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (attribute, value)
        self.resources = set()  # the links a browser loads with the page: scripts, styles
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name"):
            if attrs.get(name) and (name == "id" or tag == "a"):
                self.ids.add(attrs[name])
        if tag in ("a", "link") and attrs.get("href"):
            self.links.append(("href", attrs["href"]))
        if tag in ("img", "script") and attrs.get("src"):
            self.links.append(("src", attrs["src"]))
        if tag == "script" and attrs.get("src"):
            self.resources.add(("src", attrs["src"]))
        if tag == "link" and attrs.get("href") and "stylesheet" in (attrs.get("rel") or ""):
            self.resources.add(("href", attrs["href"]))

    def handle_data(self, data):
        self.text.append(data)


def parse(path):
    page = _Page()
    page.feed(Path(path).read_text(encoding="utf-8", errors="replace"))
    return page


def broken_links(root):
    """``(page, link, reason)`` for every relative link that does not resolve."""
    root = Path(root).resolve()
    # _static/ holds the theme's template fragments, _sources/ the pages' sources.
    pages = {path: parse(path) for path in sorted(root.rglob("*.html"))
             if path.relative_to(root).parts[0] not in ("_static", "_sources")}
    problems = []
    for path, page in pages.items():
        for attribute, link in page.links:
            parts = urlsplit(link)
            if (attribute, link) in page.resources and (parts.scheme or parts.netloc):
                problems.append((path.relative_to(root), link,
                                 "loaded from the network: the page needs it offline"))
                continue
            if parts.scheme or parts.netloc or link.startswith("#") and len(link) == 1:
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            where = path.relative_to(root)
            if not target.exists():
                problems.append((where, link, "no such file"))
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if fragment not in ids:
                    problems.append((where, link, f"no id {fragment!r} on that page"))
    return problems, len(pages)


def api_pages_without_examples(root):
    """API pages (``generated/*.html``) without an "Examples using" link to an example."""
    missing = []
    for path in sorted((Path(root) / "generated").glob("*.html")):
        page = parse(path)
        text = " ".join(page.text)
        examples = [link for _, link in page.links
                    if "auto_examples/" in link and link.split("#")[0].endswith(".html")
                    and "/index.html" not in link]
        if "Examples using" not in text or not examples:
            missing.append(path.name)
    return missing


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not Path(argv[0], "index.html").is_file():
        print("usage: python docs/check_site.py BUILD_DIR (a folder holding index.html)",
              file=sys.stderr)
        return 2
    root = Path(argv[0])
    problems, n_pages = broken_links(root)
    for where, link, reason in problems:
        print(f"{where}: {link!r}: {reason}")
    missing = api_pages_without_examples(root)
    for name in missing:
        print(f"generated/{name}: no 'Examples using' section linking to an example "
              "(use the name in an example of examples/, or check sphinx-gallery's doc_module)")
    n_api = len(list((root / "generated").glob("*.html")))
    if n_api == 0:
        print("generated/: no API page was built")
    if problems or missing or n_api == 0:
        return 1
    print(f"check_site: {n_pages} pages, internal links all resolve; "
          f"{n_api} API pages, each with its examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
