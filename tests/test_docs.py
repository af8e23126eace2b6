"""The documentation's code runs as written, and its figures have one source.

Every page's code blocks run here in order, in one namespace per page, in a fresh empty
folder, as a reader would run them: the ```python blocks, and the ``haralick-learn``
commands of the bash and console blocks (in-process, through ``haralick_learn.cli.main``);
a console block's shown output is what the command prints. So a page that needs files makes
them itself (from ``haralick_learn.datasets`` or scikit-image's data), README included.
A block that cannot run here is preceded in the Markdown by
``<!-- docs-test: skip (reason) -->``; it is still compiled.

Figures have one place each: README's "## Performance" section keeps a short summary of the
headline figures, which docs/performance.md includes; every other figure is on that page
alone, with the command that measures it, and the other pages link to it. Pages for users
hold no development history (targets, issue numbers, earlier builds): that is the changelog's.
"""

import copy
import re
import shlex
from collections import namedtuple
from pathlib import Path

import pytest

import haralick_learn
from haralick_learn import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDE = sorted(f"docs/guide/{path.name}" for path in (DOCS / "guide").glob("*.md"))
RUN = ["README.md", "docs/index.rst", "docs/getting_started.md", "docs/install.md",
       *GUIDE, "docs/scaling.md", "docs/conventions.md"]
MAX_SKIPPED = 3

Block = namedtuple("Block", "line lang code skip")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
_SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>.*)\)\s*-->")
_RST_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. code-block::\s*(?P<lang>\S+)")


def code_blocks(path):
    """Return the fenced blocks of a Markdown file (``.. code-block::`` of an .rst file).

    ``line`` is the 1-based line of the block's first line of code; ``skip`` is the
    reason of a ``<!-- docs-test: skip (reason) -->`` on the last non-blank line before
    the block, else None. The code is dedented by the fence's indentation.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    parse = _rst_blocks if str(path).endswith(".rst") else _markdown_blocks
    return list(parse(lines))


def _markdown_blocks(lines):
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        previous = next((text for text in reversed(lines[:i]) if text.strip()), "")
        skip = _SKIP.search(previous)
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        code = "\n".join(text[indent:] for text in lines[i + 1:end])
        yield Block(i + 2, opening["info"].lower(), code + "\n",
                    skip["reason"].strip() if skip else None)
        i = end + 1


def _rst_blocks(lines):
    for i, text in enumerate(lines):
        opening = _RST_BLOCK.match(text)
        if not opening:
            continue
        body, indent = [], None
        for j in range(i + 1, len(lines)):
            if not lines[j].strip():
                body.append("")
                continue
            width = len(lines[j]) - len(lines[j].lstrip())
            if width <= len(opening["indent"]):
                break
            indent = width if indent is None else min(indent, width)
            body.append(lines[j])
        first = next(k for k, text in enumerate(body) if text)
        code = "\n".join(text[indent:] for text in body).strip("\n")
        yield Block(i + 2 + first, opening["lang"].lower(), code + "\n", None)


@pytest.fixture
def empty_folder(tmp_path, monkeypatch):
    """A fresh empty working folder; figures drawn without a display."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    import matplotlib.pyplot as plt

    plt.close("all")


# Commands the documentation shows but this test does not run: installs, the test suite,
# and the demo, which test_getting_started_shows_the_demo_output runs and checks.
NOT_RUN = [["pip", "install"], ["pytest"], ["python", "-m", "pytest"], ["haralick-learn", "demo"]]


def shell_commands(block):
    """``(argv, shown output lines or None)`` of a bash block or of a console block's ``$`` lines.

    A console block's output is the lines after its command, up to the next command or a
    line ``...`` (the rest not shown).
    """
    if block.lang in ("bash", "sh", "shell"):
        for text in block.code.splitlines():
            for command in text.split("&&"):
                argv = shlex.split(command, comments=True)
                if argv:
                    yield argv, None
        return
    commands, shown = [], None
    for text in block.code.splitlines():
        if text.startswith("$ "):
            shown = []
            commands.append((text[2:], shown))
        elif shown is not None and text.strip() == "...":
            shown.append(None)  # the end of what is compared
        elif shown is not None:
            shown.append(text)
    for command, shown in commands:
        parts = command.split("&&")
        for i, part in enumerate(parts):
            argv = shlex.split(part, comments=True)
            if argv:
                yield argv, shown if i == len(parts) - 1 else None


