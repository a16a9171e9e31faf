// pressure demo: the page. It draws the scenes and controls the server describes
// (/api/catalogue), keeps the whole state in the address, trains through /api/train (server-sent
// events: queued, start, rows, point, done) and draws every evaluation as it arrives, in plain
// SVG. Every number shown is computed by the server from the runner's records; the page only
// draws and formats. Its modules: state, controls, stream, charts, hover, share, browse.
import { $, app, colours, present, preset, readAddress, state, writeAddress } from './state.js';
import { changed, check, showScene } from './controls.js';
import { train } from './stream.js';
import { drawAll, schedule } from './charts.js';
import { copyCommand, downloadFigure, pin } from './share.js';
import { BROWSE, browsing } from './browse.js';

// ---- start ----------------------------------------------------------------------------------

async function start() {
  const r = await fetch('/api/catalogue');
  app.catalogue = await r.json();
  app.palette = app.catalogue.palette;
  colours();
  if (app.catalogue.browse !== null) $('scene').append(new Option(`Run folders in ${app.catalogue.browse}`, BROWSE));
  for (const s of app.catalogue.scenes) $('scene').append(new Option(s.title, s.name));
  const shared = readAddress();
  present(state.present);
  showScene();
  $('scene').addEventListener('change', () => {
    const chosen = $('scene').value;
    if (chosen === BROWSE || state.browsing) browsing(chosen === BROWSE);
    if (state.browsing) return;
    const s = app.catalogue.scenes.find((x) => x.name === chosen);
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
    if (!app.current || !app.current.done) return;
    const a = document.createElement('a');
    a.href = `/api/csv?${app.current.query}`;
    a.download = '';
    a.click();
  });
  $('figure').addEventListener('click', downloadFigure);
  $('pin').addEventListener('click', pin);
  $('present').addEventListener('click', () => {
    present(!state.present);
    schedule();
  });
  // Charts are drawn at their size: redraw when it changes.
  new ResizeObserver(schedule).observe($('view'));
  for (const svg of document.querySelectorAll('.panel svg')) new ResizeObserver(schedule).observe(svg);
  document.body.dataset.state = 'idle';
  if (app.catalogue.browse !== null && !shared) {
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
