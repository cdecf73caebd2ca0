// The drawing surface of aurora_xr.widgets.LabelTool (an anywidget ES module).
//
// Python sends two images as bytes: the frame through the contrast stretch (`frame_bytes`)
// and the overlay (`overlay_bytes`: the model's pre-label and the mask, RGBA PNG). This
// module shows them on a <canvas> with zoom and pan, lets the user draw polygons and brush
// strokes, and sends each finished edit to Python as a custom message in image coordinates
// ("corner" convention: pixel (row i, column j) covers [j, j+1) x [i, i+1)). Python
// rasterises the edit into the mask and sends a new overlay; until it arrives the edit stays
// drawn here, so drawing never waits for the kernel. Keys are looked up in `keymap`
// (key -> action), which Python also uses for the help text.

const MIN_ZOOM = 0.25;
const MAX_ZOOM = 64;
const CLOSE_PX = 6; // a click this close (screen px) to the first vertex closes the polygon

function keyName(event) {
  let key = event.key;
  if (key === " ") key = "Space";
  if (key.length === 1) key = key.toLowerCase();
  let name = key;
  if (event.shiftKey && key.length > 1) name = "Shift+" + name;
  if (event.ctrlKey || event.metaKey) name = "Ctrl+" + name;
  if (event.altKey) name = "Alt+" + name;
  return name;
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "aurora-xr-labelcanvas";
  root.tabIndex = 0;
  // keys typed here are ours, not JupyterLab's notebook shortcuts
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.style.cssText =
    "position:relative;outline:none;border:1px solid #888;background:#111;" +
    "user-select:none;touch-action:none;overflow:hidden;";
  const canvas = document.createElement("canvas");
  canvas.style.cssText = "display:block;width:100%;height:100%;cursor:crosshair;";
  root.appendChild(canvas);
  el.appendChild(root);
  const ctx = canvas.getContext("2d");

  const state = {
    frame: null, // ImageBitmap
    overlay: null,
    frameToken: 0,
    overlayToken: 0,
    polygon: [], // vertices in image coordinates
    stroke: null, // {points, radius, erase}
    pending: [], // edits sent, not yet in the overlay: {seq, kind, points, radius, erase}
    seq: 0,
    pointer: null, // last pointer position, image coordinates
    panning: null,
    space: false,
  };

  function size() {
    const w = model.get("display_width");
    const h = model.get("display_height");
    root.style.width = w + "px";
    root.style.height = h + "px";
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  // view: screen = offset + scale * image, scale = fit * zoom
  function fitScale() {
    const w = model.get("width") || 1;
    const h = model.get("height") || 1;
    return Math.min(model.get("display_width") / w, model.get("display_height") / h);
  }
  function scale() {
    return fitScale() * model.get("zoom");
  }
  function offset() {
    const s = scale();
    const cx = model.get("display_width") / 2 - (model.get("width") / 2) * s;
    const cy = model.get("display_height") / 2 - (model.get("height") / 2) * s;
    return [cx + model.get("pan_x"), cy + model.get("pan_y")];
  }
  function toImage(event) {
    const rect = canvas.getBoundingClientRect();
    const [ox, oy] = offset();
    const s = scale();
    return [(event.clientX - rect.left - ox) / s, (event.clientY - rect.top - oy) / s];
  }
  function setView(zoom, panX, panY) {
    model.set("zoom", Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom)));
    model.set("pan_x", panX);
    model.set("pan_y", panY);
    model.save_changes();
  }
  function zoomAbout(factor, sx, sy) {
    // keep the image point under (sx, sy) in place
    const before = model.get("zoom");
    const after = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, before * factor));
    const [ox, oy] = offset();
    const s0 = scale();
    const ix = (sx - ox) / s0;
    const iy = (sy - oy) / s0;
    const s1 = fitScale() * after;
    const cx = model.get("display_width") / 2 - (model.get("width") / 2) * s1;
    const cy = model.get("display_height") / 2 - (model.get("height") / 2) * s1;
    setView(after, sx - ix * s1 - cx, sy - iy * s1 - cy);
  }

  function tracePath(points) {
    const [ox, oy] = offset();
    const s = scale();
    ctx.beginPath();
    points.forEach(([x, y], k) => {
      const px = ox + x * s;
      const py = oy + y * s;
      if (k === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
  }
  function drawStroke(stroke) {
    const s = scale();
    ctx.save();
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = Math.max(1, 2 * stroke.radius * s);
    ctx.strokeStyle = stroke.erase ? "rgba(0,0,0,0.55)" : "rgba(0,230,255,0.45)";
    const pts = stroke.points.length === 1 ? [stroke.points[0], stroke.points[0]] : stroke.points;
    tracePath(pts);
    ctx.stroke();
    ctx.restore();
  }
  function drawPolygon(points, closed) {
    if (!points.length) return;
    const [ox, oy] = offset();
    const s = scale();
    ctx.save();
    tracePath(points);
    if (closed) {
      ctx.closePath();
      ctx.fillStyle = "rgba(0,230,255,0.35)";
      ctx.fill();
    } else if (state.pointer) {
      ctx.lineTo(ox + state.pointer[0] * s, oy + state.pointer[1] * s);
    }
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#ffeb3b";
    ctx.stroke();
    ctx.fillStyle = "#ffeb3b";
    for (const [x, y] of points) ctx.fillRect(ox + x * s - 2.5, oy + y * s - 2.5, 5, 5);
    ctx.restore();
  }

  function draw() {
    const W = model.get("display_width");
    const H = model.get("display_height");
    ctx.fillStyle = "#111";
    ctx.fillRect(0, 0, W, H);
    const [ox, oy] = offset();
    const s = scale();
    const w = model.get("width") * s;
    const h = model.get("height") * s;
    ctx.imageSmoothingEnabled = s < 1;
    if (state.frame) ctx.drawImage(state.frame, ox, oy, w, h);
    if (state.overlay) ctx.drawImage(state.overlay, ox, oy, w, h);
    for (const edit of state.pending) {
      if (edit.kind === "stroke") drawStroke(edit);
      else drawPolygon(edit.points, true);
    }
    if (state.stroke) drawStroke(state.stroke);
    if (state.polygon.length) drawPolygon(state.polygon, false);
    const tool = model.get("tool");
    if (state.pointer && (tool === "brush" || tool === "eraser")) {
      ctx.save();
      ctx.beginPath();
      ctx.arc(ox + state.pointer[0] * s, oy + state.pointer[1] * s,
        Math.max(1, model.get("brush_radius") * s), 0, 2 * Math.PI);
      ctx.strokeStyle = tool === "eraser" ? "#ff5252" : "#ffffff";
      ctx.lineWidth = 1;
      ctx.stroke();
      ctx.restore();
    }
  }

  async function decode(name, mime, tokenName) {
    const data = model.get(name);
    const token = ++state[tokenName];
    if (!data || data.byteLength === 0) return null;
    const blob = new Blob([data], { type: mime });
    const bitmap = await createImageBitmap(blob);
    return token === state[tokenName] ? bitmap : undefined; // undefined: a newer one is coming
  }
  async function loadFrame() {
    const bitmap = await decode("frame_bytes", model.get("frame_mime"), "frameToken");
    if (bitmap !== undefined) {
      state.frame = bitmap;
      draw();
    }
  }
  async function loadOverlay() {
    const bitmap = await decode("overlay_bytes", "image/png", "overlayToken");
    if (bitmap !== undefined) {
      state.overlay = bitmap;
      const ack = model.get("ack");
      state.pending = state.pending.filter((e) => e.seq > ack);
      draw();
      root.dataset.overlayRevision = String(model.get("ack"));
    }
  }

  function send(content) {
    model.send(content);
  }
  function closePolygon() {
    const points = state.polygon;
    state.polygon = [];
    if (points.length >= 3) {
      const edit = { seq: ++state.seq, kind: "polygon", points };
      state.pending.push(edit);
      send({ type: "polygon", seq: edit.seq, points });
    }
    draw();
  }
  function finishStroke() {
    const stroke = state.stroke;
    state.stroke = null;
    if (!stroke) return;
    const edit = { seq: ++state.seq, kind: "stroke", ...stroke };
    state.pending.push(edit);
    send({ type: "stroke", seq: edit.seq, points: stroke.points, radius: stroke.radius,
      erase: stroke.erase });
    draw();
  }

  const local = {
    close_polygon: closePolygon,
    cancel_polygon: () => { state.polygon = []; state.stroke = null; draw(); },
    remove_vertex: () => { state.polygon.pop(); draw(); },
    zoom_in: () => zoomAbout(1.25, model.get("display_width") / 2, model.get("display_height") / 2),
    zoom_out: () => zoomAbout(0.8, model.get("display_width") / 2, model.get("display_height") / 2),
    zoom_fit: () => setView(1, 0, 0),
    tool_polygon: () => { model.set("tool", "polygon"); model.save_changes(); },
    tool_brush: () => { model.set("tool", "brush"); model.save_changes(); },
    tool_eraser: () => { model.set("tool", "eraser"); model.save_changes(); },
  };

  root.addEventListener("keydown", (event) => {
    if (event.key === " ") state.space = true;
    const action = (model.get("keymap") || {})[keyName(event)];
    if (!action) return;
    event.preventDefault();
    event.stopPropagation();
    if (local[action]) local[action]();
    else send({ type: "action", action });
  });
  root.addEventListener("keyup", (event) => {
    if (event.key === " ") state.space = false;
  });

  canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  // a drag (brush stroke or pan) follows the mouse outside the canvas until the button is up
  function onDragMove(event) {
    state.pointer = toImage(event);
    if (state.panning) {
      const [x0, y0, px, py] = state.panning;
      setView(model.get("zoom"), px + event.clientX - x0, py + event.clientY - y0);
      return;
    }
    if (state.stroke) {
      const last = state.stroke.points[state.stroke.points.length - 1];
      if (Math.hypot(state.pointer[0] - last[0], state.pointer[1] - last[1]) >= 0.5) {
        state.stroke.points.push(state.pointer);
      }
      draw();
    }
  }
  function onDragEnd() {
    window.removeEventListener("mousemove", onDragMove);
    window.removeEventListener("mouseup", onDragEnd);
    if (state.panning) state.panning = null;
    else if (state.stroke) finishStroke();
  }
  function startDrag() {
    window.addEventListener("mousemove", onDragMove);
    window.addEventListener("mouseup", onDragEnd);
  }
  canvas.addEventListener("mousedown", (event) => {
    event.preventDefault();
    root.focus({ preventScroll: true });
    const pan = event.button === 1 || event.button === 2 || (event.button === 0 && state.space);
    if (pan) {
      state.panning = [event.clientX, event.clientY, model.get("pan_x"), model.get("pan_y")];
      startDrag();
      return;
    }
    if (event.button !== 0) return;
    const p = toImage(event);
    const tool = model.get("tool");
    if (tool === "polygon") {
      if (event.detail >= 2) return; // the second press of a double click: dblclick closes
      if (state.polygon.length >= 3) {
        const s = scale();
        const [fx, fy] = state.polygon[0];
        if (Math.hypot((fx - p[0]) * s, (fy - p[1]) * s) <= CLOSE_PX) {
          closePolygon();
          return;
        }
      }
      state.polygon.push(p);
      draw();
    } else {
      state.stroke = { points: [p], radius: model.get("brush_radius"), erase: tool === "eraser" };
      startDrag();
      draw();
    }
  });
  canvas.addEventListener("mousemove", (event) => {
    if (state.panning || state.stroke) return; // the drag handlers follow it
    state.pointer = toImage(event);
    draw();
  });
  canvas.addEventListener("mouseleave", () => {
    if (state.panning || state.stroke) return;
    state.pointer = null;
    draw();
  });
  canvas.addEventListener("dblclick", (event) => {
    event.preventDefault();
    if (model.get("tool") === "polygon") closePolygon();
  });
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const rect = canvas.getBoundingClientRect();
    const factor = Math.pow(1.0015, -event.deltaY);
    zoomAbout(factor, event.clientX - rect.left, event.clientY - rect.top);
  }, { passive: false });

  model.on("change:frame_bytes", () => {
    state.polygon = [];
    state.pending = [];
    loadFrame();
  });
  model.on("change:overlay_bytes", loadOverlay);
  for (const name of ["zoom", "pan_x", "pan_y", "tool", "brush_radius"]) {
    model.on("change:" + name, draw);
  }
  model.on("change:display_width", () => { size(); draw(); });
  model.on("change:display_height", () => { size(); draw(); });

  size();
  loadFrame();
  loadOverlay();
  return () => {
    state.frame = null;
    state.overlay = null;
  };
}

export default { render };
