// The charts, in plain SVG: the headline rates, the outcome mix, what the institution sees beside
// what is underneath, and the final values. Hand-written rather than a charting library: the panels
// draw what a small library such as uPlot does not out of the box (a 95% band and every seed per
// run, the previous run dashed beside it, up to three pinned runs, stacked outcome areas, phase
// marks, and exact values at each evaluated step for the hover and the keyboard): a library would
// add its own code and still leave most of that to be drawn by hand here.
import { $, C, HEADLINE, SVG, app, pins, sees, state, underneath } from './state.js';

// ---- drawing --------------------------------------------------------------------------------

export function schedule() {
  if (app.redraw) return;
  app.redraw = requestAnimationFrame(() => {
    app.redraw = 0;
    const began = performance.now();
    drawAll();
    // Time spent drawing, and how many times (the speed measurement reports these).
    const times = window.demoTimes;
    times.drawing = (times.drawing || 0) + performance.now() - began;
    times.draws = (times.draws || 0) + 1;
    // When the first point and the last were drawn (the speed measurement reads these).
    if (app.current && app.current.points.length && !app.current.drawn) {
      app.current.drawn = true;
      window.demoTimes.firstPoint = performance.now();
    }
    if (app.current && app.current.done && !app.current.drawnDone) {
      app.current.drawnDone = true;
      window.demoTimes.done = performance.now();
    }
  });
}

export function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.append(e);
  return e;
}

export function txt(parent, x, y, s, attrs = {}) {
  const t = el('text', { x, y, 'font-size': 12 * app.fontScale, fill: '#333', ...attrs }, parent);
  t.textContent = s;
  return t;
}

// A value [mean, low, high, n] of a point, flipped (1 − x) for an "objects" line.
export function valueOf(point, line) {
  const v = point.values[line.key];
  if (!v || v[0] === null) return null;
  return line.flip ? [1 - v[0], v[2] === null ? null : 1 - v[2], v[1] === null ? null : 1 - v[1], v[3]] : v;
}

export function runs() {
  return [app.current, app.ghost, ...pins].filter((r) => r && r.points.length);
}

export function lastStep() {
  const steps = [app.current, app.ghost, ...pins].filter((r) => r && r.start).map((r) => r.start.steps);
  return Math.max(100, ...steps);
}

// Every other tick, as often as needed for their labels (about 0.6 em a digit) to stand
// apart: at a projector's type size a narrow panel keeps fewer.
export function roomy(ticks, perStep, size) {
  const width = (t) => String(t).length * 0.62 * size;
  let kept = ticks;
  while (kept.length > 2 && kept.some((t, i) => i && (t - kept[i - 1]) * perStep < (width(t) + width(kept[i - 1])) / 2 + 8)) {
    kept = kept.filter((_, i) => i % 2 === 0);
  }
  return kept;
}

export function niceTicks(max) {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let t = 0; t <= max + 1e-9; t += step) ticks.push(t);
  return ticks;
}

// Each panel's size, read once per drawing before anything is drawn: reading a size after the
// page has changed makes the browser lay the page out again, once per read.
export const sizes = new Map();

export function measure() {
  sizes.clear();
  for (const svg of document.querySelectorAll('#view figure.panel svg')) {
    sizes.set(svg, [svg.clientWidth || 300, svg.clientHeight || 150]);
  }
}

// Replaces a list's items with `items` ([text, colour, kind] each, or a ready element with a
// signature) only when they differ from what it shows, so an unchanged list costs no layout.
export function setKeys(list, items) {
  const signature = JSON.stringify(items.map((i) => (i instanceof Element ? i.dataset.signature : i)));
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  list.replaceChildren(...items.map((i) => (i instanceof Element ? i : key(...i))));
}

// Each panel's frame as drawn (what it was drawn for, and the layer its data goes in).
export const frames = new WeakMap();