def run_shell_block(name, block, folder, capsys):
    """Run the ``haralick-learn`` commands of ``block``; compare a console block's output."""
    ran = 0
    for argv, shown in shell_commands(block):
        if any(argv[:len(prefix)] == prefix for prefix in NOT_RUN):
            continue
        where = f"{name}, block at line {block.line}: `{shlex.join(argv)}`"
        assert argv[0] == "haralick-learn", f"{where}: add the command to NOT_RUN or run it"
        capsys.readouterr()  # the output of the commands before
        try:
            code = cli.main(argv[1:])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
        out, err = capsys.readouterr()
        assert code == 0, f"{where} exits with {code}: {err}"
        for option in ("-o", "--plot", "--preview"):
            if option in argv and argv[argv.index(option) + 1] != "-":
                written = folder / argv[argv.index(option) + 1]
                assert written.exists(), f"{where}: {written.name} not written"
        if shown:
            expected = shown[:shown.index(None)] if None in shown else shown
            printed = out.splitlines()[:len(expected)]
            assert printed == expected, f"{where}: the page shows another output"
        ran += 1
    return ran


def run_page(name, folder, capsys):
    """Run every block of ``name`` in order, in one namespace; return the skipped ones."""
    path = ROOT / name
    namespace = {"__name__": "__main__"}
    skipped, ran = [], 0
    for block in code_blocks(path):
        if block.lang == "python":
            # Pad with newlines so that a traceback gives the line in the file itself.
            code = compile("\n" * (block.line - 1) + block.code, str(path), "exec")
            if block.skip is not None:
                skipped.append(block)
                continue
            try:
                exec(code, namespace)
            except Exception as exc:
                pytest.fail(f"{name}: the python block at line {block.line} fails: "
                            f"{type(exc).__name__}: {exc}")
            ran += 1
        elif block.lang in ("bash", "sh", "shell", "console"):
            ran += run_shell_block(name, block, folder, capsys)
    return namespace, skipped, ran


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", RUN)
def test_page_runs_as_written(name, empty_folder, capsys):
    try:
        import dask
        import distributed  # noqa: F401 (its defaults join Dask's configuration on import)
    except ImportError:
        dask = None
    config = copy.deepcopy(dask.config.config) if dask else None
    try:
        namespace, _, ran = run_page(name, empty_folder, capsys)
    finally:  # a page may set Dask's global configuration for its workers
        if dask:
            dask.config.config.clear()
            dask.config.config.update(config)
    if name == "docs/install.md":
        return  # its commands install: none runs here
    assert ran, f"{name}: no block ran"
    if name == "README.md":
        assert (empty_folder / "similar.png").stat().st_size > 0
        assert len(namespace["paths"]) == 90
    if name == "docs/scaling.md":
        assert (empty_folder / "feature_cache" / "haralick_learn").is_dir()


def test_guide_pages_are_run():
    # A page added to the guide is run by test_page_runs_as_written without being listed.
    assert len(GUIDE) >= 7 and all(name in RUN for name in GUIDE)


def test_skipped_blocks_are_few_and_explained():
    skipped = [(name, block) for name in RUN for block in code_blocks(ROOT / name)
               if block.skip is not None]
    assert len(skipped) <= MAX_SKIPPED, [f"{name}:{block.line}" for name, block in skipped]
    for name, block in skipped:
        assert block.lang == "python", f"{name}:{block.line}: only python blocks are skipped"
        assert len(block.skip) >= 10, f"{name}:{block.line}: say why the block cannot run"


# A timing figure: "65 ms", "0.1 ms", "1.87x", "2 s per image", "18 core-hours".
TIMING = re.compile(r"\b\d+(?:\.\d+)?\s?ms\b|\b\d+\.\d+x\b|\b\d+(?:\.\d+)?\s?s per image\b"
                    r"|core-hours")
START, END = "<!-- performance:start -->", "<!-- performance:end -->"


