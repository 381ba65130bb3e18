"""The template environment: Jinja2 in a sandbox, reading templates from layout folders only.

A dossier's layouts/ is untrusted input (issue 17): a template may be written by a stranger,
and the Check workflow renders it. So templates run in Jinja2's immutable sandbox, which
refuses attributes that start with `_` (the way to `__globals__`, `__class__`, `__mro__`),
the methods that change lists and dicts, and format-string tricks; on top of it this
sandbox refuses to reach into or return a module, calls only functions of Dossier, Jinja2
and MarkupSafe and the methods of plain values (str, list, dict, …), and bounds what can be
bounded cheaply: `range` (Jinja2's own limit), `**`, `*` on strings and lists, widths in
%-formats and str.format, the size-taking filters and string methods, `lipsum`, and the
size of a page (render_bounded). Loops that compute without writing are not bounded: CI's
time limit is the backstop. What templates get from Dossier are the filters and globals
below and, per page, plain data (render.py); never a module, a path or anything that
opens files.

Templates are read by `LayoutLoader`, which opens them as confine.py opens every file of a
dossier: a template that is a link out of its layouts/ folder, a link loop or not a regular
file is refused (`LayoutRefused`), and names with `..` find nothing.
"""
from __future__ import annotations

import functools
import os
import re
import string
import threading
import types
from pathlib import Path
from typing import Any, Callable

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import generate_lorem_ipsum
from markupsafe import Markup

from . import BUILTIN_THEME, urls
from .confine import Refused, open_inside
from .diagnostics import Diagnostic
from .exports import claim_page_jsonld, claim_review_jsonld
from .markdown import render_inline, render_markdown
from .model import (KIND_ICONS, KIND_LABELS, KINDS, RATINGS, VERDICT_ICONS, VERDICT_LABELS, VERDICTS, PartialDate,
                    icon_of, label_of)

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
MAX_SIZE = 1_000_000
"""The most characters (or items) one string or list operation in a template may make."""
MAX_PAGE = 200_000_000
"""The most characters one page may have: a template looping out more is stopped."""
MAX_POWER_BITS = 100_000
"""The largest integer (in bits) `**` may make: 10**10**10 would compute for ever."""
SIZED_FILTERS = ("center", "indent", "wordwrap", "truncate", "batch", "slice")
"""Filters whose arguments are sizes or counts: each such argument is at most MAX_SIZE."""
SIZED_METHODS = ("center", "ljust", "rjust", "zfill", "expandtabs")
"""String methods whose arguments are sizes: likewise."""
PLAIN_TYPES = (str, bytes, int, float, complex, bool, list, tuple, dict, set, frozenset, range, type(None))
"""Values whose own methods a template may call (the immutable sandbox keeps the mutating ones out)."""
TRUSTED_MODULES = ("dossier", "jinja2", "markupsafe")
"""Whose functions and objects a template may call: Dossier's helpers, Jinja2's globals
(range, cycler, joiner, namespace, loop and macro objects), Markup's methods."""


