/* Dossier: filters for the claims page, built from the data-* attributes of each
   .claim-item into the hidden #claim-filters box. The page is complete without it. */
(function () {
  "use strict";
  var doc = document;
  function $all(selector, scope) { return Array.prototype.slice.call((scope || doc).querySelectorAll(selector)); }
  function el(tag, className, text) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  /* The index split per verdict and kind (a large dossier): /claims/ sends a filtered link on
     to the verdict's pages; each verdict's page sends an article's link on to the part that
     shows the article (the parts go article by article: data-part-firsts holds the first
     article slug of each). */
  function partFor(box, article) {
    var urls = (box.dataset.partUrls || "").split(" "), firsts = (box.dataset.partFirsts || "").split(" ");
    var found = 0;
    firsts.forEach(function (first, i) { if (first && first <= article) found = i; });
    return urls[found] && found + 1 !== Number(box.dataset.part) ? urls[found] : null;
  }

  function sendOn() {
    var params = new URLSearchParams(location.search);
    var overview = doc.getElementById("claim-parts");
    if (overview) {
      var key = params.get("verdict") || params.get("kind");
      var link = key && doc.querySelector('.group-index li[id="' + key + '"] a');
      if (link) {
        location.replace(link.href + (params.get("article") ? "?article=" + encodeURIComponent(params.get("article")) : ""));
        return true;
      }
      if (params.get("article")) {
        overview.appendChild(el("p", "", "The notes on this article, by verdict and kind:"));
        var list = el("ul", "tally");
        $all(".group-index li a").forEach(function (a) {
          var li = el("li"), copy = a.cloneNode(true);
          copy.href = a.href + "?article=" + encodeURIComponent(params.get("article"));
          li.appendChild(copy);
          list.appendChild(li);
        });
        overview.appendChild(list);
        overview.hidden = false;
        overview.scrollIntoView();
      }
      return false;
    }
    var box = doc.getElementById("claim-filters");
    var wanted = box && box.dataset.partUrls && params.get("article");
    var target = wanted && partFor(box, wanted);
    if (target) {
      location.replace(target + location.search);
      return true;
    }
    return false;
  }

  function initClaimFilters() {
    var box = doc.getElementById("claim-filters");
    var items = $all(".claim-item");
    if (!box || !items.length) return;
    var onePart = box.dataset.partUrls !== undefined;   // one verdict's pages: verdict and kind are the page

    function split(value, sep) { return value ? value.split(sep) : []; }
    var dims = [
      { key: "verdict", label: "Verdict", all: "All verdicts",
        pairs: function (it) { return it.dataset.verdict ? [[it.dataset.verdict, it.dataset.label]] : []; } },
      { key: "kind", label: "Kind of note", all: "All kinds",
        pairs: function (it) { return [[it.dataset.kind, it.dataset.kindLabel]]; } },
      { key: "article", label: "Article", all: "All articles", sort: true,
        pairs: function (it) { return [[it.dataset.article, it.dataset.articleTitle]]; } },
      { key: "entity", label: "Entity", all: "All entities", sort: true,
        pairs: function (it) {
          var ids = split(it.dataset.entities, " "), names = split(it.dataset.entityNames, "|");
          return ids.map(function (id, i) { return [id, names[i] || id]; });
        } }
    ];

    if (onePart) dims = dims.filter(function (dim) { return dim.key === "article" || dim.key === "entity"; });
    var fieldset = el("fieldset");
    fieldset.appendChild(el("legend", "", onePart ? "Filter the annotations on this page" : "Filter the annotations"));
    dims.forEach(function (dim) {
      var seen = {}, order = [];
      items.forEach(function (it) {
        dim.pairs(it).forEach(function (p) {
          if (!seen[p[0]]) { seen[p[0]] = { label: p[1], count: 0 }; order.push(p[0]); }
          seen[p[0]].count += 1;
        });
      });
      if (dim.sort) order.sort(function (a, b) { return seen[a].label.localeCompare(seen[b].label); });
      var wrap = el("div", "filter");
      var label = el("label", "", dim.label);
      var select = el("select");
      select.id = label.htmlFor = "filter-" + dim.key;
      select.name = dim.key;
      select.appendChild(new Option(dim.all, ""));
      order.forEach(function (value) {
        select.appendChild(new Option(seen[value].label + " (" + seen[value].count + ")", value));
      });
      dim.select = select;
      wrap.appendChild(label);
      wrap.appendChild(select);
      fieldset.appendChild(wrap);
    });
    var status = el("p", "filter-status");
    var count = el("span");
    count.setAttribute("role", "status");
    var clear = el("button", "", "Clear filters");
    clear.type = "button";
    status.appendChild(count);
    status.appendChild(clear);
    box.appendChild(fieldset);
    box.appendChild(status);

    function apply(updateUrl) {
      var chosen = {};
      dims.forEach(function (dim) { chosen[dim.key] = dim.select.value; });
      var where = onePart ? " on this page" : "";
      var shown = 0;
      items.forEach(function (it) {
        var ok = (!chosen.verdict || it.dataset.verdict === chosen.verdict) &&
          (!chosen.kind || it.dataset.kind === chosen.kind) &&
          (!chosen.article || it.dataset.article === chosen.article) &&
          (!chosen.entity || (" " + it.dataset.entities + " ").indexOf(" " + chosen.entity + " ") >= 0);
        it.hidden = !ok;
        if (ok) shown += 1;
      });
      $all(".claim-group").forEach(function (group) {
        var visible = $all(".claim-item:not([hidden])", group).length;
        group.hidden = !visible;
        var n = group.querySelector(".group-heading .count");
        if (n) n.textContent = visible;
      });
      var active = dims.some(function (dim) { return dim.select.value; });
      count.textContent = active ? "Showing " + shown + " of " + items.length + " annotations" + where + "." :
        "Showing all " + items.length + " annotations" + where + ".";
      clear.hidden = !active;
      if (updateUrl && window.history && history.replaceState) {
        var params = new URLSearchParams();
        dims.forEach(function (dim) { if (dim.select.value) params.set(dim.key, dim.select.value); });
        var query = params.toString();
        history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
      }
    }

    var params = new URLSearchParams(location.search);
    dims.forEach(function (dim) {
      var wanted = params.get(dim.key);
      if (wanted && $all("option", dim.select).some(function (o) { return o.value === wanted; })) dim.select.value = wanted;
      dim.select.addEventListener("change", function () { apply(true); });
    });
    clear.addEventListener("click", function () {
      dims.forEach(function (dim) { dim.select.value = ""; });
      apply(true);
      dims[0].select.focus();
    });
    box.hidden = false;
    apply(false);
    // A filtered link (from an article's verdict counts) lands on the filters: the summary
    // ("Showing 11 of 67 · Clear filters") and the notes right below it are in view.
    if (dims.some(function (dim) { return dim.select.value; })) {
      var land = function () { box.scrollIntoView({ block: "start" }); };
      land();
      window.addEventListener("load", land);
    }
  }

  if (!sendOn()) initClaimFilters();
})();