def readme_performance():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(START) == 1 and readme.count(END) == 1, "README: performance markers"
    section = readme.split(START)[1].split(END)[0]
    heading = readme.split(START)[0].rstrip().splitlines()[-1]
    assert heading == "## Performance", "README: the start marker follows '## Performance'"
    return section


def test_docs_include_readme_performance_section():
    section = readme_performance()
    assert TIMING.search(section), "README's Performance section holds the figures"
    page = (DOCS / "performance.md").read_text(encoding="utf-8")
    include = f"```{{include}} ../README.md\n:start-after: {START}\n:end-before: {END}\n```"
    assert include in page


@pytest.mark.parametrize("name", ["scaling.md", "user_guide.md", "install.md",
                                  *[name.removeprefix("docs/") for name in GUIDE]])
def test_no_timing_figures_outside_performance(name):
    text = (DOCS / name).read_text(encoding="utf-8")
    found = [(text[:m.start()].count("\n") + 1, m.group()) for m in TIMING.finditer(text)]
    assert not found, f"docs/{name}: timing figures (line, figure) {found}: link to " \
                      "{doc}`performance` instead, the one place of the figures"


def test_no_docs_page_copies_readme_figures():
    figures = set(TIMING.findall(readme_performance()))
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        copied = sorted(figure for figure in figures
                        if re.search(rf"(?<![\d.]){re.escape(figure)}", text))
        assert not copied, f"{page.relative_to(ROOT)} copies README's figures {copied}"


README_SUMMARY_LINES = 12
COMMAND = re.compile(r"python benchmarks/bench_\w+\.py")
CPU = re.compile(r"\b(?:AMD|Intel|Apple|ARM)\b")


def test_readme_performance_is_a_short_summary_that_points_to_the_page():
    section = readme_performance()
    lines = [text for text in section.splitlines() if text.strip()]
    assert len(lines) <= README_SUMMARY_LINES, \
        f"README's Performance summary has {len(lines)} lines: move the details to " \
        "docs/performance.md"
    assert COMMAND.search(section) and CPU.search(section), \
        "README's Performance summary names the command and the CPU of its figures"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split(END)[1].split("\n## ")[0]
    assert "(docs/performance.md)" in after, "README's Performance section links to the page"


def performance_sections():
    """``(heading, text)`` of each section of docs/performance.md, the included summary as
    README's."""
    page = (DOCS / "performance.md").read_text(encoding="utf-8")
    sections = re.split(r"^(#{1,3} .*)$", page, flags=re.M)
    yield from zip(["(top)", *sections[1::2]], [sections[0], *sections[2::2]])


def test_every_performance_figure_names_its_command():
    # A section with figures says what measures them; on the page's last section, which
    # gathers several estimators, each paragraph with figures says it.
    assert CPU.search((DOCS / "performance.md").read_text(encoding="utf-8"))
    for heading, text in performance_sections():
        if START in text:
            text = readme_performance()
        parts = text.split("\n\n") if "\n**" in text else [text]
        for part in parts:
            if TIMING.search(part) or re.search(r"\b\d+(?:\.\d+)? s\b", part):
                assert "bench_" in part, \
                    f"docs/performance.md, {heading}: figures without their command: {part[:80]!r}"


USER_PAGES = ["README.md", *sorted(f"docs/{path.name}" for path in DOCS.glob("*.md")
                                   if path.name != "changelog.md"), *GUIDE]
HISTORY = re.compile(r"(?<![\w&/])#\d+\b|\bissues? #?\d+|\(target\b|\btarget:|\btarget \d"
                     r"|(?-i:\bMet\b|\bMissed\b)|\blanded\b|\bas they land\b|\bearlier build\b"
                     r"|\bprevious release\b|\bnot yet run\b", re.I)


