// Live Plotly view for Streamlit: the components-v1 message protocol, written by hand
// (no build step, no npm, no CDN: Plotly.js is served from this folder).
//
// Why a component: st.plotly_chart re-creates the figure whenever its data change,
// which throws away the user's zoom and 3-D camera (streamlit/streamlit#8882).
// Plotly.react with a constant layout.uirevision updates the traces in place and
// keeps what the user did to the view until the page sends a new uirevision.
//
// Arrays arrive as Plotly typed-array specs {dtype, bdata (base64), shape}, which
// Plotly decodes natively: a 2,000-point frame plus a 64 x 64 heat map is ~40 kB.
//
// Draw mode (args.draw): dragging draws a freehand stroke, a click adds a point;
// the strokes (vertices in data coordinates) go back to Python as the value.
(function () {
  "use strict";
  const plot = document.getElementById("plot");
  let pending = null;
  let busy = false;
  let height = 0;
  let last = null;        // the newest args drawn (redrawn when a resize crosses `narrow`)
  let wasNarrow = false;  // whether they were drawn with their narrow layout
  // Redraw log read by the browser tests and scripts/measure_playground.py:
  // draws counts finished Plotly.react calls; log holds [epoch ms, meta.step]; held
  // counts frames that arrived while a pressed button held them (see hold()).
  const stats = { draws: 0, log: [], ms: 0, held: 0 };
  window.ganlabLivePlot = stats;

  function send(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data), "*");
  }

  function setHeight(h) {
    if (h !== height) {
      height = h;
      plot.style.height = h + "px";
      send("streamlit:setFrameHeight", { height: h });
    }
  }

  // --- drawing -------------------------------------------------------------
  const sketch = { token: null, strokes: [], down: null, installed: false };

  function pathVertices(path) {
    // Plotly's drawopenpath shapes are "M x,y L x,y L ..." in data coordinates.
    return path.replace(/^M/, "").split("L").map(function (p) {
      return p.split(",").map(Number);
    }).filter(function (v) { return v.length === 2 && isFinite(v[0]) && isFinite(v[1]); });
  }

  function sendStrokes() {
    send("streamlit:setComponentValue",
         { value: { token: sketch.token, strokes: sketch.strokes }, dataType: "json" });
  }

  function installDraw() {
    if (sketch.installed) return;
    sketch.installed = true;
    plot.addEventListener("mousedown", function (ev) { sketch.down = [ev.clientX, ev.clientY]; });
    plot.addEventListener("click", function (ev) {
      if (!plot._fullLayout || plot._fullLayout.dragmode !== "drawopenpath") return;
      const d = sketch.down;
      if (d && Math.hypot(ev.clientX - d[0], ev.clientY - d[1]) > 4) return;  // a stroke, not a click
      const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
      const bb = plot.getBoundingClientRect();
      const x = xa.p2l(ev.clientX - bb.left - xa._offset);
      const y = ya.p2l(ev.clientY - bb.top - ya._offset);
      const xr = xa.range, yr = ya.range;
      if (x < Math.min(xr[0], xr[1]) || x > Math.max(xr[0], xr[1]) ||
          y < Math.min(yr[0], yr[1]) || y > Math.max(yr[0], yr[1])) return;
      sketch.strokes.push([[x, y]]);
      sendStrokes();
    });
    plot.on("plotly_relayout", function (ev) {
      const shapes = (plot.layout && plot.layout.shapes) || [];
      if (!("shapes" in ev) || shapes.length === 0) return;
      shapes.forEach(function (s) {
        if (s.type === "path" && s.path) {
          const v = pathVertices(s.path);
          if (v.length) sketch.strokes.push(v);
        }
      });
      // The sampled points come back from Python as a trace; the raw shape goes.
      Plotly.relayout(plot, { shapes: [] });
      sendStrokes();
    });
  }

  // --- pacing ----------------------------------------------------------------
  // With args.pace (seconds), the plot asks Python for its next frame when this one
  // arrives, at most every `pace` seconds. The browser sets the pace, so a slow
  // browser gets fewer frames instead of a growing queue of stale ones (with a
  // fixed timer it fell seconds behind, and a click on pause showed late).
  let tick = 0;
  let lastAsk = 0;
  let askTimer = null;

  function askForNext(pace) {
    if (askTimer !== null) clearTimeout(askTimer);
    askTimer = null;
    if (typeof pace !== "number") return;
    const wait = Math.max(0, lastAsk + pace * 1000 - Date.now());
    askTimer = setTimeout(function () {
      askTimer = null;
      lastAsk = Date.now();
      tick += 1;
      send("streamlit:setComponentValue", { value: { tick: tick }, dataType: "json" });
    }, wait);
  }

  // --- the user's zoom ------------------------------------------------------
  // uirevision keeps a zoom only while the page sends the same axis ranges, and the
  // playground's 2-D axes grow when the points leave the data's box. A zoom or pan by
  // the user wins over such a move until a double-click or a new uirevision (a new
  // run): the next frames keep the user's ranges.
  const zoom = { on: false, rev: null, installed: false };

  function watchZoom() {
    if (zoom.installed) return;
    zoom.installed = true;
    plot.on("plotly_relayout", function (ev) {
      const keys = Object.keys(ev || {});
      if (keys.some(function (k) { return /^[xy]axis\.autorange/.test(k); })) zoom.on = false;
      else if (keys.some(function (k) { return /^[xy]axis\.range/.test(k); })) zoom.on = true;
    });
    plot.on("plotly_doubleclick", function () { zoom.on = false; });
  }

  function keepZoom(layout) {
    if (layout.uirevision !== zoom.rev) {
      zoom.rev = layout.uirevision;
      zoom.on = false;
    }
    const full = plot._fullLayout;
    if (!zoom.on || layout.scene || !full || !full.xaxis || !full.yaxis) return layout;
    return Object.assign({}, layout, {
      xaxis: Object.assign({}, layout.xaxis, { range: full.xaxis.range.slice() }),
      yaxis: Object.assign({}, layout.yaxis, { range: full.yaxis.range.slice() }),
    });
  }

  // --- rendering -----------------------------------------------------------
  const PHONE_WIDTH = 500;  // px
  async function draw(args) {
    const fig = args.fig || { data: [], layout: {} };
    // fig.narrow = {below, height, layout}: in a frame narrower than `below` px (a phone)
    // its layout entries replace the figure's (e.g. stacked panels) at its height.
    const narrow = fig.narrow && document.body.clientWidth < fig.narrow.below ? fig.narrow : null;
    wasNarrow = Boolean(narrow);
    const h = narrow ? narrow.height : args.height;
    setHeight(h);
    const layout = keepZoom(Object.assign({ height: h, autosize: true }, fig.layout, narrow ? narrow.layout : {}));
    const config = Object.assign({ displaylogo: false, responsive: true }, fig.config || {});
    // On a phone Plotly's toolbar, shown at a tap, covers the figure's title: no toolbar
    // (a double tap still resets a zoom).
    if (document.body.clientWidth < PHONE_WIDTH) config.displayModeBar = false;
    if (args.draw) {
      if (sketch.token !== args.draw.token) {  // Python cleared the drawing
        sketch.token = args.draw.token;
        sketch.strokes = [];
      }
      layout.dragmode = "drawopenpath";
      layout.newshape = { line: { color: "#ff7f0e", width: 2 } };
    }
    const t0 = performance.now();
    await Plotly.react(plot, fig.data, layout, config);
    stats.ms = performance.now() - t0;
    if (args.draw) installDraw();
    else watchZoom();
    const meta = args.meta || {};
    stats.draws += 1;
    stats.log.push([Date.now(), meta.step === undefined ? null : meta.step]);
    if (stats.log.length > 5000) stats.log.splice(0, 1000);
    document.body.dataset.draws = String(stats.draws);
    Object.keys(meta).forEach(function (k) { document.body.dataset[k] = String(meta[k]); });
  }

  // A redraw in the middle of a drag (3-D rotation, zoom box) would throw the
  // gesture away: while a pointer is down on the plot, frames wait (newest kept).
  let interacting = false;
  plot.addEventListener("pointerdown", function () { interacting = true; }, true);
  window.addEventListener("pointerup", function () {
    if (interacting) {
      // Let Plotly finish the gesture (it commits the new camera / range on this
      // same event) before the next frame is drawn.
      setTimeout(function () {
        interacting = false;
        pump();
      }, 100);
    }
  }, true);

  // Clicks first: a Plotly draw takes the browser's main thread for 50-150 ms, and a
  // click on one of the page's buttons shows its answer only when the main thread is
  // free. Measured: Pause's new label reached the browser within 40 ms but showed
  // 100-200 ms later, behind the draws of the frames then streaming in. So while frames
  // stream (the view plays), a button pressed on the page (mouse, touch or keyboard)
  // holds them (newest kept) until that button changes or goes, at most HOLD_MS. A
  // still view is never held: there a click's answer is often the next frame (a step).
  const HOLD_MS = 300;
  let holdUntil = 0;
  let holdWatch = null;
  let lastFrameAt = 0;

  function release() {
    if (holdWatch !== null) holdWatch.disconnect();
    holdWatch = null;
    if (holdUntil === 0) return;
    holdUntil = 0;
    // A frame's time (~17 ms) for the browser to paint the change first; not
    // requestAnimationFrame, which a hidden or off-screen frame may never call.
    setTimeout(pump, 20);
  }

  function hold(ev) {
    const button = ev.target && ev.target.closest ? ev.target.closest("button") : null;
    if (!button || performance.now() - lastFrameAt > 1000) return;
    if (ev.type === "keydown" && ev.key !== "Enter" && ev.key !== " ") return;
    const label = button.innerText;
    holdUntil = performance.now() + HOLD_MS;
    setTimeout(release, HOLD_MS);
    if (holdWatch !== null) holdWatch.disconnect();
    holdWatch = new window.parent.MutationObserver(function () {
      if (!button.isConnected || button.innerText !== label) release();
    });
    holdWatch.observe(window.parent.document.body, { subtree: true, childList: true, characterData: true });
  }

  try {  // Streamlit serves the component from the page's origin; elsewhere nothing is held
    ["pointerdown", "keydown"].forEach(function (type) {
      window.parent.document.addEventListener(type, hold, true);
    });
  } catch (err) { /* a cross-origin parent */ }

  // Render messages can arrive faster than Plotly draws: keep only the newest.
  async function pump() {
    if (busy || interacting) return;
    if (holdUntil > performance.now()) return;  // release() pumps
    busy = true;
    try {
      while (pending && !interacting) {
        const args = pending;
        pending = null;
        last = args;
        await draw(args);
      }
    } catch (err) {
      console.error("live_plot:", err);
    } finally {
      busy = false;
    }
  }

  // A frame that crosses a figure's `narrow` width (a phone turned) draws it again.
  window.addEventListener("resize", function () {
    const n = last && last.fig && last.fig.narrow;
    if (n && (document.body.clientWidth < n.below) !== wasNarrow && !pending) {
      pending = last;
      pump();
    }
  });

  window.addEventListener("message", function (ev) {
    const d = ev.data;
    if (!d || d.type !== "streamlit:render") return;
    pending = d.args;
    lastFrameAt = performance.now();
    if (holdUntil > lastFrameAt) stats.held += 1;
    // Ask for the next frame now, while this one is drawn: the server computes it
    // in the meantime, and still at most one frame is on its way.
    if (!d.args.draw) askForNext(d.args.pace);
    pump();
  });
  send("streamlit:componentReady", { apiVersion: 1 });
})();
