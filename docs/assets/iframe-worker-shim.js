// The site's search runs in a Web Worker, and a browser will not start one from a page
// opened as a file (file://). There, this runs the worker's script in a hidden iframe
// instead: a window of its own, to which messages are passed the way a worker's are.
// Served over http(s), it does nothing and the browser's own Worker runs the search.
(function () {
  "use strict";
  if (location.protocol !== "file:") return;

  class IFrameWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.pending = [];
      this.frame = document.createElement("iframe");
      this.frame.hidden = true;
      document.documentElement.appendChild(this.frame);
      const inner = this.frame.contentWindow;
      // What the worker's script posts arrives here, as a worker's message would.
      inner.postMessage = (data) => {
        const event = new MessageEvent("message", { data: data });
        this.dispatchEvent(event);
        if (typeof this.onmessage === "function") this.onmessage(event);
      };
      const script = inner.document.createElement("script");
      script.src = new URL(url, location.href).href;
      script.onload = () => {
        this.inner = inner;
        this.pending.forEach((data) => this.postMessage(data));
        this.pending = [];
      };
      inner.document.head.appendChild(script);
    }

    postMessage(data) {
      if (!this.inner) {
        this.pending.push(data);
        return;
      }
      this.inner.dispatchEvent(new this.inner.MessageEvent("message", { data: data }));
    }

    terminate() {
      this.frame.remove();
    }
  }

  window.IFrameWorker = IFrameWorker;
  window.Worker = IFrameWorker;
})();
