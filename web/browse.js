// The run browser (`pressure browse DIR`): the run folders under DIR, each arm drawn as a training
// is, and folders still training followed as they grow.
import { $, app, pins, state } from './state.js';
import { progress, status } from './controls.js';
import { schedule } from './charts.js';

// ---- the run browser (`pressure browse DIR`) ------------------------------------------------

export const BROWSE = '(run folders)';
export const folderViews = new Map(); // path -> the last /api/folder answer
let polling = 0;

// Shows the run folders in place of the lesson and its settings, or the scene again.
export function browsing(on) {
  state.browsing = on;
  $('browser').hidden = !on;
  $('lesson').hidden = on;
  $('controls').hidden = on;
  $('train').hidden = on;
  if (on) {
    $('scene').value = BROWSE;
    $('browse-root').textContent = app.catalogue.browse;
    history.replaceState(null, '', '?');
    status('choose a folder and an arm');
    listFolders();
    if (!polling) polling = setInterval(poll, 1000);
  }
}

// Lists the folders, each with where it stands. A folder already listed keeps its element, so
// the arms it shows stay open while its standing is brought up to date.
export async function listFolders() {
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

export async function fetchFolder(path) {
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
export async function openFolder(path, box) {
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
export function fillRun(run, view) {
  const arm = view.arms.find((a) => a.label === run.arm);
  run.start = { steps: view.steps, runs: [], command: view.command };
  run.points = arm ? arm.points : [];
  run.finals = arm ? arm.finals : null;
  run.done = view.done;
  run.writing = view.writing;
  run.progress = view.progress;
}

export function showArm(path, arm) {
  const view = folderViews.get(path);
  if (!view) return;
  if (app.current && app.current.points.length && !pins.includes(app.current)) app.ghost = app.current;
  app.current = { label: `${path} · ${arm}`, folder: path, arm, query: null, drawn: false };
  fillRun(app.current, view);
  $('csv').disabled = true;
  $('command').textContent = view.command;
  for (const b of document.querySelectorAll('#folders .arms button[data-arm]')) {
    const mine = b.closest('li').dataset.path === path && b.dataset.arm === arm;
    b.setAttribute('aria-pressed', String(mine));
  }
  told(app.current);
  schedule();
}

// The status line of the run shown: training (with its progress) or done.
export function told(run) {
  document.body.dataset.state = run.done ? 'done' : 'training';
  const p = run.progress;
  const where = `${run.folder}: ${p.completed} of ${p.total} runs completed`;
  status(run.writing ? `${where}, still training` : where);
  const last = run.points.length ? run.points[run.points.length - 1].step : 0;
  if (run.writing) progress(`step ${last} of ${run.start.steps}`);
}

// Every second, each drawn folder that is still training; every fifth, the folder list.
let polls = 0;
export async function poll() {
  if (!state.browsing) return;
  polls += 1;
  if (polls % 5 === 0) listFolders();
  const drawn = [app.current, app.ghost, ...pins].filter((r) => r && r.folder && !r.done);
  for (const path of new Set(drawn.map((r) => r.folder))) {
    const view = await fetchFolder(path);
    if (!view) continue;
    for (const r of drawn.filter((x) => x.folder === path)) fillRun(r, view);
    if (app.current && app.current.folder === path) told(app.current);
  }
  if (drawn.length) schedule();
}

// Asked by the browser test to list the folders at once, rather than at the next poll.
window.listFolders = listFolders;
