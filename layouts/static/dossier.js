/* Dossier: optional enhancements. Every page is complete without this file.
   - article pages: open a note beside the text (side panel, or bottom sheet on narrow screens)
   - print: open <details> so rationales are printed
   The claims page's filters are in claims.js, the search interface in search.js. */
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.classList.add("js");

  function $all(selector, scope) { return Array.prototype.slice.call((scope || doc).querySelectorAll(selector)); }
  function el(tag, className, text) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  /* ── Article notes ─────────────────────────────────────────────────────────────── */
  function initNotes() {
    var article = doc.querySelector(".annotated");
    var refs = article ? $all(".note-ref[data-note]", article) : [];
    if (!refs.length) return;
    var wide = window.matchMedia("(min-width: 1100px)");
    var host = doc.getElementById("article-aside") || article;
    var current = null;

    var panel = el("div", "note-panel");
    panel.id = "note-panel";
    panel.hidden = true;
    panel.tabIndex = -1;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "note-panel-title");
    var bar = el("div", "panel-bar");
    var title = el("h2", "panel-title", "Note");
    title.id = "note-panel-title";
    var closeButton = el("button", "panel-close", "Close");
    closeButton.type = "button";
    closeButton.setAttribute("aria-label", "Close note");
    bar.appendChild(title);
    bar.appendChild(closeButton);
    var body = el("div", "panel-body");
    panel.appendChild(bar);
    panel.appendChild(body);
    var hint = el("div", "panel-hint");
    hint.appendChild(el("p", "", "Select a highlighted passage or its numbered marker to read the note here."));
    hint.appendChild(el("p", "", "Esc closes the note."));
    host.appendChild(panel);
    host.appendChild(hint);

    refs.forEach(function (ref) {
      ref.setAttribute("aria-controls", panel.id);
      ref.setAttribute("aria-expanded", "false");
    });

    function refFor(id) { return doc.getElementById("ref_" + id); }

    function noteClone(id) {
      var li = doc.getElementById("note_" + id);
      if (!li) return null;
      var copy = el("div", li.className);     // a <div>: an <li> outside its list would be invalid
      Array.prototype.forEach.call(li.childNodes, function (node) { copy.appendChild(node.cloneNode(true)); });
      $all("[id]", copy).forEach(function (node) { node.removeAttribute("id"); });
      $all("a[href^='#ref_']", copy).forEach(function (a) { a.remove(); });
      var links = copy.querySelector(".note-links");
      if (links) {
        var inList = el("a", "", "In the list of notes");
        inList.href = "#note_" + id;
        links.appendChild(inList);
      }
      return copy;
    }

    // The names linked inside a highlight, added to its note's "About": a click on such a
    // name opens the note, and the name's page stays one click away.
    function namesIn(id, note) {
      if (!note) return;
      var about = note.querySelector(".about-entities");
      var have = about ? $all("a", about).map(function (a) { return a.getAttribute("href"); }) : [];
      $all('mark[data-annotation~="' + id + '"]').forEach(function (mark) {
        var link = mark.closest("a.entity-link");
        if (!link || have.indexOf(link.getAttribute("href")) >= 0) return;
        if (!about) {
          about = el("p", "about-entities");
          about.appendChild(el("span", "label", "About"));
          var after = note.querySelector(".cites") || note.querySelector(".note-body");
          note.insertBefore(about, after ? after.nextSibling : null);
        } else {
          about.appendChild(doc.createTextNode(","));
        }
        about.appendChild(doc.createTextNode(" "));
        var copy = el("a", "", link.getAttribute("title") || link.textContent);
        copy.href = link.getAttribute("href");
        about.appendChild(copy);
        have.push(copy.getAttribute("href"));
      });
    }

    function setSheetSpace() {
      doc.body.style.paddingBottom = current && !wide.matches ? panel.offsetHeight + "px" : "";
    }

    // Scroll so the quote and its marker sit in the part of the screen the panel leaves free.
    function keepInView(ids, handle) {
      if (!handle) return;
      var first = doc.querySelector('mark[data-annotation~="' + ids[0] + '"]') || handle;
      var top = first.getBoundingClientRect().top, bottom = handle.getBoundingClientRect().bottom;
      var free = wide.matches ? window.innerHeight : window.innerHeight - panel.offsetHeight;
      if (top < 8 || bottom > free - 8) {
        window.scrollBy({ top: top - Math.max(12, (free - (bottom - top)) / 2), behavior: "auto" });
      }
    }

    function open(ids, handle, moveFocus) {
      var notes = [];
      ids.forEach(function (id) {
        var note = noteClone(id);
        if (note) { namesIn(id, note); notes.push(note); }
      });
      if (!notes.length) return;
      if (current) reset();
      current = { ids: ids, handle: handle };
      body.textContent = "";
      notes.forEach(function (n) { body.appendChild(n); });
      var first = notes[0];
      if (notes.length === 1) {
        var num = first.querySelector(".note-num");
        title.textContent = (num ? num.textContent : "Note") + " of " + refs.length;
        if (num) num.remove();
        $all(".note-title .visually-hidden", first).forEach(function (n) { n.remove(); });
      } else {
        title.textContent = notes.length + " notes on these words";
      }
      panel.className = "note-panel is-open " + Array.prototype.filter.call(first.classList, function (c) {
        return /^[kv]-/.test(c);
      }).join(" ");
      panel.hidden = false;
      ids.forEach(function (id) {
        $all('mark[data-annotation~="' + id + '"]').forEach(function (m) { m.classList.add("is-active"); });
        var ref = refFor(id);
        if (ref) ref.setAttribute("aria-expanded", "true");
      });
      setSheetSpace();
      keepInView(ids, handle);
      if (moveFocus) panel.focus({ preventScroll: true });
    }

    function reset() {
      $all("mark.is-active").forEach(function (m) { m.classList.remove("is-active"); });
      refs.forEach(function (ref) { ref.setAttribute("aria-expanded", "false"); });
    }

    function close(returnFocus) {
      if (!current) return;
      var handle = current.handle;
      reset();
      current = null;
      panel.hidden = true;
      panel.className = "note-panel";
      setSheetSpace();
      if (returnFocus && handle) handle.focus();
    }

    // The notes of a highlight: its own and those of the highlights it sits in (overlapping
    // quotes nest their marks), in note order.
    function idsAt(mark) {
      var ids = [];
      for (var m = mark; m; m = m.parentElement && m.parentElement.closest("mark[data-annotation]")) {
        m.getAttribute("data-annotation").split(/\s+/).forEach(function (id) { if (ids.indexOf(id) < 0) ids.unshift(id); });
      }
      return ids;
    }

    // The marker of the open note, activated again from the keyboard (Enter, Space): the reader
    // wants to read the note, so the focus goes into the panel; a second click closes it.
    function activate(ref, fromKeyboard) {
      var id = ref.getAttribute("data-note");
      var isOpen = current && current.ids.length === 1 && current.ids[0] === id;
      if (isOpen && fromKeyboard) panel.focus({ preventScroll: true });
      else if (isOpen) close(true);
      else open([id], ref, true);
    }

    article.addEventListener("click", function (event) {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      var ref = event.target.closest(".note-ref[data-note]");
      if (ref) {
        event.preventDefault();
        activate(ref, event.detail === 0);
        return;
      }
      // A click anywhere on a highlight opens its note, on a linked name inside it too (the
      // name's link is then in the note's "About"); a link activated from the keyboard is
      // the link itself, not a highlight, and is followed.
      var mark = event.target.closest("mark[data-annotation]");
      if (mark && mark.closest(".article-body, .article-header")) {
        var selection = window.getSelection && window.getSelection();
        if (selection && !selection.isCollapsed) return;   // the reader is selecting text
        event.preventDefault();
        var ids = idsAt(mark);
        open(ids, refFor(mark.getAttribute("data-annotation").split(/\s+/)[0]) || refFor(ids[0]), true);
      }
    });

    // Space on a marker opens its note, as Enter does, and never scrolls the page.
    article.addEventListener("keydown", function (event) {
      if (event.key !== " " && event.key !== "Spacebar") return;
      var ref = event.target.closest && event.target.closest(".note-ref[data-note]");
      if (!ref) return;
      event.preventDefault();
      activate(ref, true);
    });

    // While a note is open, moving the focus to another marker shows that marker's note.
    article.addEventListener("focusin", function (event) {
      var ref = event.target.closest && event.target.closest(".note-ref[data-note]");
      if (current && ref && ref !== current.handle) open([ref.getAttribute("data-note")], ref, false);
    });

    panel.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (link) close(false);     // an in-page link leaves the panel for the list or the text
    });
    closeButton.addEventListener("click", function () { close(true); });

    doc.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && current) {
        event.preventDefault();
        close(true);
      }
    });

    // Tab order: the panel reads as if it sat right after its handle in the text.
    panel.addEventListener("keydown", function (event) {
      if (event.key !== "Tab" || !current || !current.handle) return;
      var inside = $all("a[href], button", panel);
      var last = inside[inside.length - 1];
      var active = doc.activeElement;
      if (event.shiftKey && (active === panel || active === inside[0])) {
        event.preventDefault();
        current.handle.focus();
      } else if (!event.shiftKey && active === last) {
        var order = $all("a[href], button, input, select, textarea, summary, [tabindex='0']").filter(function (node) {
          return !panel.contains(node) && node.getClientRects().length > 0;
        });
        var next = order[order.indexOf(current.handle) + 1];
        if (next) { event.preventDefault(); next.focus(); }
      }
    });

    // On narrow screens a tap outside the sheet closes it.
    doc.addEventListener("click", function (event) {
      if (!current || wide.matches) return;
      if (panel.contains(event.target) || event.target.closest("mark[data-annotation], .note-ref")) return;
      close(false);
    });

    var onChange = function () { setSheetSpace(); };
    if (wide.addEventListener) wide.addEventListener("change", onChange);
    window.addEventListener("resize", onChange);

    // A permalink (#annotation-id) opens its note once the page shows the quote.
    function fromHash() {
      var id = decodeURIComponent(location.hash.slice(1));
      var anchor = id && doc.getElementById(id);
      if (anchor && anchor.classList.contains("anchor") && refFor(id)) open([id], refFor(id), false);
    }
    window.addEventListener("hashchange", fromHash);
    fromHash();
  }

  /* ── Print: show what <details> hide ───────────────────────────────────────────── */
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = $all("details:not([open])");
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });

  initNotes();
})();
