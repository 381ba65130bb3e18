"""Untrusted input, part 2 (issue 17): what is read from disk, and templates. A dossier may
come from a hostile pull request, and the Check workflow runs `check`, `build` and `diff`
on it. So templates render in a sandbox that reaches no Python internals, modules or files;
a template that fails in any way (recursion, a runtime error, a bound it passes) is an error
at `layouts/<file>:line`, exit 1; and nothing outside the dossier folder is read or published:
a symbolic link out of it, a link loop, a FIFO, a socket is an error at its path, never
followed, never copied, never a hang.
"""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import types
from collections import deque
from pathlib import Path

import jinja2
import pytest

from conftest import BASE_ANNOTATIONS, BASE_ARTICLE, BUILD_PY, ROOT, build_env, tree_bytes, write_files
from dossier.render import plan_pages, render_page
from dossier.site import Config, build, check, layout_dirs
from test_serve import SETTLE, Server, ServerLog, free_port

SAMPLE = ROOT / "tests" / "golden" / "sample"
ABOUT = "---\ntitle: About\n---\nHello.\n"
SECRET = "TOP-SECRET-8c1f"
"""What the files outside the dossier hold: it must appear in no output and no message."""


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """build.py with these arguments; a hang fails the test (TimeoutExpired)."""
    result = subprocess.run([sys.executable, str(BUILD_PY), *args], env=build_env(), capture_output=True, text=True,
                            timeout=timeout)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result


def errors(result) -> list[str]:
    return [d.format() for d in result.diagnostics if d.level == "error"]


