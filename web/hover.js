// Hover and keyboard: the exact values of every line at an evaluated step.
import { $ } from './state.js';
import { el, panels, runs } from './charts.js';

// ---- hover and keyboard: exact values at a step -------------------------------------------

export function steps() {
  const all = new Set();
  for (const r of runs()) for (const p of r.points) all.add(p.step);
  return [...all].sort((a, b) => a - b);
}

export function fmt(v) {
  if (!v) return '—';
  const [m, lo, hi, n] = v;
  const f = (x) => (x === null ? '—' : x.toFixed(3));
  return n > 1 ? `${f(m)} [${f(lo)}, ${f(hi)}]` : f(m);
}

export function showTip(id, step, at) {
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

export function hideTip() {
  $('tip').hidden = true;
  for (const c of document.querySelectorAll('.cursor')) c.remove();
}

export function nearest(id, clientX) {
  const panel = panels[id];
  const all = steps();
  if (!panel || !all.length) return null;
  const r = panel.svg.getBoundingClientRect();
  const vb = panel.svg.viewBox.baseVal;
  const sx = ((clientX - r.left) / r.width) * vb.width;
  const s = ((sx - panel.scale.box.l) / (panel.scale.box.r - panel.scale.box.l)) * panel.scale.xmax;
  return all.reduce((a, b) => (Math.abs(b - s) < Math.abs(a - s) ? b : a));
}

export const cursor = {};
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
