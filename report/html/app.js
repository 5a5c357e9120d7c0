"use strict";
// keysweep's HTML report. Every value comes from scanned content and may be
// hostile: it is put on the page with textContent only, never as markup,
// and a link is followed only when it is an http(s) URL the report built.
(function () {
  var report = JSON.parse(document.getElementById("data").textContent);
  var rows = report.findings || [];
  var AGES = ["< 1 week", "< 1 month", "< 1 year", "older", "unknown"];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function repoOf(r) { return r.finding.repository || "(this repository)"; }
  function locationOf(r) {
    var f = r.finding;
    if (r.source === "commit-message") return "commit message" + (f.line ? ":" + f.line : "");
    if (r.source === "tag-message") return "tag message" + (f.line ? ":" + f.line : "");
    return (f.path || "") + (f.line ? ":" + f.line : "");
  }
  function safeLink(s) {
    return typeof s === "string" && /^https?:\/\/[^\s]+$/i.test(s) ? s : "";
  }

  var columns = [
    { key: "rule", title: "Rule", value: function (r) { return r.finding.rule_id || ""; } },
    { key: "status", title: "Status", value: function (r) { return r.status; } },
    { key: "repository", title: "Repository", value: repoOf },
    { key: "location", title: "Location", value: locationOf },
    { key: "commit", title: "Commit", value: function (r) { return r.finding.commit || ""; } },
    { key: "date", title: "Date", value: function (r) { return r.finding.date || ""; } },
    { key: "since", title: "Exposed since", value: function (r) { return r.since || ""; } },
    { key: "author", title: "Author", value: function (r) { return r.finding.author || ""; } },
    { key: "secret", title: "Secret", value: function (r) { return r.finding.secret || ""; } }
  ];

  document.getElementById("generated").textContent =
    "Generated " + report.generated + " \u00b7 " + rows.length + (rows.length === 1 ? " finding" : " findings");

  // Totals.
  function distinct(fn) {
    var seen = Object.create(null), n = 0;
    rows.forEach(function (r) { var k = fn(r); if (k && !seen[k]) { seen[k] = true; n++; } });
    return n;
  }
  var totals = document.getElementById("totals");
  [
    ["Findings", rows.length, ""],
    ["Live secrets", rows.filter(function (r) { return r.status === "verified"; }).length, "live"],
    ["Distinct secrets", distinct(function (r) { return r.finding.fingerprint; }), ""],
    ["Rules", distinct(function (r) { return r.finding.rule_id; }), ""],
    ["Repositories", distinct(repoOf), ""],
    ["Commits", distinct(function (r) { return r.finding.commit; }), ""]
  ].forEach(function (t) {
    var box = el("div", "total" + (t[2] ? " " + t[2] : ""));
    box.appendChild(el("div", "n", t[1]));
    box.appendChild(el("div", "l", t[0]));
    totals.appendChild(box);
  });

  // Charts: one horizontal bar per value, longest first (ages in order).
  function count(fn) {
    var m = Object.create(null);
    rows.forEach(function (r) { var k = fn(r); m[k] = (m[k] || 0) + 1; });
    return m;
  }
  function chart(title, id, counts, order) {
    var box = el("div", "chart");
    box.id = id;
    box.appendChild(el("h3", "", title));
    var keys = order ? order.filter(function (k) { return counts[k]; }) : Object.keys(counts).sort(function (a, b) {
      return counts[b] - counts[a] || (a < b ? -1 : a > b ? 1 : 0);
    });
    var max = 0;
    keys.forEach(function (k) { max = Math.max(max, counts[k]); });
    var limit = 15;
    keys.slice(0, limit).forEach(function (k) {
      var row = el("div", "bar-row");
      var label = el("span", "label", k);
      label.title = k;
      var track = el("span", "track");
      var fill = el("span", "fill");
      fill.style.display = "block";
      fill.style.width = (max ? (100 * counts[k] / max) : 0) + "%";
      track.appendChild(fill);
      row.appendChild(label);
      row.appendChild(track);
      row.appendChild(el("span", "count", counts[k]));
      box.appendChild(row);
    });
    if (keys.length > limit) box.appendChild(el("div", "more", "and " + (keys.length - limit) + " more"));
    if (!keys.length) box.appendChild(el("div", "more", "no findings"));
    return box;
  }
  var charts = document.getElementById("charts");
  charts.appendChild(chart("By rule", "c-rule", count(function (r) { return r.finding.rule_id || ""; })));
  charts.appendChild(chart("By repository", "c-repository", count(repoOf)));
  charts.appendChild(chart("By source", "c-source", count(function (r) { return r.source; })));
  charts.appendChild(chart("By verification status", "c-status", count(function (r) { return r.status; })));
  charts.appendChild(chart("By exposure age", "c-age", count(function (r) { return r.age; }), AGES));

  // Filters.
  var filters = [
    { id: "f-repository", all: "All repositories", value: repoOf },
    { id: "f-rule", all: "All rules", value: function (r) { return r.finding.rule_id || ""; } },
    { id: "f-status", all: "All statuses", value: function (r) { return r.status; } },
    { id: "f-source", all: "All sources", value: function (r) { return r.source; } }
  ];
  filters.forEach(function (f) {
    var sel = document.getElementById(f.id);
    var opt = el("option", "", f.all);
    opt.value = "";
    sel.appendChild(opt);
    Object.keys(count(f.value)).sort().forEach(function (k) {
      var o = el("option", "", k);
      o.value = k;
      sel.appendChild(o);
    });
    f.el = sel;
    sel.addEventListener("change", render);
  });
  var search = document.getElementById("f-search");
  search.addEventListener("input", render);

  function haystack(r) {
    var f = r.finding, v = f.verification || {};
    return [f.rule_id, f.description, f.path, repoOf(r), f.commit, f.author, f.email, f.subject,
      f.secret, f.fingerprint, r.status, r.source, v.provider, v.identity].join("\n").toLowerCase();
  }
  rows.forEach(function (r) { r._text = haystack(r); });

  // Table.
  var sortKey = "", sortDir = 1;
  var headRow = document.querySelector("#findings thead tr");
  columns.forEach(function (c) {
    var th = el("th", "", c.title);
    th.dataset.key = c.key;
    th.scope = "col";
    th.tabIndex = 0;
    th.addEventListener("click", function () { sortBy(c.key); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(c.key); } });
    headRow.appendChild(th);
  });
  function sortBy(key) {
    if (sortKey === key) sortDir = -sortDir; else { sortKey = key; sortDir = 1; }
    Array.prototype.forEach.call(headRow.children, function (th) {
      if (th.dataset.key === sortKey) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    render();
  }

  function cell(tr, cls, text) { var td = el("td", cls, text); tr.appendChild(td); return td; }
  function rowOf(r) {
    var f = r.finding, v = f.verification || {};
    var tr = el("tr");
    var rule = cell(tr, "rule", f.rule_id || "");
    if (f.description) rule.title = f.description;
    var st = cell(tr, "");
    st.appendChild(el("span", "status " + (r.status === "not verified" ? "none" : r.status.replace(/[^a-z-]/g, "")), r.status));
    if (v.provider || v.identity) st.appendChild(el("div", "sub", [v.provider, v.identity].filter(Boolean).join(": ")));
    cell(tr, "repository", repoOf(r));
    var loc = cell(tr, "path mono", locationOf(r));
    if (f.subject) loc.appendChild(el("div", "sub", f.subject));
    var commit = cell(tr, "commit mono");
    var short = (f.commit || "").slice(0, 12);
    var href = safeLink(r.link);
    if (href && short) {
      var a = el("a", "", short);
      a.href = href;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      commit.appendChild(a);
    } else {
      commit.textContent = short;
    }
    cell(tr, "date", (f.date || "").slice(0, 10));
    var since = cell(tr, "since", (r.since || "").slice(0, 10));
    since.appendChild(el("div", "sub", r.age));
    cell(tr, "author", f.author || "");
    cell(tr, "secret mono", f.secret || "");
    return tr;
  }

  var tbody = document.querySelector("#findings tbody");
  var shown = document.getElementById("shown");
  function render() {
    var q = search.value.trim().toLowerCase();
    var list = rows.filter(function (r) {
      for (var i = 0; i < filters.length; i++) {
        var want = filters[i].el.value;
        if (want !== "" && filters[i].value(r) !== want) return false;
      }
      return q === "" || r._text.indexOf(q) >= 0;
    });
    if (sortKey) {
      var col = columns.filter(function (c) { return c.key === sortKey; })[0];
      list = list.map(function (r, i) { return [col.value(r), i, r]; }).sort(function (a, b) {
        var x = a[0], y = b[0];
        return (x < y ? -sortDir : x > y ? sortDir : 0) || a[1] - b[1];
      }).map(function (t) { return t[2]; });
    }
    var frag = document.createDocumentFragment();
    list.forEach(function (r) { frag.appendChild(rowOf(r)); });
    tbody.replaceChildren(frag);
    shown.textContent = "Showing " + list.length + " of " + rows.length;
  }
  render();
})();
