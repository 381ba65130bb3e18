"""The Annotate button of `serve`'s preview: select words in an article page, get the
annotation stub that `annotate` would print for them, ready to paste into annotations.yaml.

`serve` adds one script to every page it serves (SCRIPT_TAG, the file preview.js beside this
module: never in layouts/, so never in a published build) and answers two local URLs: the
script, and a JSON endpoint the script posts the selected words to. The answer is computed by
annotate.annotation_stubs — the same code as the `annotate` command — on the last good build
the server holds, so it matches what `check` will say of the stub once it is pasted.
"""
from __future__ import annotations

import json
from typing import Callable

from tornado import web

from . import PACKAGE
from . import anchor as anchoring
from .annotate import annotation_stubs
from .link import AliasIndex, build_alias_index
from .model import Dossier, Span

SCRIPT = PACKAGE / "preview.js"
SCRIPT_URL = "/__dossier/preview.js"
ENDPOINT = "/__dossier/annotate"
SCRIPT_TAG = f'<script src="{SCRIPT_URL}" defer></script>'.encode()
MAX_SELECTION = 5_000
"""Characters: a longer selection is no quote (and not worth searching the article for)."""
CONTEXT = 200
"""Characters of the page's text before and after the selection the script sends along, to
tell which occurrence was selected when the words occur more than once."""


def answer(dossier: Dossier | None, request: object) -> tuple[int, dict]:
    """(HTTP status, JSON body) for a request `{"article": slug, "text": selected words,
    "before": text before them, "after": text after them}` ("before"/"after" optional)."""
    if not isinstance(request, dict) or not all(isinstance(request.get(k, ""), str)
                                                for k in ("article", "text", "before", "after")):
        return 400, {"error": "the request must be a JSON object with the strings article and text"}
    slug, text = request.get("article", ""), request.get("text", "")
    if dossier is None:
        return 503, {"error": "the preview has no good build yet: fix the errors the server printed, save, and try again"}
    resolved = dossier.articles.get(slug)
    if resolved is None:
        return 404, {"error": f"there is no article '{slug}' in the last good build (save it, or reload the page)"}
    if not text.split():
        return 400, {"error": "select some words of the article first"}
    if len(text) > MAX_SELECTION:
        return 400, {"error": f"the selection is longer than {MAX_SELECTION:,} characters: a quote is a few words "
                              "(typically 4 to 25)"}
    result = annotation_stubs(slug, resolved.text, text, dossier.anchors.keys(), _aliases(dossier))
    if result.problem:
        return 422, {"error": f"these words cannot be anchored: {result.problem}"}
    if len(result.spans) == 1:
        return 200, {"yaml": result.stubs[0], "occurrences": 1}
    chosen = selected_occurrence(resolved.text, result.spans, request.get("before", ""), request.get("after", ""))
    if chosen is None:
        return 200, {"yaml": "\n".join(result.stubs), "occurrences": len(result.spans),
                     "message": f"These words occur {len(result.spans)} times in the article; each stub picks one "
                                "with a prefix or suffix: keep the one you mean."}
    return 200, {"yaml": result.stubs[chosen], "occurrences": len(result.spans), "chosen": chosen + 1,
                 "message": f"These words occur {len(result.spans)} times in the article; this stub picks the one you "
                            f"selected (occurrence {chosen + 1})."}


def selected_occurrence(text: str, spans: tuple[Span, ...], before: str, after: str) -> int | None:
    """Which span the page's text around the selection matches best, if one does better than
    every other (the page's text and the article's differ only in spacing and folding)."""
    before, after = anchoring.normalise(before[-CONTEXT:]), anchoring.normalise(after[:CONTEXT])
    scores = []
    for span in spans:
        here_before = anchoring.normalise(text[max(0, span.start - CONTEXT):span.start])
        here_after = anchoring.normalise(text[span.end:span.end + CONTEXT])
        scores.append(_common_suffix(before, here_before) + _common_prefix(after, here_after))
    best = max(scores)
    return scores.index(best) if scores.count(best) == 1 else None


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.lstrip(), b.lstrip()):
        if x != y:
            break
        n += 1
    return n


def _common_suffix(a: str, b: str) -> int:
    return _common_prefix(a.rstrip()[::-1], b.rstrip()[::-1])


_ALIASES: list = [None, None]
"""(the entities of the last dossier asked about, their alias index): built once per build."""


def _aliases(dossier: Dossier) -> AliasIndex:
    if _ALIASES[0] is not dossier.entities:
        _ALIASES[1] = build_alias_index({e.id: (e.name, *e.aliases) for e in dossier.entities.values()})
        _ALIASES[0] = dossier.entities
    return _ALIASES[1]


class ScriptHandler(web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(SCRIPT.read_bytes())


class AnnotateHandler(web.RequestHandler):
    def initialize(self, last_good: Callable[[], Dossier | None]) -> None:
        self.last_good = last_good

    def post(self) -> None:
        # JSON only: a page on another site cannot send that without the browser asking
        # first (CORS), and this server never says yes.
        if self.request.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
            status, body = 415, {"error": "send the selection as application/json"}
        else:
            try:
                request = json.loads(self.request.body or b"null")
            except ValueError:
                request = None
            status, body = answer(self.last_good(), request)
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body, ensure_ascii=False))


def handlers(last_good: Callable[[], Dossier | None]) -> list:
    """Tornado routes for the script and the endpoint; `last_good` gives the build to anchor in."""
    return [(SCRIPT_URL, ScriptHandler), (ENDPOINT, AnnotateHandler, {"last_good": last_good})]
