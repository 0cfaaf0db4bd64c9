"""The book: every notebook executes at the smoke profile through papermill, and the book
renders with warnings as errors. Parameters arrive as papermill hands them over."""

import re
import shutil

import nbformat
import papermill
import pytest
from conftest import ROOT

from rstlib.book.build import execute, pages, render
from rstlib.config.profile import ConfigError, load_profile
from rstlib.paper.sections import Context, parse_candidate_sets, parse_ratios
from rstlib.paper.sections.r2s import sec6


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """A copy of book/ executed at the smoke profile against a fresh run store."""
    root = tmp_path_factory.mktemp("book")
    book_dir = root / "book"
    shutil.copytree(ROOT / "book", book_dir, ignore=shutil.ignore_patterns("_build"))
    mp = pytest.MonkeyPatch()
    mp.setenv("RST_RUNS", str(root / "runs"))
    times = execute(book_dir, "smoke")
    yield book_dir, times
    mp.undo()


def _text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(
                o.get("text", "") + str(o.get("data", {}).get("text/markdown", "")) + str(o.get("data", {}).get("text/plain", ""))
            )
    return "\n".join(out)


def test_every_page_executes_and_the_book_renders_without_warnings(book):
    book_dir, times = book
    print("smoke wall time per page (s):", {k: round(v, 1) for k, v in times.items()})
    assert set(times) == set(pages(book_dir))
    for page in pages(book_dir):
        nb = nbformat.read(book_dir / f"{page}.ipynb", as_version=4)
        assert not any(o.output_type == "error" for c in nb.cells for o in c.get("outputs", [])), page
        text = _text(nb)
        assert "profile: smoke" in text and "git commit" in text, page
        if page.startswith(("sec3", "sec5", "sec6", "sec8")):
            assert "not comparable" in text, page
            assert any(
                c.source.startswith("## ") and "beside the paper" in c.source.splitlines()[0].lower()
                for c in nb.cells
                if c.cell_type == "markdown"
            ), page
        if page not in ("sec2_settings", "intro", "explore", "scale"):
            headings = [c.source for c in nb.cells if c.cell_type == "markdown"]
            assert any(h.startswith("## Claims check") for h in headings), page
            assert "✓ holds" in str(nb.cells[-1].outputs) or "verdict" in str(nb.cells[-1].outputs), page
    render(book_dir)  # jupyter-book build -W: any warning fails
    assert (book_dir / "_build" / "html" / "sec6_r2s.html").is_file()
    html = (book_dir / "_build" / "html" / "sec6_r2s.html").read_text()
    assert "EOT loss, margin (ours)" in html and "strong (ours)" in html and "Table 3" in html


def _rendered(book):
    """(book folder, its rendered HTML folder): rendered once, by whichever test asks first."""
    book_dir, _ = book
    html_dir = book_dir / "_build" / "html"
    if not (html_dir / "intro.html").is_file():
        render(book_dir)
    return book_dir, html_dir


def test_rendered_pages_have_no_raw_markdown_tables_duplicate_figures_or_tracebacks(book):
    """What a reader would notice in a browser: pipe-table text, a figure shown twice, a stray
    traceback, a claims check that is not a table, a footer without the commit."""
    import hashlib

    book_dir, html_dir = _rendered(book)
    for page in pages(book_dir):
        html = (html_dir / f"{page}.html").read_text()
        assert "| --- |" not in html and "|---|" not in html, page
        assert "Traceback" not in html, page
        images = re.findall(r'<img[^>]+src="([^"]+)"', html)
        digests = [
            hashlib.sha256((html_dir / src).read_bytes()).hexdigest()
            for src in images
            if not src.startswith(("http", "data:")) and (html_dir / src).is_file()
        ]
        assert len(digests) == len(set(digests)), f"{page}: a figure appears twice"
        if page not in ("sec2_settings", "intro", "explore", "scale"):
            assert "Claims check" in html and "<table" in html.split("Claims check", 1)[1], page
            assert re.search(r"git commit <code[^>]*><span[^>]*>([0-9a-f]{7,}|unknown)<", html), page
    intro = (html_dir / "intro.html").read_text()
    assert "S3.1" in intro and "S9.3" in intro  # the registry's summary, generated


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]