// The frame of a panel: title, axes, grid; returns the scales, the plot's box and an emptied
// layer for the data. The frame is drawn again only when what it shows changes: a new point
// changes the data alone, and a browser lays out and paints the fewer elements the faster.
export function frame(svg, title, ylo, yhi) {
  const [w, h] = sizes.get(svg) || [svg.clientWidth || 300, svg.clientHeight || 150];
  const k = app.fontScale;
  // The top clears the title; the x axis's 0 starts at the y axis, clear of the y axis's 0.
  const box = { l: 36 * k, r: w - 18 * k, t: 28 * k, b: h - 18 * k };
  const xmax = lastStep();
  const x = (s) => box.l + (s / xmax) * (box.r - box.l);
  const y = (v) => box.b - ((v - ylo) / (yhi - ylo)) * (box.b - box.t);
  const boundaries = (app.current && app.current.start && app.current.start.boundaries) || [];
  const signature = JSON.stringify([w, h, title, ylo, yhi, xmax, boundaries, k]);
  const drawn = frames.get(svg);
  if (drawn && drawn.signature === signature && drawn.layer.parentNode === svg) {
    drawn.layer.replaceChildren();
    return { x, y, box, xmax, layer: drawn.layer };
  }
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  txt(svg, 8, 14 * k, title, { 'font-size': 14 * k, 'font-weight': 600, fill: '#1a1a1a' });
  // Quarters where the panel is tall enough for their labels to stand apart, else halves.
  const quarters = (box.b - box.t) / 4 >= 16 * k;
  const yt = yhi - ylo > 1.5
    ? [ylo, (ylo + yhi) / 2, yhi]
    : (quarters ? [0, 0.25, 0.5, 0.75, 1] : [0, 0.5, 1]).filter((v) => v >= ylo && v <= yhi);
  for (const v of yt) {
    el('line', { x1: box.l, x2: box.r, y1: y(v), y2: y(v), stroke: '#e6e6e6' }, svg);
    txt(svg, box.l - 4, y(v) + 4 * k, String(Math.round(v * 100) / 100), { 'text-anchor': 'end' });
  }
  for (const s of roomy(niceTicks(xmax), (box.r - box.l) / xmax, 12 * k)) {
    el('line', { x1: x(s), x2: x(s), y1: box.b, y2: box.b + 3, stroke: '#999' }, svg);
    txt(svg, x(s), box.b + 15 * k, String(s), { 'text-anchor': s === 0 ? 'start' : 'middle' });
  }
  el('line', { x1: box.l, x2: box.r, y1: box.b, y2: box.b, stroke: '#999' }, svg);
  // Where each phase after the first trained one begins (a followup, a teach phase, ...).
  for (const [step, name] of boundaries) {
    el('line', { x1: x(step), x2: x(step), y1: box.t, y2: box.b, stroke: '#999', 'stroke-dasharray': '2 3' }, svg);
    txt(svg, x(step) + 3, box.t + 10 * k, name, { 'font-size': 11 * k, fill: '#666' });
  }
  const layer = el('g', {}, svg);
  frames.set(svg, { signature, layer });
  return { x, y, box, xmax, layer };
}

export function path(points) {
  return points.map(([a, b], i) => `${i ? 'L' : 'M'}${a.toFixed(1)},${b.toFixed(1)}`).join('');
}

export function line(run, key, scale, colour, style) {
  const layer = scale.layer;
  const pts = run.points.map((p) => [p.step, valueOf(p, key)]).filter(([, v]) => v);
  if (!pts.length) return false;
  if (style.band && run.points.length) {
    const up = pts.filter(([, v]) => v[1] !== null).map(([s, v]) => [scale.x(s), scale.y(v[2])]);
    const down = pts.filter(([, v]) => v[1] !== null).map(([s, v]) => [scale.x(s), scale.y(v[1])]).reverse();
    if (up.length > 1) el('path', { d: `${path(up)}L${path(down).slice(1)}Z`, fill: colour, 'fill-opacity': 0.18, stroke: 'none' }, layer);
  }
  if (style.seeds) {
    const per = run.points.filter((p) => p.seeds[key.key]);
    const n = per.length ? per[0].seeds[key.key].length : 0;
    for (let i = 0; i < n; i++) {
      const sp = per.filter((p) => p.seeds[key.key][i] !== null).map((p) => [scale.x(p.step), scale.y(p.seeds[key.key][i])]);
      el('path', { d: path(sp), fill: 'none', stroke: colour, 'stroke-width': 0.8, 'stroke-opacity': 0.35 }, layer);
    }
  }
  const attrs = { d: path(pts.map(([s, v]) => [scale.x(s), scale.y(v[0])])), fill: 'none', stroke: colour, 'stroke-width': style.width || 2.2 };
  if (style.dash) attrs['stroke-dasharray'] = style.dash;
  if (style.opacity) attrs['stroke-opacity'] = style.opacity;
  el('path', attrs, layer);
  if (pts.length === 1) el('circle', { cx: scale.x(pts[0][0]), cy: scale.y(pts[0][1][0]), r: 3, fill: colour }, layer);
  return true;
}