def build_into(source: Path, out: Path):
    return build(Config(source=source, out=out, search=False))


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder beside the dossier holding a secret file, a secret folder and an article."""
    folder = tmp_path / "outside"
    write_files(folder, {"secret.txt": SECRET + "\n", "secret/inner.txt": SECRET + "\n",
                         "article.md": f"---\ntitle: {SECRET}\nsource: daily\nkind: news\n---\n{SECRET} body.\n",
                         "page.md": f"---\ntitle: {SECRET}\n---\n{SECRET}\n",
                         "annotations.yaml": BASE_ANNOTATIONS.replace("Test dossier", SECRET),
                         "page.html": SECRET + "\n"})
    return folder


@pytest.fixture
def built(make_dossier, tmp_path):
    """A dossier with a content page, built once into tmp_path/public; (source, out, bytes)."""
    source, out = make_dossier({"content/pages/about.md": ABOUT}), tmp_path / "public"
    assert build_into(source, out).ok
    return source, out, tree_bytes(out)


def assert_secret_nowhere(out: Path | None, *texts: str) -> None:
    if out is not None and out.exists():
        for path, data in tree_bytes(out).items():
            assert SECRET.encode() not in data, path
    for text in texts:
        assert SECRET not in text


# ---- templates run in a sandbox ------------------------------------------------------------

ESCAPES = {
    "cycler-globals": "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "str-mro": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "template-reference": "{{ self._TemplateReference__context }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}",
    "range-self": "{{ range.__self__ }}",
    "format-string": "{{ '{0.__class__.__mro__}'.format(site) }}",
    "format-map": "{{ '{x.__class__}'.format_map({'x': site}) }}",
    "attr-filter": "{{ (site|attr('__class__')).__mro__ }}",
    "subscript": "{{ site['__class__'] }}",
    "namespace-init": "{% set ns = namespace() %}{{ ns.__init__.__globals__ }}",
    "loop-class": "{% for x in [1] %}{{ loop.__class__ }}{% endfor %}",
    "helper-globals": "{{ label_of.__globals__ }}",
    "json-ld-globals": "{{ claim_review_jsonld.__globals__['json'] }}",
    "urls-imports": "{{ urls.urlsplit('https://example.org/') }}",
    "mutate-the-dossier": "{{ d.articles.clear() }}",
}


@pytest.mark.parametrize("payload", ESCAPES.values(), ids=ESCAPES.keys())
def test_a_template_cannot_reach_python_internals(payload, built, tmp_path, monkeypatch):
    source, out, before = built
    monkeypatch.chdir(tmp_path)
    write_files(source, {"layouts/page.html": "<p>\n" + payload + "\n"})
    result = build_into(source, out)
    assert not result.ok
    (message,) = errors(result)
    assert message.startswith("layouts/page.html:2: error: template error while rendering /about/: "), message
    assert not (tmp_path / "MARKER").exists()
    assert tree_bytes(out) == before


def test_nothing_a_template_can_reach_is_a_module_a_path_or_a_file(monkeypatch):
    """Every object reachable from the globals and each page's context through attributes a
    template may read (and items): no module (its imports would be reachable: urls.os),
    no path (Path.read_text), no open file."""
    dossier, problems = check(Config(source=SAMPLE))
    assert dossier is not None, problems
    contexts: list[dict] = []

    def capture(method: str, *args, **kwargs):
        contexts.append(dict(*args, **kwargs))
        return iter(()) if method == "generate" else ""

    try:
        from dossier.templates import environment
    except ImportError:  # before the sandbox, the build's plain environment
        from dossier.site import _environment as environment
    env = environment(tuple(layout_dirs(Config(source=SAMPLE))))
    for method in ("render", "generate"):  # whichever the build uses
        monkeypatch.setattr(jinja2.Template, method, lambda self, *a, _m=method, **k: capture(_m, *a, **k))
    templates = {page.template for page in plan_pages(dossier)}
    for page in plan_pages(dossier):
        if page.template in templates:  # one page of each kind
            templates.discard(page.template)
            render_page(env, dossier, page)
    assert len(contexts) >= 10
    is_safe = getattr(env, "is_safe_attribute", lambda obj, attr, value: not attr.startswith("_"))
    bad, seen = [], 0
    for obj, trail in reachable([(env.globals, "globals")] + [(c, "context") for c in contexts], is_safe):
        seen += 1
        if isinstance(obj, (types.ModuleType, os.PathLike, io.IOBase)):
            bad.append(f"{trail}: {obj!r}")
    assert not bad, bad[:10]
    assert seen > 1000  # the walk went through the dossier


def reachable(roots: list[tuple[object, str]], is_safe):
    """(object, the attribute trail to it) for everything reachable from `roots`."""
    seen: dict[int, object] = {}
    queue = deque(roots)
    while queue:
        obj, trail = queue.popleft()
        if id(obj) in seen:
            continue
        seen[id(obj)] = obj
        yield obj, trail
        if isinstance(obj, (str, bytes, int, float, bool, type(None))):
            continue
        if isinstance(obj, dict):
            queue.extend((value, f"{trail}[{key!r}]") for key, value in obj.items())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            queue.extend((value, f"{trail}[]") for value in obj)
        for name in dir(obj):
            if name.startswith("__"):
                continue
            try:
                value = getattr(obj, name)
            except Exception:
                continue
            if is_safe(obj, name, value):
                queue.append((value, f"{trail}.{name}"))


BOUNDS = {
    "range": "{% for i in range(10**9) %}{% endfor %}",
    "power": "{{ 10**(10**10) }}",
    "repeat": "{{ 'x' * 10**10 }}",
    "center-filter": "{{ 'x'|center(10**10) }}",
    "center-method": "{{ 'x'.center(10**10) }}",
    "printf-width": "{{ '%10000000000s' % 'x' }}",
    "format-filter": "{{ '%10000000000s'|format('x') }}",
    "format-width": "{{ '{:10000000000}'.format('x') }}",
    "lipsum": "{{ lipsum(10**9) }}",
}


@pytest.mark.parametrize("payload", BOUNDS.values(), ids=BOUNDS.keys())
def test_a_template_that_would_exhaust_memory_or_time_is_stopped(payload, built):
    source, out, before = built
    write_files(source, {"layouts/page.html": "<p>\n" + payload + "\n"})
    result = build_into(source, out)
    assert not result.ok
    (message,) = errors(result)
    assert message.startswith("layouts/page.html:2: error: template error while rendering /about/: "), message
    assert tree_bytes(out) == before


def test_a_page_that_grows_without_end_is_stopped(built):
    source, out, before = built
    write_files(source, {"layouts/page.html": "{% for i in range(100000) %}{% for j in range(100000) %}"
                                              "{{ 'x' * 100000 }}{% endfor %}{% endfor %}\n"})
    result = build_into(source, out)
    assert errors(result) == ["layouts/page.html: error: template error while rendering /about/: the sandbox refused "
                              "it: the page grew past 200,000,000 characters (templates may use the variables and "
                              "helpers Dossier gives them, never Python internals (names starting with '_'), modules "
                              "or files)"]
    assert tree_bytes(out) == before


def test_what_templates_ordinarily_do_still_works(make_dossier, tmp_path):
    source = make_dossier({"content/pages/about.md": ABOUT,
                           "layouts/partials/box.html": "{% macro box() %}[{{ caller() }}]{% endmacro %}\n",
                           "layouts/page.html": """\
        {% from "partials/macros.html" import shout %}
        {% set ns = namespace(n=0) %}{% for v in VERDICTS %}{% set ns.n = ns.n + 1 %}{% endfor %}
        <p>{{ '{} has {:>3} verdicts'.format(site.title, ns.n) }} {{ '%s/%03d'|format(page.title, 7) }}
        {{ '%s!' % page.title|upper }} {{ shout(site.title) }} {{ dict(a=1).a }} {{ (site.title * 2)|length }}
        {{ urls.article('deal') }} {{ link(urls.HOME) }} {{ 2 ** 10 }} {{ VERDICTS|length }} {{ lipsum(1, False, 3, 5)|length > 0 }}
        {% for k, v in {'b': 2}.items() %}{{ k }}={{ v }}{{ loop.cycle(',', ';') }}{% endfor %}</p>
        """, "layouts/partials/macros.html": """\
        {% from "partials/box.html" import box %}
        {% macro shout(text) %}{% call box() %}{{ text|upper }}{% endcall %}{% endmacro %}
        """})
    result = build_into(source, tmp_path / "public")
    assert result.ok, errors(result)
    page = (tmp_path / "public" / "about" / "index.html").read_text()
    assert "Test dossier has   7 verdicts About/007" in page
    assert "ABOUT! [TEST DOSSIER] 1 24" in page
    assert "articles/deal/ ../ 1024 7 True" in page
    assert "b=2," in page


# ---- template failures: exit 1 at layouts/<file>:line, whatever the command ------------------

FAILURES = {
    "extends-itself": ("{% extends 'page.html' %}", "the templates recurse without end"),
    "include-itself": ("{% include 'page.html' %}", "the templates recurse without end"),
    "import-itself": ("{% import 'page.html' as me %}", "the templates recurse without end"),
    "recursive-macro": ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "the templates recurse without end"),
    "division": ("{{ 1/0 }}", "ZeroDivisionError: division by zero"),
    "undefined": ("{{ no_such_name }}", "'no_such_name' is undefined"),
    "type": ("{{ site.title + 1 }}", "TypeError: "),
    "missing": ("{% include 'nowhere.html' %}", "there is no template 'nowhere.html' in layouts/"),
    "parent-folder": ("{% include '../annotations.yaml' %}", "there is no template '../annotations.yaml' in layouts/"),
    "absolute": ("{% include '/etc/passwd' %}", "there is no template '/etc/passwd' in layouts/"),
}


@pytest.mark.parametrize("payload, message", FAILURES.values(), ids=FAILURES.keys())
def test_a_failing_template_is_an_error_at_its_line(payload, message, built):
    source, out, before = built
    write_files(source, {"layouts/page.html": "<p>\n" + payload + "\n"})
    result = build_into(source, out)
    (error,) = errors(result)
    assert error.startswith("layouts/page.html:2: error: template error while rendering /about/: "), error
    assert message in error, error
    assert tree_bytes(out) == before


def test_a_template_too_deep_to_compile_is_an_error_naming_it(built):
    source, out, before = built
    write_files(source, {"layouts/page.html": "{% for a in [1] %}" * 30 + "x" + "{% endfor %}" * 30 + "\n"})
    (error,) = errors(build_into(source, out))
    assert error.startswith("layouts/page.html: error: template error while rendering /about/: the template cannot "
                            "be compiled: "), error
    write_files(source, {"layouts/page.html": "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}\n"})
    (error,) = errors(build_into(source, out))
    assert error.startswith("layouts/page.html: error: template error while rendering /about/: the template nests "
                            "too deeply to be read"), error
    assert tree_bytes(out) == before


def test_an_error_in_a_partial_names_the_partial_in_its_folder(built):
    source, out, _ = built
    write_files(source, {"layouts/page.html": "{% include 'parts/box.html' %}\n", "layouts/parts/box.html": "a\n\n{{ 1/0 }}\n"})
    (error,) = errors(build_into(source, out))
    assert error.startswith("layouts/parts/box.html:3: error: "), error


def test_build_exits_1_naming_the_template_line(built):
    source, out, before = built
    write_files(source, {"layouts/page.html": "<p>\n{{ 1/0 }}\n"})
    result = run("--source", str(source), "--out", str(out), "--no-search")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == ("layouts/page.html:2: error: template error while rendering /about/: "
                                             "ZeroDivisionError: division by zero (check the expression on this line)")
    assert tree_bytes(out) == before


def test_a_template_failing_in_a_worker_process_exits_1_naming_its_line(make_dossier, tmp_path):
    """60 articles: the pages render in forked workers (parallel.py), and the error crosses back."""
    article = "---\ntitle: T\nsource: daily\nkind: news\n---\nMeta bought a stake.\n"
    source = make_dossier({f"content/articles/a{i:02d}.md": article for i in range(60)} | {
        "layouts/article.html": "<p>\n{{ article.title }}\n{{ article.title.no_such_field }}\n"})
    env = build_env() | {"DOSSIER_PROCESSES": "2"}
    result = subprocess.run([sys.executable, str(BUILD_PY), "--source", str(source), "--out", str(tmp_path / "public"),
                             "--no-search"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("layouts/article.html:3: error: template error while rendering /articles/"), result.stderr
    write_files(source, {"layouts/article.html": "<p>\n{{ 1/0 }}\n"})
    result = subprocess.run([sys.executable, str(BUILD_PY), "--source", str(source), "--out", str(tmp_path / "public"),
                             "--no-search"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("layouts/article.html:2: error: template error while rendering /articles/"), result.stderr
    assert "internal error" not in result.stderr and not (tmp_path / "public").exists()


def test_diff_reports_a_failing_template_at_its_line_and_exits_1(make_dossier):
    base = make_dossier(name="base")
    source = make_dossier({"layouts/index.html": "x\n{% extends 'index.html' %}\n"}, name="new")
    result = run("diff", str(base), "--source", str(source))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == f"diff against the folder '{base}'"  # which base it used, then the errors
    assert result.stderr.splitlines()[1] == (
        "layouts/index.html:2: error: template error while rendering /: the templates recurse without end (a template "
        "extends, includes or imports itself (directly or through others), or a macro calls itself without stopping: "
        "break the loop)")


@pytest.fixture
def serving(make_dossier, tmp_path):
    """`build.py serve` on a free port for the dossier `make_dossier` wrote; killed at the end."""
    processes = []

    def start() -> Server:
        source, out, port = tmp_path / "dossier", tmp_path / "site", free_port()
        process = subprocess.Popen(
            [sys.executable, str(BUILD_PY), "serve", "--source", str(source), "--out", str(out), "--port", str(port),
             "--no-search"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env=build_env())
        processes.append(process)
        log = ServerLog(process.stderr)
        log.wait_for(lambda line: line.startswith("serving "))
        return Server(source, out, port, log, process)

    yield start
    for process in processes:
        process.kill()
        process.wait(timeout=10)
        process.stderr.close()


def test_serve_reports_a_failing_template_at_its_line_and_keeps_serving(make_dossier, serving):
    import time
    make_dossier()
    server = serving()
    time.sleep(SETTLE)
    mark = server.log.mark()
    write_files(server.source, {"layouts/article.html": "x\n{{ 1/0 }}\n"})
    line = server.log.wait_for(lambda line: "error" in line, after=mark)
    assert line == ("layouts/article.html:2: error: template error while rendering /articles/deal/: ZeroDivisionError: "
                    "division by zero (check the expression on this line)")
    # No browser shows a page, so the rebuild writes none: the background finish renders the
    # pages with the new template, finds the error and says that the rest keep the last good one.
    server.log.wait_for(lambda line: line == "rebuild failed; the pages not rewritten yet still show the last good "
                        "templates", after=mark)
    assert "Test dossier" in server.get("")


# ---- nothing is read from outside the dossier folder ------------------------------------------

LINKED = {
    "article": ("content/articles/linked.md", "article.md"),
    "page": ("content/pages/linked.md", "page.md"),
    "annotations": ("annotations.yaml", "annotations.yaml"),
}


@pytest.mark.parametrize("relpath, target", LINKED.values(), ids=LINKED.keys())
def test_a_content_file_linked_from_outside_the_dossier_is_an_error(relpath, target, make_dossier, outside, tmp_path):
    source = make_dossier({relpath: None})
    (source / relpath).parent.mkdir(parents=True, exist_ok=True)
    (source / relpath).symlink_to(outside / target)
    result = run("check", "--source", str(source))
    assert result.returncode == 1
    assert f"{relpath}: error: this is a symbolic link to a file outside the dossier folder (Dossier reads nothing " \
           "outside the dossier folder: put the file itself here instead of a link to it)" in result.stderr.splitlines()
    out = tmp_path / "public"
    result = run("--source", str(source), "--out", str(out), "--no-search")
    assert result.returncode == 1 and not out.exists()
    assert_secret_nowhere(out, result.stderr)


def test_a_content_folder_linked_from_outside_is_an_error_that_lists_nothing_there(make_dossier, outside):
    source = make_dossier()
    (source / "content" / "pages").symlink_to(outside)
    result = run("check", "--source", str(source))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == ("content/pages: error: this is a symbolic link to a folder outside the "
                                             "dossier folder (Dossier reads nothing outside the dossier folder: put the "
                                             "file itself here instead of a link to it)")
    assert "secret" not in result.stderr


def test_a_link_that_stays_inside_the_dossier_keeps_working(make_dossier, tmp_path):
    source = make_dossier({"drafts/deal.md": BASE_ARTICLE.replace("The deal", "The linked deal"),
                           "content/articles/deal.md": None,
                           "layouts/theme/extra.css": "body{}\n", "layouts/shared.html": "<p>{{ page.title }}</p>\n",
                           "content/pages/about.md": ABOUT})
    (source / "content" / "articles" / "deal.md").symlink_to(Path("..") / ".." / "drafts" / "deal.md")
    (source / "layouts" / "static").mkdir()
    (source / "layouts" / "static" / "extra.css").symlink_to(Path("..") / "theme" / "extra.css")
    (source / "layouts" / "page.html").symlink_to("shared.html")
    result = build_into(source, tmp_path / "public")
    assert result.ok, errors(result)
    assert "The linked deal" in (tmp_path / "public" / "articles" / "deal" / "index.html").read_text()
    assert (tmp_path / "public" / "static" / "extra.css").read_text() == "body{}\n"
    assert (tmp_path / "public" / "about" / "index.html").read_text() == "<p>About</p>\n"


def test_a_link_into_a_hidden_folder_is_an_error(make_dossier):
    """.git/config holds CI's token (actions/checkout): no link may lead Dossier there."""
    source = make_dossier({".git/config": f"---\ntitle: {SECRET}\nsource: daily\nkind: news\n---\n{SECRET}\n"})
    (source / "content" / "articles" / "git.md").symlink_to(Path("..") / ".." / ".git" / "config")
    result = run("check", "--source", str(source))
    assert result.returncode == 1
    assert "content/articles/git.md: error: this is a symbolic link into a hidden file or folder (such as .git/) (put " \
           "the file itself here: Dossier does not read hidden files through links)" in result.stderr.splitlines()


