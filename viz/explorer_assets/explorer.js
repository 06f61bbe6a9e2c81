// The explorer's script. It computes nothing but w_new for an edited eta: every other
// number on the page was computed by chainrule and sits in the JSON above. Each state
// sets classes and texts on the one SVG, so the layout never moves. The JSON's "...Html"
// and caption strings are HTML that chainrule escaped; every other text is set as text.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const last = data.steps.length - 1;
  const $ = (id) => document.getElementById(id);
  const svg = document.querySelector("#picture svg");
  const select = $("weight");
  const eta = $("eta");
  let step = 0;
  let picked = null; // index into data.weights, or null
  let source = "sample";

  // Graphviz's own classes ("node", "edge", "node pick"), kept under the state classes.
  const base = new Map();
  for (const el of svg.querySelectorAll("g.node, g.edge")) base.set(el, el.getAttribute("class"));
  const setState = (el, cls) => el && el.setAttribute("class", base.get(el) + (cls ? " " + cls : ""));
  const setText = (id, text) => { const el = $(id); if (el) el.textContent = text; };

  // %g with `digits` significant digits, as Python writes numbers everywhere else on the page.
  function fmt(x, digits) {
    if (x === 0) return "0";
    if (!isFinite(x)) return String(x);
    const exponent = Number(x.toExponential(digits - 1).split("e")[1]);
    const trim = (s) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
    if (exponent < -4 || exponent >= digits) {
      const [mantissa, e] = x.toExponential(digits - 1).split("e");
      const n = Number(e);
      return trim(mantissa) + "e" + (n < 0 ? "-" : "+") + String(Math.abs(n)).padStart(2, "0");
    }
    return trim(x.toFixed(Math.max(0, digits - 1 - exponent)));
  }
  const paren = (text) => (text.startsWith("-") ? "(" + text + ")" : text);

  function showStep(state) {
    for (const el of base.keys()) setState(el, "");
    for (const [id, [cls, grad, sum]] of Object.entries(state.nodes)) {
      setState($("node_" + id), cls);
      setText("t_g" + id, grad);
      if (sum !== undefined) setText("t_s" + id, sum);
    }
    if (state.processed) {
      setState($("node_" + state.processed + "op"), "current");
      setState($("edge_" + state.processed + "op"), "sending");
    }
    for (const [id, [cls, text]] of Object.entries(state.edges)) {
      setState($("edge_" + id), cls);
      setText("t_" + id, text);
    }
  }

  function showPick(w) {
    // The end of the backward pass, every grad complete, with w's paths in red.
    const final = data.steps[last];
    for (const el of base.keys()) setState(el, "");
    for (const [id, [cls, grad, sum]] of Object.entries(final.nodes)) {
      const onPath = w.nodes.includes(id);
      setState($("node_" + id), cls.replace(" current", "") + (onPath ? " onpath" : "") + (id === w.id ? " picked" : ""));
      setText("t_g" + id, grad);
      if (sum !== undefined) setText("t_s" + id, sum);
      if (onPath) { setState($("node_" + id + "op"), "onpath"); setState($("edge_" + id + "op"), "onpath"); }
    }
    for (const id of Object.keys(final.edges)) {
      const d = w.edges[id];
      setState($("edge_" + id), d === undefined ? "carried" : "carried onpath");
      setText("t_" + id, d === undefined ? "" : "\u00d7 " + d);
    }
  }

  function showCaption() {
    const rows = $("step-rows");
    rows.replaceChildren();
    if (picked !== null) {
      const w = data.weights[picked];
      $("step-title").innerHTML = "d" + data.rootHtml + "/d" + w.labelHtml + ": " + w.paths + (w.paths === 1 ? " path" : " paths");
      $("step-head").innerHTML = "In red: every path from " + data.rootHtml + " down to " + w.labelHtml
        + ", each edge with its local derivative. Multiply along each path, add the paths: the ledger below. "
        + "Next or \u2192 returns to the backward pass.";
      return;
    }
    const caption = data.steps[step].caption;
    $("step-title").textContent = step === 0 ? "Start" : "Step " + step;
    $("step-head").innerHTML = caption.head;
    for (const [to, product, sent] of caption.rows) {
      const tr = rows.insertRow();
      tr.insertCell().innerHTML = "\u2192 " + to;
      tr.insertCell().textContent = product;
      const cell = tr.insertCell(); cell.textContent = "= " + sent; cell.className = "sent";
    }
  }

  // The wide panel below the picture: in the backward pass, what the step sends down
  // each edge; for a picked weight, its ledger.
  function showLedger() {
    if (picked === null) {
      const sender = data.steps[step].caption.sender;
      $("ledger-title").innerHTML = sender === null ? "The chain rule, weight by weight"
        : "What " + sender + " sends down each edge: its grad \u00d7 the edge\u2019s local derivative";
      $("ledger-text").innerHTML = sender === null ? "<p>Each step, one node whose grad is complete sends it "
        + "down its edges, times each edge's local derivative. Pick a weight to see d" + data.rootHtml
        + "/dw as a sum over paths, symbol by symbol and in numbers, checked against backward().</p>" : "";
      $("ledger-where").replaceChildren();
      return;
    }
    const w = data.weights[picked];
    $("ledger-title").innerHTML = "The ledger of " + w.labelHtml + (data.batchSize === null ? "" : " (this sample)");
    $("ledger-text").innerHTML = w.ledgerHtml;
    $("ledger-where").innerHTML = w.whereHtml;
  }

  function showUpdate() {
    const none = picked === null;
    $("update-body").classList.toggle("gone", none);
    $("update-none").classList.toggle("gone", !none);
    if (none) return;
    const w = data.weights[picked];
    const batch = source === "batch" && w.batch !== undefined;
    const grad = batch ? w.batch : w.grad;
    const gradText = batch ? w.batchText : w.gradText;
    setText("u-old", w.oldText);
    setText("u-grad", gradText);
    const rate = Number(eta.value);
    const ok = eta.value.trim() !== "" && isFinite(rate) && rate > 0;
    eta.classList.toggle("bad", !ok);
    if (!ok) {
      setText("u-new", "\u2014");
      setText("u-line", "\u03b7 must be a positive number.");
      return;
    }
    const updated = w.old - rate * grad;
    setText("u-new", fmt(updated, 6));
    setText("u-line", "= " + w.oldText + " \u2212 " + fmt(rate, 6) + " \u00d7 " + paren(gradText) + " = " + fmt(updated, 6));
  }

  function render() {
    if (picked === null) showStep(data.steps[step]); else showPick(data.weights[picked]);
    svg.classList.toggle("picking", picked !== null);
    const shown = picked === null ? step : last;
    $("counter").textContent = "step " + shown + " of " + last;
    $("prev").disabled = shown === 0;
    $("next").disabled = shown === last && picked === null;
    select.value = picked === null ? "" : String(picked);
    showCaption();
    showLedger();
    showUpdate();
  }

  function go(k) {
    picked = null;
    step = Math.max(0, Math.min(last, k));
    render();
  }

  function pick(index) {
    picked = index;
    render();
  }

  const current = () => (picked === null ? step : last);
  $("prev").addEventListener("click", () => go(current() - 1));
  $("next").addEventListener("click", () => go(current() + 1));
  select.addEventListener("change", () => (select.value === "" ? go(step) : pick(Number(select.value))));
  eta.value = String(data.eta);
  eta.addEventListener("input", showUpdate);
  for (const el of document.querySelectorAll(".d-root")) el.innerHTML = "d" + data.rootHtml;
  // The panel below the picture is as tall as its longest content (a title, then a ledger
  // or a step's table under its header), whichever weight or step is shown.
  const lines = [...data.weights.map((w) => w.ledgerLines), ...data.steps.map((s) => s.caption.rows.length + 1)];
  $("ledger").style.setProperty("--ledger-lines", Math.max(...lines));
  if (data.batchSize === null) {
    document.querySelector(".source").classList.add("gone");
  } else {
    $("batch-name").textContent = "the batch: " + data.batchSize + " samples, summed";
  }
  for (const input of document.querySelectorAll('input[name="source"]')) {
    input.addEventListener("change", () => { source = input.value; showUpdate(); });
  }
  data.weights.forEach((w, index) => {
    const node = $("node_" + w.id);
    if (!node) return;
    node.setAttribute("tabindex", "0");
    node.setAttribute("role", "button");
    node.setAttribute("aria-label", "pick " + w.label);
    node.addEventListener("click", () => pick(index));
    node.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(index); } });
  });
  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.target.closest("input, select, textarea")) return;
    const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (e.key in moves) go(current() + moves[e.key]);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(last);
    else return;
    e.preventDefault();
  });
  render();
})();
