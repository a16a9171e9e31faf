// Sharing: the command line of what is shown, its data, the figure as SVG, and pinning a run.
import { $, C, SVG, app, pins, scene, state } from './state.js';
import { status } from './controls.js';
import { el, schedule, txt } from './charts.js';

// ---- sharing: the command, the data, the figure ---------------------------------------------

export async function copyCommand() {
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
export function figureSVG() {
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
  for (const r of [[app.current, C.blue, 'now'], [app.ghost, C.grey, 'before'], ...pins.map((p, i) => [p, C.pins[i], 'pinned'])]) {
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

export function downloadFigure() {
  const blob = new Blob([figureSVG()], { type: 'image/svg+xml' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `pressure-demo-${state.scene}.svg`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function pin() {
  if (!app.current || !(app.current.done || app.current.folder) || pins.includes(app.current)) return;
  if (pins.length === 3) pins.shift();
  pins.push(app.current);
  status(`pinned: ${app.current.label}`);
  schedule();
}
