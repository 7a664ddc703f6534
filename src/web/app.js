// The live dashboard (docs/dashboard.md). It renders; it decides nothing: every figure comes from
// the hub's API (GET /api/v1/nodes, /jobs, /slurm) or the command table (POST
// /api/v1/commands/best, history, heatmap), and the charts are drawn from the command's neutral
// chart by the same chartOption() that draws the PNGs. Live over ONE EventSource
// (/api/v1/stream): an event names a section that changed and the page GETs that section again.
// Nothing polls; EventSource reconnects by itself, and after a reconnect every section is read
// once (events may have been missed while it was down).
import { chartOption, defaultSize } from './js/charts/option.js';

const $ = (id) => document.getElementById(id);

// echarts (1.1 MB) loads beside the tables, not before them: the page fills its tables first and
// draws the charts once it is there.
const echartsReady = new Promise((resolve, reject) => {
  const s = document.createElement('script');
  s.src = new URL('./echarts.min.js', import.meta.url).href;
  s.onload = () => resolve(window.echarts);
  s.onerror = () => reject(new Error('echarts did not load'));
  document.head.append(s);
});

/** An element with attributes and children (strings become text: nothing is parsed as HTML). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

async function getJson(path, init) {
  const res = await fetch(path, { headers: { accept: 'application/json', ...(init?.body ? { 'content-type': 'application/json' } : {}) }, ...init });
  if (res.status === 404 && init?.allow404) return null;
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `${path}: HTTP ${res.status}`);
  return body;
}
const command = (name, args) => getJson(`/api/v1/commands/${name}`, { method: 'POST', body: JSON.stringify(args ?? {}) });

// ---- formatting (display only) ----------------------------------------------------------------

const GiB = 1024 ** 3;
const gib = (b) => (b / GiB >= 100 ? (b / GiB).toFixed(0) : (b / GiB).toFixed(1));
function ago(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}
function duration(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '');
const meter = (pct) => h('span', { class: 'meter', 'aria-hidden': 'true' }, h('i', { style: `width:${Math.max(0, Math.min(100, pct ?? 0)).toFixed(0)}%` }));
const STATE_MARK = { fresh: '●', stale: '◐', down: '✕', waiting: '…' };

// ---- sections ----------------------------------------------------------------------------------

/** The ages the last nodes answer gave, and when it came: the shown ages advance between events. */
let ages = { atMs: 0, nodes: [] };

function renderAges() {
  const dt = (Date.now() - ages.atMs) / 1000;
  const cells = document.querySelectorAll('#nodes td.age');
  ages.nodes.forEach((a, i) => {
    if (cells[i]) cells[i].textContent = a === null ? '—' : ago(a + dt);
  });
  const known = ages.nodes.filter((a) => a !== null);
  $('age').textContent = known.length ? `newest data ${ago(Math.min(...known) + dt)} old` : 'no data yet';
}

async function loadNodes() {
  const r = await getJson('/api/v1/nodes?busy=0');
  const body = $('nodes').tBodies[0];
  const rows = r.nodes.map((n) => {
    const s = n.snapshot;
    const memUsed = s.mem.total_bytes - s.mem.available_bytes;
    const gpus = (s.gpus ?? []).map((g) => {
      const holders = [...new Set(g.procs.map((p) => p.user ?? '?'))];
      const mem = g.mem_used_bytes !== null && g.mem_total_bytes ? ` ${gib(g.mem_used_bytes)}/${gib(g.mem_total_bytes)} GiB` : '';
      return h('span', { class: 'gpu', title: g.name }, `${g.index}: ${g.util_pct ?? '?'}%${mem}`, holders.length ? h('b', {}, ` ${holders.join(', ')}`) : null);
    });
    // data-label: the column's name, shown beside each value where the table becomes cards (phone).
    return h('tr', { 'data-host': n.host },
      h('td', { class: 'host' }, h('strong', {}, n.host), n.problem ? h('div', { class: 'problem' }, n.problem) : null),
      h('td', { class: `state state-${n.state}`, 'data-label': 'State' }, `${STATE_MARK[n.state] ?? '?'} ${n.state}`),
      h('td', { class: 'num', 'data-label': 'Load / cores' }, `${s.load[0].toFixed(2)} / ${s.cpus}`),
      h('td', { class: 'num', 'data-label': 'CPU' }, s.cpu_busy_pct === null ? '—' : `${s.cpu_busy_pct.toFixed(0)}%`, meter(s.cpu_busy_pct)),
      h('td', { class: 'num', 'data-label': 'Memory' }, `${gib(memUsed)} / ${gib(s.mem.total_bytes)} GiB`, meter((memUsed / s.mem.total_bytes) * 100)),
      h('td', { class: 'wrap gpus', 'data-label': 'GPUs' }, gpus.length ? h('span', { class: 'chips' }, gpus) : h('span', { class: 'muted' }, s.gpus === null ? 'no GPUs' : 'none')),
      h('td', { class: 'wrap', 'data-label': 'Users' }, (n.active_users ?? []).join(', ') || h('span', { class: 'muted' }, '—')),
      h('td', { class: 'num age', 'data-label': 'Data age' }, ago(n.age_seconds)),
    );
  });
  body.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No node has reported yet: start `flurm agent` on the nodes.'))]));
  $('nodes-count').textContent = r.nodes.length ? `(${r.nodes.length})` : '';
  ages = { atMs: Date.now(), nodes: r.nodes.map((n) => n.age_seconds) };
  renderAges();
  // A performance mark (bench/dashboard.mjs reads it): when the table was first filled.
  if (r.nodes.length && !performance.getEntriesByName('flurm:nodes-filled').length) performance.mark('flurm:nodes-filled');
}