@pytest.mark.parametrize("relpath", ["content/articles/loop.md", "content/pages/loop.md", "annotations.yaml"])
def test_a_symlink_loop_is_an_error_at_its_path(relpath, make_dossier):
    source = make_dossier({relpath: None})
    (source / relpath).parent.mkdir(parents=True, exist_ok=True)
    (source / relpath).symlink_to(relpath.rsplit("/", 1)[-1])
    result = run("check", "--source", str(source))
    assert result.returncode == 1
    assert f"{relpath}: error: this is a symbolic link that never reaches a file (a loop of links) (remove the link, " \
           "or put the file itself here)" in result.stderr.splitlines()


SPECIAL = {
    "fifo-article": ("content/articles/fifo.md", "fifo", "a FIFO (named pipe)"),
    "fifo-page": ("content/pages/fifo.md", "fifo", "a FIFO (named pipe)"),
    "fifo-annotations": ("annotations.yaml", "fifo", "a FIFO (named pipe)"),
    "socket-article": ("content/articles/socket.md", "socket", "a socket"),
    "folder-annotations": ("annotations.yaml", "folder", "a folder"),
}


def make_special(path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        here = os.getcwd()
        os.chdir(path.parent)  # a socket's path may be 108 bytes at most: bind it by its name
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.bind(path.name)
        finally:
            os.chdir(here)
    else:
        path.mkdir()


@pytest.mark.parametrize("relpath, kind, what", SPECIAL.values(), ids=SPECIAL.keys())
def test_what_is_not_a_regular_file_is_an_error_never_a_hang(relpath, kind, what, make_dossier, tmp_path):
    source = make_dossier()
    make_special(source / relpath, kind)
    for args in (["check", "--source", str(source)], ["--source", str(source), "--out", str(tmp_path / "public")]):
        result = run(*args, timeout=30)
        assert result.returncode == 1
        assert f"{relpath}: error: this is {what}, not a regular file (remove it: only regular files are read from " \
               "a dossier)" in result.stderr.splitlines()


def test_a_fifo_in_place_of_the_lock_does_not_hang_and_is_replaced(make_dossier, tmp_path):
    source = make_dossier()
    os.mkfifo(source / "annotations.lock")
    assert run("check", "--source", str(source), timeout=30).returncode == 0
    assert run("--source", str(source), "--out", str(tmp_path / "public"), "--no-search", timeout=30).returncode == 0
    assert (source / "annotations.lock").is_file()


def test_a_lock_linked_outside_is_replaced_never_written_through(make_dossier, outside, tmp_path):
    source = make_dossier()
    (source / "annotations.lock").symlink_to(outside / "secret.txt")
    assert run("--source", str(source), "--out", str(tmp_path / "public"), "--no-search").returncode == 0
    assert (outside / "secret.txt").read_text() == SECRET + "\n"
    assert not (source / "annotations.lock").is_symlink() and '"articles"' in (source / "annotations.lock").read_text()


STATIC_LINKS = {
    "file": ("secret.txt", "layouts/static/secret.txt", "a file"),
    "folder": ("secret", "layouts/static/secret", "a folder"),
    "static-folder": ("secret", "layouts/static", "a folder"),
}


@pytest.mark.parametrize("target, link, what", STATIC_LINKS.values(), ids=STATIC_LINKS.keys())
def test_a_static_file_linked_from_outside_is_never_published(target, link, what, built, outside):
    source, out, before = built
    (source / link).parent.mkdir(parents=True, exist_ok=True)
    (source / link).symlink_to(outside / target)
    result = run("--source", str(source), "--out", str(out), "--no-search")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"{link}: error: this is a symbolic link to {what} outside layouts/; it is not copied into the site (Dossier "
        "reads these files from inside layouts/ only: put the file itself here instead of a link to it)")
    assert tree_bytes(out) == before
    assert_secret_nowhere(out, result.stderr)


