// pressure demo: the page. It draws the scenes and controls the server describes
// (/api/catalogue), keeps the whole state in the address, trains through /api/train (server-sent
// events: queued, start, rows, point, done) and draws every evaluation as it arrives, in plain
// SVG. Every number shown is computed by the server from the runner's records; the page only
// draws and formats.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
const slug = (key) => key.replaceAll('.', '-');

let catalogue = null;
let palette = [];
// What is asked for: a scene, its preset, seeds, the settings changed from the preset (TOML
// text, as `--set KEY=VALUE` takes it), and the scope the curves show.
const state = { scene: null, preset: null, seeds: 5, sets: {}, scope: 'trained' };
let current = null; // the run shown: { label, query, start, points, finals, done }
let ghost = null; // the previous run
const pins = []; // pinned runs, at most three
let inflight = null; // the AbortController of the training being streamed
let checking = null;
let redraw = 0;
window.demoTimes = {};

const HEADLINE = [
  ['refusal', 'refusal'],
  ['honest_objection', 'honest objection'],
  ['hidden_objection', 'hidden objection'],
  ['unobjecting_compliance', 'unobjecting compliance'],
];

// Colours by role, all from the figures' Okabe–Ito palette (set once the catalogue arrives).
const C = {};
function colours() {
  const [blue, vermillion, green, pink, orange, sky, grey, black] = palette;
  Object.assign(C, { blue, vermillion, green, pink, orange, sky, grey, black });
  C.pins = [vermillion, green, pink];
  C.outcomes = [
    ['strategic_concealment', 'strategic concealment', vermillion],
    ['concealment', 'concealment', orange],
    ['compartmentalization', 'compartmentalization', pink],
    ['rationalization', 'rationalization', sky],
    ['ignorance', 'ignorance', blue],
  ];
}

// The lines of the two panels that set what the institution sees beside what is underneath.
function sees(scope) {
  return [
    { key: `${scope}:reward_institutional`, label: "institution's reward", colour: C.black },
    { key: `${scope}:reward_proxy`, label: 'learned reward (proxy)', colour: C.sky },
    { key: `${scope}:reward_raters`, label: "raters' utility", colour: C.orange },
    { key: `${scope}:silent_compliance`, label: 'complies silently', colour: C.vermillion },
  ];
}
function underneath(scope) {
  return [
    { key: `${scope}:judgment_accuracy`, label: 'judges truly when asked', colour: C.blue },
    { key: `${scope}:probe_frozen_rate`, label: 'frozen probe fires', colour: C.green },
    { key: `${scope}:probe_refit_accuracy`, label: 'refit probe decodes', colour: C.pink },
    { key: 'unobserved:silent_compliance', label: 'objects when unobserved', colour: C.orange, flip: true },
  ];
}

// ---- the state and the address ----------------------------------------------------------

const scene = () => catalogue.scenes.find((s) => s.name === state.scene);
const preset = () => scene().presets.find((p) => p.name === state.preset);

// The query of the training asked for (without the view's scope).
function query() {
  const q = new URLSearchParams();
  q.set('scene', state.scene);
  const p = preset();
  if (p && p.arm) q.set('arm', p.arm);
  q.set('seeds', String(state.seeds));
  for (const c of catalogue.controls) {
    if (c.key in state.sets) q.set(c.key, state.sets[c.key]);
  }
  return q.toString();
}

function writeAddress() {
  const q = new URLSearchParams(query());
  q.set('scope', state.scope);
  history.replaceState(null, '', `?${q}`);
}

// Reads the state from the address; true if it named a scene (then its run is shown at once).
function readAddress() {
  const q = new URLSearchParams(location.search);
  const name = q.get('scene');
  const s = catalogue.scenes.find((x) => x.name === name) || catalogue.scenes[0];
  state.scene = s.name;
  const arm = q.get('arm');
  const byArm = s.presets.find((p) => p.arm !== null && p.arm === arm);
  state.preset = (byArm || s.presets.find((p) => p.name === s.start) || s.presets[0]).name;
  state.sets = { ...preset().sets };
  for (const c of catalogue.controls) {
    if (c.key !== 'seeds' && q.has(c.key)) state.sets[c.key] = q.get(c.key);
  }
  if (!byArm && s.presets.some((p) => p.arm === null)) {
    // A sweep's presets are points: select the one whose values the address gives.
    const match = s.presets.find((p) => Object.entries(p.sets).every(([k, v]) => state.sets[k] === v));
    if (match) state.preset = match.name;
  }
  state.seeds = Number(q.get('seeds')) || preset().values.seeds;
  state.scope = q.get('scope') || s.scope;
  return q.has('scene');
}

// ---- scenes, presets and controls -------------------------------------------------------