def test_every_committed_page_is_the_execution_of_its_myst_source():
    """Each page is written once, as `book/<page>.md`: the committed `.ipynb` beside it holds the
    same cells (papermill's injected parameters aside), so a page edited and not re-executed fails
    here instead of rendering stale text or stale code."""
    import jupytext

    for page in pages(ROOT / "book"):
        source = jupytext.read(ROOT / "book" / f"{page}.md", fmt="md:myst")
        executed = nbformat.read(ROOT / "book" / f"{page}.ipynb", as_version=4)
        assert _cells(executed) == _cells(source), (
            f"book/{page}.ipynb is not the execution of book/{page}.md: run "
            f"`python -m rstlib.book.build --execute --in-place --only {page}`"
        )


def test_section_pages_have_a_contents_panel_and_no_code_but_their_parameters(book):
    """A reader's page: at least three headings in the right-hand contents panel, every heading
    one short line, and no code shown but the parameters cell (no empty toggles)."""
    book_dir, html_dir = _rendered(book)
    for page in pages(book_dir):
        if not page.startswith("sec"):
            continue
        html = (html_dir / f"{page}.html").read_text()
        panel = html.split('class="page-toc', 1)[1].split("</nav>", 1)[0] if 'class="page-toc' in html else ""
        entries = re.findall(r'<a class="reference internal nav-link" href="#[^"]+">\s*([^<]+?)\s*</a>', panel)
        assert len(entries) >= 3, f"{page}: contents panel {entries}"
        assert all(len(e) <= 60 for e in entries), f"{page}: a heading longer than one line: {entries}"
        nb = nbformat.read(book_dir / f"{page}.ipynb", as_version=4)
        shown = sum(bool({"parameters", "injected-parameters"} & set(c.metadata.get("tags", []))) for c in nb.cells)
        assert html.count('class="cell_input') == shown, f"{page}: code shown besides the parameters"
        assert "Show code cell" not in html, page


PHONE = r"""<script>window.addEventListener("load", () => {
  const view = document.documentElement.clientWidth;
  const verdicts = [...document.querySelectorAll(".cell_output table.rst-table .rst-verdict")];
  const off = verdicts.map(v => {
    let edge = view;  // what is on screen without scrolling: the viewport and every scrolling box
    for (let a = v.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") edge = Math.min(edge, a.getBoundingClientRect().right);
    }
    return Math.round(v.getBoundingClientRect().right - edge);
  }).filter(d => d > 1);
  // no cell squeezed until a word or a number breaks across lines ("55 / .0", "S / 3 / . / 1")
  const lines = c => { const r = document.createRange(); r.selectNodeContents(c);
    return new Set([...r.getClientRects()].filter(q => q.width > 0).map(q => Math.round(q.top))).size; };
  const narrow = [...document.querySelectorAll(".cell_output table td, .cell_output table th")]
    .filter(c => !/\s/.test(c.textContent.trim()) && c.textContent.trim().length > 1 && lines(c) > 1)
    .map(c => c.textContent.trim()).slice(0, 5);
  document.body.setAttribute("data-off", JSON.stringify(verdicts.length ? off : ["no verdict"]));
  document.body.setAttribute("data-narrow", JSON.stringify(narrow));
});</script>"""


def _chromium_dom(html_dir, page, script, width, tmp_path) -> str:
    import subprocess

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("headless Chromium is not installed here (Debian: apt-get install chromium)")
    probe = html_dir / f"_probe_{page}.html"
    probe.write_text((html_dir / f"{page}.html").read_text().replace("</body>", script + "</body>"))
    try:
        out = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / f'{page}-{width}'}",
                f"--window-size={width},3000",
                "--virtual-time-budget=5000",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        probe.unlink()
    return out.stdout + "\n<!--stderr " + out.stderr[-300:] + "-->"