@pytest.mark.parametrize("kind", ["fifo", "socket", "loop", "dangling", "cycle"])
def test_a_static_entry_that_is_no_file_is_an_error_never_a_hang(kind, built):
    source, out, before = built
    static = source / "layouts" / "static"
    static.mkdir(parents=True)
    if kind in ("fifo", "socket"):
        make_special(static / "x.css", kind)
    elif kind == "loop":
        (static / "x.css").symlink_to("x.css")
    elif kind == "dangling":
        (static / "x.css").symlink_to("nowhere.css")
    else:
        (static / "sub").mkdir()
        (static / "sub" / "x.css").symlink_to("..")  # a folder that holds itself
    result = run("--source", str(source), "--out", str(out), "--no-search", timeout=30)
    assert result.returncode == 1
    assert result.stderr.startswith("layouts/static/" + ("sub/x.css" if kind == "cycle" else "x.css") + ": error: this is ")
    assert tree_bytes(out) == before


def test_a_template_linked_from_outside_is_never_rendered_or_included(built, outside):
    source, out, before = built
    (source / "layouts").mkdir()
    (source / "layouts" / "secret.html").symlink_to(outside / "page.html")
    write_files(source, {"layouts/page.html": "<p>\n{% include 'secret.html' %}\n"})
    result = run("--source", str(source), "--out", str(out), "--no-search")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "layouts/page.html:2: error: template error while rendering /about/: layouts/secret.html: this is a symbolic "
        "link to a file outside layouts/ (Dossier reads these files from inside layouts/ only: put the file itself here "
        "instead of a link to it)")
    (source / "layouts" / "page.html").unlink()
    (source / "layouts" / "page.html").symlink_to(outside / "page.html")
    result = run("--source", str(source), "--out", str(out), "--no-search")
    assert result.returncode == 1
    assert result.stderr.startswith("layouts/page.html: error: template error while rendering /about/: "
                                    "layouts/page.html: this is a symbolic link to a file outside layouts/")
    assert tree_bytes(out) == before
    assert_secret_nowhere(out, result.stderr)


