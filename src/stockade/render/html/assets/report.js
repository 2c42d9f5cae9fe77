// stockade report: draws the data stockade computed (the matrix, the graph, the reasons, the
// policies) from the JSON embedded in this page. Nothing here evaluates a policy: every
// colour, edge and explanation is read from the data. No network: everything is inline.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("stockade-data").textContent);
  const N = D.nodes.length;
  const R = D.reasons;
  const PROTOS = ["TCP", "UDP", "SCTP"];
  const OUTSIDE = "";
  const GRAPH_MAX_NODES = 150;
  const GRAPH_MAX_EDGES = 400;
  const EXPAND_UP_TO = 60;  // groups shown one by one when opening; beyond, namespaces
  const COLOURS = {
    none: "#eceff3", some: "#f0b429", all: "#1f7a4d", open: "#a7dcbc", na: "#ffffff",
    gained: "#16a34a", lost: "#dc2626", changed: "#7c3aed",
  };
  const state = {
    view: "matrix", collapsed: new Set(), hidden: new Set(), search: "", matches: null,
    selected: null, policy: -1, focus: "auto", showOpen: false,
  };

  // ---- small helpers -----------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  function svg(tag, attrs, ...children) {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null) e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  const $ = (id) => document.getElementById(id);
  const IRREGULAR = { match: "matches", policy: "policies", address: "addresses" };
  const plural = (n, word) => `${n} ${n === 1 ? word : IRREGULAR[word] || `${word}s`}`;
  const cellAt = (s, d) => D.cells[s * N + d];
  const levelOf = (s, d) => { const c = cellAt(s, d); return c < 0 ? -1 : D.levels[c]; };
  const textOf = (s, d) => { const c = cellAt(s, d); return c < 0 ? "" : D.texts[c]; };
  const decided = (s, d) => D.nodes[s].out.length > 0 || D.nodes[d].in.length > 0 ||
    (D.nodes[s].tieredOut || []).length > 0 || (D.nodes[d].tieredIn || []).length > 0;
  const isAddress = (i) => !!D.nodes[i].range;
  const nsName = (ns) => (ns === OUTSIDE ? "outside the cluster" : ns);
  const shortName = (i) => { const n = D.nodes[i]; return n.ns ? n.name.slice(n.ns.length + 1) : n.name; };
  const repName = (i) => (isAddress(i) ? D.nodes[i].range.address : D.nodes[i].members[0]);
  const changedCells = new Map(Object.entries(D.changes ? D.changes.cells : {}).map(([k, v]) => [Number(k), v]));
  const change = (s, d) => { const c = changedCells.get(s * N + d); return c ? D.changes.kinds[c[0]] : "same"; };
  // A diff's page (stockade diff -o html): its summary, and what each changed cell holds.
  const DIFF = D.changes && D.changes.summary ? D.changes.summary : null;
  const beforeOf = (s, d) => { const c = changedCells.get(s * N + d); return c ? D.texts[c[1]] : textOf(s, d); };
  const changedPairs = (s, d) => (D.changes.pairs[String(s * N + d)] || []).map((k) => DIFF.pairs[k]);
  const changeNote = (s, d) => D.changes.notes[String(s * N + d)] || "";
  const diffMark = (i) => (D.nodes[i].removed ? "− " : D.nodes[i].added ? "+ " : "");
  const diffClass = (i) => (D.nodes[i].removed ? " removed" : D.nodes[i].added ? " added" : "");
  const gone = (s, d) => !!(D.nodes[s].removed || D.nodes[d].removed);

  const nsOrder = D.namespaces.map((n) => n.name);
  const byNs = new Map(nsOrder.map((ns) => [ns, []]));
  D.nodes.forEach((n, i) => {
    if (!byNs.has(n.ns)) { byNs.set(n.ns, []); nsOrder.push(n.ns); }
    byNs.get(n.ns).push(i);
  });
  const nodeIndex = new Map(D.nodes.map((n, i) => [n.name, i]));
  const policyIndex = new Map(D.policies.map((p, i) => [p.key, i]));

  // Lint findings by the object they concern (a seam: empty without `stockade lint`).
  const findingsOfNode = new Map();
  const findingsOfPolicy = new Map();
  const findingsOfNs = new Map();
  (function placeFindings() {
    const podToNode = new Map();
    D.nodes.forEach((n, i) => (n.members || []).forEach((m) => podToNode.set(m, i)));
    for (const f of D.findings) {
      const add = (map, key) => { if (!map.has(key)) map.set(key, []); map.get(key).push(f); };
      if (f.kind === "NetworkPolicy" && policyIndex.has(`${f.ns}/${f.name}`)) {
        add(findingsOfPolicy, policyIndex.get(`${f.ns}/${f.name}`));
      } else if (f.kind === "Namespace") {
        add(findingsOfNs, f.name);
      } else {
        const keys = [`${f.ns}/${f.name}`, `${f.ns}/${f.kind}/${f.name}`, ...f.related];
        const hit = new Set();
        for (const k of keys) {
          if (podToNode.has(k)) hit.add(podToNode.get(k));
          if (nodeIndex.has(k)) hit.add(nodeIndex.get(k));
        }
        for (const i of hit) add(findingsOfNode, i);
      }
    }
  })();

  // ---- search and filters ------------------------------------------------------------
  function matches(i, q) {
    const n = D.nodes[i];
    if (n.name.toLowerCase().includes(q)) return true;
    if (n.range && (n.range.blocks.join(" ") + " " + n.range.address).includes(q)) return true;
    for (const [k, v] of Object.entries(n.labels || {})) {
      if (`${k}=${v}`.toLowerCase().includes(q)) return true;
    }
    return (n.members || []).some((m) => m.toLowerCase().includes(q));
  }
  function applySearch(q) {
    state.search = q.trim().toLowerCase();
    state.matches = state.search ? new Set(D.nodes.map((_, i) => i).filter((i) => matches(i, state.search))) : null;
    $("search-count").textContent = state.matches ? `${plural(state.matches.size, "match")}` : "";
    render();
  }
  const visible = (i) => !state.hidden.has(D.nodes[i].ns) && (!state.matches || state.matches.has(i));

  // ---- the matrix ----------------------------------------------------------------------
  let axis = [];
  let geometry = null;
  let aggregateCache = new Map();

  function buildAxis() {
    const out = [];
    for (const ns of nsOrder) {
      if (state.hidden.has(ns)) continue;
      const members = byNs.get(ns).filter(visible);
      if (!members.length) continue;
      if (state.collapsed.has(ns) && !state.matches) out.push({ kind: "ns", ns, members });
      else members.forEach((i, k) => out.push({ kind: "node", ns, i, members: [i], first: k === 0, count: members.length }));
    }
    return out;
  }

  function aggregate(a, b) {
    const key = `${a.ns}|${a.kind === "node" ? a.i : "*"}|${b.ns}|${b.kind === "node" ? b.i : "*"}`;
    let found = aggregateCache.get(key);
    if (found) return found;
    found = { counts: [0, 0, 0], na: 0, decided: false, changes: { gained: 0, lost: 0, changed: 0 } };
    for (const s of a.members) {
      for (const d of b.members) {
        const lvl = levelOf(s, d);
        if (lvl < 0) { found.na++; continue; }
        found.counts[lvl]++;
        if (lvl > 0 && decided(s, d)) found.decided = true;
        const c = change(s, d);
        if (c !== "same") found.changes[c]++;
      }
    }
    aggregateCache.set(key, found);
    return found;
  }

  function colourOf(a, b) {
    if (a.kind === "node" && b.kind === "node") {
      const s = a.i, d = b.i, lvl = levelOf(s, d);
      if (lvl < 0) return COLOURS.na;
      const c = change(s, d);
      if (c !== "same") return COLOURS[c];
      const base = lvl === 0 ? COLOURS.none : lvl === 1 ? COLOURS.some : decided(s, d) ? COLOURS.all : COLOURS.open;
      return D.changes ? fade(base) : base;
    }
    const agg = aggregate(a, b);
    const ch = agg.changes;
    if (ch.gained || ch.lost || ch.changed) {
      return ch.gained && !ch.lost && !ch.changed ? COLOURS.gained : ch.lost && !ch.gained && !ch.changed ? COLOURS.lost : COLOURS.changed;
    }
    const [none, some, all] = agg.counts;
    let base;
    if (none + some + all === 0) base = COLOURS.na;
    else if (some === 0 && all === 0) base = COLOURS.none;
    else if (none === 0 && some === 0) base = agg.decided ? COLOURS.all : COLOURS.open;
    else base = COLOURS.some;
    return D.changes ? fade(base) : base;
  }
  function fade(hex) {
    const v = parseInt(hex.slice(1), 16);
    const mix = (c) => Math.round(c + (255 - c) * 0.6);
    return `rgb(${mix(v >> 16)},${mix((v >> 8) & 255)},${mix(v & 255)})`;
  }

  function drawMatrix() {
    axis = buildAxis();
    aggregateCache = new Map();
    const scroll = $("matrix-scroll");
    const n = axis.length;
    const nameWidth = Math.min(240, 24 + 6.6 * Math.max(8, ...axis.map((e) => (e.kind === "ns" ? `${e.ns} (${e.members.length})` : shortName(e.i)).length)));
    const nsWidth = axis.some((e) => e.kind === "node") ? 110 : 0;
    const left = nsWidth + nameWidth;
    const fit = Math.floor((Math.max(300, scroll.clientWidth - left - 40)) / Math.max(1, n));
    const size = Math.max(6, Math.min(30, fit));
    const labels = size >= 9;
    const top = labels ? Math.min(170, 30 + 5.2 * Math.max(8, ...axis.map((e) => (e.kind === "ns" ? e.ns : shortName(e.i)).length))) : 40;
    geometry = { left, top, size, n, nsWidth };
    const canvas = $("cells"), overlay = $("cells-overlay");
    const ratio = window.devicePixelRatio || 1;
    for (const c of [canvas, overlay]) {
      c.width = Math.max(1, n * size * ratio); c.height = Math.max(1, n * size * ratio);
      c.style.width = `${n * size}px`; c.style.height = `${n * size}px`;
      c.style.left = `${left}px`; c.style.top = `${top}px`;
    }
    const m = $("matrix");
    m.style.width = `${left + n * size + 40}px`;
    m.style.height = `${top + n * size + 40}px`;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, n * size, n * size);
    const gap = size >= 10 ? 1 : 0;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        ctx.fillStyle = colourOf(axis[r], axis[c]);
        ctx.fillRect(c * size, r * size, size - gap, size - gap);
      }
    }
    // Namespace blocks: a darker line where one ends and the next begins.
    ctx.fillStyle = "#52606d";
    for (let k = 1; k < n; k++) {
      if (axis[k].ns !== axis[k - 1].ns || axis[k].kind === "ns" || axis[k - 1].kind === "ns") {
        ctx.fillRect(0, k * size - 1, n * size, 1.2);
        ctx.fillRect(k * size - 1, 0, 1.2, n * size);
      }
    }
    drawLabels(labels);
    drawOverlay();
  }

  function labelText(e) {
    if (e.kind === "ns") return `▸ ${nsName(e.ns)} (${plural(e.members.length, "group")})`;
    return diffMark(e.i) + shortName(e.i);
  }

  function drawLabels(show) {
    const rows = $("row-labels"), cols = $("col-labels");
    rows.replaceChildren(); cols.replaceChildren();
    const { left, top, size, nsWidth } = geometry;
    axis.forEach((e, k) => {
      const warn = e.kind === "node" && findingsOfNode.has(e.i);
      const hit = e.kind === "node" && state.matches && state.matches.has(e.i);
      const title = e.kind === "ns" ? `${nsName(e.ns)}: click to open` : D.nodes[e.i].name;
      if (e.kind === "node" && e.first && nsWidth) {
        const band = el("div", { class: "lbl ns", title: `${nsName(e.ns)}: click to close`, "data-ns": e.ns,
          style: `left:2px;top:${top + k * size}px;width:${nsWidth - 6}px;height:${Math.max(size, 14)}px;line-height:${Math.max(size, 14)}px`,
          onclick: () => toggleNs(e.ns) }, `▾ ${nsName(e.ns)}`);
        rows.append(band);
      }
      if (!show && e.kind === "node") return;
      const style = `top:${top + k * size}px;height:${size}px;line-height:${size}px;font-size:${Math.min(12, size - 1)}px;`;
      const common = { "data-node": e.kind === "node" ? D.nodes[e.i].name : null, "data-ns": e.kind === "ns" ? e.ns : null, title,
        onclick: () => (e.kind === "ns" ? toggleNs(e.ns) : showNode(e.i)) };
      rows.append(el("div", { ...common, class: `lbl row-lbl${e.kind === "ns" ? " ns" : diffClass(e.i)}${hit ? " match" : ""}`,
        style: `${style}left:${e.kind === "ns" ? 2 : nsWidth}px;width:${left - (e.kind === "ns" ? 2 : nsWidth) - 4}px;text-align:${e.kind === "ns" ? "left" : "right"}` },
      labelText(e), warn ? el("span", { class: "warn", title: "lint findings" }, " ⚠") : null));
      cols.append(el("div", { ...common, class: `lbl col-lbl${e.kind === "ns" ? " ns" : diffClass(e.i)}${hit ? " match" : ""}`,
        style: `left:${left + k * size + size / 2}px;top:${top - 16}px;height:14px;line-height:14px;width:${(top - 10) * 1.2}px;font-size:${Math.min(12, Math.max(9, size - 1))}px` },
      e.kind === "ns" ? `${nsName(e.ns)} (${e.members.length})` : diffMark(e.i) + shortName(e.i)));
    });
  }

  function drawOverlay(hover) {
    if (!geometry) return;
    const { size, n } = geometry;
    const ctx = $("cells-overlay").getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, n * size, n * size);
    if (state.policy >= 0) {
      const p = D.policies[state.policy];
      const subjects = new Set(p.subjects);
      ctx.fillStyle = "rgba(37, 99, 235, 0.10)";
      axis.forEach((e, k) => {
        if (e.members.some((i) => subjects.has(i))) {
          ctx.fillRect(0, k * size, n * size, size);
          ctx.fillRect(k * size, 0, size, n * size);
        }
      });
      const allowed = policyCells(state.policy);
      ctx.strokeStyle = "#2563eb"; ctx.lineWidth = 2;
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) {
          if (axis[r].members.some((s) => axis[c].members.some((d) => allowed.has(s * N + d)))) {
            ctx.strokeRect(c * size + 1, r * size + 1, size - 3, size - 3);
          }
        }
      }
    }
    if (hover) {
      ctx.fillStyle = "rgba(31, 41, 51, 0.08)";
      ctx.fillRect(0, hover.r * size, n * size, size);
      ctx.fillRect(hover.c * size, 0, size, n * size);
    }
    const sel = state.selected;
    if (sel && (sel.kind === "cell" || sel.kind === "block")) {
      const r = sel.kind === "cell" ? axis.findIndex((e) => e.members.includes(sel.s)) : axis.findIndex((e) => e.ns === sel.a && e.kind === "ns");
      const c = sel.kind === "cell" ? axis.findIndex((e) => e.members.includes(sel.d)) : axis.findIndex((e) => e.ns === sel.b && e.kind === "ns");
      if (r >= 0 && c >= 0) {
        ctx.strokeStyle = "#111"; ctx.lineWidth = 2.5;
        ctx.strokeRect(c * size + 1, r * size + 1, size - 2, size - 2);
      }
    }
  }

  function cellFromEvent(ev) {
    const rect = $("cells").getBoundingClientRect();
    const { size, n } = geometry;
    const c = Math.floor((ev.clientX - rect.left) / size), r = Math.floor((ev.clientY - rect.top) / size);
    return r >= 0 && c >= 0 && r < n && c < n ? { r, c } : null;
  }

  function toggleNs(ns) {
    if (state.collapsed.has(ns)) state.collapsed.delete(ns); else state.collapsed.add(ns);
    drawMatrix();
  }

  const memo = new Map();
  function policyCells(k) {
    // The cells one of whose explained ports a rule of policy k allows (either side).
    if (memo.has(k)) return memo.get(k);
    const sides = new Set();
    R.allowing.forEach((list, id) => { if (list.includes(k)) sides.add(id); });
    const examples = new Set();
    R.examples.forEach((ex, id) => { if (sides.has(ex[3]) || sides.has(ex[4])) examples.add(id); });
    const sets = new Set();
    R.sets.forEach((list, id) => { if (list.some((x) => examples.has(x))) sets.add(id); });
    const out = new Set();
    for (let c = 0; c < R.cells.length; c++) if (sets.has(R.cells[c])) out.add(c);
    memo.set(k, out);
    return out;
  }

  // ---- explanations: the text `stockade query` prints, rebuilt from the interned lines --
  function endpointsOf(s, d) {
    const moved = R.pairs[String(s * N + d)];
    if (moved) return moved;
    if (s === d && !isAddress(s) && D.nodes[s].members.length > 1) return [D.nodes[s].members[0], D.nodes[s].members[1]];
    return [repName(s), repName(d)];
  }
  function substituter(a, b) {
    const ea = R.endpoints[a] || [a], eb = R.endpoints[b] || [b];
    const ns = (name) => (name.includes("/") ? name.slice(0, name.indexOf("/")) : undefined);
    const values = [a, b, ea[0], ea[1], eb[0], eb[1], ns(a), ns(b)];
    return (line) => {
      let out = line;
      R.tokens.forEach((t, k) => { if (values[k] !== undefined && out.includes(t)) out = out.split(t).join(values[k]); });
      return out;
    };
  }
  function exampleLines(ex, a, b, sub) {
    const [p, port, allowed, e, i, note] = ex;
    const lines = [`${a} -> ${b} ${PROTOS[p]} ${port}: ${allowed ? "allowed" : "denied"}`];
    if (note >= 0) {
      for (const l of sub(R.lines[note]).split("\n")) lines.push(`  ${l}`);
      return lines;
    }
    const side = (label, who, id) => {
      const ids = R.sides[id];
      lines.push(`  ${label.padEnd(8)}${who}: ${sub(R.lines[ids[0]])}`);
      for (const l of ids.slice(1)) lines.push(sub(R.lines[l]));
    };
    side("egress", a, e);
    side("ingress", b, i);
    return lines;
  }
  function explanation(s, d) {
    const set = R.cells[s * N + d];
    if (set < 0) return [];
    const [a, b] = endpointsOf(s, d);
    const sub = substituter(a, b);
    return R.sets[set].map((x) => ({ ex: R.examples[x], lines: exampleLines(R.examples[x], a, b, sub) }));
  }
  // Policy names in an explanation become links to the policy.
  function linkedLine(line) {
    const frag = document.createDocumentFragment();
    const m = line.match(/^(.*?)(isolated by |allowed by |miss: )(.*)$/);
    const word = line.match(/^(.*?)(allowed|denied)$/);
    if (word && !m) {
      frag.append(word[1], el("span", { class: word[2] === "allowed" ? "ok" : "bad" }, word[2]));
      return frag;
    }
    if (!m) { frag.append(line); return frag; }
    frag.append(m[1], el("span", { class: m[2] === "allowed by " ? "ok" : "" }, m[2]));
    const rest = m[3];
    const names = m[2] === "isolated by " ? rest.split(", ") : [rest.split(" ")[0]];
    let pos = 0;
    names.forEach((name) => {
      const at = rest.indexOf(name, pos);
      frag.append(rest.slice(pos, at));
      frag.append(policyIndex.has(name) ? el("a", { class: "link", "data-policy": name, onclick: () => showPolicy(policyIndex.get(name)) }, name) : name);
      pos = at + name.length;
    });
    frag.append(rest.slice(pos));
    return frag;
  }
  function pre(lines) {
    const p = el("pre", { class: "why" });
    lines.forEach((l, k) => { if (k) p.append("\n"); p.append(linkedLine(l)); });
    return p;
  }

  // ---- details panel -------------------------------------------------------------------
  function details(...children) {
    const box = $("details");
    box.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
    box.scrollTop = 0;
  }
  function nodeLink(i) {
    return el("a", { class: "link", "data-node": D.nodes[i].name, onclick: () => showNode(i) }, D.nodes[i].name);
  }
  function findingBlock(list) {
    if (!list || !list.length) return null;
    return el("div", {}, el("h3", {}, `Lint findings (${list.length})`),
      ...list.map((f) => el("div", { class: `finding ${f.severity}` },
        el("b", {}, `${f.severity} ${f.check}`), ` ${f.kind} ${f.ns ? f.ns + "/" : ""}${f.name}${f.path ? " " + f.path : ""}: ${f.message}`,
        f.hint ? el("div", { class: "muted" }, f.hint) : null)));
  }
  function querySources() { return D.sources.length ? D.sources.join(" ") : "PATH"; }

  function showCell(s, d) {
    state.selected = { kind: "cell", s, d };
    const text = textOf(s, d);
    const lvl = levelOf(s, d);
    const parts = [el("h2", {}, `${D.nodes[s].name} → ${D.nodes[d].name}`)];
    if (gone(s, d)) parts.push(el("div", {}, "allowed: ", el("b", { id: "cell-text" }, "—"), el("span", { class: "muted" }, " (only the old side has this group)")));
    else parts.push(el("div", {}, "allowed: ", el("b", { class: lvl === 0 ? "bad" : "ok", id: "cell-text" }, text),
      lvl > 0 && !decided(s, d) ? el("span", { class: "muted" }, " (unrestricted: no policy isolates either end)") : null));
    if (D.changes) {
      const c = change(s, d);
      if (c !== "same") {
        parts.push(el("div", { id: "cell-change" }, el("span", { class: "chip", style: `background:${COLOURS[c]};color:#fff` }, c), ` before: ${beforeOf(s, d)}`));
        if (changeNote(s, d)) parts.push(el("div", { class: "muted" }, changeNote(s, d)));
        if (DIFF) parts.push(changeBlock(s, d));
      } else if (DIFF && !isAddress(s) && !isAddress(d) && !gone(s, d)) {
        parts.push(el("div", { class: "muted" }, "unchanged by the diff"));
      } else if (DIFF && (isAddress(s) || isAddress(d))) {
        parts.push(el("div", { class: "muted" }, "not compared: stockade diff compares the pods present on both sides, not external addresses"));
      }
    }
    if (s === d && !isAddress(s)) parts.push(el("div", { class: "muted" }, D.nodes[s].members.length > 1 ? "Between distinct pods of the group (a pod always reaches itself)." : "A pod always reaches itself."));
    const node = (i) => D.nodes[i];
    const traffic = [];
    for (const [host, peers] of Object.entries(D.nodeTraffic)) {
      for (const p of peers) {
        if ((node(s).members || []).includes(host) && (node(d).members || []).includes(p)) traffic.push(`${host} → ${p}`);
        if ((node(s).members || []).includes(p) && (node(d).members || []).includes(host)) traffic.push(`${p} → ${host}`);
      }
    }
    if (traffic.length) parts.push(el("div", { class: "muted" }, `Node traffic, always allowed whatever this cell says: ${traffic.slice(0, 5).join(", ")}${traffic.length > 5 ? ", ..." : ""}`));
    const items = explanation(s, d);
    if (items.length) {
      parts.push(el("h3", {}, "Why (as stockade query prints it)"));
      const shown = new Map();
      for (const it of items) {
        const key = `${it.ex[2]}|${it.ex[3]}|${it.ex[4]}|${it.ex[5]}`;
        const [a, b] = endpointsOf(s, d);
        if (shown.has(key) && it.ex[5] < 0) {
          shown.get(key).append(`\n(${PROTOS[it.ex[0]]} ${it.ex[1]}: the same rules)`);
          continue;
        }
        const block = pre(it.lines);
        shown.set(key, block);
        parts.push(el("div", { class: "cmd" }, `$ stockade query ${querySources()} --from ${a} --to ${b} --port ${it.ex[1]}/${PROTOS[it.ex[0]]}`), block);
      }
      const spans = text.split(", ").reduce((n, part) => n + (part.split(" ")[1] || "").split(",").length, 0);
      if (lvl > 0 && spans > items.length && text !== "all") parts.push(el("div", { class: "muted" }, `The first ${items.length} of ${spans} port ranges are explained.`));
      const [a, b] = endpointsOf(s, d);
      const more = [];
      if (!isAddress(s) && D.nodes[s].members.length > 1) more.push(`${a} stands for the ${D.nodes[s].members.length} pods of ${D.nodes[s].name}`);
      if (!isAddress(d) && D.nodes[d].members.length > 1 && s !== d) more.push(`${b} for the ${D.nodes[d].members.length} of ${D.nodes[d].name}`);
      if (isAddress(s)) more.push(`${a} stands for ${D.nodes[s].name}`);
      if (isAddress(d)) more.push(`${b} stands for ${D.nodes[d].name}`);
      if (more.length) parts.push(el("div", { class: "muted" }, `${more.join("; ")}: every policy treats them alike.`));
    }
    parts.push(el("h3", {}, "Endpoints"), el("div", {}, "from ", nodeLink(s)), el("div", {}, "to ", nodeLink(d)));
    details(...parts);
    drawOverlay();
    highlightGraphEdge(s, d);
  }

  // ---- a diff: what changed in a cell, and the whole diff ---------------------------------
  function policyName(key) {
    return policyIndex.has(key) ? el("a", { class: "link", "data-policy": key, onclick: () => showPolicy(policyIndex.get(key)) }, key) : key;
  }
  function causeBlock(cause) {
    const box = el("div", { class: "cause" });
    const text = cause.policy && cause.text.startsWith(cause.policy) ? [policyName(cause.policy), cause.text.slice(cause.policy.length)] : [cause.text];
    box.append(el("div", {}, ...text));
    if (cause.where) box.append(el("div", { class: "muted where" }, cause.where + (cause.field ? ` (${cause.field})` : "")));
    for (const r of cause.reasons) box.append(el("div", { class: "muted reason" }, r));
    return box;
  }
  function changeBlock(s, d) {
    const pairs = changedPairs(s, d);
    const box = el("div", { id: "cell-diff" });
    if (!pairs.length) return box;
    box.append(el("h3", {}, `What changed (stockade diff): ${plural(pairs.length, DIFF.perPod ? "pod pair" : "pair")}`));
    for (const p of pairs.slice(0, 20)) {
      const item = el("div", { class: "change-pair" },
        el("div", {}, el("b", {}, `${p.from} → ${p.to}`), p.nodeTraffic ? el("span", { class: "muted" }, " (node traffic)") : null),
        el("div", {}, "before ", el("code", {}, p.before), " · after ", el("code", {}, p.after)));
      if (p.gained !== "none") item.append(el("div", {}, "gained ", el("span", { class: "ok" }, p.gained)));
      if (p.lost !== "none") item.append(el("div", {}, "lost ", el("span", { class: "bad" }, p.lost)));
      if (p.except && p.except.length) item.append(el("div", { class: "muted" }, `except node traffic, always allowed: ${p.except.slice(0, 5).map(([a, b]) => `${a} → ${b}`).join(", ")}${p.except.length > 5 ? ", ..." : ""}`));
      if (p.because.length) item.append(el("div", { class: "because" }, "because", ...p.because.map((k) => causeBlock(DIFF.causes[k]))));
      box.append(item);
    }
    if (pairs.length > 20) box.append(el("div", { class: "muted" }, `... and ${pairs.length - 20} more (stockade diff -o json lists them all)`));
    return box;
  }
  function cellOf(index) { return [Math.floor(index / N), index % N]; }
  function diffSummary(full) {
    const p = DIFF.policies, e = DIFF.endpoints;
    const unit = DIFF.perPod ? "pod pair" : "group pair";
    const parts = [el("h2", {}, "stockade diff"), el("div", {}, `${DIFF.old} → ${DIFF.new}`),
      el("div", { id: "diff-verdict", class: DIFF.changed ? "bad" : "ok" }, DIFF.connections ? `${plural(DIFF.connections, unit)} changed, of ${DIFF.pairsCompared.toLocaleString("en")} ordered pairs compared`
        : `${DIFF.changed ? "endpoints added or removed; no connection changed" : "equivalent: no connection changed"} between the ${DIFF.pairsCompared.toLocaleString("en")} ordered pairs of endpoints on both sides`)];
    const list = (title, items, render, limit) => {
      if (!items.length) return;
      parts.push(el("h3", {}, `${title} (${items.length})`));
      const box = el("div", { class: "diff-list" });
      for (const x of items.slice(0, limit)) box.append(el("div", {}, ...render(x)));
      if (items.length > limit) box.append(el("div", { class: "muted" }, `... and ${items.length - limit} more`));
      parts.push(box);
    };
    const where = (x) => (x.where ? [el("span", { class: "muted" }, `  ${x.where}`)] : []);
    list("Policies added", p.added, (x) => [policyName(x.key), ...where(x)], 50);
    list("Policies removed", p.removed, (x) => [x.key, ...where(x)], 50);
    list("Policies modified", p.modified, (x) => [policyName(x.key), ...where(x)], 50);
    const nodeOf = (key) => D.nodes.findIndex((n) => (n.members || []).includes(key));
    const endpoint = (key) => { const i = nodeOf(key); return [i >= 0 ? el("a", { class: "link", onclick: () => showNode(i) }, key) : key]; };
    list("Endpoints added", e.added, endpoint, full ? 200 : 20);
    list("Endpoints removed", e.removed, endpoint, full ? 200 : 20);
    list("Changed pairs", DIFF.pairs, (x) => [el("a", { class: "link", onclick: () => showCell(...cellOf(x.cell)) }, `${x.from} → ${x.to}`),
      `: ${x.before} → ${x.after}`, ...(full ? x.because.slice(0, 2).map((k) => causeBlock(DIFF.causes[k])) : [])], full ? 500 : 25);
    if (DIFF.pairs.length < DIFF.connections) parts.push(el("div", { class: "muted" }, `The page details the first ${DIFF.pairs.length.toLocaleString("en")}; stockade diff -o json lists them all.`));
    const removed = D.nodes.filter((n) => n.removed).length, added = D.nodes.filter((n) => n.added).length;
    if (removed) parts.push(el("div", { class: "muted" }, `${plural(removed, "group")} only the old side had: drawn as − nodes, with the connections they had in red.`));
    if (added) parts.push(el("div", { class: "muted" }, `${plural(added, "group")} only the new side has: drawn as + nodes, with what they may open in green.`));
    return parts;
  }

  function showBlock(a, b) {
    state.selected = { kind: "block", a: a.ns, b: b.ns };
    const agg = aggregate(a, b);
    const byText = new Map();
    for (const s of a.members) for (const d of b.members) {
      const t = textOf(s, d); if (!t) continue;
      if (!byText.has(t)) byText.set(t, []);
      byText.get(t).push([s, d]);
    }
    const parts = [el("h2", {}, `${a.kind === "ns" ? nsName(a.ns) : D.nodes[a.i].name} → ${b.kind === "ns" ? nsName(b.ns) : D.nodes[b.i].name}`),
      el("div", {}, `${agg.counts[2]} all, ${agg.counts[1]} some ports, ${agg.counts[0]} none`)];
    for (const [t, pairs] of byText) {
      parts.push(el("h3", {}, `${t} (${pairs.length})`));
      const list = el("div", {});
      for (const [s, d] of pairs.slice(0, 40)) {
        list.append(el("div", {}, el("a", { class: "link", onclick: () => showCell(s, d) }, `${D.nodes[s].name} → ${D.nodes[d].name}`)));
      }
      if (pairs.length > 40) list.append(el("div", { class: "muted" }, `... and ${pairs.length - 40} more`));
      parts.push(list);
    }
    const open = [a, b].filter((e) => e.kind === "ns").map((e) => e.ns);
    if (open.length) parts.push(el("button", { type: "button", onclick: () => { open.forEach((ns) => state.collapsed.delete(ns)); drawMatrix(); } }, "Open these namespaces"));
    details(...parts);
    drawOverlay();
  }

  function showNode(i) {
    state.selected = { kind: "node", i };
    const n = D.nodes[i];
    const parts = [el("h2", {}, n.name)];
    if (n.range) {
      parts.push(el("div", {}, `Addresses outside the cluster's pods (IPv${n.range.family}), judged through ${n.range.address}.`));
      parts.push(el("h3", {}, "Inside these ipBlocks"), el("div", {}, n.range.blocks.length ? n.range.blocks.join("; ") : "none: no policy names these addresses"));
    } else {
      parts.push(el("div", { class: "muted" }, `namespace ${n.ns}${n.host ? " · host network (node traffic: no policy applies)" : ""}${n.template ? " · a workload's pod template" : ""}`));
      if (n.removed) {
        parts.push(el("div", { class: "bad" }, "Removed: only the old side has this group (every pod of it is gone). Its former connections are marked lost."));
        parts.push(el("h3", {}, "Isolated on the old side"));
        for (const [dir, list] of [["ingress", n.removed.in], ["egress", n.removed.out]]) {
          parts.push(el("div", {}, `${dir}: `, list.length ? list.map((k) => el("span", { class: "chip iso" }, k)) : "no"));
        }
      } else {
        if (n.added) parts.push(el("div", { class: "ok" }, "Added: every pod of this group is new. What it may open and accept is marked gained."));
        else if (DIFF) {
          const fresh = n.members.filter((m) => DIFF.endpoints.added.includes(m));
          if (fresh.length) parts.push(el("div", { class: "muted" }, `New pods in this group: ${fresh.slice(0, 10).join(", ")}${fresh.length > 10 ? ", ..." : ""}`));
        }
        parts.push(el("h3", {}, "Isolated"));
        const iso = (list, dir) => el("div", {}, `${dir}: `, list.length ? list.map((k) => el("a", { class: "link chip iso", onclick: () => showPolicy(k) }, D.policies[k].key)) : "no (every connection allowed on this side)");
        parts.push(iso(n.in, "ingress"), iso(n.out, "egress"));
        if (n.tieredIn || n.tieredOut) {
          const tiered = (list, dir) => el("div", {}, `${dir}: `, list.length ? list.map((k) => el("a", { class: "link chip iso", onclick: () => showPolicy(k) }, D.policies[k].key)) : "none");
          parts.push(el("h3", {}, "Selected by cluster-wide policies"), tiered(n.tieredIn, "ingress"), tiered(n.tieredOut, "egress"));
        }
      }
      parts.push(el("h3", {}, `Pods (${n.members.length})`), el("div", {}, n.members.slice(0, 50).join(", "), n.members.length > 50 ? ` ... and ${n.members.length - 50} more` : ""));
      if (n.ips.length) parts.push(el("div", { class: "muted" }, `${n.members[0]}: ${n.ips.join(", ")}`));
      const labels = Object.entries(n.labels);
      parts.push(el("h3", {}, "Labels"), el("div", {}, labels.length ? labels.map(([k, v]) => el("span", { class: "chip" }, `${k}=${v}`)) : "none"));
    }
    parts.push(findingBlock(findingsOfNode.get(i)));
    if (DIFF) {
      const moved = [];
      for (let j = 0; j < N; j++) {
        if (change(i, j) !== "same") moved.push([i, j, j]);
        if (j !== i && change(j, i) !== "same") moved.push([j, i, j]);
      }
      if (moved.length) {
        parts.push(el("h3", {}, `Changed by the diff: ${moved.length}`), el("div", {}, ...moved.slice(0, 40).map(([s, d]) =>
          el("div", {}, el("a", { class: "link", onclick: () => showCell(s, d) }, `${D.nodes[s].name} → ${D.nodes[d].name}`), ` ${change(s, d)}: ${beforeOf(s, d)} → ${gone(s, d) ? "—" : textOf(s, d)}`))));
      }
    }
    // Who it talks to, policy-decided first.
    const out = [], inn = [];
    for (let d = 0; d < N; d++) if (d !== i && levelOf(i, d) > 0 && decided(i, d)) out.push(d);
    for (let s = 0; s < N; s++) if (s !== i && levelOf(s, i) > 0 && decided(s, i)) inn.push(s);
    const row = (j, s, d) => el("div", {}, el("a", { class: "link", onclick: () => showCell(s, d) }, D.nodes[j].name), `: ${textOf(s, d)}`);
    parts.push(el("h3", {}, `Opens (decided by policy): ${out.length}`), el("div", {}, ...out.slice(0, 40).map((d) => row(d, i, d))));
    parts.push(el("h3", {}, `Accepts (decided by policy): ${inn.length}`), el("div", {}, ...inn.slice(0, 40).map((s) => row(s, s, i))));
    parts.push(el("div", { style: "margin-top:10px" }, el("button", { type: "button", onclick: () => focusGraph(`node:${i}`) }, "Show in graph")));
    details(...parts);
    drawOverlay();
  }

  function policyCard(k, withButtons) {
    const p = D.policies[k];
    const card = el("div", { class: `policy${state.policy === k ? " selected" : ""}`, id: `policy-${k}`, "data-policy": p.key });
    const edit = DIFF ? ["added", "modified"].find((what) => DIFF.policies[what].some((x) => x.key === p.key)) : undefined;
    card.append(el("h3", {}, el("a", { class: "link", onclick: () => showPolicy(k) }, p.key),
      edit ? el("span", { class: `chip edit ${edit}` }, edit) : null, el("span", { class: "muted" }, `  ${p.origin}`)));
    if (p.tier) {  // a cluster-wide policy: its tier and priority, subject, rules with actions
      card.append(el("div", {}, `${p.tier} tier${p.priority === null ? "" : ` · priority ${p.priority}`} · subject `, el("code", {}, p.subject)));
      card.append(el("div", {}, `selects ${plural(p.subjects.length, "group")}: `, ...p.subjects.slice(0, 30).map((i) => el("span", {}, nodeLink(i), " ")), p.subjects.length > 30 ? `... and ${p.subjects.length - 30} more` : ""));
      if (!p.rules.length) card.append(el("div", { class: "rule muted" }, "no rules: changes nothing"));
    } else {
      card.append(el("div", {}, "podSelector ", el("code", {}, p.podSelector), ` · policyTypes ${p.types.join(", ")}`));
      card.append(el("div", {}, `isolates ${plural(p.subjects.length, "group")}: `, ...p.subjects.slice(0, 30).map((i) => el("span", {}, nodeLink(i), " ")), p.subjects.length > 30 ? `... and ${p.subjects.length - 30} more` : ""));
      if (!p.rules.length) card.append(el("div", { class: "rule muted" }, "no rules: denies everything on the directions it isolates"));
    }
    for (const r of p.rules) {
      const dir = r.path.startsWith("ingress") ? "from" : "to";
      const head = r.action ? [el("b", {}, r.path), r.name ? ` "${r.name}"` : "", `: ${r.action} ${dir} `] : [el("b", {}, r.path), `: ${dir} `];
      card.append(el("div", { class: "rule" }, ...head, el("code", {}, r.peers.join("; ")), " on ", el("code", {}, r.ports.join(", "))));
    }
    if (p.ignored.length) card.append(el("div", { class: "rule muted" }, `${p.ignored.join(", ")} rules ignored: policyTypes does not list them`));
    const f = findingBlock(findingsOfPolicy.get(k));
    if (f) card.append(f);
    if (withButtons) {
      card.append(el("div", { style: "margin-top:6px" },
        el("button", { type: "button", onclick: () => focusGraph(`policy:${k}`) }, "Show its effect in the graph"), " ",
        el("button", { type: "button", onclick: () => { state.policy = k; switchView("matrix"); drawOverlay(); } }, "Highlight in the matrix")));
    }
    return card;
  }

  function showPolicy(k) {
    state.policy = k;
    state.selected = { kind: "policy", k };
    const allowed = policyCells(k).size;
    details(el("h2", {}, D.policies[k].key), policyCard(k, true),
      el("div", { class: "muted" }, `Allows ${plural(allowed, "cell")} of the matrix (outlined in blue); its subjects' rows and columns are tinted.`));
    drawOverlay();
    if (state.view === "policies") renderPolicies();
    if (state.view === "graph") renderGraph();
  }

  // ---- the graph -----------------------------------------------------------------------
  function focusGraph(focus) {
    state.focus = focus;
    switchView("graph");
  }

  function graphModel() {
    const focus = state.focus;
    const show = (s, d) => (levelOf(s, d) > 0 || change(s, d) !== "same") && s !== d && visible(s) && visible(d);
    let nodes = new Set(), edges = [], hidden = 0, hiddenNodes = new Set(), title = "", core = () => false;
    const consider = (s, d) => {
      if (!show(s, d)) return false;
      if (!decided(s, d) && !state.showOpen && change(s, d) === "same") { hidden++; hiddenNodes.add(s); hiddenNodes.add(d); return false; }
      edges.push([s, d]); nodes.add(s); nodes.add(d); return true;
    };
    const visibleCount = D.nodes.filter((_, i) => visible(i)).length;
    let mode = focus;
    if (mode === "auto") mode = DIFF && DIFF.connections + D.nodes.filter((n) => n.added || n.removed).length ? "changes" : visibleCount <= 40 ? "all" : "overview";
    if (mode === "overview") return { overview: true, title: "Namespaces (click one to open it)" };
    if (mode === "changes") {
      title = "What changed";
      for (let s = 0; s < N; s++) for (let d = 0; d < N; d++) {
        if (s !== d && change(s, d) !== "same" && visible(s) && visible(d)) { edges.push([s, d]); nodes.add(s); nodes.add(d); }
      }
      core = () => false;  // past AGGREGATE_OVER groups, every end is drawn as its namespace
      return { nodes: [...nodes], edges, hidden, hiddenNodes: 0, title, core, focusNode: -1 };
    }
    if (mode === "all") {
      title = "Every group";
      for (let i = 0; i < N; i++) if (visible(i)) nodes.add(i);
      for (let s = 0; s < N; s++) for (let d = 0; d < N; d++) consider(s, d);
    } else if (mode.startsWith("ns:")) {
      const ns = mode.slice(3);
      title = `Namespace ${nsName(ns)} and its peers`;
      core = (i) => D.nodes[i].ns === ns;
      for (const i of byNs.get(ns) || []) if (visible(i)) nodes.add(i);
      for (let s = 0; s < N; s++) for (let d = 0; d < N; d++) if (D.nodes[s].ns === ns || D.nodes[d].ns === ns) consider(s, d);
    } else if (mode.startsWith("node:")) {
      const i = Number(mode.slice(5));
      title = `${D.nodes[i].name} and its neighbours`;
      core = (j) => j === i || D.nodes[j].ns === D.nodes[i].ns;
      nodes.add(i);
      for (let j = 0; j < N; j++) { consider(i, j); consider(j, i); }
    } else if (mode.startsWith("policy:")) {
      const k = Number(mode.slice(7));
      title = `What ${D.policies[k].key} allows`;
      const subjects = new Set(D.policies[k].subjects);
      core = (i) => subjects.has(i);
      for (const i of D.policies[k].subjects) if (visible(i)) nodes.add(i);
      const cells = policyCells(k);
      for (const c of cells) { const s = Math.floor(c / N), d = c % N; if (show(s, d)) { edges.push([s, d]); nodes.add(s); nodes.add(d); } }
    } else if (mode.startsWith("path:")) {
      const [a, b] = mode.slice(5).split(">").map(Number);
      const path = shortestPath(a, b);
      title = path ? `A shortest path from ${D.nodes[a].name} to ${D.nodes[b].name} (${plural(path.length - 1, "hop")})` : `No path from ${D.nodes[a].name} to ${D.nodes[b].name}`;
      core = () => true;
      nodes.add(a); nodes.add(b);
      if (path) for (let k = 1; k < path.length; k++) { edges.push([path[k - 1], path[k]]); nodes.add(path[k]); }
    }
    return { nodes: [...nodes], edges, hidden, hiddenNodes: hiddenNodes.size, title, core, focusNode: mode.startsWith("node:") ? Number(mode.slice(5)) : -1 };
  }

  function shortestPath(a, b) {
    const prev = new Int32Array(N).fill(-2);
    prev[a] = -1;
    const queue = [a];
    while (queue.length) {
      const s = queue.shift();
      if (s === b) break;
      for (let d = 0; d < N; d++) if (prev[d] === -2 && d !== s && levelOf(s, d) > 0 && visible(d)) { prev[d] = s; queue.push(d); }
    }
    if (prev[b] === -2) return null;
    const path = [];
    for (let x = b; x !== -1; x = prev[x]) path.unshift(x);
    return path;
  }

  function overviewModel() {
    const list = nsOrder.filter((ns) => !state.hidden.has(ns) && byNs.get(ns).some(visible));
    const pairs = [];
    let hidden = 0;
    const hiddenNodes = new Set();
    for (let s = 0; s < N; s++) {
      if (!visible(s)) continue;
      for (let d = 0; d < N; d++) {
        const changed = change(s, d) !== "same";
        if (!visible(d) || D.nodes[s].ns === D.nodes[d].ns || (levelOf(s, d) <= 0 && !changed)) continue;
        if (!decided(s, d) && !state.showOpen && !changed) { hidden++; hiddenNodes.add(s); hiddenNodes.add(d); continue; }
        pairs.push([s, d]);
      }
    }
    return { list, pairs, hidden, hiddenNodes: hiddenNodes.size };
  }

  const textWidth = (t, px) => Math.ceil(t.length * px * 0.6) + 4;

  // What to draw: nodes (groups, or whole namespaces standing for their groups) and edges.
  // Past AGGREGATE_OVER nodes, the peers outside the focus are drawn as their namespaces.
  const AGGREGATE_OVER = 60;
  function drawable(model) {
    const nodes = new Map(), edges = new Map();
    const nsNode = (ns) => {
      const id = `s:${ns}`;
      if (!nodes.has(id)) {
        const label = `${nsName(ns)} (${byNs.get(ns).filter(visible).length})`;
        nodes.set(id, { id, ns, label, sub: "namespace", kind: "ns" });
      }
      return id;
    };
    const groupNode = (i) => {
      const id = `n:${i}`;
      if (!nodes.has(id)) {
        const n = D.nodes[i];
        const sub = n.members && n.members.length > 1 ? plural(n.members.length, "pod") : n.host ? "host network" : "";
        nodes.set(id, { id, i, ns: n.ns, label: diffMark(i) + shortName(i), sub, kind: "group" });
      }
      return id;
    };
    const addEdge = (a, b, s, d) => {
      const key = `${a}>${b}`;
      const e = edges.get(key) || { id: key, from: a, to: b, pairs: [] };
      e.pairs.push([s, d]);
      edges.set(key, e);
    };
    if (model.overview) {
      const ov = overviewModel();
      for (const ns of ov.list) nsNode(ns);
      for (const [s, d] of ov.pairs) addEdge(nsNode(D.nodes[s].ns), nsNode(D.nodes[d].ns), s, d);
      return { nodes, edges, hidden: ov.hidden, hiddenNodes: ov.hiddenNodes, aggregated: true };
    }
    const aggregate = model.nodes.length > AGGREGATE_OVER;
    const core = (i) => !aggregate || model.core(i);
    for (const i of model.nodes) if (core(i)) groupNode(i);
    for (const [s, d] of model.edges) {
      const a = core(s) ? groupNode(s) : nsNode(D.nodes[s].ns);
      const b = core(d) ? groupNode(d) : nsNode(D.nodes[d].ns);
      if (a !== b) addEdge(a, b, s, d);
    }
    return { nodes, edges, hidden: model.hidden, hiddenNodes: model.hiddenNodes, aggregated: aggregate };
  }

  function edgeKind(e) {
    if (e.pairs.length === 1) {
      const [s, d] = e.pairs[0];
      const c = change(s, d);
      if (c !== "same") return c;
      return levelOf(s, d) === 2 ? (decided(s, d) ? "all" : "open") : "some";
    }
    const kinds = new Set(e.pairs.map(([s, d]) => change(s, d)));
    kinds.delete("same");
    if (kinds.size) return kinds.size === 1 ? [...kinds][0] : "changed";
    return e.pairs.every(([s, d]) => levelOf(s, d) === 2) ? (e.pairs.some(([s, d]) => decided(s, d)) ? "all" : "open") : "some";
  }

  function renderGraph() {
    const svgEl = $("graph");
    svgEl.replaceChildren();
    fillFocusOptions();
    const model = graphModel();
    const note = $("graph-note");
    const draw = drawable(model);
    const n = draw.nodes.size, m = draw.edges.size;
    window.stockade.lastLayoutMs = 0;
    const hiddenText = draw.hidden ? ` Unrestricted, not drawn: ${plural(draw.hidden, "connection")} on all ports among ${plural(draw.hiddenNodes, "group")} that no policy isolates on that side (tick "show unrestricted edges").` : "";
    window.stockade.lastLayout = { nodes: n, edges: m };
    if (n > GRAPH_MAX_NODES || m > GRAPH_MAX_EDGES) {
      note.textContent = `${model.title}: ${plural(n, "node")} and ${plural(m, "edge")}: too dense to draw (limits ${GRAPH_MAX_NODES} and ${GRAPH_MAX_EDGES}). Pick a narrower focus: a namespace, a group or a policy.${hiddenText}`;
      return;
    }
    note.textContent = `${model.title}: ${plural(n, "node")}, ${plural(m, "edge")}${draw.aggregated && !model.overview ? "; peers outside the focus drawn as their namespaces (click one to open it)" : ""}.${hiddenText}`;
    const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
    g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 55, edgesep: 8, marginx: 16, marginy: 16 });
    g.setDefaultEdgeLabel(() => ({}));
    const clusters = new Set();
    for (const node of draw.nodes.values()) {
      g.setNode(node.id, { ...node, width: Math.max(textWidth(node.label, 11), textWidth(node.sub, 9)) + 26, height: node.sub ? 36 : 26 });
      if (node.kind === "group") {
        const cluster = `c:${node.ns}`;
        if (!clusters.has(cluster)) { clusters.add(cluster); g.setNode(cluster, { label: nsName(node.ns), cluster: true }); }
        g.setParent(node.id, cluster);
      }
    }
    for (const e of draw.edges.values()) {
      const one = e.pairs.length === 1 ? e.pairs[0] : null;
      const label = !one ? plural(e.pairs.length, "connection")
        : change(...one) !== "same" ? `${beforeOf(...one)} → ${gone(...one) ? "—" : textOf(...one)}` : textOf(...one);
      g.setEdge(e.from, e.to, { ...e, label, width: textWidth(label, 10), height: 14, labelpos: "c" }, e.id);
    }
    const started = performance.now();
    dagre.layout(g);
    window.stockade.lastLayoutMs = performance.now() - started;
    drawSvg(g, model);
  }

  const EDGE_COLOURS = { all: COLOURS.all, some: "#b7791f", open: "#7fbf9a", gained: COLOURS.gained, lost: COLOURS.lost, changed: COLOURS.changed };
  function drawSvg(g, model) {
    const svgEl = $("graph");
    const defs = svg("defs");
    for (const [name, colour] of Object.entries(EDGE_COLOURS)) {
      defs.append(svg("marker", { id: `arrow-${name}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
        svg("path", { d: "M0,0 L10,5 L0,10 z", fill: colour })));
    }
    const root = svg("g", { id: "graph-root" });
    svgEl.append(defs, root);
    for (const id of g.nodes()) {
      const n = g.node(id);
      if (!n.cluster) continue;
      root.append(svg("g", { class: "cluster", "data-cluster": n.label },
        svg("rect", { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height }),
        svg("text", { x: n.x - n.width / 2 + 8, y: n.y - n.height / 2 + 14 }, n.label)));
    }
    for (const id of g.edges()) {
      const e = g.edge(id);
      const kind = edgeKind(e);
      const colour = EDGE_COLOURS[kind];
      const single = e.pairs.length === 1;
      const name = (x) => { const n = g.node(x); return n.kind === "ns" ? `ns:${n.ns}` : D.nodes[n.i].name; };
      const attrs = { class: "edge", "data-src": name(e.from), "data-dst": name(e.to), "data-text": e.label, "data-change": kind,
        onclick: () => (single ? showCell(...e.pairs[0]) : showPairs(e.pairs, `${name(e.from)} → ${name(e.to)}`)) };
      const pts = e.points;
      let d = `M${pts[0].x},${pts[0].y}`;
      for (let k = 1; k < pts.length; k++) d += ` L${pts[k].x},${pts[k].y}`;
      root.append(svg("g", attrs,
        svg("path", { class: "hitarea", d }),
        svg("path", { d, stroke: colour, "marker-end": `url(#arrow-${kind})`, "stroke-dasharray": kind === "open" ? "5,4" : null }),
        svg("rect", { x: e.x - e.width / 2, y: e.y - 7, width: e.width, height: 14, fill: "#fff", opacity: 0.9 }),
        svg("text", { x: e.x, y: e.y + 4, "text-anchor": "middle", fill: colour }, e.label)));
    }
    for (const id of g.nodes()) {
      const n = g.node(id);
      if (n.cluster) continue;
      const x = n.x - n.width / 2, y = n.y - n.height / 2;
      const label = [svg("rect", { x, y, width: n.width, height: n.height }),
        svg("text", { x: n.x, y: n.sub ? n.y - 2 : n.y + 4, "text-anchor": "middle" }, n.label)];
      if (n.sub) label.push(svg("text", { x: n.x, y: n.y + 12, "text-anchor": "middle", style: "font-size:9px;fill:#616e7c" }, n.sub));
      if (n.kind === "ns") {
        root.append(svg("g", { class: "node namespace", "data-ns": n.ns, onclick: () => { state.focus = `ns:${n.ns}`; renderGraph(); } }, ...label));
        continue;
      }
      const i = n.i, node = D.nodes[i];
      const cls = ["node", node.range ? "address" : "", i === model.focusNode ? "focus" : "", state.matches && state.matches.has(i) ? "hit" : "", diffClass(i).trim()].join(" ");
      const group = svg("g", { class: cls, "data-node": node.name, "data-in": node.in.length ? "isolated" : "open", "data-out": node.out.length ? "isolated" : "open", onclick: () => showNode(i) }, ...label);
      // Isolation marks: a bar where traffic enters (ingress, left) or leaves (egress, right).
      if (node.in.length) group.append(svg("rect", { class: "iso", x, y: y + 3, width: 4, height: n.height - 6 }, svg("title", {}, "isolated for ingress")));
      if (node.out.length) group.append(svg("rect", { class: "iso", x: x + n.width - 4, y: y + 3, width: 4, height: n.height - 6 }, svg("title", {}, "isolated for egress")));
      if (findingsOfNode.has(i)) group.append(svg("text", { x: x + n.width - 10, y: y + 11, style: "fill:#b45309;font-size:11px" }, "⚠"));
      root.append(group);
    }
    // Natural size when it fits; else shrunk to fit, but never below 55 % (pan
    // and zoom with the mouse for the rest).
    const gw = g.graph(), svgBox = $("graph");
    const cw = svgBox.clientWidth || 800, ch = svgBox.clientHeight || 600;
    const scale = Math.min(1, Math.max(0.55, Math.min(cw / (gw.width || 1), ch / (gw.height || 1))));
    view = { x: 0, y: Math.min(0, ((gw.height || 0) - ch / scale) / 2), w: cw / scale, h: ch / scale };
    applyView();
    const sel = state.selected;
    if (sel && sel.kind === "cell") highlightGraphEdge(sel.s, sel.d);
  }

  function showPairs(pairs, title) {
    state.selected = { kind: "pairs" };
    const list = el("div", {});
    for (const [s, d] of pairs.slice(0, 60)) list.append(el("div", {}, el("a", { class: "link", onclick: () => showCell(s, d) }, `${D.nodes[s].name} → ${D.nodes[d].name}`), `: ${textOf(s, d)}`));
    if (pairs.length > 60) list.append(el("div", { class: "muted" }, `... and ${pairs.length - 60} more`));
    details(el("h2", {}, title), el("div", {}, plural(pairs.length, "connection")), list);
  }

  let view = { x: 0, y: 0, w: 100, h: 100 };
  function applyView() { $("graph").setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`); }
  function highlightGraphEdge(s, d) {
    for (const e of document.querySelectorAll("#graph .edge.selected")) e.classList.remove("selected");
    const found = [...document.querySelectorAll("#graph .edge")].find((e) => e.dataset.src === D.nodes[s].name && e.dataset.dst === D.nodes[d].name);
    if (found) found.classList.add("selected");
  }

  function fillFocusOptions() {
    const select = $("focus");
    const options = [["auto", "Automatic"], ["overview", "Overview: namespaces"], ["all", "Every group"]];
    if (DIFF) options.splice(1, 0, ["changes", "What changed"]);
    for (const ns of nsOrder) if (!state.hidden.has(ns)) options.push([`ns:${ns}`, `Namespace ${nsName(ns)}`]);
    if (state.focus.startsWith("node:")) options.push([state.focus, `Group ${D.nodes[Number(state.focus.slice(5))].name}`]);
    if (state.focus.startsWith("policy:")) options.push([state.focus, `Policy ${D.policies[Number(state.focus.slice(7))].key}`]);
    if (state.focus.startsWith("path:")) options.push([state.focus, "Path"]);
    select.replaceChildren(...options.map(([v, t]) => el("option", { value: v, selected: v === state.focus }, t)));
  }

  // ---- policies ------------------------------------------------------------------------
  function renderPolicies() {
    const list = $("policy-list");
    const shown = D.policies.map((p, k) => k).filter((k) => !state.hidden.has(D.policies[k].ns) &&
      (!state.search || D.policies[k].key.toLowerCase().includes(state.search) || D.policies[k].subjects.some((i) => state.matches.has(i))));
    list.replaceChildren(el("div", { class: "muted" }, `${plural(shown.length, "policy")}${D.policies.length !== shown.length ? ` of ${D.policies.length}` : ""}`),
      ...shown.map((k) => policyCard(k, true)));
  }

  // ---- frame: tabs, filters, legend, summary --------------------------------------------
  function switchView(v) {
    state.view = v;
    for (const b of document.querySelectorAll(".tab")) b.classList.toggle("active", b.dataset.view === v);
    for (const name of ["matrix", "graph", "policies", "changes"]) $(`view-${name}`).hidden = name !== v;
    render();
  }
  function render() {
    if (state.view === "matrix") drawMatrix();
    else if (state.view === "graph") renderGraph();
    else if (state.view === "changes") $("change-list").replaceChildren(...diffSummary(true));
    else renderPolicies();
  }

  function legend() {
    const sw = (colour, label) => el("span", {}, el("span", { class: "sw", style: `background:${colour}` }), label);
    const items = [sw(COLOURS.all, "all ports, decided by a policy"), sw(COLOURS.open, "all ports, unrestricted (no policy isolates either end)"),
      sw(COLOURS.some, "some ports (hover for which)"), sw(COLOURS.none, "none"), sw(COLOURS.na, "not computed (address to address)")];
    if (D.changes) items.unshift(sw(COLOURS.gained, "gained"), sw(COLOURS.lost, "lost"), sw(COLOURS.changed, "changed ports"));
    if (DIFF) {
      if (D.nodes.some((n) => n.added)) items.push(el("span", { class: "lbl-legend added" }, "+ group only the new side has"));
      if (D.nodes.some((n) => n.removed)) items.push(el("span", { class: "lbl-legend removed" }, "− group only the old side had"));
      items.push(el("span", { class: "muted" }, "faded: unchanged; address ranges as the new side has them (diff compares pods)"));
    }
    items.push(el("span", {}, el("span", { class: "sw", style: "background:#fff;border-left:4px solid #1e3a8a" }), "graph: isolated for ingress (left bar) / egress (right bar)"));
    if (D.findings.length) items.push(el("span", { style: "color:#b45309" }, "⚠ lint finding"));
    $("legend").replaceChildren(...items);
  }

  function summary() {
    const groups = D.nodes.filter((n) => !n.range && !n.removed);
    const pods = groups.reduce((n, g) => n + g.members.length, 0);
    const ranges = D.nodes.filter((n) => n.range).length;
    const isoIn = groups.filter((g) => g.in.length).length, isoOut = groups.filter((g) => g.out.length).length;
    const diffText = DIFF ? `diff: ${plural(DIFF.connections, DIFF.perPod ? "pod pair" : "group pair")} changed · endpoints +${DIFF.endpoints.added.length} −${DIFF.endpoints.removed.length} · ` +
      `policies +${DIFF.policies.added.length} −${DIFF.policies.removed.length} ~${DIFF.policies.modified.length} · new side: ` : "";
    $("summary").textContent = diffText + `${plural(groups.length, "group")} of ${plural(pods, "pod")} in ${plural(D.namespaces.length, "namespace")} · ` +
      `${plural(ranges, "address range")} · ${plural(D.policies.length, "policy")} · ` +
      `isolated: ${isoIn} for ingress, ${isoOut} for egress` + (D.findings.length ? ` · ${plural(D.findings.length, "lint finding")}` : "") +
      (D.sources.length ? ` · from ${D.sources.join(", ")}` : "");
    $("notes").replaceChildren(...D.notes.map((t) => el("div", {}, t)), el("div", {}, `stockade ${D.version}`));
  }

  function namespaceFilter() {
    const list = $("ns-list");
    list.replaceChildren(...nsOrder.map((ns) => el("label", {},
      el("input", { type: "checkbox", value: ns, checked: !state.hidden.has(ns), "data-ns": ns,
        onchange: (ev) => { if (ev.target.checked) state.hidden.delete(ns); else state.hidden.add(ns); updateNsButton(); render(); } }),
      ` ${nsName(ns)} (${byNs.get(ns).length})`)));
    updateNsButton();
  }
  function updateNsButton() {
    const shown = nsOrder.filter((ns) => !state.hidden.has(ns)).length;
    $("ns-button").textContent = shown === nsOrder.length ? "Namespaces: all" : `Namespaces: ${shown} of ${nsOrder.length}`;
  }

  function wire() {
    for (const b of document.querySelectorAll(".tab")) b.addEventListener("click", () => switchView(b.dataset.view));
    $("search").addEventListener("input", (ev) => applySearch(ev.target.value));
    $("search").addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") { ev.target.value = ""; applySearch(""); }
      if (ev.key === "Enter" && state.matches && state.matches.size) showNode([...state.matches][0]);
    });
    $("ns-button").addEventListener("click", () => { $("ns-panel").hidden = !$("ns-panel").hidden; });
    $("ns-all").addEventListener("click", () => { state.hidden.clear(); namespaceFilter(); render(); });
    $("ns-none").addEventListener("click", () => { nsOrder.forEach((ns) => state.hidden.add(ns)); namespaceFilter(); render(); });
    document.addEventListener("click", (ev) => { if (!ev.target.closest(".dropdown")) $("ns-panel").hidden = true; });
    $("expand-all").addEventListener("click", () => { state.collapsed.clear(); drawMatrix(); });
    $("collapse-all").addEventListener("click", () => { nsOrder.forEach((ns) => state.collapsed.add(ns)); drawMatrix(); });
    const cells = $("cells"), tip = $("tooltip");
    cells.addEventListener("mousemove", (ev) => {
      const at = cellFromEvent(ev);
      if (!at) { tip.hidden = true; return; }
      const a = axis[at.r], b = axis[at.c];
      const name = (e) => (e.kind === "ns" ? nsName(e.ns) : D.nodes[e.i].name);
      let text;
      if (a.kind === "node" && b.kind === "node") {
        text = `${name(a)} → ${name(b)}: ${textOf(a.i, b.i) || "not computed"}`;
        if (D.changes && change(a.i, b.i) !== "same") text += ` (${change(a.i, b.i)}; before: ${beforeOf(a.i, b.i)})`;
      } else {
        const agg = aggregate(a, b);
        text = `${name(a)} → ${name(b)}: ${agg.counts[2]} all, ${agg.counts[1]} some ports, ${agg.counts[0]} none`;
      }
      tip.textContent = text;
      tip.hidden = false;
      tip.style.left = `${ev.clientX + 14}px`; tip.style.top = `${ev.clientY + 12}px`;
      drawOverlay(at);
    });
    cells.addEventListener("mouseleave", () => { tip.hidden = true; drawOverlay(); });
    cells.addEventListener("click", (ev) => {
      const at = cellFromEvent(ev);
      if (!at) return;
      const a = axis[at.r], b = axis[at.c];
      if (a.kind === "node" && b.kind === "node") showCell(a.i, b.i); else showBlock(a, b);
    });
    $("focus").addEventListener("change", (ev) => { state.focus = ev.target.value; renderGraph(); });
    $("show-open").addEventListener("change", (ev) => { state.showOpen = ev.target.checked; renderGraph(); });
    $("node-names").replaceChildren(...D.nodes.map((n) => el("option", { value: n.name })));
    $("path-go").addEventListener("click", () => {
      const a = nodeIndex.get($("path-from").value.trim()), b = nodeIndex.get($("path-to").value.trim());
      if (a === undefined || b === undefined) { $("graph-note").textContent = "Name two groups (or address ranges) exactly, as the list offers them."; return; }
      state.focus = `path:${a}>${b}`; renderGraph();
    });
    // Pan and zoom the graph.
    const svgEl = $("graph");
    let drag = null;
    svgEl.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y }; });
    window.addEventListener("mouseup", () => { drag = null; });
    svgEl.addEventListener("mousemove", (ev) => {
      if (!drag) return;
      const k = view.w / svgEl.clientWidth;
      view.x = drag.vx - (ev.clientX - drag.x) * k; view.y = drag.vy - (ev.clientY - drag.y) * k;
      applyView();
    });
    svgEl.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const rect = svgEl.getBoundingClientRect();
      const f = ev.deltaY > 0 ? 1.15 : 1 / 1.15;
      const px = view.x + ((ev.clientX - rect.left) / rect.width) * view.w, py = view.y + ((ev.clientY - rect.top) / rect.height) * view.h;
      view = { x: px - (px - view.x) * f, y: py - (py - view.y) * f, w: view.w * f, h: view.h * f };
      applyView();
    }, { passive: false });
    window.addEventListener("resize", () => { if (state.view === "matrix") drawMatrix(); });
  }

  // ---- for tests and scripting: positions of cells, the state, selections ----------------
  window.stockade = {
    data: D,
    lastLayoutMs: 0,
    lastLayout: null,
    axisNames: () => axis.map((e) => (e.kind === "ns" ? `ns:${e.ns}` : D.nodes[e.i].name)),
    cellCenter(from, to) {
      const r = axis.findIndex((e) => (e.kind === "ns" ? `ns:${e.ns}` : D.nodes[e.i].name) === from);
      const c = axis.findIndex((e) => (e.kind === "ns" ? `ns:${e.ns}` : D.nodes[e.i].name) === to);
      if (r < 0 || c < 0) return null;
      const { size } = geometry;
      const canvas = $("cells");
      const scroll = $("matrix-scroll");
      const x = canvas.offsetLeft + c * size + size / 2, y = canvas.offsetTop + r * size + size / 2;
      scroll.scrollLeft = Math.max(0, x - scroll.clientWidth / 2); scroll.scrollTop = Math.max(0, y - scroll.clientHeight / 2);
      const rect = canvas.getBoundingClientRect();
      return { x: rect.left + c * size + size / 2, y: rect.top + r * size + size / 2 };
    },
    explanation: (from, to) => explanation(nodeIndex.get(from), nodeIndex.get(to)).map((x) => x.lines.join("\n")),
    focus: focusGraph,
  };

  function start() {
    const groups = D.nodes.filter((n) => !n.range).length;
    if (groups > EXPAND_UP_TO) nsOrder.forEach((ns) => state.collapsed.add(ns));
    if (byNs.has(OUTSIDE) && byNs.get(OUTSIDE).length > 12) state.collapsed.add(OUTSIDE);
    summary(); legend(); namespaceFilter(); wire();
    if (DIFF) {
      for (const b of document.querySelectorAll(".tab[data-view=changes]")) b.hidden = false;
      details(...diffSummary(false));
    }
    render();
    document.body.dataset.ready = "true";
  }
  start();
})();