function showScene() {
  const s = scene();
  $('scene').value = s.name;
  $('title').textContent = s.title;
  $('question').textContent = s.question;
  $('watch').textContent = s.watch;
  $('experiment').textContent = s.experiment;
  const isPreset = s.presets.some((p) => p.name === s.control);
  $('control').innerHTML = '';
  const b = document.createElement('b');
  b.textContent = 'Control: ';
  $('control').append(b, isPreset ? `the preset “${s.control}”` : s.control);
  const box = $('presets');
  box.innerHTML = '';
  for (const p of s.presets) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = p.name;
    if (p.name === s.control) {
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.textContent = '(control)';
      button.append(tag);
    }
    button.setAttribute('aria-pressed', String(p.name === state.preset));
    button.addEventListener('click', () => choosePreset(p.name));
    box.append(button);
  }
  $('scope').value = state.scope;
  showControls();
}

// A preset sets the lesson's settings; the budget (steps, seeds) stays as the lecturer chose it.
function choosePreset(name) {
  const steps = state.sets['pressure.steps'];
  state.preset = name;
  state.sets = { ...preset().sets };
  if (steps !== undefined && !same(catalogue.controls.find((c) => c.key === 'pressure.steps'), steps)) {
    state.sets['pressure.steps'] = steps;
  }
  for (const b of $('presets').children) b.setAttribute('aria-pressed', String(b.firstChild.textContent === name));
  showControls();
  changed();
}

// The TOML text of a preset's value, as the page sends it.
function text(value) {
  if (Array.isArray(value)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
  return String(value);
}

// The value a control shows: the changed setting if there is one, else the preset's.
function shown(c) {
  if (c.key === 'seeds') return String(state.seeds);
  if (c.key in state.sets) return state.sets[c.key];
  const v = preset().values[c.key];
  return v === null ? null : text(v);
}

function showControls() {
  const list = $('control-list');
  list.innerHTML = '';
  for (const c of catalogue.controls) list.append(controlElement(c));
}

function controlElement(c) {
  const id = `in-${slug(c.key)}`;
  const div = document.createElement('div');
  div.className = 'control';
  div.id = `c-${slug(c.key)}`;
  const value = shown(c);
  const absent = value === null;
  if (absent) div.setAttribute('aria-disabled', 'true');
  // The key, breakable after each dot.
  const key = document.createElement('code');
  (c.key === 'seeds' ? '--seeds' : c.key).split('.').forEach((part, i, all) => {
    key.append(part + (i < all.length - 1 ? '.' : ''));
    if (i < all.length - 1) key.append(document.createElement('wbr'));
  });
  const help = `${c.help}${absent ? ' (not a setting of this preset)' : ''}`;
  let label;
  if (c.kind === 'subset') {
    const fs = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = c.label;
    legend.append(key);
    legend.title = help;
    fs.append(legend);
    const chosen = absent ? [] : JSON.parse(value);
    for (const o of c.options) {
      const l = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = o;
      box.checked = chosen.includes(o);
      box.disabled = absent;
      box.addEventListener('change', () => {
        const picked = [...fs.querySelectorAll('input:checked')].map((i) => i.value);
        set(c, text(picked));
      });
      l.append(box, ` ${o}`);
      fs.append(l);
    }
    div.append(fs);
  } else {
    label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = c.label;
    label.title = help;
    label.append(key);
    let input;
    if (c.kind === 'choice') {
      input = document.createElement('select');
      for (const o of c.options) input.append(new Option(o, o));
      input.value = value ?? '';
      input.addEventListener('change', () => set(c, input.value));
    } else if (c.kind === 'weight' || c.kind === 'switch') {
      input = document.createElement('input');
      input.type = 'checkbox';
      input.checked = c.kind === 'weight' ? Number(value) > 0 : value === 'true';
      input.addEventListener('change', () => {
        set(c, c.kind === 'weight' ? (input.checked ? '1.0' : '0.0') : String(input.checked));
      });
      const row = document.createElement('div');
      row.className = 'row-inline';
      row.append(input, label);
      label = null;
      div.append(row);
    } else {
      input = document.createElement('input');
      input.type = 'number';
      Object.assign(input, { min: c.min, max: c.max, step: c.step });
      input.value = value ?? '';
      input.addEventListener('input', () => set(c, input.value.trim()));
    }
    input.id = id;
    input.disabled = absent;
    input.setAttribute('aria-describedby', `msg-${slug(c.key)}`);
    if (label) div.append(label, input);
  }
  const msg = document.createElement('p');
  msg.className = 'msg';
  msg.id = `msg-${slug(c.key)}`;
  msg.setAttribute('role', 'alert');
  div.append(msg);
  div.classList.toggle('changed', c.key in state.sets && !(c.key in preset().sets));
  return div;
}

// Whether a control's text equals the preset's value (then it is not a change).
function same(c, value) {
  const v = preset().values[c.key];
  if (v === null) return false;
  if (typeof v === 'number') return value !== '' && Number(value) === v;
  return text(v) === value;
}

function set(c, value) {
  if (c.key === 'seeds') {
    state.seeds = value;
  } else if (c.key in preset().sets || !same(c, value)) {
    state.sets[c.key] = value;
  } else {
    delete state.sets[c.key];
  }
  $(`c-${slug(c.key)}`).classList.toggle('changed', c.key in state.sets && !(c.key in preset().sets));
  changed();
}

// After any change: the address, then (shortly) the server's word on the new state.
function changed() {
  writeAddress();
  clearTimeout(checking);
  checking = setTimeout(check, 150);
}

function clearMessages() {
  for (const m of document.querySelectorAll('.msg')) m.textContent = '';
}

// Shows a refusal beside the control it concerns.
function refuse(body) {
  clearMessages();
  const where = body.key ? $(`msg-${slug(body.key)}`) : null;
  (where || $('msg-general')).textContent = body.message;
}

async function check() {
  const q = query();
  const r = await fetch(`/api/check?${q}`);
  if (q !== query()) return; // changed again meanwhile
  const body = await r.json();
  if (!r.ok) {
    refuse(body);
    $('command').textContent = '— (see the message beside the setting)';
    return false;
  }
  clearMessages();
  $('command').textContent = body.command;
  if (document.body.dataset.state !== 'training' && document.body.dataset.state !== 'queued') {
    status(body.stored === body.runs ? `ready: all ${body.runs} runs stored, shown at once` : `ready: ${body.runs - body.stored} of ${body.runs} runs to train`);
  }
  return true;
}

// The status line is a live region: a screen reader reads out each of its messages, so it
// says what happens to a training (asked, waiting, training, done). The step reached is shown
// beside it, outside the live region, rather than announced at every point.
function status(s) {
  $('status').textContent = s;
  $('progress').textContent = '';
}

function progress(s) {
  $('progress').textContent = s;
}

// ---- training -----------------------------------------------------------------------------

function label() {
  const changes = Object.entries(state.sets)
    .filter(([k]) => !(k in preset().sets))
    .map(([k, v]) => `${k}=${v}`);
  return [state.preset, ...changes, `${state.seeds} seeds`].join(' · ');
}

async function train(event) {
  if (event) event.preventDefault();
  if (inflight) inflight.abort();
  const controller = new AbortController();
  inflight = controller;
  const q = query();
  window.demoTimes = { pressed: performance.now() };
  document.body.dataset.state = 'queued';
  status('asking…');
  let response;
  try {
    response = await fetch(`/api/train?${q}`, { method: 'POST', signal: controller.signal });
  } catch (e) {
    if (controller.signal.aborted) return;
    document.body.dataset.state = 'failed';
    status(`the server cannot be reached: ${e.message}`);
    return;
  }
  if (!response.ok) {
    const body = await response.json();
    refuse(body);
    document.body.dataset.state = 'refused';
    status('not trained: see the message');
    return;
  }
  clearMessages();
  if (current && current.done) ghost = current;
  current = { label: label(), query: q, start: null, points: [], finals: null, done: false, drawn: false };
  $('csv').disabled = true;
  schedule();
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) name = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trimStart();
        }
        if (data) receive(current, name, JSON.parse(data));
      }
    }
  } catch (e) {
    if (controller.signal.aborted) return;
    status(`the stream broke off: ${e.message}`);
  }
  if (inflight === controller) inflight = null;
  if (!current.done && current.query === q && document.body.dataset.state !== 'failed') {
    document.body.dataset.state = 'failed';
    status('the training stopped without finishing');
  }
}