@pytest.mark.parametrize("name", USER_PAGES)
def test_user_pages_hold_no_development_history(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    found = [(text[:m.start()].count("\n") + 1, m.group()) for m in HISTORY.finditer(text)]
    assert not found, f"{name}: development history (line, words) {found}: " \
                      "it belongs in docs/changelog.md or nowhere"


def public_names():
    """Every public name: ``haralick_learn``'s, the datasets', and the command's ``main``."""
    from haralick_learn import datasets

    names = [name for name in haralick_learn.__all__ if not name.startswith("__")]
    return names + list(datasets.__all__) + ["main"]


def test_api_page_lists_every_public_name():
    # The site's one API reference renders each name's page from its docstring; a name
    # missing from its autosummary lists has no page (conf.py also warns at build time).
    listed = set(re.findall(r"^\s+(\w+)\s*$", (DOCS / "api.md").read_text(), re.M))
    missing = sorted(set(public_names()) - listed)
    assert not missing, f"docs/api.md: add {missing} to an autosummary list"


def test_every_public_name_is_used_by_an_example():
    # Each API page shows "Examples using X" (sphinx-gallery backreferences), which is empty
    # unless an example of the gallery uses X. docs/check_site.py checks the built pages.
    sources = "\n".join(path.read_text(encoding="utf-8")
                        for path in sorted((ROOT / "examples").rglob("plot_*.py")))
    unused = [name for name in public_names() if not re.search(rf"\b{name}\b", sources)]
    assert not unused, f"no example in examples/ uses {unused}"


DEMO_SHOWN = re.compile(r"```console\n\$ haralick-learn demo\n(?P<output>.*?)```", re.S)


def test_getting_started_shows_the_demo_output(empty_folder, capsys):
    page = (DOCS / "getting_started.md").read_text(encoding="utf-8")
    shown = DEMO_SHOWN.search(page)["output"].splitlines()
    assert cli.main(["demo"]) == 0
    printed = capsys.readouterr().out.splitlines()
    written = printed[-1]  # the figure's path depends on the folder the demo runs in
    assert written.startswith("Wrote the similar-images figure to ")
    assert written.endswith("similar_images.png") and shown[-1].endswith("similar_images.png")
    assert printed[:-1] == shown[:-1], "docs/getting_started.md: update the demo's output"
    assert (empty_folder / "similar_images.png").stat().st_size > 0


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_check_site_finds_broken_links_and_missing_examples(tmp_path):
    import sys

    sys.path.insert(0, str(DOCS))
    try:
        import check_site
    finally:
        sys.path.remove(str(DOCS))
    example = '<a href="../auto_examples/plot_a.html#plot-a">a</a>'
    _write(tmp_path / "index.html", '<a href="api.html#x">x</a> <a href="https://a.org/#y">y</a>'
                                    '<img src="_images/fig.png">')
    _write(tmp_path / "_images" / "fig.png", "")
    _write(tmp_path / "api.html", '<section id="x"><a href="#">top</a></section>')
    _write(tmp_path / "auto_examples" / "plot_a.html", '<section id="plot-a"></section>')
    _write(tmp_path / "generated" / "A.html", f"<h2>Examples using A</h2>{example}")
    assert check_site.main([str(tmp_path)]) == 0

    _write(tmp_path / "generated" / "B.html", "<h2>B</h2>")  # no examples
    _write(tmp_path / "api.html", '<a href="index.html#nowhere">i</a><a href="gone.html">g</a>'
                                  '<section id="y"></section>')
    problems, _ = check_site.broken_links(tmp_path)
    assert sorted((str(where), link) for where, link, _ in problems) == [
        ("api.html", "gone.html"), ("api.html", "index.html#nowhere"), ("index.html", "api.html#x")]
    assert check_site.api_pages_without_examples(tmp_path) == ["B.html"]
    assert check_site.main([str(tmp_path)]) == 1

    # A page that loads a script or a stylesheet from the network does not work offline.
    _write(tmp_path / "api.html", '<section id="x"></section>'
                                  '<script src="https://cdn.example.org/mathjax/tex.js"></script>'
                                  '<link rel="stylesheet" href="//cdn.example.org/a.css">'
                                  '<link rel="canonical" href="https://a.org/api.html">')
    problems, _ = check_site.broken_links(tmp_path)
    assert sorted((str(where), link) for where, link, _ in problems) == [
        ("api.html", "//cdn.example.org/a.css"),
        ("api.html", "https://cdn.example.org/mathjax/tex.js")]
