/* Dossier search: a small interface over the Pagefind API (pagefind/pagefind.js).
   Works under a sub-path: the bundle's address comes from #search[data-bundle], relative to
   this page. Notes are sub-results (their <h3 id="h_ID">); a result opens the annotation's
   own anchor (#ID), where dossier.js opens the note beside the quote. */
(function () {
  "use strict";
  var doc = document;
  var root = doc.getElementById("search");
  if (!root) return;

  var bundle = new URL(root.getAttribute("data-bundle") || "../pagefind/", location.href);
  var siteBase = new URL("../", bundle).pathname;
  var PAGE = 20;
  var FILTERS = [
    ["type", "Page", "All pages"],
    ["verdict", "Verdict", "Any verdict"],
    ["kind", "Kind of note", "Any kind"],
    ["entity", "Entity", "Any entity"],
    ["rating", "Publisher rating", "Any rating"]
  ];
  var ORDER = {
    rating: ["Reliable", "Mixed", "Unreliable", "Unknown"],
    type: ["Article", "Claim", "Entity"]
  };

  function el(tag, className, text) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // Badges come from a <template> in the page, so their markup and colours match the site's.
  var badges = {};
  var badgeOrder = [];
  var tpl = doc.getElementById("badge-templates");
  if (tpl) {
    Array.prototype.forEach.call(tpl.content.querySelectorAll("[data-label]"), function (b) {
      badges[b.getAttribute("data-label")] = b;
      badgeOrder.push(b.getAttribute("data-label"));
    });
  }
  ORDER.verdict = badgeOrder;
  ORDER.kind = badgeOrder;
  function badge(label) {
    var b = badges[label];
    return b ? b.cloneNode(true) : el("span", "badge", label);
  }

  /* ── The form ─────────────────────────────────────────────────────────────────── */
  var form = el("form", "search-form-wrap");
  form.setAttribute("role", "search");
  form.setAttribute("aria-label", "Dossier");
  var row = el("div", "search-form");
  var field = el("div", "search-field");
  var label = el("label", "visually-hidden", "Search the dossier");
  var input = el("input");
  input.type = "search";
  input.id = label.htmlFor = "search-input";
  input.name = "q";
  input.autocomplete = "off";
  input.placeholder = "Search: a name, a figure, a phrase…";
  field.appendChild(label);
  field.appendChild(input);
  var submit = el("button", "", "Search");
  submit.type = "submit";
  row.appendChild(field);
  row.appendChild(submit);
  form.appendChild(row);

  // The filters fold away on narrow screens, so the results are not pushed out of sight.
  var filterBox = el("details", "filters search-filters");
  var summary = el("summary", "", "Narrow the results");
  var fieldset = el("fieldset");
  fieldset.appendChild(el("legend", "visually-hidden", "Narrow the results"));
  filterBox.appendChild(summary);
  filterBox.appendChild(fieldset);
  var selects = {};

  var status = el("p", "search-status");
  status.setAttribute("role", "status");
  var list = el("ol", "results");
  var more = el("button", "more-results", "Show more results");
  more.type = "button";
  more.hidden = true;

  root.appendChild(form);
  root.appendChild(filterBox);
  root.appendChild(status);
  root.appendChild(list);
  root.appendChild(more);
  filterBox.hidden = true;

  function unavailable() {
    status.textContent = "";
    status.appendChild(doc.createTextNode("Search is not available here. Browse "));
    var claims = el("a", "", "every claim");
    claims.href = new URL("claims/", location.origin + siteBase).href;
    var entities = el("a", "", "every entity");
    entities.href = new URL("entities/", location.origin + siteBase).href;
    status.appendChild(claims);
    status.appendChild(doc.createTextNode(" or "));
    status.appendChild(entities);
    status.appendChild(doc.createTextNode(" instead."));
    input.disabled = submit.disabled = true;
  }

  /* ── Notes: sub-results whose heading is "Note N: Label" ───────────────────────── */
  function parseNote(title) {
    var m = /^Note\s+(\d+)\s*:\s*(.+)$/.exec((title || "").replace(/\s+/g, " ").trim());
    return m ? { number: m[1], label: m[2].replace(/^[^A-Za-z]+/, "").trim() } : null;
  }
  function noteWanted(note, chosen) {
    if (!note) return !chosen.verdict && !chosen.kind;
    if (chosen.verdict && note.label !== chosen.verdict) return false;
    if (chosen.kind) {
      var isVerdict = (ORDER.verdictValues || []).indexOf(note.label) >= 0;
      if (chosen.kind === "Fact check" ? !isVerdict : note.label !== chosen.kind) return false;
    }
    return true;
  }
  function annotationUrl(url, anchorId) {
    // h_ID (the note's heading) → #ID (the quote in the text), which opens the note.
    return anchorId && anchorId.indexOf("h_") === 0 ? url.split("#")[0] + "#" + anchorId.slice(2) : url;
  }
  // Without a search term, list the notes that match the filters, straight from the anchors.
  function notesFromAnchors(data) {
    var words = (data.content || "").split(/\s+/);
    var anchors = (data.anchors || []).slice().sort(function (a, b) { return a.location - b.location; });
    return anchors.filter(function (a) { return a.id && a.id.indexOf("h_") === 0; }).map(function (a) {
      var next = anchors.filter(function (b) { return b.location > a.location; })[0];
      var end = Math.min(next ? next.location : words.length, a.location + 34);
      var text = words.slice(a.location, end).join(" ");
      var title = (a.text || "").trim();
      var excerpt = text.indexOf(title) === 0 ? text.slice(title.length) : text;
      excerpt = excerpt.replace(/^[\s.:;,·]+/, "");
      return { title: title, url: data.url + "#" + a.id, excerpt: escapeHtml(excerpt) + "…", anchor: a };
    });
  }
  function escapeHtml(s) {
    return s.replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c]; });
  }
  // Pagefind's excerpts are HTML-escaped text with <mark> added (safe as innerHTML).
  function setExcerpt(node, html) {
    node.innerHTML = html;
  }

  /* ── Searching ────────────────────────────────────────────────────────────────── */
  var pagefind = null;
  var lastResults = [];
  var hidden = {};  // ids of the vocabulary pages (dossier-shards.json)
  var shown = 0;
  var runId = 0;

  function chosenFilters() {
    var chosen = {};
    FILTERS.forEach(function (f) { if (selects[f[0]] && selects[f[0]].value) chosen[f[0]] = selects[f[0]].value; });
    return chosen;
  }

  function syncUrl(term, chosen) {
    var params = new URLSearchParams();
    if (term) params.set("q", term);
    Object.keys(chosen).forEach(function (k) { params.set(k, chosen[k]); });
    var query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
  }

  function run(immediate) {
    if (!pagefind) return;
    var term = input.value.trim();
    var chosen = chosenFilters();
    var active = Object.keys(chosen).length;
    summary.textContent = "Narrow the results" + (active ? " (" + active + " active)" : "");
    syncUrl(term, chosen);
    var id = ++runId;
    if (!term && !Object.keys(chosen).length) {
      list.textContent = "";
      more.hidden = true;
      status.textContent = "Type a word to search, or choose a filter.";
      return;
    }
    var options = { filters: chosen };
    var request = immediate ? pagefind.search(term || null, options) : pagefind.debouncedSearch(term || null, options, 250);
    request.then(function (search) {
      if (!search || id !== runId) return;
      lastResults = search.results.filter(function (r) { return !hidden[r.id]; });
      shown = 0;
      var n = lastResults.length;
      // announce the count once the results are on the page
      return showMore(term, chosen, id, true).then(function () {
        if (id !== runId) return;
        status.textContent = n === 0 ? "No results" + (term ? " for “" + term + "”" : "") + ". Try another word or fewer filters." :
          n + " page" + (n === 1 ? "" : "s") + (term ? " match “" + term + "”" : " match the filters") + ".";
      });
    }).catch(function () { unavailable(); });
  }

  function showMore(term, chosen, id, fresh) {
    var batch = lastResults.slice(shown, shown + PAGE);
    shown += batch.length;
    return Promise.all(batch.map(function (r) { return r.data(); })).then(function (items) {
      if (id !== runId) return;
      var frag = doc.createDocumentFragment();
      items.forEach(function (data) { frag.appendChild(renderResult(data, term, chosen)); });
      if (fresh) list.textContent = "";
      list.appendChild(frag);            // old results stay until the new ones are ready
      more.hidden = shown >= lastResults.length;
    });
  }

  function renderResult(data, term, chosen) {
    var li = el("li", "result");
    var type = (data.filters && data.filters.type && data.filters.type[0]) || "Page";
    var kicker = el("p", "kicker result-kicker", type + (data.meta && data.meta.publisher ? " · " + data.meta.publisher : ""));
    var h = el("h2", "result-title");
    var a = el("a", "", (data.meta && data.meta.title) || data.url);
    a.href = data.url;
    h.appendChild(a);
    li.appendChild(kicker);
    li.appendChild(h);

    var noteFilter = chosen.verdict || chosen.kind;
    var subs = term ? (data.sub_results || []) : (noteFilter ? notesFromAnchors(data) : []);
    subs = subs.filter(function (s) {
      if (!s.anchor) return !noteFilter;                       // the page's own text before any heading
      if (s.anchor.id === "page-title") return !noteFilter;
      return noteWanted(parseNote(s.title), chosen);
    }).slice(0, noteFilter ? 12 : 4);

    var shownSubs = subs.filter(function (s) { return s.anchor && s.anchor.id !== "page-title"; });
    if (!shownSubs.length) {
      var excerpt = el("p", "result-excerpt");
      setExcerpt(excerpt, data.excerpt || "");
      li.appendChild(excerpt);
    }
    if (shownSubs.length) {
      var ul = el("ul", "sub-results");
      shownSubs.forEach(function (s) {
        var item = el("li", "sub-result");
        var link = el("a");
        link.href = annotationUrl(s.url, s.anchor && s.anchor.id);
        var note = parseNote(s.title);
        if (note) {
          item.appendChild(badge(note.label));
          item.appendChild(doc.createTextNode(" "));
          link.textContent = "Note " + note.number;
        } else {
          link.textContent = s.title;
        }
        item.appendChild(link);
        var p = el("p");
        setExcerpt(p, s.excerpt || "");
        item.appendChild(p);
        ul.appendChild(item);
      });
      li.appendChild(ul);
    }
    return li;
  }

  function buildFilters(available) {
    FILTERS.forEach(function (f) {
      var values = Object.keys(available[f[0]] || {});
      if (!values.length) return;
      var order = ORDER[f[0]];
      values.sort(function (x, y) {
        var i = order ? order.indexOf(x) : -1, j = order ? order.indexOf(y) : -1;
        if (i >= 0 || j >= 0) return (i < 0 ? 999 : i) - (j < 0 ? 999 : j);
        return x.localeCompare(y);
      });
      if (f[0] === "verdict") ORDER.verdictValues = values;
      var wrap = el("div", "filter");
      var lab = el("label", "", f[1]);
      var select = el("select");
      select.id = lab.htmlFor = "search-filter-" + f[0];
      select.name = f[0];
      select.appendChild(new Option(f[2], ""));
      values.forEach(function (v) { select.appendChild(new Option(v, v)); });
      select.addEventListener("change", function () { run(true); });
      selects[f[0]] = select;
      wrap.appendChild(lab);
      wrap.appendChild(select);
      fieldset.appendChild(wrap);
    });
    filterBox.hidden = !Object.keys(selects).length;
    filterBox.open = window.matchMedia("(min-width: 40rem)").matches;
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); run(true); });
  input.addEventListener("input", function () { run(false); });
  more.addEventListener("click", function () {
    var first = list.children.length;
    showMore(input.value.trim(), chosenFilters(), runId).then(function () {
      var link = list.children[first] && list.children[first].querySelector("a");
      if (link) link.focus();
    });
  });

  status.textContent = "Loading the search index…";
  // A large site's index is in several bundles (shards): the first is bundle/, the others are
  // listed in its dossier-shards.json, and Pagefind merges them into one search. Each bundle
  // has a vocabulary page (the words of the others, so none answers a word it lacks with a
  // shorter one): its id is in the list too, and it is never shown.
  var options = { baseUrl: siteBase, excerptLength: 26, ranking: { pageLength: 0.3 } };
  import(bundle.href + "pagefind.js").then(function (module) {
    pagefind = module;
    return pagefind.options(options);
  }).then(function () {
    return pagefind.init();
  }).then(function () {
    return fetch(new URL("dossier-shards.json", bundle).href).then(function (response) {
      return response.ok ? response.json() : { merge: [] };
    }).then(function (shards) {
      (shards.hidden || []).forEach(function (id) { hidden[id] = true; });
      return Promise.all((shards.merge || []).map(function (path) {
        return pagefind.mergeIndex(new URL(path, bundle).href, options);
      }));
    });
  }).then(function () {
    return pagefind.filters();
  }).then(function (available) {
    buildFilters(available || {});
    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    FILTERS.forEach(function (f) {
      var v = params.get(f[0]);
      if (v && selects[f[0]]) { selects[f[0]].value = v; filterBox.open = true; }
    });
    run(true);
  }).catch(function () { unavailable(); });
})();
