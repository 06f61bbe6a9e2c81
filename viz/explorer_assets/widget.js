// The live explorer as a notebook widget: anywidget's front-end module for viz.widget.
//
// The widget shows the explorer's own page (viz.explorer, the same engine and view), in
// an iframe, as the notebook's HTML view does: the page's ids, style and keys stay apart
// from the notebook's, and none of its logic is copied here. This module only carries
// numbers between the page's window.chainrule and the widget's traits, which the kernel
// keeps equal to the model's Values and to its copy of the data:
//   weights   the model's parameters in parameters() order (their labels: _labels)
//   row       the shown row's x_i then y (their labels: _row_labels); sample, its index
//   eta, l2, tol, epochs   Train's settings (the page's eta, lambda, tol, epochs)
//   error     the latest refusal, by the kernel or by the page, in words ("" for none)
// A change in the page goes to the kernel at once, in one message; while Train runs, at
// most one message every SEND_EVERY ms, with the latest numbers (and always the last).
// A change from the kernel is put into the page and sends nothing back. If the page
// reloads (a notebook may move its output), it starts again from the kernel's numbers.

const SEND_EVERY = 250; // ms
// Each setting's trait, and its name in the page; the sample first, as showing it shows
// its row (which the kernel's may then change).
const SETTINGS = { sample: "sample", eta: "eta", l2: "lambda", tol: "tol", epochs: "epochs" };
const TRAITS = ["weights", "row", ...Object.keys(SETTINGS)];

const same = (a, b) =>
  Array.isArray(a) ? Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]) : a === b;

function render({ model, el }) {
  const note = document.createElement("p");
  note.setAttribute("role", "alert");
  note.style.cssText = "margin:0 0 4px;padding:4px 8px;border:1px solid #fca5a5;border-radius:4px;"
    + "background:#fef2f2;color:#991b1b;font:14px/1.4 Helvetica,Arial,sans-serif";
  const frame = document.createElement("iframe");
  frame.title = "chainrule explorer";
  frame.style.cssText = "display:block;width:100%;height:820px;border:1px solid #d1d5db";
  el.append(note, frame);

  const labels = model.get("_labels");
  const rowLabels = model.get("_row_labels");
  let page = null; // the page's window.chainrule, once it has loaded
  let applying = false; // while the kernel's numbers go into the page
  let pending = false; // the kernel's changes wait for the end of its message
  let timer = null;
  let sentAt = -Infinity;

  function showError() {
    const text = model.get("error");
    note.hidden = text === "";
    note.textContent = text;
  }

  // The page's numbers, as the traits hold them.
  function read() {
    const state = { weights: labels.map((l) => page.get(l)), row: rowLabels.map((l) => page.get(l)) };
    for (const [trait, name] of Object.entries(SETTINGS)) state[trait] = page.get(name);
    return state;
  }

  // Every trait that differs from the page's number, in one message.
  function send(extra = {}) {
    clearTimeout(timer);
    timer = null;
    sentAt = performance.now();
    const state = { ...read(), ...extra };
    let changed = false;
    for (const [key, value] of Object.entries(state)) {
      if (same(model.get(key), value)) continue;
      model.set(key, value);
      changed = true;
    }
    if (changed) model.save_changes();
  }

  function pageChanged(event) {
    if (applying) return;
    if (event.detail.what !== "train") {
      send();
    } else if (timer === null) {
      timer = setTimeout(send, Math.max(0, sentAt + SEND_EVERY - performance.now()));
    }
  }

  // The kernel's numbers into the page: the settings, then the row's and the weights'
  // numbers that differ, in one computation. If the page refuses them, it keeps its own
  // and sends them back with the reason.
  function apply() {
    let refusal = null;
    applying = true;
    try {
      for (const [trait, name] of Object.entries(SETTINGS)) {
        if (model.get(trait) !== page.get(name)) page.set(name, model.get(trait));
      }
      const shown = read();
      const numbers = {};
      for (const [trait, names] of [["row", rowLabels], ["weights", labels]]) {
        const wanted = model.get(trait);
        names.forEach((name, i) => {
          if (wanted[i] !== shown[trait][i]) numbers[name] = wanted[i];
        });
      }
      page.setNumbers(numbers);
    } catch (error) {
      refusal = error.message;
    } finally {
      applying = false;
    }
    if (refusal !== null) send({ error: `the page kept its numbers: ${refusal}` });
  }

  function kernelChanged() {
    if (page === null || pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      apply();
    });
  }

  frame.addEventListener("load", () => {
    page = frame.contentWindow.chainrule || null;
    if (page === null) {
      note.hidden = false;
      note.textContent = "The explorer page did not start here: its script was blocked, or it says why.";
      return;
    }
    page.addEventListener("change", pageChanged);
    apply();
  });
  for (const trait of TRAITS) model.on(`change:${trait}`, kernelChanged);
  model.on("change:error", showError);
  showError();
  frame.srcdoc = model.get("_page");

  return () => {
    for (const trait of TRAITS) model.off(`change:${trait}`, kernelChanged);
    model.off("change:error", showError);
    clearTimeout(timer);
    if (page !== null) {
      page.removeEventListener("change", pageChanged);
      page.pause();
    }
  };
}

export default { render };