@pytest.mark.parametrize("kind", ["fifo", "loop"])
def test_a_template_that_is_no_file_is_an_error_never_a_hang(kind, built):
    source, out, before = built
    (source / "layouts").mkdir()
    if kind == "fifo":
        os.mkfifo(source / "layouts" / "page.html")
    else:
        (source / "layouts" / "page.html").symlink_to("page.html")
    result = run("--source", str(source), "--out", str(out), "--no-search", timeout=30)
    assert result.returncode == 1
    assert result.stderr.startswith("layouts/page.html: error: template error while rendering /about/: layouts/page.html: "
                                    "this is a")
    assert tree_bytes(out) == before


def test_a_layouts_folder_linked_from_outside_is_an_error(built, outside):
    source, out, before = built
    (source / "layouts").symlink_to(outside)
    for args in (["check", "--source", str(source)], ["--source", str(source), "--out", str(out), "--no-search"]):
        result = run(*args)
        assert result.returncode == 1
        assert result.stderr.splitlines()[0] == (
            "layouts: error: this is a symbolic link to a folder outside the dossier folder (Dossier reads nothing "
            "outside the dossier folder: put the file itself here instead of a link to it)")
    assert tree_bytes(out) == before
    assert_secret_nowhere(out, result.stderr)


def test_diff_against_a_folder_reads_nothing_outside_it_and_never_hangs(make_dossier, outside):
    source = make_dossier(name="new")
    base = make_dossier(name="base")
    os.mkfifo(base / "content" / "articles" / "fifo.md")
    (base / "content" / "articles" / "linked.md").symlink_to(outside / "article.md")
    result = run("diff", str(base), "--source", str(source), timeout=60)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines.pop(0) == f"diff against the folder '{base}'"  # which base it used, then the errors
    assert lines[:2] == [
        "content/articles/fifo.md: error: this is a FIFO (named pipe), not a regular file (remove it: only regular "
        "files are read from a dossier)",
        "content/articles/linked.md: error: this is a symbolic link to a file outside the dossier folder (Dossier reads "
        "nothing outside the dossier folder: put the file itself here instead of a link to it)"]
    assert_secret_nowhere(None, result.stderr, result.stdout)


def test_serve_reports_a_fifo_and_keeps_serving(make_dossier, serving):
    import time
    make_dossier()
    server = serving()
    time.sleep(SETTLE)
    mark = server.log.mark()
    os.mkfifo(server.source / "content" / "articles" / "fifo.md")
    line = server.log.wait_for(lambda line: "error" in line, after=mark)
    assert line == ("content/articles/fifo.md: error: this is a FIFO (named pipe), not a regular file (remove it: only "
                    "regular files are read from a dossier)")
    server.log.wait_for(lambda line: line.startswith("rebuild failed"), after=mark)
    (server.source / "content" / "articles" / "fifo.md").unlink()
    server.log.wait_for(lambda line: line.startswith("rebuilt "), after=mark)
    assert "Test dossier" in server.get("")
