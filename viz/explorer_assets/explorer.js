// The explorer's page: the picture, the panels and the controls around one
// ChainruleEngine.Model, which computes every number. Each view reads the model and
// the step the learner is at; nothing here computes a derivative. Templates from
// Python (ledgers, formulas) carry holes, <span data-h="...">, that
// fill() writes: dN a local derivative (edge N) as a factor, rN the same as a result,
// vN a value (slot N), total, grad and verdict a ledger's sum, backward's gradient and
// whether they agree.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const $ = (id) => document.getElementById(id);
  const svg = document.querySelector("#picture svg");
  const message = $("message");
  let model;
  try {
    model = new ChainruleEngine.Model(data, CHAINRULE_OPS);
  } catch (error) {
    message.hidden = false;
    message.textContent = "This page cannot compute its graph: " + error.message;
    return;
  }
  const program = model.program;
  const nodes = data.nodes;
  const bySlot = new Map(nodes.map((n) => [n.slot, n]));
  const drawnEdges = data.edges.map((e, i) => ({ ...e, index: i })).filter((e) => e.drawn);
  const summary = data.summary !== null;
  // The picture's text is 14 of the SVG's units (explorer.py's _FONT). Fitted to its
  // panel it could shrink below reading, so it stops at 9 px on a narrow screen (at
  // 800 px the notes' network just fits, L and all) and at 10.5 px on a wide one. There
  // a picture that fitting would take below that is drawn as wide as its panel instead,
  // no smaller than readable and no larger than the page's own text, and its panel
  // scrolls. The style sheet sizes the picture from these widths; the script only says
  // when fitting is too small.
  const FONT = 14;
  const WIDE_TEXT = 10.5;
  const box = svg.viewBox.baseVal;
  svg.style.setProperty("--readable-width", `${(box.width * 9) / FONT}px`);
  svg.style.setProperty("--wide-readable-width", `${(box.width * WIDE_TEXT) / FONT}px`);
  svg.style.setProperty("--text-size-width", `${box.width / FONT}rem`);
  const picture = $("picture");
  new ResizeObserver(([panel]) => {
    const { width, height } = panel.contentRect;
    const fitted = Math.min(width / box.width, height / box.height);
    picture.classList.toggle("unfitted", fitted * FONT < WIDE_TEXT);
  }).observe(picture);
  document.body.classList.toggle("expression", data.batch === null);
  document.body.classList.toggle("summary", summary);

  // --- numbers as Python writes them -------------------------------------------------
  // %g with `digits` significant digits (viz._labels.number).
  function fmt(x, digits = 4) {
    if (x === 0) return "0";
    if (!ChainruleEngine.finite(x)) return String(x);
    const exponent = Number(x.toExponential(digits - 1).split("e")[1]);
    const trim = (s) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
    if (exponent < -4 || exponent >= digits) {
      const [mantissa, e] = x.toExponential(digits - 1).split("e");
      const n = Number(e);
      return trim(mantissa) + "e" + (n < 0 ? "-" : "+") + String(Math.abs(n)).padStart(2, "0");
    }
    return trim(x.toFixed(Math.max(0, digits - 1 - exponent)));
  }
  // In the picture's fixed cells: 4 digits, fewer if that is too wide (1.2e-05).
  function short(x) {
    let text = fmt(x, 4);
    for (let digits = 3; text.length > 8 && digits >= 2; digits--) text = fmt(x, digits);
    return text;
  }
  // As the ledgers write a number: a true minus sign, a negative one bracketed.
  const minus = (text) => text.replace(/-/g, "\u2212");
  const factor = (x, digits) => (x < 0 ? "(" + minus(fmt(x, digits)) + ")" : minus(fmt(x, digits)));

  function fill(root) {
    for (const hole of root.querySelectorAll("[data-h]")) {
      const key = hole.dataset.h;
      const kind = key[0];
      const n = Number(key.slice(1));
      if (key in holeValues) hole.textContent = holeValues[key];
      else if (kind === "d") hole.textContent = known.local(n) ? factor(model.edgeValues[n], 4) : "?";
      else if (kind === "r") hole.textContent = known.local(n) ? minus(fmt(model.edgeValues[n], 4)) : "?";
      else if (kind === "v") hole.textContent = known.value(n) ? factor(model.values[n], digitsOf(n)) : "?";
    }
  }
  let holeValues = {};
  // Significant digits of the Values the picked ledger's where block writes, slot ->
  // digits (4 for any other): see digitsToShow.
  let valueDigits = new Map();
  const digitsOf = (slot, digits = valueDigits) => digits.get(slot) ?? 4;

  // --- the steps: the forward pass Value by Value, then the backward pass -------------
  const computed = nodes.filter((n) => program.madeAt[n.slot] >= 0).sort((a, b) => a.slot - b.slot);
  const sendersOf = new Map();
  for (const edge of drawnEdges) {
    if (!sendersOf.has(edge.child)) sendersOf.set(edge.child, []);
    sendersOf.get(edge.child).push(edge);
  }
  const senders = [...sendersOf.keys()].sort((a, b) => b - a);
  const incoming = new Map();
  for (const edge of drawnEdges) incoming.set(edge.parent, (incoming.get(edge.parent) || 0) + 1);
  const F = computed.length;
  const T = F + senders.length;
  let t = T; // everything computed
  let picked = null; // a drawn node, or an editable slot of a summary
  let practice = null; // "Your turn"'s question: {edge (null: the sum over paths), verdict, solved, focus}

  // What step t has computed: values (the forward pass so far), local derivatives (an
  // edge's, once its child's value is), grads (complete once all their edges' have
  // arrived) and the backward pass so far (null before it starts). Nothing shown of the
  // picked Value or in a ledger goes beyond it.
  function knownAt() {
    const made = new Set(computed.slice(0, Math.min(t, F)).map((n) => n.slot));
    const back = t > F ? backwardUpTo(t - F) : null;
    const value = (slot) => t >= F || program.madeAt[slot] < 0 || made.has(slot);
    const arrived = (slot) => (back === null ? 0 : (back.received.get(slot) || []).length);
    return {
      back,
      value,
      local: (e) => value(data.edges[e].child),
      grad: (slot) => t === T || (back !== null && back.grads.has(slot) && arrived(slot) >= (incoming.get(slot) || 0)),
    };
  }
  let known = knownAt();
  // The backward pass up to its step j: each node's grad so far and what arrived.
  function backwardUpTo(j) {
    const received = new Map();
    const grads = new Map([[data.root, 1]]);
    const sent = new Map(); // edge index -> contribution
    let sending = [];
    for (let k = 0; k < j; k++) {
      const node = senders[k];
      const g = node === data.root ? 1 : (received.get(node) || []).reduce((a, c) => a + c, 0);
      grads.set(node, g);
      sending = [];
      for (const edge of sendersOf.get(node)) {
        const c = g * model.edgeValues[edge.index];
        sent.set(edge.index, c);
        sending.push(edge.index);
        if (!received.has(edge.parent)) received.set(edge.parent, []);
        received.get(edge.parent).push(c);
      }
    }
    for (const [slot, list] of received) if (!grads.has(slot)) grads.set(slot, list.reduce((a, c) => a + c, 0));
    return { received, grads, sent, sending, sender: j > 0 ? senders[j - 1] : null };
  }

  // --- the picture -------------------------------------------------------------------
  const base = new Map();
  for (const el of svg.querySelectorAll("g.node, g.edge")) base.set(el, el.getAttribute("class"));
  const setClass = (el, cls) => el && el.setAttribute("class", base.get(el) + (cls ? " " + cls : ""));
  const setText = (id, text) => {
    const el = $(id);
    if (el && el.textContent !== text) el.textContent = text;
  };

  function drawPicture() {
    if (summary) return drawSummary();
    const back = known.back;
    const final = t === T;
    const path = picked === null ? null : pathOf(picked);
    const secret = secrets();
    for (const el of base.keys()) setClass(el, "");
    for (const node of nodes) {
      const valueKnown = known.value(node.slot);
      setText("t_vn" + node.id.slice(1), valueKnown ? "= " + short(model.values[node.slot]) : "= ?");
      const el = $("node_" + node.id);
      const classes = [];
      if (program.needsGrad[node.slot]) {
        const expected = incoming.get(node.slot) || 0;
        const has = back !== null && back.grads.has(node.slot);
        const complete = known.grad(node.slot);
        const hidden = node.slot === secret.grad;
        const g = hidden ? null : final ? model.grads[node.slot] : has ? back.grads.get(node.slot) : null;
        setText("t_gn" + node.id.slice(1), g === null ? "?" : short(g));
        classes.push(g === null ? "nograd" : complete ? "done" : "partial");
        if (expected > 1) {
          const parts = back === null || hidden ? [] : (back.received.get(node.slot) || []).map(short);
          while (parts.length < expected) parts.push("?");
          setText("t_sn" + node.id.slice(1), "= " + parts.join(" + "));
        }
      }
      if (!valueKnown) classes.push("novalue");
      if (back !== null && back.sender === node.slot) classes.push("current");
      if (t > 0 && t <= F && computed[t - 1] === node) classes.push("current");
      if (path !== null && path.nodes.has(node.slot)) classes.push("onpath");
      if (picked === node) classes.push("picked");
      setClass(el, classes.join(" "));
      if (data.level === "op" && program.madeAt[node.slot] >= 0) {
        const current = classes.includes("current");
        setClass($("node_" + node.id + "op"), current ? "current" : path !== null && path.nodes.has(node.slot) ? "onpath" : "");
        setClass($("edge_" + node.id + "op"), current ? "sending" : path !== null && path.nodes.has(node.slot) ? "onpath" : "");
      }
    }
    for (const edge of drawnEdges) {
      const id = "e" + edge.index;
      let cls = "";
      let text = "";
      if (back !== null && back.sent.has(edge.index)) {
        cls = back.sending.includes(edge.index) ? "sending" : "carried";
        text = short(back.sent.get(edge.index));
      } else if (t > F) cls = "waiting";
      if (path !== null && path.edges.has(edge.index)) {
        cls += " onpath";
        const hide = edge.index === secret.edge || !known.local(edge.index);
        text = "\u00d7 " + (hide ? "?" : short(model.edgeValues[edge.index]));
      }
      setClass($("edge_" + id), cls.trim());
      setText("t_ee" + edge.index, text);
    }
    svg.classList.toggle("picking", path !== null);
    shadeWeights();
  }

  // The weights' boxes tinted by sign and size, as the network's picture colours them:
  // training shows in the picture as the colours change.
  function shadeWeights() {
    if (data.batch === null) return;
    let largest = 0;
    for (const slot of data.batch.params) largest = Math.max(largest, Math.abs(model.values[slot]));
    for (const slot of data.batch.params) {
      const node = bySlot.get(slot);
      const box = node && $("node_" + node.id)?.querySelector("polygon");
      if (!box) continue;
      const w = model.values[slot];
      const share = largest === 0 ? 0 : Math.abs(w) / largest;
      const hue = w >= 0 ? "37, 99, 235" : "234, 88, 12";
      box.style.fill = `rgba(${hue}, ${(0.08 + 0.5 * share).toFixed(3)})`;
    }
  }

  function drawSummary() {
    data.summary.forEach((slots, k) => {
      let w = 0;
      let g = 0;
      for (const slot of slots) {
        w = Math.max(w, Math.abs(model.values[slot]));
        g = Math.max(g, Math.abs(model.batchGrads[model.paramIndex.get(slot)]));
      }
      setText("t_l" + (k + 1), `|w| \u2264 ${fmt(w, 3)}, |dL/dw| \u2264 ${fmt(g, 3)}`);
    });
    setText("t_lL", "L = " + fmt(batchLoss(), 6) + " (batch)");
  }

  // The paths from the root down to the picked node: their nodes and edges.
  function pathOf(node) {
    const ledger = data.ledgers[node.id];
    const result = { nodes: new Set([node.slot]), edges: new Set() };
    if (!ledger) return result;
    for (const path of ledger.paths) {
      for (const e of path) {
        result.edges.add(e);
        result.nodes.add(data.edges[e].child);
        result.nodes.add(data.edges[e].parent);
      }
    }
    return result;
  }

  // --- the step panel ----------------------------------------------------------------
  const nameHtml = (slot) => (bySlot.get(slot) || { html: model.describe(slot) }).html;
  const d = (top, bottom) => "d" + nameHtml(top) + "/d" + nameHtml(bottom);
  const rootHtml = data.rootHtml;

  function drawStep() {
    const title = $("step-title");
    const body = $("step-body");
    if (summary) {
      title.textContent = `A network of ${model.batch.params.length.toLocaleString("en")} parameters`;
      body.innerHTML = "<p>Too many Values to draw one by one: each box is a layer. Pick a weight in the list "
        + "(or edit it under Numbers) for its gradient, its finite-difference check and its update; Train runs "
        + "gradient descent on the whole batch.</p>";
      return;
    }
    if (t === 0) {
      title.textContent = "Start";
      body.innerHTML = `<p>The inputs and the weights are given; nothing is computed yet. Next (\u2192) runs the forward pass, `
        + `${F} step${F === 1 ? "" : "s"}, then the backward pass, ${senders.length} step${senders.length === 1 ? "" : "s"}.</p>`;
      return;
    }
    if (t <= F) {
      const node = computed[t - 1];
      title.textContent = `Forward step ${t} of ${F}`;
      const def = node.definition;
      let line = node.html + " = " + (def ? def.symbols : "");
      if (def && def.values) line += " = " + def.values;
      line += " = <b>" + minus(fmt(model.values[node.slot])) + "</b>";
      body.innerHTML = `<p class="formula">${line}</p><p>${node.html} is computed from what enters it.`
        + (t === F ? " The forward pass is done: Next starts the backward pass." : "") + "</p>";
      fill(body);
      return;
    }
    const j = t - F;
    const back = backwardUpTo(j);
    const node = back.sender;
    title.textContent = `Backward step ${j} of ${senders.length}`;
    const g = node === secrets().grad ? "?" : minus(fmt(back.grads.get(node)));
    let text = node === data.root
      ? `backward() starts at ${rootHtml}: d${rootHtml}/d${rootHtml} = 1.`
      : `${nameHtml(node)}'s grad is complete: d${rootHtml}/d${nameHtml(node)} = <b>${g}</b>.`;
    text += " It sends grad \u00d7 local derivative down each of its edges (below).";
    if (j === senders.length) text += " The last step: every grad is complete.";
    body.innerHTML = `<p>${text}</p>`;
  }

  // --- the panel below the picture: what a step sends, or the picked Value -----------
  function drawDetail() {
    const title = $("ledger-title");
    const text = $("ledger-text");
    const where = $("ledger-where");
    where.replaceChildren();
    $("node").hidden = picked === null;
    if (picked !== null) return drawPicked(title, text, where);
    if (t > F && !summary) {
      const back = backwardUpTo(t - F);
      const node = back.sender;
      const g = back.grads.get(node);
      title.innerHTML = `What ${nameHtml(node)} sends down each edge: its grad \u00d7 the edge's local derivative`;
      const rows = sendersOf.get(node).map((edge) => {
        const f = edge.formula;
        const how = f === null ? "" : ` = ${f.symbols}` + (f.values ? ` = ${f.values}` : "");
        return `<tr><td>\u2192 ${nameHtml(edge.parent)}</td><td>${d(data.root, node)} \u00b7 ${d(node, edge.parent)}${how}</td>`
          + `<td>= ${factor(g, 4)} \u00d7 ${factor(model.edgeValues[edge.index], 4)}</td>`
          + `<td class="sent">= ${minus(fmt(g * model.edgeValues[edge.index]))}</td></tr>`;
      });
      text.innerHTML = `<table class="sends">${rows.join("")}</table>`;
      fill(text);
      return;
    }
    title.textContent = "The chain rule, Value by Value";
    text.innerHTML = summary
      ? "<p>Edit any number under Numbers and every layer's numbers follow. Pick a weight in the list for "
        + "its gradient, checked by finite differences, and its update; Train runs gradient descent on "
        + "the whole batch, as nn.train does.</p>"
      : "<p>Edit any number under Numbers and everything follows. Step with Next and Back; "
        + `pick a Value (click it, or choose it in the list) to see d${rootHtml}/d(it) as a sum over paths, `
        + "checked against finite differences, and its gradient-descent update.</p>";
  }

  function drawPicked(title, text, where) {
    const node = picked;
    const ledger = data.ledgers[node.id];
    const g = model.grads[node.slot];
    // A number the learner's step has not computed yet is a "?".
    const value = (slot, digits) => (known.value(slot) ? minus(fmt(model.values[slot], digits)) : "?");
    const grad = (slot, digits) => (known.grad(slot) ? factor(model.grads[slot], digits) : "?");
    const local = (e) => (known.local(e) ? factor(model.edgeValues[e], 4) : "?");
    const card = [];
    let head = `<b>${node.html}</b> = ${value(node.slot, 6)}`;
    if (!program.needsGrad[node.slot]) head += ": data, no gradient flows into it";
    else head += `, d${rootHtml}/d${node.html} = <b>${known.grad(node.slot) ? minus(fmt(g, 6)) : "?"}</b>`;
    const out = drawnEdges.filter((e) => e.parent === node.slot);
    if (out.length > 0) {
      const terms = out.map((e) => `${d(data.root, e.child)} \u00b7 ${d(e.child, node.slot)}`).join(" + ");
      const numbers = out.map((e) => `${grad(e.child, 4)} \u00d7 ${local(e.index)}`).join(" + ");
      head += `: the sum over its ${out.length === 1 ? "edge" : out.length + " edges"} out, ${terms} = ${numbers}`;
    }
    card.push(`<p>${head}</p>`);
    const inEdges = sendersOf.get(node.slot) || [];
    if (inEdges.length > 0) {
      const locals = inEdges.map((e) => `${d(node.slot, e.parent)} = ${local(e.index)}`).join(", ");
      card.push(`<p>Its local derivatives: ${locals}</p>`);
    }
    if (program.needsGrad[node.slot] && program.madeAt[node.slot] < 0) {
      card.push(known.grad(node.slot) ? checkAndUpdate(node.slot)
        : "<p>Its finite-difference check and its update follow once the backward pass has computed its grad.</p>");
    }
    $("node").hidden = false;
    $("node-title").innerHTML = `${node.html} <span class="hint">picked</span>`;
    $("node-body").innerHTML = card.join("");
    if (!ledger) {
      title.innerHTML = `${node.html}: no ledger (the picture summarises the network)`;
      text.replaceChildren();
      return;
    }
    const paths = ledger.paths.length;
    title.innerHTML = `d${rootHtml}/d${node.html}: ${paths} path${paths === 1 ? "" : "s"}`;
    const total = ledger.paths.reduce((sum, path) => sum + path.reduce((p, e) => p * model.edgeValues[e], 1), 0);
    const agrees = Math.abs(total - g) <= 1e-9 * Math.max(Math.abs(total), Math.abs(g)) + 1e-12;
    const allFactors = ledger.paths.every((path) => path.every(known.local));
    const gradKnown = known.grad(node.slot);
    holeValues = {
      total: allFactors ? minus(fmt(total, 6)) : "?",
      grad: gradKnown ? minus(fmt(g, 6)) : "?",
      verdict: !allFactors || !gradKnown ? "?" : agrees ? "agrees" : "DIFFERS",
    };
    text.innerHTML = ledger.sum;
    where.innerHTML = ledger.where;
    fill(text);
    fill(where);
    if (practice !== null) hideForPractice(text, where, ledger);
  }

  // Finite differences beside backprop, and the update w_new = w_old - eta * dL/dw.
  function checkAndUpdate(slot) {
    const h = 1e-6;
    const fd = model.finiteDifference(slot, h);
    const w = model.values[slot];
    const lines = [`<p>Check: (${rootHtml}(w + h) \u2212 ${rootHtml}(w \u2212 h)) / 2h with h = 10<sup>\u22126</sup> is `
      + `${minus(fmt(fd.root, 6))} (backprop ${minus(fmt(model.grads[slot], 6))}).</p>`];
    let grad = model.grads[slot];
    if (fd.batch !== undefined) {
      grad = model.batchGrads[model.paramIndex.get(slot)];
      lines.push(`<p>The batch's L (${model.objective.X.length} rows, Reg included): dL/dw = ${minus(fmt(grad, 6))}, `
        + `by finite differences ${minus(fmt(fd.batch, 6))}.</p>`);
    }
    lines.push(`<p class="update">w<sub>new</sub> = w<sub>old</sub> \u2212 \u03b7 \u00b7 dL/dw = ${minus(fmt(w, 6))} \u2212 `
      + `${fmt(model.eta, 6)} \u00d7 ${factor(grad, 6)} = <b>${minus(fmt(w - model.eta * grad, 6))}</b></p>`);
    return lines.join("");
  }

  // --- "Your turn": one factor of the ledger, or every path's product and their sum, is
  // hidden; the question and the verdict take the picked Value's panel, whose numbers
  // would give the answer away, and the picture hides what would show it (secrets()).
  let practiceCount = 0;
  function newQuestion() {
    const ledger = data.ledgers[picked.id];
    // The factors the ledger writes (at the op level it leaves out the 1s of +).
    const factors = ledger.factors.filter((e) => ledger.sum.includes(`data-h="d${e}"`));
    const k = practiceCount++ % (factors.length + 1);
    return { edge: k < factors.length ? factors[k] : null, verdict: "", solved: false, focus: true };
  }

  // What the picture must not show while a question is open: the hidden factor's edge
  // label, and a grad that equals the answer (the picked Value's for the sum; for a
  // factor dL/dv of the root L, v's grad). -1: nothing.
  function secrets() {
    if (practice === null || practice.solved) return { edge: -1, grad: -1 };
    if (practice.edge === null) return { edge: -1, grad: picked.slot };
    const edge = data.edges[practice.edge];
    return { edge: practice.edge, grad: edge.child === data.root ? edge.parent : -1 };
  }

  function hideForPractice(text, where, ledger) {
    const box = (label) => `<input class="answer" type="text" inputmode="decimal" aria-label="${label}">`;
    const verdict = `<p id="verdict" aria-live="polite">${practice.verdict}</p>`;
    const another = '<button id="another" type="button">Another question</button>';
    const how = "4 significant digits (a decimal comma is read as a point), then press Enter";
    let ask;
    if (practice.edge !== null) {
      const e = practice.edge;
      for (const hole of text.querySelectorAll(`[data-h="d${e}"]`)) hole.outerHTML = box("your answer");
      for (const hole of where.querySelectorAll(`[data-h="r${e}"]`)) hole.textContent = "?";
      const edge = data.edges[e];
      ask = `<p>What is ${d(edge.child, edge.parent)}? Work it out from its formula (under where) and type it `
        + `into the ledger: ${how}.</p>`;
    } else {
      for (const hole of text.querySelectorAll('[data-h="total"], [data-h="grad"], [data-h="verdict"]')) hole.textContent = "?";
      const rows = ledger.paths.map((path, i) => `<tr><td>path ${i + 1}</td><td>${path.map((e) => factor(model.edgeValues[e], 4)).join(" \u00d7 ")}</td><td>= ${box("path " + (i + 1))}</td></tr>`);
      ask = `<p>Multiply along each path, then add the paths: ${how}.</p>`
        + `<table class="paths">${rows.join("")}<tr><td>sum</td><td>d${rootHtml}/d${picked.html}</td><td>= ${box("your answer")}</td></tr></table>`;
    }
    $("node-title").innerHTML = `Your turn: ${picked.html}`;
    $("node-body").innerHTML = ask + verdict + another;
    fill($("verdict"));
    $("another").addEventListener("click", () => {
      practice = newQuestion();
      render();
    });
    for (const input of document.querySelectorAll("input.answer")) {
      input.addEventListener("keydown", (e) => { if (e.key === "Enter") check(ledger); });
    }
    const first = document.querySelector("input.answer");
    if (first && practice.focus) first.focus();
    practice.focus = false;
  }

  // An answer read as chainrule grade reads a cell (Python's float, after a true minus
  // became a minus and a decimal comma a point, as spreadsheets write them in many
  // countries): a blank (problem "") or anything else is no answer, {problem} says why.
  const DIGITS = "\\d(?:_?\\d)*"; // Python's digits: 1_000 is a thousand
  const DECIMAL = new RegExp(`^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`);
  function readAnswer(typed) {
    const text = typed.trim().replace(/\u2212/g, "-");
    if (text === "") return { problem: "" };
    const plain = text.replace(/,/g, ".");
    const quoted = escapeHtml(`'${text}'`);
    if (!DECIMAL.test(plain)) return { problem: `${quoted} is not a number` };
    const value = Number(plain.replace(/_/g, ""));
    return ChainruleEngine.finite(value) ? { value } : { problem: `${quoted} is not a finite number` };
  }
  const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

  // Right to the shown precision: the same 4 significant digits as the true value.
  const same = (x, truth) => {
    const digits = (v) => Number(v.toPrecision(4));
    return digits(x) === digits(truth) || Math.abs(x - truth) <= 5e-4 * Math.abs(truth);
  };
  // A sign slip, as chainrule grade names it: right but for the sign.
  const flipped = (x, truth) => truth !== 0 && same(-x, truth);
  // A number as the page writes it (4 significant digits), read back: what a learner
  // computes with.
  const asShown = (x) => Number(fmt(x, 4));
  // Edge e's local derivative from its formula's arithmetic on its Values rounded to
  // `digits` (slot -> significant digits, 4 if absent), as the op table's JavaScript
  // computes it.
  function redone(e, digits) {
    const numbers = {};
    for (const slot of data.edges[e].symbols) numbers[slot] = Number(fmt(model.values[slot], digitsOf(slot, digits)));
    return model.edgeWith(e, numbers);
  }
  // The digits a where block gives its Values, by the Python ledgers' rule
  // (viz.symbolic.digits_to_show): each starts with 4; while a line's arithmetic on the
  // values as shown misses the result the line shows, the Value whose rounding costs the
  // most in that line gets one more. One count per Value, so it reads the same in every
  // line; a saturated O = 0.99684 is not written 0.9968 where 1 - O^2 cancels.
  function digitsToShow(edges) {
    const digits = new Map();
    for (const e of edges) {
      const result = model.edgeValues[e];
      const wanted = fmt(result, 4);
      while (fmt(redone(e, digits), 4) !== wanted) {
        let best = null;
        let least = Infinity;
        for (const slot of data.edges[e].symbols) {
          if (digitsOf(slot, digits) >= 17) continue; // every digit a double has
          const miss = Math.abs(redone(e, new Map(digits).set(slot, digitsOf(slot, digits) + 1)) - result);
          const cost = Number.isNaN(miss) ? Infinity : miss;
          if (best === null || cost < least) [best, least] = [slot, cost];
        }
        if (best === null) break; // the arithmetic is as exact as it gets
        digits.set(best, digitsOf(best, digits) + 1);
      }
    }
    return digits;
  }
  // How far a wrong answer is from `reference`, without giving the reference away.
  function howFar(x, reference) {
    if (reference === 0 || x === 0) return x === 0 ? "0, which it is not" : "not 0, which it is";
    const ratio = Math.abs(x / reference);
    const sign = x / reference < 0 ? "of the other sign, and " : "";
    const tens = Math.log10(ratio);
    if (Math.round(tens) !== 0 && Math.abs(tens - Math.round(tens)) < 0.01) {
      const times = 10 ** Math.abs(Math.round(tens));
      return `${sign}${times} times too ${tens > 0 ? "large" : "small"}: check the decimal point`;
    }
    const times = (r) => (r >= 10 ? Math.round(r).toLocaleString("en") : fmt(r, 2)); // 130, not 1.3e+02
    if (ratio >= 2) return `${sign}${times(ratio)} times too large`;
    if (ratio <= 0.5) return `${sign}${times(1 / ratio)} times too small`;
    return `${sign}${fmt(Math.abs(ratio - 1) * 100, 2)}% too ${ratio > 1 ? "large" : "small"}${sign ? " in size" : ""}`;
  }

  function check(ledger) {
    const inputs = [...document.querySelectorAll("input.answer")];
    const answers = inputs.map((input) => readAnswer(input.value));
    const g = model.grads[picked.slot];
    let verdict;
    const unread = answers.findIndex((a) => a.problem !== undefined);
    if (unread >= 0) {
      const label = inputs[unread].getAttribute("aria-label");
      const which = inputs.length === 1 ? "Your answer" : label === "your answer" ? "The sum" : "P" + label.slice(1);
      const problem = answers[unread].problem;
      verdict = problem === "" ? `${which} is blank: type a number, then press Enter.`
        : `${which}: ${problem}; type a number, then press Enter.`;
    } else if (practice.edge !== null) {
      const e = practice.edge;
      const edge = data.edges[e];
      const name = d(edge.child, edge.parent);
      const truth = model.edgeValues[e];
      const x = answers[0].value;
      // Worked out from the where line's numbers, or from 4 digits of each Value (as the
      // picture writes them): the rounding, not the learner, is off.
      const where = redone(e, valueDigits);
      const rounded = [where, redone(e, new Map())].find((v) => same(x, v));
      const f = edge.formula;
      // Its formula, and the same with the numbers the where line shows (holes, filled).
      const line = f === null ? "" : `${f.symbols}${f.values ? ` = ${f.values}` : ""}`;
      const it = f ? ` It is ${line}.` : "";
      if (same(x, truth)) verdict = `Right: ${name} = ${minus(fmt(truth, 6))}.`;
      else if (rounded !== undefined) {
        verdict = `Right from the numbers shown: with its Values rounded as they are written, ${name} = `
          + `${minus(fmt(rounded, 4))}. The exact value is ${minus(fmt(truth, 6))}: the Values have more digits.`;
      } else if (flipped(x, truth) || flipped(x, where)) verdict = `Not right: the sign is flipped.${it}`;
      else {
        const onPaths = ledger.paths.map((p, i) => (p.includes(e) ? i + 1 : 0)).filter((i) => i > 0);
        verdict = `Not right: the factor ${name} differs (on path${onPaths.length === 1 ? "" : "s"} ${onPaths.join(" and ")}).${it}`
          + ` Your answer is ${howFar(x, where)}.`;
      }
    } else {
      const products = ledger.paths.map((p) => p.reduce((acc, e) => acc * model.edgeValues[e], 1));
      // As the table shows each factor: what a learner multiplies.
      const shown = ledger.paths.map((p) => p.reduce((acc, e) => acc * asShown(model.edgeValues[e]), 1));
      const typed = answers.slice(0, -1).map((a) => a.value);
      const pathRight = (i) => same(typed[i], products[i]) || same(typed[i], shown[i]);
      const wrong = products.map((p, i) => (pathRight(i) ? 0 : i + 1)).filter((i) => i > 0);
      const signs = wrong.every((i) => flipped(typed[i - 1], products[i - 1]) || flipped(typed[i - 1], shown[i - 1]));
      const sum = answers[answers.length - 1].value;
      const add = (list) => list.reduce((a, c) => a + c, 0);
      // The sum of the learner's own (right) products is right too: adding them may
      // cancel digits that no rounding of the paths' can bring back.
      const sums = [add(shown), add(typed)];
      const paths = `path ${wrong.join(" and path ")}`;
      const total = `d${rootHtml}/d${picked.html}`;
      if (wrong.length === 0 && same(sum, g)) verdict = `Right: ${total} = ${minus(fmt(g, 6))}.`;
      else if (wrong.length === 0 && sums.some((s) => same(sum, s))) {
        verdict = `Right from the numbers shown. The exact value is ${total} = ${minus(fmt(g, 6))}: `
          + "the factors behind the table have more digits than the 4 shown.";
      } else if (wrong.length > 0 && signs) verdict = `Not right: the sign of ${paths} is flipped: count its negative factors again.`;
      else if (wrong.length > 0) {
        const far = wrong.map((i) => `path ${i} is ${howFar(typed[i - 1], shown[i - 1])}`).join("; ");
        verdict = `Not right: ${paths} differ${wrong.length === 1 ? "s: multiply its" : ": multiply their"} local derivatives again (${far}).`;
      } else if (flipped(sum, g) || sums.some((s) => flipped(sum, s))) verdict = "Not right: each path is right; the sign of their sum is flipped.";
      else verdict = `Not right: each path is right, their sum is not: add the paths again (your sum is ${howFar(sum, add(typed))}).`;
    }
    practice.verdict = verdict;
    practice.solved = verdict.startsWith("Right");
    const el = $("verdict");
    if (el) {
      el.innerHTML = verdict;
      fill(el);
      // In view in its panel (scrolled down only: the paths' table is wider than it).
      const panel = $("node");
      const below = el.getBoundingClientRect().bottom - panel.getBoundingClientRect().bottom;
      if (below > 0) panel.scrollTop += below;
    }
    if (practice.solved) { // nothing is secret any more
      drawPicture();
      drawStep();
    }
    model.dispatchEvent(new CustomEvent("practice", { detail: { verdict: el ? el.textContent : verdict } }));
  }

  // --- the numbers the learner can change ----------------------------------------------
  const numberInputs = new Map(); // name -> input
  function buildNumbers() {
    const list = $("number-list");
    const groups = [];
    const batch = data.batch;
    const html = (slot) => (bySlot.get(slot) ? bySlot.get(slot).html : model.describe(slot));
    const row = (name, label, wide = false) => `<label${wide ? ' class="wide"' : ""}><span class="name">${label}</span><input type="text" inputmode="decimal" aria-label="${name}" data-name="${name}"></label>`;
    if (batch !== null) {
      // A class's target says which class it stands for: y_1 is setosa's.
      const target = (s, j) => batch.meanings.length === 0 ? html(s)
        : `${html(s)} <span class="meaning">${escapeHtml(batch.meanings[j])}</span>`;
      const data_ = [...batch.inputs.map((s) => row(model.nameOf.get(s), html(s))),
        ...batch.targets.map((s, j) => row(model.nameOf.get(s), target(s, j), batch.meanings.length > 0))];
      groups.push(`<fieldset><legend>row <input type="text" inputmode="numeric" aria-label="sample" data-name="sample" size="4"> of the batch</legend>${data_.join("")}</fieldset>`);
      // Each neuron's weights together, i within j as the notes list them, under its output.
      const weights = batch.neurons.map(({ output, params }) => `<span class="into">into ${output}</span>`
        + params.map((s) => row(model.nameOf.get(s), html(s))).join(""));
      groups.push(`<fieldset><legend>weights</legend>${weights.join("")}</fieldset>`);
      // The run's settings sit in the Train panel, in view beside the button that uses them.
      $("train-settings").innerHTML = row("eta", "\u03b7") + row("lambda", "\u03bb") + row("tol", "tol");
    } else {
      groups.push(`<fieldset><legend>leaves</legend>${data.editable.map((s) => row(model.nameOf.get(s), html(s))).join("")}</fieldset>`);
      groups.push(`<fieldset><legend>update</legend>${row("eta", "\u03b7")}</fieldset>`);
    }
    list.innerHTML = groups.join("");
    for (const input of [...list.querySelectorAll("input"), ...$("train-settings").querySelectorAll("input"), $("epochs")]) {
      const name = input.dataset.name || input.getAttribute("aria-label");
      numberInputs.set(name, input);
      // What the learner types stays in the box, through every redraw (a run redraws
      // after each slice), until Enter or leaving the box applies it, or Escape drops it.
      input.addEventListener("input", () => input.classList.add("editing"));
      input.addEventListener("change", () => commit(input, name));
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") commit(input, name);
        else if (e.key === "Escape") giveUp(input);
      });
      input.addEventListener("blur", () => giveUp(input));
    }
  }

  function giveUp(input) {
    input.classList.remove("editing");
    drawNumbers();
  }

  function commit(input, name) {
    input.classList.remove("editing");
    const shown = input.dataset.shown;
    if (input.value === shown) return drawNumbers();
    try {
      model.set(name, input.value);
      input.classList.remove("bad");
      message.hidden = true;
    } catch (error) {
      input.classList.add("bad");
      message.hidden = false;
      message.textContent = error.message;
      input.value = shown;
    }
  }

  function drawNumbers() {
    for (const [name, input] of numberInputs) {
      if (input.classList.contains("editing")) continue; // being typed in
      const value = model.get(name);
      const text = Number.isInteger(value) && ["epochs", "sample"].includes(name) ? String(value) : fmt(value, 6);
      if (input.value !== text) input.value = text;
      input.dataset.shown = text;
    }
  }

  // --- training ------------------------------------------------------------------------
  // The batch's L: while a run goes on, its latest epoch's (at that epoch's start; the
  // model computes L at the weights when the run stops).
  function batchLoss() {
    const run = model.run;
    return run !== null && run.running && run.trainer.epochs > 0 ? run.trainer.losses.at(-1) : model.batchLoss;
  }

  function drawTrain() {
    if (data.batch === null) return;
    const run = model.run;
    const rows = model.objective.X.length;
    // With several outputs, the sum runs over each row's outputs j too (as nn.sse does).
    const [j, sumJ] = data.batch.targets.length > 1 ? ["j", "\u03a3<sub>j</sub> "] : ["", ""];
    $("objective").innerHTML = `L = \u03a3<sub>n</sub> ${sumJ}(y<sub>n${j}</sub> \u2212 \u0177<sub>n${j}</sub>)<sup>2</sup> + \u03bb \u03a3 w<sup>2</sup> over ${rows} rows`;
    const losses = run ? run.trainer.losses : [];
    let status = `L = ${fmt(model.batchLoss, 6)} at these weights.`;
    if (run) {
      const trainer = run.trainer;
      const n = trainer.epochs;
      const step = trainer.largest[n - 1] ?? 0;
      const loss = batchLoss();
      status = `${n} epoch${n === 1 ? "" : "s"}: L = ${fmt(loss, 6)}, the last step's largest |w_new \u2212 w_old| = ${fmt(step, 3)}`;
      const below = ` < tol = ${fmt(model.tol, 3)}`;
      if (trainer.stopped === "converged") status += `${below}: stopped, w_new \u2248 w_old.`;
      else if (trainer.why !== null) status += `${below}: the weights stopped moving, but not at a fit: ${noFit(trainer)}.`;
      else if (trainer.stopped === "diverged") status = trainer.message + "; the weights are back where the run started.";
      else if (run.running) status += " \u2026";
      else status += n >= run.target ? "." : " (paused).";
    }
    $("train-status").textContent = status;
    $("train-pause").disabled = !(run && run.running);
    $("train-reset").disabled = run === null;
    drawCurve(losses);
  }

  // Why stopped weights are no fit, and what to try, in nn.train's words (its stop_note
  // and stop_advice) from what the model measured.
  function noFit(trainer) {
    const why = trainer.why;
    const percent = (x) => `${Math.round(100 * x)}%`;
    if (trainer.stopped === "saturated") {
      return `${percent(why.share)} of the units with a bounded activation are saturated (outputs pinned at `
        + `the ends of their range, so almost no gradient flows back); try a smaller learning rate, e.g. \u03b7 = ${fmt(trainer.eta / 10, 6)}`;
    }
    if (trainer.stopped === "steps_too_small") {
      return `the loss is still steep (largest |dL/dw| = ${fmt(why.slope, 3)}, ${percent(why.slope / why.start)} of `
        + `its value at the start): the steps are smaller than tol, not at a minimum; try a larger learning rate, `
        + `e.g. \u03b7 = ${fmt(10 * trainer.eta, 6)}, or a smaller tol, e.g. ${fmt(trainer.tol / 10, 6)}`;
    }
    return `the loss \u03a3 (y \u2212 \u0177)\u00b2 = ${fmt(why.fit, 4)} is no better than predicting the mean `
      + `target for every row (${fmt(why.constant, 4)}): the network cannot fit this data as it is; try more `
      + "hidden neurons, or another initialisation or seed";
  }

  const SVG = "http://www.w3.org/2000/svg";
  function drawCurve(losses) {
    const curve = $("curve");
    if (losses.length < 2) {
      curve.innerHTML = "";
      return;
    }
    const logs = losses.map((l) => Math.log10(Math.max(l, 1e-300)));
    const low = Math.min(...logs);
    const high = Math.max(...logs);
    const span = high - low || 1;
    const step = Math.max(1, Math.floor(losses.length / 300));
    const points = [];
    for (let i = 0; i < losses.length; i += step) {
      points.push(`${((300 * i) / (losses.length - 1)).toFixed(1)},${(95 - (90 * (logs[i] - low)) / span).toFixed(1)}`);
    }
    points.push(`300,${(95 - (90 * (logs[logs.length - 1] - low)) / span).toFixed(1)}`);
    // Made here, not in the page's HTML: the page holds one SVG, Graphviz's picture.
    const line = document.createElementNS(SVG, "svg");
    line.setAttribute("viewBox", "0 0 300 100");
    line.setAttribute("preserveAspectRatio", "none");
    const path = document.createElementNS(SVG, "polyline");
    path.setAttribute("points", points.join(" "));
    line.append(path);
    const caption = document.createElement("p");
    caption.textContent = `L at the start of each epoch: ${fmt(losses[0], 4)} to ${fmt(losses[losses.length - 1], 4)} in ${losses.length} (a logarithmic scale)`;
    curve.replaceChildren(line, caption);
  }

  // --- putting it together ------------------------------------------------------------
  function render() {
    known = knownAt();
    // Every panel writes a Value with the digits the picked ledger's where block gives it.
    const ledger = picked === null ? undefined : data.ledgers[picked.id];
    valueDigits = ledger ? digitsToShow(ledger.factors.filter((e) => data.edges[e].formula?.values)) : new Map();
    drawPicture();
    drawStep();
    drawDetail();
    drawNumbers();
    drawTrain();
    const counter = t === 0 ? "start" : t <= F ? `forward step ${t} of ${F}`
      : `backward step ${t - F} of ${senders.length}` + (t === T ? ": all computed" : "");
    $("counter").textContent = summary ? "" : counter;
    for (const id of ["home", "prev"]) $(id).disabled = summary || t === 0;
    for (const id of ["next", "end"]) $(id).disabled = summary || t === T;
    $("pick").value = picked === null ? "" : String(picked.slot);
    $("practice").setAttribute("aria-pressed", String(practice !== null));
    $("practice").disabled = picked === null || !data.ledgers[picked.id];
  }

  let scheduled = false;
  function renderSoon() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      render();
    });
  }

  function go(k) {
    t = Math.max(0, Math.min(T, k));
    render();
  }

  function pick(node) {
    picked = node;
    practice = null;
    render();
    // Its box under Numbers, if it has one, comes into view, marked: ready to edit.
    for (const label of document.querySelectorAll("#number-list label.picked")) label.classList.remove("picked");
    const input = node === null ? undefined : numberInputs.get(node.name);
    if (input) {
      input.closest("label").classList.add("picked");
      // Scroll the panel only, not the page (on a narrow screen the panel is far below).
      const panel = $("numbers");
      const box = input.getBoundingClientRect();
      const view = panel.getBoundingClientRect();
      if (box.top < view.top || box.bottom > view.bottom) panel.scrollTop += box.top - view.top - view.height / 2;
    }
  }

  // The list reads as the notes do (data.pick: layer by layer), each name typeset.
  const pickSelect = $("pick");
  const pickable = [];
  for (const { group, slots } of data.pick) {
    const list = group === "" ? pickSelect : document.createElement("optgroup");
    if (group !== "") {
      list.label = group;
      pickSelect.append(list);
    }
    for (const slot of slots) {
      const name = model.nameOf.get(slot);
      const node = summary ? { slot, id: "p" + slot, html: data.texts[slot], name } : bySlot.get(slot);
      if (!summary && $("node_" + node.id) === null) continue;
      pickable.push(node);
      const option = document.createElement("option");
      option.value = String(slot);
      option.textContent = data.texts[slot] ?? node.name;
      list.append(option);
    }
  }
  pickSelect.addEventListener("change", () => pick(pickable.find((n) => String(n.slot) === pickSelect.value) || null));
  for (const node of summary ? [] : pickable) {
    const el = $("node_" + node.id);
    if (!el) continue;
    el.setAttribute("tabindex", "0");
    el.setAttribute("role", "button");
    // Its accessible name is its text (name, value, grad): an aria-label naming it would
    // make get_by_label("w^1_11") find it beside the number box of that name.
    el.classList.add("pick");
    base.set(el, base.get(el) + " pick");
    el.addEventListener("click", () => pick(node));
    el.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        pick(node);
      }
    });
  }
  // A node's label shows on hover, not Graphviz's n25 or n0->n25.
  for (const title of svg.querySelectorAll("g > title")) title.remove();
  $("home").addEventListener("click", () => go(0));
  $("prev").addEventListener("click", () => go(t - 1));
  $("next").addEventListener("click", () => go(t + 1));
  $("end").addEventListener("click", () => go(T));
  $("practice").addEventListener("click", () => {
    practice = practice === null ? newQuestion() : null;
    // A question is about the whole pass's numbers: it shows them all.
    if (practice !== null) t = T;
    render();
  });
  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.target.closest("input, select, textarea")) return;
    const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (e.key in moves) go(t + moves[e.key]);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(T);
    else return;
    e.preventDefault();
  });
  if (data.batch !== null) {
    $("train-run").addEventListener("click", () => model.train());
    $("train-pause").addEventListener("click", () => model.pause());
    $("train-step").addEventListener("click", () => model.step());
    $("train-reset").addEventListener("click", () => model.reset());
  }
  model.addEventListener("change", (e) => {
    if (e.detail.what === "edit" && practice !== null) Object.assign(practice, { verdict: "", solved: false });
    if (e.detail.what === "train") renderSoon();
    else render();
  });
  buildNumbers();
  // The panel below the picture is as tall as its longest ledger.
  const lines = Object.values(data.ledgers).map((l) => l.lines);
  $("ledger").style.setProperty("--ledger-lines", Math.max(6, ...lines));
  render();

  // For scripts (teachers' demonstrations, tests, a notebook widget): the model's own
  // methods, and the page's step and pick.
  window.chainrule = {
    snapshot: () => model.snapshot(),
    get: (name) => model.get(name),
    set: (name, value) => model.set(name, value),
    setNumbers: (numbers) => model.setNumbers(numbers),
    train: (epochs) => model.train(epochs),
    pause: () => model.pause(),
    step: () => model.step(),
    reset: () => model.reset(),
    finiteDifference: (name, h = 1e-6) => model.finiteDifference(model.slotOf.get(name), h),
    edges: () => data.edges.map((e, i) => ({ child: model.nameOf.get(e.child) ?? e.child, parent: model.nameOf.get(e.parent) ?? e.parent, value: model.edgeValues[i] })),
    goTo: (k) => go(k),
    position: () => ({ step: t, forward: F, backward: senders.length }),
    pick: (name) => pick(pickable.find((n) => n.name === name) || null),
    addEventListener: (type, listener) => model.addEventListener(type, listener),
    removeEventListener: (type, listener) => model.removeEventListener(type, listener),
    model,
  };
})();
