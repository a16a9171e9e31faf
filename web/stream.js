// Training as a stream: POST /api/train answers with server-sent events (queued, start, rows,
// point, done), each folded into the run shown as it arrives.
import { $, app, preset, query, state } from './state.js';
import { clearMessages, progress, refuse, status } from './controls.js';
import { schedule } from './charts.js';

// ---- training -----------------------------------------------------------------------------

export function label() {
  const changes = Object.entries(state.sets)
    .filter(([k]) => !(k in preset().sets))
    .map(([k, v]) => `${k}=${v}`);
  return [state.preset, ...changes, `${state.seeds} seeds`].join(' · ');
}

export async function train(event) {
  if (event) event.preventDefault();
  if (app.inflight) app.inflight.abort();
  const controller = new AbortController();
  app.inflight = controller;
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
  if (app.current && app.current.done) app.ghost = app.current;
  app.current = { label: label(), query: q, start: null, points: [], finals: null, done: false, drawn: false };
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
        if (data) receive(app.current, name, JSON.parse(data));
      }
    }
  } catch (e) {
    if (controller.signal.aborted) return;
    status(`the stream broke off: ${e.message}`);
  }
  if (app.inflight === controller) app.inflight = null;
  if (!app.current.done && app.current.query === q && document.body.dataset.state !== 'failed') {
    document.body.dataset.state = 'failed';
    status('the training stopped without finishing');
  }
}

export function receive(run, name, data) {
  if (run !== app.current) return;
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