def test_claims_verdicts_stay_on_screen_on_a_420_px_phone(book, tmp_path):
    """Headless Chromium at 420 px: every verdict of a claims table (and of the intro's summary) is
    inside the viewport without scrolling its table (a claims table is a stack of cards there), and
    no word or number in a table cell breaks across lines (wide tables scroll)."""
    book_dir, html_dir = _rendered(book)
    for page in pages(book_dir):
        if not (page.startswith("sec") and page != "sec2_settings") and page != "intro":
            continue
        dom = _chromium_dom(html_dir, page, PHONE, 420, tmp_path)
        found = re.search(r'data-off="([^"]*)"', dom)
        assert found, f"{page}: the measurement did not run ({dom[-300:]})"
        assert found.group(1).replace("&quot;", "") == "[]", f"{page}: verdicts off-screen by {found.group(1)} px"
        narrow = re.search(r'data-narrow="([^"]*)"', dom)
        assert narrow and narrow.group(1) == "[]", f"{page}: words or numbers broken across lines: {narrow and narrow.group(1)}"


HEADER_IDENTIFIERS = re.compile(r"_eps|_minus_|rst_\d|dense_adv|dense_nat|pgd20_|_ratio_|remaining_ratio|^n_test$")
EMPTY_CELL = re.compile(r"<td[^>]*>\s*(?:<span[^>]*>)?\s*(nan|NaN|None|&lt;NA&gt;)\s*(?:</span>)?\s*</td>")
MEASURE = """<script>window.addEventListener("load", () => {
  const column = document.querySelector("main article, .bd-article") || document.body;
  const edge = column.getBoundingClientRect().right;
  const over = [...document.querySelectorAll(".cell_output table")].map(t => {
    let right = t.getBoundingClientRect().right;  // its visible edge: clipped by a scrolling container
    for (let a = t.parentElement; a && a !== column; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") right = Math.min(right, a.getBoundingClientRect().right);
    }
    return Math.round(right - edge);
  }).filter(d => d > 1);
  document.body.setAttribute("data-overflow", JSON.stringify(over));
});</script>"""


def test_tables_of_the_executed_book_speak_the_papers_words(book):
    """Every table the smoke book displays goes through rstlib.book.tables: no code identifier as a
    header, no nan / None cell, no 0..N index column."""
    book_dir, html_dir = _rendered(book)
    for page in pages(book_dir):
        html = (html_dir / f"{page}.html").read_text()
        headers = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)]
        bad = [h for h in headers if HEADER_IDENTIFIERS.search(h)]
        assert not bad, f"{page}: code identifiers as headers: {bad[:5]}"
        assert not EMPTY_CELL.search(html), f"{page}: {EMPTY_CELL.search(html).group(0)}"
        assert 'class="dataframe' not in html, f"{page}: a table not in the book's style"


def test_no_table_runs_past_the_content_column_at_1400_px(book, tmp_path):
    """Measured in headless Chromium: every table's visible edge (clipped by the scrolling container
    it sits in) lies inside the content column."""
    book_dir, html_dir = _rendered(book)
    for page in pages(book_dir):
        out = _chromium_dom(html_dir, page, MEASURE, 1400, tmp_path)
        found = re.search(r'data-overflow="([^"]*)"', out)
        assert found, f"{page}: the measurement did not run ({out[-300:]})"
        assert found.group(1).replace("&quot;", "") == "[]", f"{page}: outputs past the column by {found.group(1)} px"


@pytest.mark.parametrize("given", ["[10,30]", "10,30", [10, 30]])
def test_sec6_ratios_parameter_as_papermill_hands_it_over(book, tmp_path, given):
    """`papermill book/sec6_r2s.ipynb out.ipynb -p ratios "[10,30]"` gives the R2S row of exactly
    that candidate set beside the dense baseline (runs come from the store of the book fixture)."""
    book_dir, _ = book
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(ROOT / "book" / "sec6_r2s.ipynb"),
        str(out),
        kernel_name="python3",
        parameters={"profile": "smoke", "ratios": given},
        cwd=str(ROOT),
        progress_bar=False,
    )
    text = _text(nbformat.read(out, as_version=4))
    assert "10%, 30%" in text and "dense" in text