async function loadBest() {
  const a = await command('best', {});
  const m = a.messages?.[0];
  const box = $('best');
  if (!m) return box.replaceChildren(h('p', { class: 'muted' }, 'no answer'));
  box.replaceChildren(
    h('p', { class: `title ${m.titleState ?? ''}` }, m.title),
    m.summary ? h('p', {}, m.summary) : null,
    m.fields?.length ? h('dl', {}, m.fields.flatMap((f) => [h('dt', {}, f.name), h('dd', {}, f.value)])) : null,
  );
}

function jobLine(j) {
  const where = `${j.user}@${j.host}`;
  const result = j.state === 'succeeded' ? 'ok' : j.state === 'failed' ? (j.signal ? `killed by ${j.signal}` : `exit ${j.exit ?? '?'}`) : j.state;
  return h('li', { class: `job-${j.state}`, 'data-job': j.id },
    h('span', { class: 'what' }, j.name ?? j.title ?? j.cmd ?? j.id), ' ',
    h('span', { class: 'muted' }, where),
    j.endTs ? h('span', { class: 'muted' }, ` · ${result} · ${duration(j.wallSeconds)} · ${clock(j.endTs)}`) : h('span', { class: 'muted' }, ` · since ${clock(j.startTs)}`),
  );
}

async function loadJobs() {
  const r = await getJson('/api/v1/jobs?limit=100');
  const running = r.jobs.filter((j) => j.state === 'running' || j.state === 'pending');
  const ended = r.jobs.filter((j) => j.endTs).sort((a, b) => (a.endTs < b.endTs ? 1 : -1)).slice(0, 15);
  $('running').replaceChildren(...(running.length ? running.map(jobLine) : [h('li', { class: 'muted' }, 'none')]));
  $('ended').replaceChildren(...(ended.length ? ended.map(jobLine) : [h('li', { class: 'muted' }, 'none yet')]));
  $('running-count').textContent = running.length ? `(${running.length})` : '';
}

/** Whether this hub has SLURM on (its /healthz says): off, the section stays hidden and unread. */
let slurmOn = false;

async function loadSlurm() {
  const v = slurmOn ? await getJson('/api/v1/slurm', { allow404: true }) : null;
  const section = $('slurm-section');
  if (v === null) {
    section.hidden = true; // this hub has SLURM off
    return;
  }
  section.hidden = false;
  $('slurm-problem').hidden = !v.problem;
  $('slurm-problem').textContent = v.problem ? `✕ ${v.problem}` : '';
  $('partitions').tBodies[0].replaceChildren(...v.partitions.map((p) => h('tr', {},
    h('td', {}, h('strong', {}, p.name), p.default ? ' (default)' : ''),
    h('td', {}, p.avail ?? '—'),
    h('td', { class: 'num' }, p.nodes.length),
    h('td', { class: 'num' }, `${p.cpus_alloc} / ${p.cpus_total}`),
    h('td', { class: 'num' }, `${p.gpus_alloc} / ${p.gpus_total}`),
    h('td', { class: 'num' }, p.time_limit_seconds === null ? '∞' : duration(p.time_limit_seconds)),
  )));
  $('queue').tBodies[0].replaceChildren(...(v.jobs.length ? v.jobs.map((j) => h('tr', {},
    h('td', {}, j.job_id), h('td', {}, j.user), h('td', {}, j.state), h('td', {}, j.partition ?? ''), h('td', {}, j.name ?? ''),
    h('td', { class: 'num' }, j.cpus ?? ''), h('td', { class: 'num' }, j.gpus || ''),
    h('td', {}, j.node_list ?? (j.reason ? `(${j.reason})` : '')),
    h('td', { class: 'num' }, `${duration(j.time_used_seconds)}${j.time_limit_seconds ? ` / ${duration(j.time_limit_seconds)}` : ''}`),
  )) : [h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'the queue is empty'))]));
  $('queue-count').textContent = `(${v.jobs.length})`;
}