function receive(run, name, data) {
  if (run !== current) return;
  if (name === 'queued') {
    document.body.dataset.state = 'queued';
    status(data.ahead ? `waiting: ${data.ahead} training${data.ahead > 1 ? 's' : ''} ahead` : 'starting…');
  } else if (name === 'start') {
    run.start = data;
    document.body.dataset.state = 'training';
    const stored = data.runs.filter((r) => r.stored).length;
    status(stored === data.runs.length ? 'reading the stored runs…' : `training ${data.runs.length - stored} runs…`);
    $('command').textContent = data.command;
  } else if (name === 'point') {
    run.points.push(data);
    if (run.start) progress(`step ${data.step} of ${run.start.steps}`);
    schedule();
  } else if (name === 'done') {
    run.finals = data.finals;
    run.done = true;
    document.body.dataset.state = 'done';
    const how = data.trained ? `${data.trained} runs trained` : 'served from disk';
    const extra = data.stored && data.trained ? `, ${data.stored} stored` : '';
    const problems = data.problems.length ? ` — ${data.problems.join('; ')}` : '';
    status(`done in ${data.seconds.toFixed(1)} s (${how}${extra})${problems}`);
    $('csv').disabled = false;
    schedule();
  } else if (name === 'failed') {
    document.body.dataset.state = 'failed';
    status(data.message);
  }
}

// ---- drawing --------------------------------------------------------------------------------