def test_list_parameters_accept_lists_strings_and_csv():
    assert parse_ratios("[7,10,15,20,30]") == parse_ratios("7,10,15,20,30") == parse_ratios([7, 10, 15, 20, 30])
    assert parse_candidate_sets("[[3,5],[7,10]]") == parse_candidate_sets("3,5;7,10") == [[3, 5], [7, 10]]


@pytest.mark.parametrize(
    "params,message",
    [
        ({"ratios": "[0,10]"}, "(0, 100]"),
        ({"ratios": "[10,150]"}, "(0, 100]"),
        ({"networks": "vgg19"}, "unknown arch"),
        ({"datasets": "imagenet21k"}, "unknown dataset"),
    ],
)
def test_bad_parameters_fail_before_any_training(params, message, tmp_path):
    with pytest.raises(ConfigError, match=re.escape(message)):
        sec6(Context(load_profile("smoke"), dry_run=True), **params)
    out = tmp_path / "bad.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(ROOT / "book" / "sec6_r2s.ipynb"),
            str(out),
            kernel_name="python3",
            parameters={"profile": "smoke", **params},
            cwd=str(ROOT),
            progress_bar=False,
        )
    assert message in str(err.value) and "ConfigError" in str(err.value)
    nb = nbformat.read(out, as_version=4)
    failed = [i for i, c in enumerate(nb.cells) if any(o.output_type == "error" for o in c.get("outputs", []))]
    first_code_after_params = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        and "parameters" not in c.metadata.get("tags", [])
        and "injected-parameters" not in c.metadata.get("tags", [])
    )
    assert failed == [first_code_after_params]


def test_the_book_talks_to_its_kernels_over_ipc_without_the_transport_warning(tmp_path, capfd):
    import papermill

    from rstlib.book.build import ipc_kernel_manager

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "in.ipynb")
    papermill.execute_notebook(
        str(tmp_path / "in.ipynb"),
        str(tmp_path / "out.ipynb"),
        kernel_name="python3",
        progress_bar=False,
        log_output=True,
        kernel_manager_class=ipc_kernel_manager(),
    )
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert out.cells[0].outputs[0]["text"] == "42\n"
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out


def test_the_scale_page_measures_the_smoke_ladder_and_the_intro_states_its_trend(book, capsys):
    """The two-point smoke ladder: every point's cost, the figure, every claim's numbers and a
    computed reading; the intro's headline links to the page in a sentence with the trend."""
    book_dir, html_dir = _rendered(book)
    nb = nbformat.read(book_dir / "scale.ipynb", as_version=4)
    text = _text(nb)
    assert "From an empty run store the whole ladder is 12 training runs" in text
    for claim in ("C1 (PGD-20)", "C1 (strong)", "C2 (PGD-20)", "C3 (PGD-20)", "C3 (strong)"):
        assert f"**{claim}**: At width x0.5 it " in text, claim
    html = (html_dir / "scale.html").read_text()
    assert html.count("<img") >= 1 and "training (min per run)" in html and "the whole ladder" in html
    assert html.count("<tr") >= 2 + 1 + 10  # the cost table's rows and one row per point and claim
    intro = (html_dir / "intro.html").read_text()
    assert "Beyond the paper: scale." in intro and 'href="scale.html' in intro
    assert "From 48 to 96 score updates of the search" in intro
    # `rst scale` reads the same ladder from the page's store (RST_RUNS) and trains nothing
    from rstlib.cli.main import main as rst

    assert rst(["scale", "--ladder", "smoke", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert "C1" in out and any(v in out for v in ("holds", "inconclusive", "does not hold")), out
    assert "train " not in err, err


def test_every_page_source_has_its_parameters_its_page_and_its_claims_check():
    """Each MyST page (the source people edit) is a thin client: a `parameters` cell, its
    `pages.Page(...)`, and on every section page (Secs. 3-9) the claims check."""
    import jupytext

    for name in pages(ROOT / "book"):
        nb = jupytext.read(ROOT / "book" / f"{name}.md")
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert any("parameters" in c.metadata.get("tags", []) for c in code), name
        source = "\n".join(c.source for c in code)
        assert "pages.Page(" in source, name
        if re.match(r"sec[3-9]_", name):
            assert "pages.claims_check(" in source, name