// ---- charts: the command's neutral chart, drawn by the shared chartOption ------------------------

const dark = window.matchMedia('(prefers-color-scheme: dark)');
const charts = { history: { chart: null, ec: null }, heatmap: { chart: null, ec: null } };

function draw(which) {
  const c = charts[which];
  const el = $(`${which}-chart`);
  if (!c.chart || !window.echarts) return;
  const width = Math.max(280, el.clientWidth);
  const height = which === 'heatmap' ? Math.min(720, defaultSize(c.chart).height) : width < 500 ? 300 : 360;
  el.style.height = `${height}px`;
  c.ec ??= echarts.init(el, null, { renderer: 'canvas' });
  c.ec.resize({ width, height });
  const option = chartOption(c.chart, { theme: dark.matches ? 'dark' : 'light', width, height, fontFamily: getComputedStyle(document.body).fontFamily, interactive: true });
  // On a narrow screen the chart's title would run off the canvas: the page shows the same title
  // and subtitle as text above it (wrapping), and the canvas leaves its own out.
  const narrow = width < 560;
  const caption = $(`${which}-caption`);
  caption.hidden = !narrow;
  caption.replaceChildren(h('strong', {}, c.chart.title), h('br'), h('span', { class: 'muted' }, c.chart.subtitle ?? ''));
  if (narrow && option.title) option.title = (Array.isArray(option.title) ? option.title : [option.title]).map((t) => ({ ...t, show: false }));
  c.ec.setOption(option, { notMerge: true });
}

async function loadChart(which) {
  const metric = $('metric').value;
  const a = await command(which, { metric, hours: 24 });
  await echartsReady;
  charts[which].chart = a.result?.chart ?? null;
  $(`${which}-note`).textContent = a.result?.empty ? (a.messages?.[0]?.summary ?? 'no history yet') : '';
  draw(which);
}
const loadCharts = () => Promise.all([loadChart('history'), loadChart('heatmap')]);

// ---- refreshing: one section at a time, never two reads of a section at once --------------------

/** Charts follow node events at most this often: their buckets are minutes wide. */
const CHART_REFRESH_MS = 60_000;
let chartsReadMs = 0;

const sections = {
  nodes: loadNodes,
  best: loadBest,
  jobs: loadJobs,
  slurm: loadSlurm,
  charts: async () => {
    chartsReadMs = Date.now();
    await loadCharts();
  },
};
const state = {};
function refresh(name) {
  const s = (state[name] ??= { running: null, again: false });
  if (s.running) {
    s.again = true;
    return s.running;
  }
  s.running = (async () => {
    do {
      s.again = false;
      try {
        await sections[name]();
      } catch (err) {
        console.warn(`flurm: ${name}: ${err.message}`);
      }
    } while (s.again);
    s.running = null;
  })();
  return s.running;
}
const refreshAll = () => Promise.all(Object.keys(sections).map(refresh));

// What each event names: which sections show it.
const ON_EVENT = {
  nodes: () => {
    refresh('nodes');
    refresh('best');
    if (Date.now() - chartsReadMs >= CHART_REFRESH_MS) refresh('charts');
  },
  jobs: () => refresh('jobs'),
  slurm: () => refresh('slurm'),
};

function connect() {
  const live = $('live');
  const es = new EventSource('/api/v1/stream');
  let wasDown = false;
  es.addEventListener('open', () => {
    live.textContent = 'live';
    live.className = 'live up';
    if (wasDown) refreshAll(); // events may have been missed while down
    wasDown = false;
  });
  es.addEventListener('error', () => {
    live.textContent = 'disconnected';
    live.className = 'live down';
    wasDown = true;
  });
  for (const [kind, fn] of Object.entries(ON_EVENT)) es.addEventListener(kind, fn);
}

async function main() {
  try {
    const hz = await getJson('/healthz');
    $('lab').textContent = hz.host;
    document.title = `flurm · ${hz.host}`;
    slurmOn = hz.slurm?.enabled === true;
  } catch (err) {
    console.warn(`flurm: /healthz: ${err.message}`);
  }
  connect();
  await refreshAll();
  $('metric').addEventListener('change', () => refresh('charts'));
  let resizeFrame = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => {
      draw('history');
      draw('heatmap');
    });
  });
  dark.addEventListener('change', () => {
    draw('history');
    draw('heatmap');
  });
  // The shown ages advance on the page's own clock (no request): the next event brings real ones.
  setInterval(renderAges, 5000);
  document.body.dataset.ready = '1';
}

main();
