/* Dossier serve: the Annotate button. Only `serve` adds this script to its pages (it is never
   part of a built site). Select words in an article's text — with the mouse or the keyboard —
   and an "Annotate" button appears beside them (Alt+Shift+A works too); it opens a box with
   the annotation stub that `dossier annotate` would print for those words, computed by the
   server on its last good build, and a Copy button. The note markers inside a selection are
   left out (they are not the article's words); a selection that reaches into a note or past
   the article's text is refused, with a message saying so. */
(function () {
  "use strict";
  var doc = document;
  var ENDPOINT = "/__dossier/annotate";
  var CONTEXT = 200;            // characters of text around the selection sent along (see preview.py)
  var BLOCKS = "p, li, h1, h2, h3, h4, h5, h6, blockquote, pre, td, th, dt, dd, figcaption";
  var NOTES = ".notes, .note-panel, .note, .panel-hint";
  var page = location.pathname.match(/\/articles\/([^\/]+)\/(?:index\.html)?$/);
  var body = doc.querySelector(".annotated .article-body");
  if (!page || !body) return;
  var slug = decodeURIComponent(page[1]);

  function el(tag, text, attrs) {
    var node = doc.createElement(tag);
    if (text) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  // Inline styles through the CSSOM (the pages' Content Security Policy allows no <style>).
  function css(node, rules) { Object.keys(rules).forEach(function (k) { node.style.setProperty(k, rules[k]); }); return node; }
  var SURFACE = { "background": "var(--bg, #fff)", "color": "var(--fg, #111)", "border": "1px solid var(--faint, #777)",
                  "border-radius": "6px", "font": "inherit", "font-size": "0.95rem", "z-index": "2147483000" };

  var button = css(el("button", "Annotate", { type: "button", "class": "dossier-annotate", hidden: "",
                                              "aria-keyshortcuts": "Alt+Shift+A",
                                              title: "An annotation stub for the selected words (Alt+Shift+A)" }),
                   Object.assign({ position: "fixed", padding: "0.3rem 0.8rem", cursor: "pointer",
                                   "box-shadow": "0 2px 8px rgba(0,0,0,.25)" }, SURFACE));
  // Pressing the button must not collapse the selection it is about.
  button.addEventListener("mousedown", function (event) { event.preventDefault(); });

  var box = css(el("div", "", { role: "dialog", "class": "dossier-annotate-box", hidden: "",
                                "aria-labelledby": "dossier-annotate-title", "aria-describedby": "dossier-annotate-message",
                                tabindex: "-1" }),
                Object.assign({ position: "fixed", top: "1rem", right: "1rem", width: "min(40rem, calc(100vw - 2rem))",
                                "max-height": "calc(100vh - 2rem)", overflow: "auto", padding: "1rem",
                                "box-shadow": "0 4px 24px rgba(0,0,0,.3)", "box-sizing": "border-box" }, SURFACE));
  var title = css(el("h2", "Annotate", { id: "dossier-annotate-title" }), { margin: "0 0 .5rem", "font-size": "1.1rem" });
  var message = css(el("p", "", { id: "dossier-annotate-message", role: "status" }), { margin: "0 0 .5rem" });
  var stub = css(el("textarea", "", { readonly: "", rows: "10", spellcheck: "false", wrap: "off",
                                      "aria-label": "Annotation stub, to paste under annotations: in annotations.yaml" }),
                 { width: "100%", "box-sizing": "border-box", font: "0.85rem/1.4 ui-monospace, monospace",
                   color: "inherit", background: "transparent", border: "1px solid var(--faint, #777)", padding: ".5rem" });
  var copy = el("button", "Copy", { type: "button" });
  var close = el("button", "Close", { type: "button" });
  var copied = el("span", "", { role: "status" });
  var actions = css(el("p"), { display: "flex", gap: ".75rem", "align-items": "center", margin: ".5rem 0 0" });
  [copy, close].forEach(function (b) { css(b, { font: "inherit", padding: ".25rem .8rem", cursor: "pointer" }); });
  actions.appendChild(copy); actions.appendChild(close); actions.appendChild(copied);
  [title, message, stub, actions].forEach(function (n) { box.appendChild(n); });
  doc.body.appendChild(box);

  var current = null;   // what the button would annotate: {text, before, after, markers, problem, range}

  function textIn(range) {
    // The article's words in `range`, without note markers; blocks apart by a blank line.
    var walker = doc.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    var out = "", markers = 0, last = null;
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!range.intersectsNode(node)) continue;
      var start = node === range.startContainer ? range.startOffset : 0;
      var end = node === range.endContainer ? range.endOffset : node.data.length;
      if (end <= start) continue;
      if (node.parentElement.closest(".dossier-annotate")) continue;
      if (node.parentElement.closest(".note-ref")) { markers += 1; continue; }
      var block = node.parentElement.closest(BLOCKS) || body;
      if (last && block !== last) out += "\n\n";
      last = block;
      out += node.data.slice(start, end);
    }
    return { text: out, markers: markers };
  }

  function aroundSelection(range) {
    var before = doc.createRange(), after = doc.createRange();
    before.setStart(body, 0);
    before.setEnd(range.startContainer, range.startOffset);
    after.setStart(range.endContainer, range.endOffset);
    after.setEnd(body, body.childNodes.length);
    return { before: textIn(before).text.slice(-CONTEXT), after: textIn(after).text.slice(0, CONTEXT) };
  }

  function within(node, container) { return container === node || container.contains(node); }

  function readSelection() {
    var selection = doc.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    var range = selection.getRangeAt(0);
    if (within(range.commonAncestorContainer, box) || within(range.commonAncestorContainer, button)) return current;
    if (!range.intersectsNode(body)) return null;
    var problem = "";
    if (!within(range.startContainer, body) || !within(range.endContainer, body)) {
      var intoNote = Array.prototype.some.call(doc.querySelectorAll(NOTES), function (note) {
        return !within(note, body) && range.intersectsNode(note);
      });
      problem = intoNote
        ? "Your selection reaches into a note. Only the article's own words can be quoted: select words of the article's text alone."
        : "Your selection goes beyond the article's text (into the page around it). Select words of the article's text alone.";
    }
    var found = textIn(range);
    if (!problem && !found.text.trim()) return null;   // only a note marker: nothing to quote
    var around = problem ? { before: "", after: "" } : aroundSelection(range);
    return { text: found.text, before: around.before, after: around.after, markers: found.markers, problem: problem,
             range: range.cloneRange() };
  }

  function place() {
    if (!current || button.hidden) return;
    var rects = current.range.getClientRects();
    var last = rects.length ? rects[rects.length - 1] : current.range.getBoundingClientRect();
    css(button, { top: Math.max(4, Math.min(last.bottom + 6, innerHeight - 44)) + "px",
                  left: Math.max(4, Math.min(last.right - 40, innerWidth - 110)) + "px" });
  }

  function update() {
    var seen = readSelection();
    if (seen === current && current) return;
    current = seen;
    if (!current) { button.hidden = true; return; }
    // In the text's order, right after the paragraph (or list, table…) where the selection
    // ends, so that Tab reaches it soon after the selected words; shown beside them.
    var top = current.range.endContainer;
    while (top && top.parentNode !== body) top = top.parentNode;
    var after = top || body;
    if (after.nextSibling !== button) after.after(button);
    button.hidden = false;
    place();
  }

  // While a mouse button is down the selection is still being made (and moving the button
  // in the page then would disturb it): update once it is released.
  var dragging = false, pending = 0;
  doc.addEventListener("mousedown", function (event) { if (event.button === 0) dragging = true; }, true);
  doc.addEventListener("mouseup", function () { dragging = false; clearTimeout(pending); pending = setTimeout(update, 0); }, true);
  doc.addEventListener("selectionchange", function () {
    clearTimeout(pending);
    if (!dragging) pending = setTimeout(update, 80);
  });
  addEventListener("scroll", place, { passive: true });
  addEventListener("resize", place);

  var opener = null;
  function openBox(from) {
    if (!current) return;
    opener = from || null;
    var asked = current;
    title.textContent = "Annotate";
    copied.textContent = "";
    box.hidden = false;
    if (asked.problem) { show(asked.problem, ""); return; }
    show("Looking the words up in the article…", "");
    fetch(ENDPOINT, { method: "POST", headers: { "Content-Type": "application/json" },
                      body: JSON.stringify({ article: slug, text: asked.text, before: asked.before, after: asked.after }) })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer.error) { show("These words cannot be annotated: " + answer.error + ".", ""); return; }
        var notes = [answer.message || "Paste this under annotations: in annotations.yaml, then fill in the verdict, note and cite."];
        if (asked.markers) notes.push("The note markers inside your selection are left out: they are not the article's words.");
        show(notes.join(" "), answer.yaml);
      })
      .catch(function () { show("The preview server did not answer: is `dossier serve` still running?", ""); });
  }

  function show(text, yaml) {
    message.textContent = text;
    stub.value = yaml;
    stub.hidden = !yaml;
    copy.hidden = !yaml;
    (yaml ? copy : close).focus();
  }

  function closeBox() {
    box.hidden = true;
    if (opener && !opener.hidden && doc.contains(opener)) opener.focus();
  }

  button.addEventListener("click", function () { openBox(button); });
  close.addEventListener("click", closeBox);
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); closeBox(); }
  });
  doc.addEventListener("keydown", function (event) {
    if (event.altKey && event.shiftKey && !event.ctrlKey && !event.metaKey && event.code === "KeyA" && current && !button.hidden) {
      event.preventDefault();
      openBox(button);
    }
  });

  copy.addEventListener("click", function () {
    var done = function () { copied.textContent = "Copied."; };
    var fallback = function () {
      stub.focus();
      stub.select();
      copied.textContent = doc.execCommand && doc.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.";
    };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(stub.value).then(done, fallback);
    else fallback();
  });
})();