// The style of each run shown in the headline panels: current, ghost, pins.
export function runStyles() {
  const out = [];
  pins.forEach((r, i) => out.push([r, C.pins[i], { dash: '6 3', width: 1.8 }]));
  if (app.ghost) out.push([app.ghost, C.grey, { dash: '5 4', width: 1.8 }]);
  if (app.current) out.push([app.current, C.blue, { band: true, seeds: true }]);
  return out;
}

export const panels = {};

export function drawHeadline() {
  for (const [metric, title] of HEADLINE) {
    const svg = $(`p-${metric}`).querySelector('svg');
    const scale = frame(svg, title, 0, 1);
    const key = { key: `${state.scope}:${metric}` };
    for (const [run, colour, style] of runStyles()) line(run, key, scale, colour, style);
    panels[`p-${metric}`] = { scale, svg, rows: (step) => runStyles().reverse().map(([run, colour]) => [run, colour, key]).map(([run, colour, k]) => tipRow(run, colour, k, step, run === app.current ? 'now' : run === app.ghost ? 'before' : 'pinned')) };
  }
}

export function tipRow(run, colour, key, step, who) {
  const p = run.points.find((q) => q.step === step);
  const v = p ? valueOf(p, key) : null;
  return [colour, `${who}: ${run.label}`, v];
}

export function outcomeKeys() {
  const items = C.outcomes.map(([, name, colour]) => [name, colour, 'area']);
  if (app.ghost) items.push(['dashed: the previous run', C.grey, 'dashed']);
  setKeys($('p-outcomes').querySelector('.keys'), items);
}

export function drawOutcomes() {
  const svg = $('p-outcomes').querySelector('svg');
  const scale = frame(svg, 'silent compliance, split', 0, 1);
  const run = app.current;
  if (run && run.points.length) {
    let below = run.points.map(() => 0);
    for (const [metric, , colour] of C.outcomes) {
      const k = { key: `${state.scope}:${metric}` };
      const vals = run.points.map((p) => (valueOf(p, k) || [0])[0] || 0);
      const above = below.map((b, i) => b + vals[i]);
      const top = run.points.map((p, i) => [scale.x(p.step), scale.y(above[i])]);
      const bottom = run.points.map((p, i) => [scale.x(p.step), scale.y(below[i])]).reverse();
      el('path', { d: `${path(top)}L${path(bottom).slice(1)}Z`, fill: colour, 'fill-opacity': 0.85, stroke: 'none' }, scale.layer);
      below = above;
    }
  }
  if (app.ghost) line(app.ghost, { key: `${state.scope}:silent_compliance` }, scale, C.grey, { dash: '5 4', width: 1.8 });
  panels['p-outcomes'] = {
    scale,
    svg,
    rows: (step) => (app.current ? C.outcomes.map(([m, name, colour]) => tipRow(app.current, colour, { key: `${state.scope}:${m}` }, step, name)).reverse() : []),
  };
}

export function key(name, colour, kind) {
  const li = document.createElement('li');
  const sw = document.createElement('span');
  sw.className = `swatch ${kind || ''}`;
  if (kind === 'area') sw.style.background = colour;
  else sw.style.borderColor = colour;
  li.append(sw, name);
  return li;
}

// The lines of `lines` some shown run has a value of.
export function presentLines(lines) {
  return lines.filter((l) => [app.current, app.ghost].some((r) => r && r.points.some((p) => valueOf(p, l))));
}

export function lineKeys(id, lines) {
  const present = presentLines(lines);
  const items = present.map((l) => [l.label, l.colour]);
  if (app.ghost && present.length) items.push(['dashed: the previous run', C.grey, 'dashed']);
  setKeys($(id).querySelector('.keys'), items);
}

