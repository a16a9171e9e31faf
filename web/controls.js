// Scenes, presets and controls: the lesson's words, a preset's values, a control per setting that
// the server describes, and the check of what is asked (`/api/check`) before it trains.
import { $, app, preset, query, scene, slug, state, writeAddress } from './state.js';

// ---- scenes, presets and controls -------------------------------------------------------

export function showScene() {
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
export function choosePreset(name) {
  const steps = state.sets['pressure.steps'];
  state.preset = name;
  state.sets = { ...preset().sets };
  if (steps !== undefined && !same(app.catalogue.controls.find((c) => c.key === 'pressure.steps'), steps)) {
    state.sets['pressure.steps'] = steps;
  }
  for (const b of $('presets').children) b.setAttribute('aria-pressed', String(b.firstChild.textContent === name));
  showControls();
  changed();
}

// The TOML text of a preset's value, as the page sends it.
export function text(value) {
  if (Array.isArray(value)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
  return String(value);
}

// The value a control shows: the changed setting if there is one, else the preset's.
export function shown(c) {
  if (c.key === 'seeds') return String(state.seeds);
  if (c.key in state.sets) return state.sets[c.key];
  const v = preset().values[c.key];
  return v === null ? null : text(v);
}

export function showControls() {
  const list = $('control-list');
  list.innerHTML = '';
  for (const c of app.catalogue.controls) list.append(controlElement(c));
}

export function controlElement(c) {
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
export function same(c, value) {
  const v = preset().values[c.key];
  if (v === null) return false;
  if (typeof v === 'number') return value !== '' && Number(value) === v;
  return text(v) === value;
}

export function set(c, value) {
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
export function changed() {
  writeAddress();
  clearTimeout(app.checking);
  app.checking = setTimeout(check, 150);
}

export function clearMessages() {
  for (const m of document.querySelectorAll('.msg')) m.textContent = '';
}

// Shows a refusal beside the control it concerns.
export function refuse(body) {
  clearMessages();
  const where = body.key ? $(`msg-${slug(body.key)}`) : null;
  (where || $('msg-general')).textContent = body.message;
}

export async function check() {
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
export function status(s) {
  $('status').textContent = s;
  $('progress').textContent = '';
}

export function progress(s) {
  $('progress').textContent = s;
}