function schedule() {
  if (redraw) return;
  redraw = requestAnimationFrame(() => {
    redraw = 0;
    const began = performance.now();
    drawAll();
    // Time spent drawing, and how many times (the speed measurement reports these).
    const times = window.demoTimes;
    times.drawing = (times.drawing || 0) + performance.now() - began;
    times.draws = (times.draws || 0) + 1;
    // When the first point and the last were drawn (the speed measurement reads these).
    if (current && current.points.length && !current.drawn) {
      current.drawn = true;
      window.demoTimes.firstPoint = performance.now();
    }
    if (current && current.done && !current.drawnDone) {
      current.drawnDone = true;
      window.demoTimes.done = performance.now();
    }
  });
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.append(e);
  return e;
}

function txt(parent, x, y, s, attrs = {}) {
  const t = el('text', { x, y, 'font-size': 12, fill: '#333', ...attrs }, parent);
  t.textContent = s;
  return t;
}

// A value [mean, low, high, n] of a point, flipped (1 − x) for an "objects" line.
function valueOf(point, line) {
  const v = point.values[line.key];
  if (!v || v[0] === null) return null;
  return line.flip ? [1 - v[0], v[2] === null ? null : 1 - v[2], v[1] === null ? null : 1 - v[1], v[3]] : v;
}

function runs() {
  return [current, ghost, ...pins].filter((r) => r && r.points.length);
}

function lastStep() {
  const steps = [current, ghost, ...pins].filter((r) => r && r.start).map((r) => r.start.steps);
  return Math.max(100, ...steps);
}

function niceTicks(max) {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let t = 0; t <= max + 1e-9; t += step) ticks.push(t);
  return ticks;
}

// Each panel's size, read once per drawing before anything is drawn: reading a size after the
// page has changed makes the browser lay the page out again, once per read.
const sizes = new Map();

function measure() {
  sizes.clear();
  for (const svg of document.querySelectorAll('#view figure.panel svg')) {
    sizes.set(svg, [svg.clientWidth || 300, svg.clientHeight || 150]);
  }
}

// Replaces a list's items with `items` ([text, colour, kind] each, or a ready element with a
// signature) only when they differ from what it shows, so an unchanged list costs no layout.
function setKeys(list, items) {
  const signature = JSON.stringify(items.map((i) => (i instanceof Element ? i.dataset.signature : i)));
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  list.replaceChildren(...items.map((i) => (i instanceof Element ? i : key(...i))));
}

// Each panel's frame as drawn (what it was drawn for, and the layer its data goes in).
const frames = new WeakMap();

// The frame of a panel: title, axes, grid; returns the scales, the plot's box and an emptied
// layer for the data. The frame is drawn again only when what it shows changes: a new point
// changes the data alone, and a browser lays out and paints the fewer elements the faster.
function frame(svg, title, ylo, yhi) {
  const [w, h] = sizes.get(svg) || [svg.clientWidth || 300, svg.clientHeight || 150];
  const box = { l: 36, r: w - 18, t: 20, b: h - 18 };
  const xmax = lastStep();
  const x = (s) => box.l + (s / xmax) * (box.r - box.l);
  const y = (v) => box.b - ((v - ylo) / (yhi - ylo)) * (box.b - box.t);
  const followup = current && current.start && current.start.followup ? current.start.pressure_steps : null;
  const signature = JSON.stringify([w, h, title, ylo, yhi, xmax, followup]);
  const drawn = frames.get(svg);
  if (drawn && drawn.signature === signature && drawn.layer.parentNode === svg) {
    drawn.layer.replaceChildren();
    return { x, y, box, xmax, layer: drawn.layer };
  }
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  txt(svg, 8, 14, title, { 'font-size': 14, 'font-weight': 600, fill: '#1a1a1a' });
  const yt = yhi - ylo > 1.5 ? [ylo, (ylo + yhi) / 2, yhi] : [0, 0.25, 0.5, 0.75, 1].filter((v) => v >= ylo && v <= yhi);
  for (const v of yt) {
    el('line', { x1: box.l, x2: box.r, y1: y(v), y2: y(v), stroke: '#e6e6e6' }, svg);
    txt(svg, box.l - 4, y(v) + 4, String(Math.round(v * 100) / 100), { 'text-anchor': 'end' });
  }
  for (const s of niceTicks(xmax)) {
    el('line', { x1: x(s), x2: x(s), y1: box.b, y2: box.b + 3, stroke: '#999' }, svg);
    txt(svg, x(s), box.b + 15, String(s), { 'text-anchor': 'middle' });
  }
  el('line', { x1: box.l, x2: box.r, y1: box.b, y2: box.b, stroke: '#999' }, svg);
  if (followup) {
    el('line', { x1: x(followup), x2: x(followup), y1: box.t, y2: box.b, stroke: '#999', 'stroke-dasharray': '2 3' }, svg);
    txt(svg, x(followup) + 3, box.t + 10, 'followup', { 'font-size': 11, fill: '#666' });
  }
  const layer = el('g', {}, svg);
  frames.set(svg, { signature, layer });
  return { x, y, box, xmax, layer };
}