class TemplateProblem(Exception):
    """A file of layouts/ cannot be used: a template failed, or a static file may not be
    copied. Carries the diagnostic (picklable, so it crosses processes)."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic)
        self.diagnostic = diagnostic

    def __str__(self) -> str:
        return self.diagnostic.format()


class LayoutRefused(jinja2.TemplateError):
    """A template file that may not be read (see confine.py)."""

    def __init__(self, path: str, refused: Refused):
        super().__init__(f"{path}: {refused.message}")
        self.path, self.refused = path, refused


class LayoutLoader(jinja2.BaseLoader):
    """Templates from the first of `folders` that has them, each read only from inside its
    own folder (a link elsewhere, a link loop, a FIFO, a device are refused)."""

    def __init__(self, folders: list[Path]):
        self.folders = [Path(folder) for folder in folders]

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        if "\x00" in template:
            raise jinja2.TemplateNotFound(template)
        name = "/".join(split_template_path(template))  # '..' finds nothing
        for folder in self.folders:
            try:
                fd = open_inside(folder.parent, f"{folder.name}/{name}", within=folder.name)
            except FileNotFoundError:
                continue
            except Refused as refused:
                raise LayoutRefused(f"layouts/{name}", refused) from None
            except OSError as exc:
                raise LayoutRefused(f"layouts/{name}", Refused(f"cannot read the file: {exc.strerror or exc}",
                                                               "check that it is readable")) from None
            with os.fdopen(fd, "rb") as file:
                data, mtime = file.read(), os.fstat(file.fileno()).st_mtime_ns
            try:
                source = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise LayoutRefused(f"layouts/{name}", Refused(
                    f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} cannot be decoded)",
                    "save the file with UTF-8 encoding")) from None
            path = str(folder / name)
            return source, path, functools.partial(_unchanged, path, mtime)
        raise jinja2.TemplateNotFound(template)

    def layout_path(self, filename: str) -> str | None:
        """'layouts/<name>' for the file name of a template this loader read, else None."""
        for folder in self.folders:
            prefix = str(folder) + os.sep
            if filename.startswith(prefix):
                return "layouts/" + filename[len(prefix):].replace(os.sep, "/")
        return None


def _unchanged(path: str, mtime: int) -> bool:
    try:
        return os.stat(path).st_mtime_ns == mtime
    except OSError:
        return False


class _Renders(threading.local):
    contexts: list | None = None
    """The template contexts made by the page this thread is rendering (render_bounded)."""


_RENDERS = _Renders()


class PageContext(jinja2.runtime.Context):
    """Jinja2's template context, noted in the render under way so that render_bounded can
    undo, once the page is done, the reference cycle it is in: a template's macros are kept
    in its context's variables, and each macro's function refers back to that context."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if _RENDERS.contexts is not None:
            _RENDERS.contexts.append(self)


class LayoutSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, stricter: see the module's docstring."""

    intercepted_binops = frozenset({"*", "**", "%"})
    context_class = PageContext

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.safe_attributes: set[tuple[type, str]] = set()
        """(type, attribute) pairs found safe: whether an attribute is safe depends on the
        object's type and the name alone (and on the value being no module, checked each
        time), so each pair is judged once; the full check triples the time pages take."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if (type(obj), attribute) in self.safe_attributes:
            value = getattr(obj, attribute, _MISSING)
            if value is not _MISSING and not isinstance(value, types.ModuleType):
                return value
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, types.ModuleType) or isinstance(value, types.ModuleType):
            return False  # a module's attributes are its imports: os, subprocess, …
        safe = super().is_safe_attribute(obj, attr, value)
        if safe and attr not in ("format", "format_map"):  # those are wrapped, not returned as they are
            self.safe_attributes.add((type(obj), attr))
        return safe

    def is_safe_callable(self, obj: Any) -> bool:
        if not super().is_safe_callable(obj):
            return False
        if isinstance(obj, (types.BuiltinMethodType, types.MethodWrapperType)):
            owner = obj.__self__  # a builtin function's is its module, a method's its value
            return isinstance(owner, PLAIN_TYPES) and not isinstance(owner, types.ModuleType)
        if isinstance(obj, type):
            return obj in (dict, list, tuple) or _module_of(obj) in TRUSTED_MODULES
        return _module_of(obj) in TRUSTED_MODULES

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        if getattr(__obj, "__name__", None) in SIZED_METHODS and isinstance(getattr(__obj, "__self__", None), (str, bytes)):
            _check_sizes(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 \
                and abs(left) > 1 and abs(left).bit_length() * right > MAX_POWER_BITS:
            raise SecurityError(f"{left} ** {right} is too large a number for a template")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, bytes, list, tuple)) and isinstance(count, int) \
                        and len(sequence) * count > MAX_SIZE:
                    raise SecurityError(f"repeating {len(sequence)} items {count} times makes more than "
                                        f"{MAX_SIZE} in a template")
        if operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        sandboxed = super().wrap_str_format(value)  # str.format and format_map, fields sandboxed
        if sandboxed is None:
            return None
        text = value.__self__

        def checked_format(*args: Any, **kwargs: Any) -> str:  # defined here, so is_safe_callable trusts it
            _check_format(text, args, kwargs)
            return sandboxed(*args, **kwargs)
        return checked_format


_MISSING = object()


def _module_of(obj: Any) -> str:
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        module = getattr(type(obj), "__module__", "") or ""
    return module.split(".")[0]


def _check_sizes(args: tuple, kwargs: dict) -> None:
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, int) and abs(value) > MAX_SIZE:
            raise SecurityError(f"{value} is larger than a template may ask for (at most {MAX_SIZE})")


PRINTF_SIZES = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
"""The width and precision of each conversion of a %-format string."""


def _too_large(digits: str) -> bool:
    return len(digits) > len(str(MAX_SIZE)) or int(digits) > MAX_SIZE


def _check_printf(text: str, args: Any) -> None:
    """A %-format whose widths or precisions would make more than MAX_SIZE is refused."""
    for sizes in PRINTF_SIZES.findall(text):
        if "*" in sizes:
            _check_sizes(args if isinstance(args, tuple) else (args,), {})
        if any(size.isdigit() and _too_large(size) for size in sizes):
            raise SecurityError(f"a width or precision in {text[:40]!r} is larger than a template may ask for")


def _check_format(text: str, args: tuple, kwargs: dict) -> None:
    """Likewise for str.format: the sizes in each field's format spec."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # the call itself reports it
    for _, _, spec, _ in fields:
        if spec and "{" in spec:
            _check_sizes(args, kwargs)
        if spec and any(_too_large(size) for size in re.findall(r"\d+", spec)):
            raise SecurityError(f"a width or precision in {text[:40]!r} is larger than a template may ask for")


