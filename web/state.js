// The shared state and the address: what the server describes (`/api/catalogue`), the run shown,
// the one before and the pinned ones, the colours by role, and the state read from and written to the
// page's address, which holds all of it.

export const SVG = 'http://www.w3.org/2000/svg';
export const $ = (id) => document.getElementById(id);
export const slug = (key) => key.replaceAll('.', '-');
// A metric's name as the figures write it.
export const words = (metric) => metric.replaceAll('_', ' ');

// The state every module shares: what the server describes, what is shown, what is in flight.
export const app = {
  catalogue: null,
  palette: [],
  current: null, // the run shown: { label, query, start, points, finals, done }
  ghost: null, // the previous run
  inflight: null, // the AbortController of the training being streamed
  checking: null,
  redraw: 0,
  // Text in the charts, as a multiple of its usual size: larger in the presentation mode.
  fontScale: 1,
};
// What is asked for: a scene, its preset, seeds, the settings changed from the preset (TOML
// text, as `--set KEY=VALUE` takes it), and the scope the curves show.
export const state = { scene: null, preset: null, seeds: 5, sets: {}, scope: 'trained', present: false };
export const pins = []; // pinned runs, at most three
window.demoTimes = {};
// The run shown and the one before, read by the browser test as it reads `demoTimes`.
Object.defineProperty(window, 'current', { get: () => app.current });
Object.defineProperty(window, 'ghost', { get: () => app.ghost });

// The headline rates, in the catalogue's order, with their names as the figures write them.
export const HEADLINE = [];

// Colours by role, all from the figures' Okabe–Ito palette (set once the catalogue arrives).
export const C = {};
export function colours() {
  const [blue, vermillion, green, pink, orange, sky, grey, black] = app.palette;
  Object.assign(C, { blue, vermillion, green, pink, orange, sky, grey, black });
  C.pins = [vermillion, green, pink];
  // The five silent outcomes (docs/model.md §5), in the catalogue's order, a colour each.
  const outcomeColours = [vermillion, orange, pink, sky, blue];
  C.outcomes = app.catalogue.outcomes.map((m, i) => [m, words(m), outcomeColours[i]]);
  HEADLINE.splice(0, HEADLINE.length, ...app.catalogue.headline.map((m) => [m, words(m)]));
}

// The lines of the two panels that set what the institution sees beside what is underneath.
export function sees(scope) {
  return [
    { key: `${scope}:reward_institutional`, label: "institution's reward", colour: C.black },
    { key: `${scope}:reward_proxy`, label: 'learned reward (proxy)', colour: C.sky },
    { key: `${scope}:reward_raters`, label: "raters' utility", colour: C.orange },
    { key: `${scope}:silent_compliance`, label: 'complies silently', colour: C.vermillion },
  ];
}
export function underneath(scope) {
  return [
    { key: `${scope}:judgment_accuracy`, label: 'judges truly when asked', colour: C.blue },
    { key: `${scope}:probe_frozen_rate`, label: 'frozen probe fires', colour: C.green },
    { key: `${scope}:probe_refit_accuracy`, label: 'refit probe decodes', colour: C.pink },
    { key: 'unobserved:silent_compliance', label: 'objects when unobserved', colour: C.orange, flip: true },
  ];
}

// ---- the state and the address ----------------------------------------------------------

export const scene = () => app.catalogue.scenes.find((s) => s.name === state.scene);
export const preset = () => scene().presets.find((p) => p.name === state.preset);

// The query of the training asked for (without the view's scope).
export function query() {
  const q = new URLSearchParams();
  q.set('scene', state.scene);
  const p = preset();
  if (p && p.arm) q.set('arm', p.arm);
  q.set('seeds', String(state.seeds));
  for (const c of app.catalogue.controls) {
    if (c.key in state.sets) q.set(c.key, state.sets[c.key]);
  }
  return q.toString();
}

export function writeAddress() {
  const q = new URLSearchParams(query());
  q.set('scope', state.scope);
  if (state.present) q.set('present', '1');
  history.replaceState(null, '', `?${q}`);
}

// Reads the state from the address; true if it named a scene (then its run is shown at once).
export function readAddress() {
  const q = new URLSearchParams(location.search);
  const name = q.get('scene');
  const s = app.catalogue.scenes.find((x) => x.name === name) || app.catalogue.scenes[0];
  state.scene = s.name;
  const arm = q.get('arm');
  const byArm = s.presets.find((p) => p.arm !== null && p.arm === arm);
  state.preset = (byArm || s.presets.find((p) => p.name === s.start) || s.presets[0]).name;
  state.sets = { ...preset().sets };
  for (const c of app.catalogue.controls) {
    if (c.key !== 'seeds' && q.has(c.key)) state.sets[c.key] = q.get(c.key);
  }
  if (!byArm && s.presets.some((p) => p.arm === null)) {
    // A sweep's presets are points: select the one whose values the address gives.
    const match = s.presets.find((p) => Object.entries(p.sets).every(([k, v]) => state.sets[k] === v));
    if (match) state.preset = match.name;
  }
  state.seeds = Number(q.get('seeds')) || preset().values.seeds;
  state.scope = q.get('scope') || s.scope;
  state.present = q.has('present');
  return q.has('scene');
}

// The presentation mode (`?present`, the Present button, `pressure demo --present`): larger
// type, the charts given the screen, everything that matters visible at 1280×720 without
// scrolling. The lesson's words and the settings step aside; presets, scene and Train stay.
export function present(on) {
  state.present = on;
  app.fontScale = on ? 1.3 : 1;
  document.body.classList.toggle('present', on);
  $('present').setAttribute('aria-pressed', String(on));
  writeAddress();
}