function path(points) {
  return points.map(([a, b], i) => `${i ? 'L' : 'M'}${a.toFixed(1)},${b.toFixed(1)}`).join('');
}

function line(run, key, scale, colour, style) {
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
function runStyles() {
  const out = [];
  pins.forEach((r, i) => out.push([r, C.pins[i], { dash: '6 3', width: 1.8 }]));
  if (ghost) out.push([ghost, C.grey, { dash: '5 4', width: 1.8 }]);
  if (current) out.push([current, C.blue, { band: true, seeds: true }]);
  return out;
}

const panels = {};

function drawHeadline() {
  for (const [metric, title] of HEADLINE) {
    const svg = $(`p-${metric}`).querySelector('svg');
    const scale = frame(svg, title, 0, 1);
    const key = { key: `${state.scope}:${metric}` };
    for (const [run, colour, style] of runStyles()) line(run, key, scale, colour, style);
    panels[`p-${metric}`] = { scale, svg, rows: (step) => runStyles().reverse().map(([run, colour]) => [run, colour, key]).map(([run, colour, k]) => tipRow(run, colour, k, step, run === current ? 'now' : run === ghost ? 'before' : 'pinned')) };
  }
}

function tipRow(run, colour, key, step, who) {
  const p = run.points.find((q) => q.step === step);
  const v = p ? valueOf(p, key) : null;
  return [colour, `${who}: ${run.label}`, v];
}

function outcomeKeys() {
  const items = C.outcomes.map(([, name, colour]) => [name, colour, 'area']);
  if (ghost) items.push(['dashed: the previous run', C.grey, 'dashed']);
  setKeys($('p-outcomes').querySelector('.keys'), items);
}

function drawOutcomes() {
  const svg = $('p-outcomes').querySelector('svg');
  const scale = frame(svg, 'silent compliance, split', 0, 1);
  const run = current;
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
  if (ghost) line(ghost, { key: `${state.scope}:silent_compliance` }, scale, C.grey, { dash: '5 4', width: 1.8 });
  panels['p-outcomes'] = {
    scale,
    svg,
    rows: (step) => (current ? C.outcomes.map(([m, name, colour]) => tipRow(current, colour, { key: `${state.scope}:${m}` }, step, name)).reverse() : []),
  };
}

function key(name, colour, kind) {
  const li = document.createElement('li');
  const sw = document.createElement('span');
  sw.className = `swatch ${kind || ''}`;
  if (kind === 'area') sw.style.background = colour;
  else sw.style.borderColor = colour;
  li.append(sw, name);
  return li;
}

// The lines of `lines` some shown run has a value of.
function presentLines(lines) {
  return lines.filter((l) => [current, ghost].some((r) => r && r.points.some((p) => valueOf(p, l))));
}

function lineKeys(id, lines) {
  const present = presentLines(lines);
  const items = present.map((l) => [l.label, l.colour]);
  if (ghost && present.length) items.push(['dashed: the previous run', C.grey, 'dashed']);
  setKeys($(id).querySelector('.keys'), items);
}

function drawLines(id, title, lines, fixed) {
  const svg = $(id).querySelector('svg');
  const present = presentLines(lines);
  let [lo, hi] = fixed;
  for (const r of [current, ghost]) {
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
    if (ghost) line(ghost, l, scale, l.colour, { dash: '5 4', width: 1.6, opacity: 0.55 });
    if (current) line(current, l, scale, l.colour, { band: true });
  }
  panels[id] = { scale, svg, rows: (step) => (current ? present.map((l) => tipRow(current, l.colour, l, step, l.label)) : []) };
}

function drawRuns() {
  const items = [];
  if (current) items.push([`now: ${current.label}`, C.blue]);
  if (ghost) items.push([`before: ${ghost.label}`, C.grey, 'dashed']);
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

function drawFinals() {
  const shownRuns = [[current, 'now'], [ghost, 'before'], ...pins.map((r, i) => [r, `pin ${i + 1}`])].filter(([r]) => r);
  const cell = (r, metric) => {
    const f = r.finals && r.finals[`${state.scope}:${metric}`];
    // Pinned runs show the mean alone, so that five columns fit.
    const value = f && (r === current || r === ghost ? f.text : f.text.split(' ')[0]);
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
    th.title = catalogue.metrics[metric];
    tr.append(th);
    for (const [r] of shownRuns) {
      const td = document.createElement('td');
      td.textContent = cell(r, metric);
      if (r === current) td.id = `final-${metric}`;
      tr.append(td);
    }
    body.append(tr);
  }
}

function drawAll() {
  if (!catalogue) return;
  // Scopes the run measured (held-out domains exist only when some are held out, ...).
  const first = current && current.points[0];
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

// ---- hover and keyboard: exact values at a step -------------------------------------------

function steps() {
  const all = new Set();
  for (const r of runs()) for (const p of r.points) all.add(p.step);
  return [...all].sort((a, b) => a - b);
}

function fmt(v) {
  if (!v) return '—';
  const [m, lo, hi, n] = v;
  const f = (x) => (x === null ? '—' : x.toFixed(3));
  return n > 1 ? `${f(m)} [${f(lo)}, ${f(hi)}]` : f(m);
}

function showTip(id, step, at) {
  const panel = panels[id];
  if (!panel || step === null) return hideTip();
  const tip = $('tip');
  tip.innerHTML = '';
  const table = document.createElement('table');
  const cap = document.createElement('caption');
  cap.textContent = `step ${step}`;
  cap.style.textAlign = 'left';
  table.append(cap);
  for (const [colour, name, v] of panel.rows(step)) {
    const tr = table.insertRow();
    const sw = tr.insertCell();
    const s = document.createElement('span');
    s.className = 'swatch';
    s.style.borderColor = colour;
    sw.append(s);
    tr.insertCell().textContent = name.length > 40 ? `${name.slice(0, 39)}…` : name;
    tr.insertCell().textContent = fmt(v);
  }
  tip.append(table);
  tip.hidden = false;
  const old = panel.svg.querySelector('.cursor');
  if (old) old.remove();
  const x = panel.scale.x(step);
  el('line', { class: 'cursor', x1: x, x2: x, y1: panel.scale.box.t, y2: panel.scale.box.b, stroke: '#1d2733', 'stroke-width': 1 }, panel.svg);
  const left = Math.min(at.x + 14, window.innerWidth - tip.offsetWidth - 6);
  const top = Math.min(at.y + 14, window.innerHeight - tip.offsetHeight - 6);
  Object.assign(tip.style, { left: `${left}px`, top: `${top}px` });
}

function hideTip() {
  $('tip').hidden = true;
  for (const c of document.querySelectorAll('.cursor')) c.remove();
}

function nearest(id, clientX) {
  const panel = panels[id];
  const all = steps();
  if (!panel || !all.length) return null;
  const r = panel.svg.getBoundingClientRect();
  const vb = panel.svg.viewBox.baseVal;
  const sx = ((clientX - r.left) / r.width) * vb.width;
  const s = ((sx - panel.scale.box.l) / (panel.scale.box.r - panel.scale.box.l)) * panel.scale.xmax;
  return all.reduce((a, b) => (Math.abs(b - s) < Math.abs(a - s) ? b : a));
}

const cursor = {};
for (const fig of document.querySelectorAll('.panel')) {
  fig.addEventListener('mousemove', (e) => {
    cursor[fig.id] = nearest(fig.id, e.clientX);
    showTip(fig.id, cursor[fig.id], { x: e.clientX, y: e.clientY });
  });
  fig.addEventListener('mouseleave', hideTip);
  fig.addEventListener('blur', hideTip);
  fig.addEventListener('focus', () => {
    const all = steps();
    if (!all.length) return;
    cursor[fig.id] = all[all.length - 1];
    const r = fig.getBoundingClientRect();
    showTip(fig.id, cursor[fig.id], { x: r.left + r.width / 2, y: r.top + 20 });
  });
  fig.addEventListener('keydown', (e) => {
    const all = steps();
    if (!all.length || !['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) return;
    e.preventDefault();
    let i = all.indexOf(cursor[fig.id]);
    if (e.key === 'ArrowLeft') i = i < 0 ? all.length - 1 : Math.max(0, i - 1);
    if (e.key === 'ArrowRight') i = i < 0 ? 0 : Math.min(all.length - 1, i + 1);
    if (e.key === 'Home') i = 0;
    if (e.key === 'End') i = all.length - 1;
    cursor[fig.id] = all[i];
    const r = fig.getBoundingClientRect();
    showTip(fig.id, all[i], { x: r.left + r.width / 2, y: r.top + 20 });
  });
}

// ---- sharing: the command, the data, the figure ---------------------------------------------

async function copyCommand() {
  const line = $('command').textContent;
  try {
    await navigator.clipboard.writeText(line);
  } catch {
    const area = document.createElement('textarea');
    area.value = line;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  status('command copied');
}

// The figure as shown: every panel, its keys, the runs and the command, as one SVG file.
function figureSVG() {
  const figs = [...document.querySelectorAll('.panel')];
  const origin = $('headline').getBoundingClientRect();
  const width = Math.ceil($('view').clientWidth);
  const out = document.createElementNS(SVG, 'svg');
  out.setAttribute('xmlns', SVG);
  out.setAttribute('font-family', 'DejaVu Sans, Arial, Helvetica, sans-serif');
  el('rect', { x: 0, y: 0, width, height: 10, fill: '#fff' }, out);
  const s = scene();
  txt(out, 8, 18, `pressure demo — ${s.title}`, { 'font-size': 15, 'font-weight': 600 });
  let y = 34;
  for (const r of [[current, C.blue, 'now'], [ghost, C.grey, 'before'], ...pins.map((p, i) => [p, C.pins[i], 'pinned'])]) {
    if (!r[0]) continue;
    el('line', { x1: 8, x2: 26, y1: y - 4, y2: y - 4, stroke: r[1], 'stroke-width': 3 }, out);
    txt(out, 32, y, `${r[2]}: ${r[0].label}`);
    y += 15;
  }
  const top = y + 4;
  let bottom = top;
  for (const fig of figs) {
    const r = fig.getBoundingClientRect();
    const g = el('g', { transform: `translate(${r.left - origin.left + 4},${r.top - origin.top + top})` }, out);
    const inner = fig.querySelector('svg').cloneNode(true);
    inner.setAttribute('width', fig.querySelector('svg').clientWidth);
    inner.setAttribute('height', fig.querySelector('svg').clientHeight);
    g.append(inner);
    // The keys below the chart, wrapped to the panel's width (about 6 px a character).
    const keys = [...fig.querySelectorAll('.keys li')];
    let kx = 6;
    let ky = fig.querySelector('svg').clientHeight + 12;
    for (const li of keys) {
      const sw = li.querySelector('.swatch');
      const colour = sw.style.background || sw.style.borderColor;
      const w = 22 + li.textContent.length * 6;
      if (kx > 6 && kx + w > r.width) [kx, ky] = [6, ky + 14];
      el('rect', { x: kx, y: ky - 9, width: 12, height: 9, fill: colour }, g);
      txt(g, kx + 15, ky, li.textContent, { 'font-size': 11 });
      kx += w;
    }
    bottom = Math.max(bottom, r.top - origin.top + top + ky + 6);
    bottom = Math.max(bottom, r.bottom - origin.top + top + 4);
  }
  txt(out, 8, bottom + 14, $('command').textContent, { 'font-size': 11, 'font-family': 'monospace' });
  const height = Math.ceil(bottom + 24);
  out.setAttribute('width', width);
  out.setAttribute('height', height);
  out.setAttribute('viewBox', `0 0 ${width} ${height}`);
  out.firstChild.setAttribute('height', height);
  out.firstChild.setAttribute('width', width);
  return new XMLSerializer().serializeToString(out);
}
window.demoFigure = figureSVG;

function downloadFigure() {
  const blob = new Blob([figureSVG()], { type: 'image/svg+xml' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `pressure-demo-${state.scene}.svg`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function pin() {
  if (!current || !(current.done || current.folder) || pins.includes(current)) return;
  if (pins.length === 3) pins.shift();
  pins.push(current);
  status(`pinned: ${current.label}`);
  schedule();
}

// ---- the run browser (`pressure browse DIR`) ------------------------------------------------

const BROWSE = '(run folders)';
const folderViews = new Map(); // path -> the last /api/folder answer
let polling = 0;

// Shows the run folders in place of the lesson and its settings, or the scene again.
function browsing(on) {
  state.browsing = on;
  $('browser').hidden = !on;
  $('lesson').hidden = on;
  $('controls').hidden = on;
  $('train').hidden = on;
  if (on) {
    $('scene').value = BROWSE;
    $('browse-root').textContent = catalogue.browse;
    history.replaceState(null, '', '?');
    status('choose a folder and an arm');
    listFolders();
    if (!polling) polling = setInterval(poll, 1000);
  }
}

// Lists the folders, each with where it stands. A folder already listed keeps its element, so
// the arms it shows stay open while its standing is brought up to date.
async function listFolders() {
  const r = await fetch('/api/folders');
  const body = await r.json();
  if (!r.ok) {
    $('msg-browser').textContent = body.message;
    return;
  }
  const list = $('folders');
  const listed = new Map([...list.querySelectorAll(':scope > li[data-path]')].map((li) => [li.dataset.path, li]));
  const items = body.folders.map((f) => {
    let li = listed.get(f.path);
    if (!li) {
      li = document.createElement('li');
      li.dataset.path = f.path;
      const where = document.createElement('div');
      where.className = 'where';
      where.textContent = f.path;
      const standing = document.createElement('div');
      const arms = document.createElement('div');
      arms.className = 'arms';
      const open = document.createElement('button');
      open.type = 'button';
      open.textContent = 'show arms';
      open.addEventListener('click', () => openFolder(f.path, arms));
      arms.append(open);
      li.append(where, standing, arms);
    }
    const standing = li.children[1];
    standing.className = f.writing ? 'standing writing' : 'standing';
    const runs = f.runs ? `${f.runs[0]}/${f.runs[1]} runs` : '';
    standing.textContent = `${f.experiment} · ${runs} · ${f.state}`;
    return li;
  });
  if (!items.length) {
    const li = document.createElement('li');
    li.textContent = 'No run folders here yet: a `pressure run` writes one.';
    items.push(li);
  }
  list.replaceChildren(...items);
}

async function fetchFolder(path) {
  const r = await fetch(`/api/folder?path=${encodeURIComponent(path)}`);
  const body = await r.json();
  if (!r.ok) {
    $('msg-browser').textContent = body.message;
    return null;
  }
  folderViews.set(path, body);
  return body;
}

// Lists a folder's arms as buttons, each drawing that arm.
async function openFolder(path, box) {
  const view = await fetchFolder(path);
  if (!view) return;
  box.innerHTML = '';
  if (!view.arms.length) box.textContent = 'nothing measured yet';
  for (const arm of view.arms) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = arm.label;
    b.dataset.arm = arm.label;
    b.addEventListener('click', () => showArm(path, arm.label));
    box.append(b);
  }
}

// Fills a page run from a folder's answer.
function fillRun(run, view) {
  const arm = view.arms.find((a) => a.label === run.arm);
  run.start = { steps: view.steps, runs: [], command: view.command };
  run.points = arm ? arm.points : [];
  run.finals = arm ? arm.finals : null;
  run.done = view.done;
  run.writing = view.writing;
  run.progress = view.progress;
}

function showArm(path, arm) {
  const view = folderViews.get(path);
  if (!view) return;
  if (current && current.points.length && !pins.includes(current)) ghost = current;
  current = { label: `${path} · ${arm}`, folder: path, arm, query: null, drawn: false };
  fillRun(current, view);
  $('csv').disabled = true;
  $('command').textContent = view.command;
  for (const b of document.querySelectorAll('#folders .arms button[data-arm]')) {
    const mine = b.closest('li').dataset.path === path && b.dataset.arm === arm;
    b.setAttribute('aria-pressed', String(mine));
  }
  told(current);
  schedule();
}

// The status line of the run shown: training (with its progress) or done.
function told(run) {
  document.body.dataset.state = run.done ? 'done' : 'training';
  const p = run.progress;
  const where = `${run.folder}: ${p.completed} of ${p.total} runs completed`;
  status(run.writing ? `${where}, still training` : where);
  const last = run.points.length ? run.points[run.points.length - 1].step : 0;
  if (run.writing) progress(`step ${last} of ${run.start.steps}`);
}

// Every second, each drawn folder that is still training; every fifth, the folder list.
let polls = 0;
async function poll() {
  if (!state.browsing) return;
  polls += 1;
  if (polls % 5 === 0) listFolders();
  const drawn = [current, ghost, ...pins].filter((r) => r && r.folder && !r.done);
  for (const path of new Set(drawn.map((r) => r.folder))) {
    const view = await fetchFolder(path);
    if (!view) continue;
    for (const r of drawn.filter((x) => x.folder === path)) fillRun(r, view);
    if (current && current.folder === path) told(current);
  }
  if (drawn.length) schedule();
}

// ---- start ----------------------------------------------------------------------------------

async function start() {
  const r = await fetch('/api/catalogue');
  catalogue = await r.json();
  palette = catalogue.palette;
  colours();
  if (catalogue.browse !== null) $('scene').append(new Option(`Run folders in ${catalogue.browse}`, BROWSE));
  for (const s of catalogue.scenes) $('scene').append(new Option(s.title, s.name));
  const shared = readAddress();
  showScene();
  $('scene').addEventListener('change', () => {
    const chosen = $('scene').value;
    if (chosen === BROWSE || state.browsing) browsing(chosen === BROWSE);
    if (state.browsing) return;
    const s = catalogue.scenes.find((x) => x.name === chosen);
    state.scene = s.name;
    state.preset = s.start;
    state.sets = { ...preset().sets };
    state.scope = s.scope;
    showScene();
    changed();
    schedule();
  });
  $('scope').addEventListener('change', () => {
    state.scope = $('scope').value;
    writeAddress();
    schedule();
  });
  $('controls').addEventListener('submit', train);
  $('copy').addEventListener('click', copyCommand);
  $('csv').addEventListener('click', () => {
    if (!current || !current.done) return;
    const a = document.createElement('a');
    a.href = `/api/csv?${current.query}`;
    a.download = '';
    a.click();
  });
  $('figure').addEventListener('click', downloadFigure);
  $('pin').addEventListener('click', pin);
  // Charts are drawn at their size: redraw when it changes.
  new ResizeObserver(schedule).observe($('view'));
  for (const svg of document.querySelectorAll('.panel svg')) new ResizeObserver(schedule).observe(svg);
  document.body.dataset.state = 'idle';
  if (catalogue.browse !== null && !shared) {
    browsing(true);
    drawAll();
    return;
  }
  writeAddress();
  drawAll();
  const ok = await check();
  if (shared && ok) train();
}

start();