def _format_filter(function: Callable) -> Callable:
    @functools.wraps(function)
    def checked(value: Any, *args: Any, **kwargs: Any) -> str:
        _check_printf(str(value), args or tuple(kwargs.values()))
        return function(value, *args, **kwargs)
    return checked


def _sized(function: Callable) -> Callable:
    """A filter whose size and count arguments are checked (its value, the first argument
    after any environment or context, is not)."""
    skip = 2 if hasattr(function, "jinja_pass_arg") else 1

    @functools.wraps(function)
    def sized(*args: Any, **kwargs: Any) -> Any:
        _check_sizes(args[skip:], kwargs)
        return function(*args, **kwargs)
    return sized


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002 (Jinja's names)
    if n > 100 or max > 1000:
        raise SecurityError("lipsum() makes at most 100 paragraphs of at most 1000 words in a template")
    return generate_lorem_ipsum(n, html, min, max)


URLS = types.SimpleNamespace(**{name: getattr(urls, name) for name in (
    "HOME", "ARTICLES", "ENTITIES", "TIMELINE", "CLAIMS", "COMPARE", "CORRECTIONS", "SOURCES", "REFERENCES",
    "SEARCH", "NOT_FOUND", "STATIC", "article", "entity", "claim", "page", "annotation", "event", "source",
    "reference", "absolute", "root_prefix", "base_path", "output_path", "source_page", "mention")})
"""What templates see as `urls`: the URL helpers alone, not the module (whose imports a
template could otherwise reach)."""


def make_environment(layouts: list[Path], sandboxed: bool = True) -> jinja2.Environment:
    """The template environment: templates from the dossier's own layouts/ first, then the
    built-in ones (folders that don't exist, yet, just find nothing). Sandboxed unless
    `sandboxed` is False, which only Dossier's own templates get (see `environment`)."""
    options = dict(loader=LayoutLoader(layouts), autoescape=True, undefined=jinja2.StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env = LayoutSandbox(**options, bytecode_cache=_COMPILED[sandboxed]) if sandboxed else \
        TrustedEnvironment(**options, bytecode_cache=_COMPILED[sandboxed])
    for name in SIZED_FILTERS:
        env.filters[name] = _sized(env.filters[name])
    env.filters["format"] = _format_filter(env.filters["format"])
    env.filters.update(md=_md, inline=_inline, date=format_date)
    env.globals.update(urls=URLS, lipsum=_lipsum, VERDICT_LABELS=VERDICT_LABELS, KIND_LABELS=KIND_LABELS,
                       VERDICTS=VERDICTS, RATINGS=RATINGS, KINDS=KINDS, VERDICT_ICONS=VERDICT_ICONS,
                       KIND_ICONS=KIND_ICONS, label_of=label_of, icon_of=icon_of,
                       claim_review_jsonld=claim_review_jsonld, claim_page_jsonld=claim_page_jsonld)
    return env


class TrustedEnvironment(jinja2.Environment):
    """Jinja2 without the sandbox, for Dossier's own built-in templates only: they are
    Dossier's code, and the sandbox's checks cost about 1.4× on rendering. Same filters,
    globals and options as the sandbox, so the pages are byte for byte the same (tests hold
    it to that); a dossier with a layouts/ folder of its own never gets it."""

    trusted = True
    context_class = PageContext


def render_bounded(template: jinja2.Template, context: dict) -> str:
    """template.render(context), stopped with a SecurityError once the page passes MAX_PAGE
    (Dossier's own templates, in a TrustedEnvironment, are not bounded). The page leaves no
    reference cycle behind, so what it used is freed as soon as it is done (serve keeps its
    heap out of the cyclic collector's reach: see serve.py)."""
    bounded = not getattr(template.environment, "trusted", False)
    parts, size = [], 0
    made: list[PageContext] = []
    outer, _RENDERS.contexts = _RENDERS.contexts, made
    try:
        for part in template.generate(context):
            size += len(part)
            if bounded and size > MAX_PAGE:
                raise SecurityError(f"the page grew past {MAX_PAGE:,} characters")
            parts.append(part)
    finally:
        _RENDERS.contexts = outer
        _unlink(made, context)
    return "".join(parts)


def _unlink(contexts: list[PageContext], page: dict) -> None:
    """Empty the variables (the macros) of the contexts this page's render made from its own
    data: the page's, its includes' and its imports `with context`. A template imported
    without context is made from the globals alone and may be cached for later pages (its
    macros still need their context), so it is left as it is."""
    probe = next(iter(page.items()), None)
    for made in contexts:
        if probe is not None and made.parent.get(probe[0], _MISSING) is probe[1]:
            made.vars.clear()
            made.exported_vars.clear()


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in this process's memory, by file and source checksum (Jinja2's
    bucket keys): an environment made after forget_environments compiles only the templates
    whose source changed — after a template edit under `serve`, one, not all of them. Never on
    disk, so nothing compiled is ever read from a file. One per sandboxing: a sandboxed
    template's code routes every call and attribute through the sandbox, a trusted one's not."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.code.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = {True: _CompiledTemplates(), False: _CompiledTemplates()}
"""Sandboxed (True) and trusted (False) compiled templates: see _CompiledTemplates."""

ENVIRONMENTS: dict = {}
"""One environment per process and tuple of layout folders (templates compile once); cleared
when templates may have changed (forget_environments)."""


def forget_environments() -> None:
    """Drop the environments, as templates may have changed. Each compiled template is in a
    reference cycle (its functions' globals hold it) and the environment's cache holds them
    all: undone here, so the old templates are freed now, without the cyclic collector."""
    for env in ENVIRONMENTS.values():
        for template in list(env.cache.values()) if env.cache is not None else ():
            template.root_render_func.__globals__.clear()
        if env.cache is not None:
            env.cache.clear()
    ENVIRONMENTS.clear()


def environment(layouts: tuple[Path, ...]) -> jinja2.Environment:
    """The environment for these layout folders, made once per process: sandboxed whenever
    any folder but the built-in theme exists (a dossier's own layouts/, even an empty one or
    a link), so only a dossier without templates of its own renders without the sandbox."""
    if layouts not in ENVIRONMENTS:
        if only_builtin(layouts):  # and its loader reads the built-in folder alone, so a layouts/
            ENVIRONMENTS[layouts] = make_environment([BUILTIN_THEME], sandboxed=False)  # made later is never read
        else:
            ENVIRONMENTS[layouts] = make_environment(list(layouts))
    return ENVIRONMENTS[layouts]


def only_builtin(layouts: tuple[Path, ...]) -> bool:
    """Whether every template these folders can give is one of Dossier's built-in ones."""
    return all(Path(folder) == BUILTIN_THEME or not os.path.lexists(folder) for folder in layouts)


def _md(text: str) -> Markup:
    return Markup(render_markdown(text or ""))


def _inline(text: str) -> Markup:
    return Markup(render_inline(text or ""))


def format_date(date: PartialDate | None) -> str:
    """'12 June 2025', 'June 2025' or '2025', as precise as the date is known."""
    if date is None:
        return "date unknown"
    if date.day:
        return f"{date.day} {MONTHS[date.month - 1]} {date.year}"
    if date.month:
        return f"{MONTHS[date.month - 1]} {date.year}"
    return str(date.year)
