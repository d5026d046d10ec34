// The wfnb explorer's front end (anywidget ES module, no build step).
// Pan: drag; zoom: wheel or the buttons (the SVG's viewBox is rewritten); fit: the whole
// drawing. Click a status or an entity: a request to Python (model.send), whose answer
// (a panel of HTML built server-side, values escaped there) lands below the drawing.
// Hover an edge: its count, median, p90, steps, use cases and requester types (trait "edges").

const OVERLAYS = [
  ["none", "Plain"], ["heat", "History heat"], ["deviations", "Deviations"],
  ["requester", "Requester view"], ["diff", "Version diff"],
];

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function options(select, values, current, blank) {
  select.replaceChildren();
  if (blank !== undefined) select.append(el("option", { value: "" }, blank));
  for (const v of values) select.append(el("option", { value: v }, v));
  select.value = current;
}

function render({ model, el: root }) {
  root.classList.add("wfnb-explorer");
  // typing in the explorer's fields is not a notebook shortcut (Enter, arrows, letters)
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  const bar = el("div", { class: "wfnb-bar-top" });
  const wfSelect = el("select", { class: "wfnb-workflow", "aria-label": "workflow" });
  const overlayBox = el("span", { class: "wfnb-overlays", role: "group" });
  const buttons = {};
  for (const [value, label] of OVERLAYS) {
    const b = el("button", { class: "wfnb-overlay", "data-overlay": value, type: "button" }, label);
    b.onclick = () => { model.set("overlay", value); model.save_changes(); };
    buttons[value] = b;
    overlayBox.append(b);
  }
  const reqSelect = el("select", { class: "wfnb-requester", "aria-label": "requester type" });
  const tenantSelect = el("select", { class: "wfnb-tenant", "aria-label": "tenant" });
  const revOld = el("input", { class: "wfnb-rev-old", placeholder: "old rev (HEAD)", size: "12" });
  const revNew = el("input", { class: "wfnb-rev-new", placeholder: "new rev (work tree)", size: "14" });
  const compare = el("button", { class: "wfnb-compare", type: "button" }, "Compare");
  const zoom = el("span", { class: "wfnb-zoom" });
  const zIn = el("button", { class: "wfnb-zoom-in", type: "button", title: "zoom in" }, "+");
  const zOut = el("button", { class: "wfnb-zoom-out", type: "button", title: "zoom out" }, "−");
  const zFit = el("button", { class: "wfnb-fit", type: "button", title: "the whole drawing" }, "Fit");
  zoom.append(zOut, zIn, zFit);
  bar.append(wfSelect, overlayBox, reqSelect, revOld, revNew, compare, tenantSelect, zoom);
  const note = el("div", { class: "wfnb-note" });
  const message = el("div", { class: "wfnb-message" });
  const stage = el("div", { class: "wfnb-stage" });
  const tip = el("div", { class: "wfnb-tip" });
  const panel = el("div", { class: "wfnb-panel" });
  root.append(bar, note, message, stage, panel);
  stage.append(tip);

  let svg = null, base = null, view = null, shown = null;
  const state = { status: null, search: "", page: 0, total: 0, size: 20, seq: 0 };

  function setView(v) {
    view = v;
    if (svg) svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
    root.dataset.zoom = (base.w / v.w).toFixed(3);
  }
  function zoomBy(f, cx, cy) {
    if (!view) return;
    const px = cx === undefined ? view.x + view.w / 2 : cx;
    const py = cy === undefined ? view.y + view.h / 2 : cy;
    const w = view.w / f, h = view.h / f;
    setView({ x: px - (px - view.x) / f, y: py - (py - view.y) / f, w, h });
  }
  function toDrawing(evt) {
    const r = svg.getBoundingClientRect();
    return { x: view.x + (evt.clientX - r.left) / r.width * view.w,
             y: view.y + (evt.clientY - r.top) / r.height * view.h };
  }
  zIn.onclick = () => zoomBy(1.25);
  zOut.onclick = () => zoomBy(0.8);
  zFit.onclick = () => base && setView({ ...base });

  // The whole drawing when its labels stay legible (>= 7 px); else the top left (where
  // the title and the initial status are) at 10 px labels, as the static viewer opens.
  function opening(whole) {
    const w = stage.clientWidth || 900, h = stage.clientHeight || 480;
    const scale = Math.min(w / whole.w, h / whole.h);
    if (scale >= 0.7) return { ...whole };
    return { x: whole.x, y: whole.y, w: w, h: h };
  }

  function draw() {
    const text = model.get("svg");
    if (text === shown) return;
    shown = text;
    stage.querySelectorAll("svg").forEach((s) => s.remove());
    stage.insertAdjacentHTML("afterbegin", text.replace(/^[\s\S]*?(<svg\b)/, "$1"));
    svg = stage.querySelector("svg");
    if (!svg) return;
    const vb = svg.getAttribute("viewBox").split(/[\s,]+/).map(Number);
    const fresh = { x: vb[0], y: vb[1], w: vb[2], h: vb[3] };
    svg.removeAttribute("width"); svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    const same = base && base.w === fresh.w && base.h === fresh.h;
    base = fresh;
    setView(same && view ? view : opening(fresh));
    root.dataset.statuses = String(svg.querySelectorAll("g.wfnb-status").length);
    model.send({ kind: "edges", id: -1 });  // hover numbers, after the first paint
  }

  let drag = null;
  stage.addEventListener("pointerdown", (e) => {
    if (!svg || e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, view: { ...view }, moved: false };
  });
  stage.addEventListener("pointermove", (e) => {
    if (drag) {
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      if (drag.moved) {
        const r = svg.getBoundingClientRect();
        const s = Math.max(drag.view.w / r.width, drag.view.h / r.height);
        setView({ ...drag.view, x: drag.view.x - dx * s, y: drag.view.y - dy * s });
      }
    }
    const g = e.target.closest && e.target.closest("g.wfnb-edge");
    if (!g || drag) { tip.style.display = "none"; return; }
    const info = model.get("edges")[g.dataset.edge];
    if (!info) { tip.style.display = "none"; return; }
    const list = (xs) => (xs.length ? xs.join(", ") : "—");
    tip.replaceChildren(
      el("b", {}, `${info.from} → ${info.to}`),
      el("div", {}, `taken ${info.count.toLocaleString("en")} times · median ${info.median} · p90 ${info.p90}`),
      el("div", {}, `steps: ${list(info.steps)}`),
      el("div", {}, `use cases: ${list(info.use_cases)}`),
      el("div", {}, `requester types: ${list(info.requesters)}`),
    );
    const r = stage.getBoundingClientRect();
    tip.style.left = `${Math.min(e.clientX - r.left + 14, r.width - 330)}px`;
    tip.style.top = `${e.clientY - r.top + 14}px`;
    tip.style.display = "block";
  });
  stage.addEventListener("pointerleave", () => { tip.style.display = "none"; });
  window.addEventListener("pointerup", (e) => {
    if (!drag) return;
    const moved = drag.moved;
    drag = null;
    if (moved) return;
    const g = e.target.closest && e.target.closest("g.wfnb-status");
    if (g && stage.contains(g)) askStatus(g.dataset.status, "", 0);
  });
  stage.addEventListener("wheel", (e) => {
    if (!svg) return;
    e.preventDefault();
    const p = toDrawing(e);
    zoomBy(e.deltaY < 0 ? 1.15 : 1 / 1.15, p.x, p.y);
  }, { passive: false });

  function ask(body) {
    state.seq += 1;
    panel.classList.add("wfnb-loading");
    model.send({ ...body, id: state.seq });
  }
  function askStatus(status, search, page) {
    Object.assign(state, { status, search, page });
    svg.querySelectorAll("g.wfnb-selected").forEach((g) => g.classList.remove("wfnb-selected"));
    svg.querySelectorAll("g.wfnb-status").forEach((g) => {
      if (g.dataset.status === status) g.classList.add("wfnb-selected");
    });
    ask({ kind: "status", status, search, page });
  }
  function statusControls() {
    const box = el("div", { class: "wfnb-panel-controls" });
    const search = el("input", { class: "wfnb-search", placeholder: "filter entity ids", value: state.search });
    search.value = state.search;
    search.onkeydown = (e) => { if (e.key === "Enter") askStatus(state.status, search.value, 0); };
    const go = el("button", { type: "button", class: "wfnb-filter" }, "Filter");
    go.onclick = () => askStatus(state.status, search.value, 0);
    const prev = el("button", { type: "button", class: "wfnb-prev" }, "‹ Previous");
    const next = el("button", { type: "button", class: "wfnb-next" }, "Next ›");
    prev.disabled = state.page === 0;
    next.disabled = (state.page + 1) * state.size >= state.total;
    prev.onclick = () => askStatus(state.status, state.search, state.page - 1);
    next.onclick = () => askStatus(state.status, state.search, state.page + 1);
    box.append(search, go, prev, next);
    return box;
  }
  model.on("msg:custom", (msg) => {
    if (msg.kind !== "panel" || msg.id !== state.seq) return;
    panel.classList.remove("wfnb-loading");
    if (msg.error) { panel.replaceChildren(el("div", { class: "wfnb-error" }, msg.error)); return; }
    panel.innerHTML = msg.html;
    if (msg.total !== undefined) {
      Object.assign(state, { total: msg.total, size: msg.size });
      panel.prepend(statusControls());
      panel.querySelectorAll("tbody tr").forEach((tr) => {
        const cell = tr.querySelector("td");
        if (!cell) return;
        cell.classList.add("wfnb-entity");
        cell.title = "show this entity's timeline";
        cell.onclick = () => ask({ kind: "entity", entity: cell.textContent.trim() });
      });
    } else {
      const back = el("button", { type: "button", class: "wfnb-back" }, `‹ back to ${state.status || "the status"}`);
      back.onclick = () => state.status && askStatus(state.status, state.search, state.page);
      panel.prepend(back);
    }
  });

  function sync() {
    options(wfSelect, model.get("workflows"), model.get("workflow"));
    options(reqSelect, model.get("requesters"), model.get("requester"));
    options(tenantSelect, model.get("tenants"), model.get("tenant"), "every tenant");
    tenantSelect.style.display = model.get("tenants").length ? "" : "none";
    const overlay = model.get("overlay");
    for (const [v, b] of Object.entries(buttons)) b.classList.toggle("wfnb-on", v === overlay);
    root.dataset.overlay = overlay;
    reqSelect.style.display = overlay === "requester" ? "" : "none";
    revOld.style.display = revNew.style.display = overlay === "diff" ? "" : "none";
    compare.style.display = overlay === "diff" ? "" : "none";
    for (const [input, name] of [[revOld, "rev_old"], [revNew, "rev_new"]]) {
      if (document.activeElement !== input) input.value = model.get(name);  // not mid-typing
    }
    note.textContent = model.get("note");
    message.textContent = model.get("message");
    draw();
  }
  const push = (name, value) => { model.set(name, value); model.save_changes(); };
  wfSelect.onchange = () => { panel.replaceChildren(); push("workflow", wfSelect.value); };
  reqSelect.onchange = () => push("requester", reqSelect.value);
  tenantSelect.onchange = () => push("tenant", tenantSelect.value);
  revOld.onchange = () => push("rev_old", revOld.value.trim());
  revNew.onchange = () => push("rev_new", revNew.value.trim());
  const compareRevs = () => {
    model.set("rev_old", revOld.value.trim());
    model.set("rev_new", revNew.value.trim());
    model.save_changes();
  };
  compare.onclick = compareRevs;
  revOld.onkeydown = revNew.onkeydown = (e) => { if (e.key === "Enter") compareRevs(); };
  for (const name of ["svg", "workflow", "workflows", "overlay", "requester", "requesters",
    "tenant", "tenants", "note", "message", "rev_old", "rev_new"]) {
    model.on(`change:${name}`, sync);
  }
  model.on("change:edges", () => {
    root.dataset.edges = String(Object.keys(model.get("edges")).length);  // hover data is in
  });
  sync();
}

export default { render };