export function drawLines(id, title, lines, fixed) {
  const svg = $(id).querySelector('svg');
  const present = presentLines(lines);
  let [lo, hi] = fixed;
  for (const r of [app.current, app.ghost]) {
    if (!r) continue;
    for (const p of r.points) {
      for (const l of present) {
        const v = valueOf(p, l);
        // Widen the fixed range to the data, in steps of a half.
        if (v && v[0] !== null) [lo, hi] = [Math.min(lo, Math.floor(v[0] * 2 + 1e-6) / 2), Math.max(hi, Math.ceil(v[0] * 2 - 1e-6) / 2)];
      }
    }
  }
  const scale = frame(svg, title, lo, hi);
  for (const l of present) {
    if (app.ghost) line(app.ghost, l, scale, l.colour, { dash: '5 4', width: 1.6, opacity: 0.55 });
    if (app.current) line(app.current, l, scale, l.colour, { band: true });
  }
  panels[id] = { scale, svg, rows: (step) => (app.current ? present.map((l) => tipRow(app.current, l.colour, l, step, l.label)) : []) };
}

export function drawRuns() {
  const items = [];
  if (app.current) items.push([`now: ${app.current.label}`, C.blue]);
  if (app.ghost) items.push([`before: ${app.ghost.label}`, C.grey, 'dashed']);
  pins.forEach((r, i) => {
    const li = key(`pinned: ${r.label}`, C.pins[i], 'dashed');
    li.dataset.signature = `pin ${i} ${r.label}`;
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = '×';
    b.setAttribute('aria-label', `unpin ${r.label}`);
    b.addEventListener('click', () => {
      pins.splice(pins.indexOf(r), 1);
      schedule();
    });
    li.append(b);
    items.push(li);
  });
  setKeys($('runs'), items);
}

export function drawFinals() {
  const shownRuns = [[app.current, 'now'], [app.ghost, 'before'], ...pins.map((r, i) => [r, `pin ${i + 1}`])].filter(([r]) => r);
  const cell = (r, metric) => {
    const f = r.finals && r.finals[`${state.scope}:${metric}`];
    // Pinned runs show the mean alone, so that five columns fit.
    const value = f && (r === app.current || r === app.ghost ? f.text : f.text.split(' ')[0]);
    return value || (r.done ? '—' : '…');
  };
  // Rebuilt only when what it shows changes: most points change nothing in it.
  const table = $('finals-body');
  const signature = JSON.stringify([
    shownRuns.map(([r, who]) => [who, r.label]),
    HEADLINE.map(([metric]) => shownRuns.map(([r]) => cell(r, metric))),
  ]);
  if (table.dataset.signature === signature) return;
  table.dataset.signature = signature;
  const head = $('finals-head');
  head.innerHTML = '<th scope="col">final value</th>';
  for (const [r, who] of shownRuns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = who;
    th.title = r.label;
    head.append(th);
  }
  const body = $('finals-body');
  body.innerHTML = '';
  for (const [metric, name] of HEADLINE) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = name;
    th.title = app.catalogue.metrics[metric];
    tr.append(th);
    for (const [r] of shownRuns) {
      const td = document.createElement('td');
      td.textContent = cell(r, metric);
      if (r === app.current) td.id = `final-${metric}`;
      tr.append(td);
    }
    body.append(tr);
  }
}

export function drawAll() {
  if (!app.catalogue) return;
  // Scopes the run measured (held-out domains exist only when some are held out, ...).
  const first = app.current && app.current.points[0];
  for (const o of $('scope').options) {
    o.disabled = Boolean(first) && !(`${o.value}:refusal` in first.values);
  }
  // What changes the layout first (the lists, whose height the charts take what is left of),
  // then every size read at once, then the charts.
  drawRuns();
  outcomeKeys();
  lineKeys('p-sees', sees(state.scope));
  lineKeys('p-under', underneath(state.scope));
  drawFinals();
  measure();
  drawHeadline();
  drawOutcomes();
  drawLines('p-sees', 'what the institution sees', sees(state.scope), [0, 1]);
  drawLines('p-under', 'what is underneath', underneath(state.scope), [0, 1]);
}
