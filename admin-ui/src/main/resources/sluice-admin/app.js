// Sluice admin UI: polls the admin API, draws the live dashboard, edits policies.
// The admin token lives only in this tab (sessionStorage) and travels only in the
// Authorization header: no cookies, so another site cannot make the browser use it.
'use strict';

const POLL_MS = Math.max(250, Number(new URLSearchParams(location.search).get('interval')) || 2000);
const HISTORY_POINTS = Math.ceil(300000 / POLL_MS);
const PALETTE = ['#2f6fec', '#e8590c', '#1f9d55', '#9c36b5', '#d6336c', '#0c8599', '#5c940d', '#f08c00', '#495057'];

const state = {
  token: sessionStorage.getItem('sluice.token') || '',
  mode: 'disabled',
  authenticated: false,
  upstreams: [],
  colors: new Map(),
  cooldownUntil: new Map(),
  labels: [],
  series: { rate: new Map(), throttled: new Map(), latency: new Map(), inflight: new Map() },
  charts: {},
  editing: null,
  polls: 0,
};

const $ = (sel, root = document) => root.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const res = await fetch(path, {
    method, headers, credentials: 'omit', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (e) { data = null; }
  }
  if (!res.ok) {
    const err = new Error(data && data.error ? data.error.message : `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

// ---------- formatting ----------

const fmt = (v, digits = 1) => (v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(digits));
const fmtMs = (v) => (v === null || v === undefined ? '—' : v >= 1000 ? (v / 1000).toFixed(2) + ' s' : Math.round(v) + ' ms');
const fmtPct = (v) => (v === null || v === undefined ? '—' : Math.round(v * 100) + '%');
const colorOf = (name) => {
  if (!state.colors.has(name)) state.colors.set(name, PALETTE[state.colors.size % PALETTE.length]);
  return state.colors.get(name);
};

// `limits: learn` comes back as the string "learn": no limits of its own.
const limitList = (cfg) => (Array.isArray(cfg.limits) ? cfg.limits : []);

function policySummary(cfg) {
  const configured = limitList(cfg).map((l) => `${l.rate} (burst ${l.burst})${l.per === 'key' ? ' per key' : ''}`).join(' + ');
  const own = (cfg.key_limits || []).length;
  const keyLimits = own ? ` · ${own} key${own === 1 ? '' : 's'} with limits of ${own === 1 ? 'its' : 'their'} own` : '';
  const limits = (configured || (cfg.learn ? '' : 'no rate limit')) + (cfg.learn ? (configured ? ' + learned' : 'learned limits') : '');
  const cache = cfg.cache && cfg.cache.enabled ? `cache on, max ${cfg.cache.max_ttl}` : 'cache off';
  return `${limits}${keyLimits}${cfg.free_304 ? ' · free 304s' : ''} · max wait ${cfg.max_wait} · ${cfg.retry.max_attempts} attempt${cfg.retry.max_attempts === 1 ? '' : 's'} · ${cache}`;
}

// ---------- auth ----------

async function checkAuth() {
  try {
    const auth = await api('/api/auth');
    state.mode = auth.mode;
    state.authenticated = auth.authenticated;
  } catch (e) {
    state.authenticated = false;
  }
  renderAuth();
}

function renderAuth() {
  const status = $('#auth-status');
  const canChange = state.mode === 'open' || state.authenticated;
  document.body.classList.toggle('can-change', canChange);
  status.className = 'badge';
  if (state.mode === 'open') {
    status.textContent = 'Open: changes need no token';
    status.classList.add('open');
  } else if (state.authenticated) {
    status.textContent = 'Signed in';
    status.classList.add('signed');
  } else if (state.mode === 'disabled') {
    status.textContent = 'Read-only: no admin token configured';
  } else {
    status.textContent = 'Read-only';
  }
  const showLogin = state.mode === 'token' && !state.authenticated;
  $('#token').hidden = !showLogin;
  $('#login').hidden = !showLogin;
  $('#logout').hidden = !(state.mode === 'token' && state.authenticated);
}

async function login(event) {
  event.preventDefault();
  state.token = $('#token').value.trim();
  await checkAuth();
  if (state.authenticated) {
    sessionStorage.setItem('sluice.token', state.token);
    $('#token').value = '';
    notify('Signed in. Changes apply at once and are written to the state file.');
  } else {
    state.token = '';
    sessionStorage.removeItem('sluice.token');
    $('#token').value = '';
    notify('That token was not accepted.', true);
  }
}

function logout() {
  state.token = '';
  sessionStorage.removeItem('sluice.token');
  checkAuth();
}

let noticeTimer;
function notify(message, isError = false) {
  const box = $('#notice');
  box.textContent = message;
  box.classList.toggle('error', isError);
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; }, isError ? 12000 : 6000);
}

// ---------- upstream cards ----------

function stat(key, label, extraClass) {
  return el('div', { class: 'stat ' + (extraClass || '') },
    el('div', { class: 'v' }, el('span', { 'data-f': key, text: '—' }), el('small', { 'data-f': key + '_suffix' })),
    el('div', { class: 'k', text: label }));
}

function buildCard(name) {
  const card = el('article', { class: 'card', 'data-upstream': name },
    el('header', {},
      el('span', { class: 'swatch', style: `background:${colorOf(name)}` }),
      el('h3', { text: name }),
      el('span', { class: 'tag', 'data-f': 'source' }),
      el('span', { class: 'cooldown', 'data-f': 'cooldown' })),
    el('div', { class: 'origins', 'data-f': 'origins' }),
    el('div', { class: 'stats' },
      stat('rate', 'req / s'),
      stat('throttled', '429 / s', 'throttle'),
      stat('p50', 'p50'),
      stat('p99', 'p99'),
      stat('hit', 'cache hits'),
      stat('tokens', 'tokens'),
      stat('in_flight', 'in flight'),
      stat('queued', 'queued'),
      stat('https', 'intercepted / tunnels, 1 min')),
    el('div', { class: 'policy', 'data-f': 'policy' }),
    el('div', { class: 'policy learned', 'data-f': 'learned' }),
    el('div', { class: 'policy keys', 'data-f': 'keys', hidden: true }),
    el('footer', {},
      el('button', { type: 'button', class: 'ghost small needs-auth edit', text: 'Edit', onclick: () => openEditor(name) }),
      el('button', { type: 'button', class: 'ghost small needs-auth purge', text: 'Purge cache', onclick: () => purge(name) }),
      el('span', { class: 'spacer' }),
      name === 'default' ? null
        : el('button', { type: 'button', class: 'danger small needs-auth remove', text: 'Remove', onclick: () => removeUpstream(name) })));
  return card;
}

// What the upstream announced and Sluice adopted (learn), e.g. "learned 5000/1h from X-RateLimit-Limit, pinned".
function learnedSummary(learned) {
  if (!learned || !learned.limits.length) return '';
  const limits = learned.limits.map((l) => `${l.tokens}/${l.window}${l.per ? ' per key' : ''}`).join(' + ');
  const pinned = learned.pinned ? ', pinned' : '';
  const shown = learned.applied ? 'learned' : 'announced (not applied)';
  return `${shown} ${limits} from ${learned.source}${pinned}`;
}

// The busiest per-key budgets, by label (the keys themselves never reach the admin API).
function keysSummary(keys) {
  const cooling = keys.cooling_down ? `, ${keys.cooling_down} cooling down` : '';
  return `keys: ${keys.live} of ${keys.max_keys} live${cooling}; busiest`;
}

function keyLine(k) {
  const tokens = k.tokens_left === null ? '—' : String(k.tokens_left);
  const cooling = k.cooldown_remaining_ms > 0 ? ` · cooling ${(k.cooldown_remaining_ms / 1000).toFixed(1)} s` : '';
  return ` ${k.requests} req · ${k.refusals} refused · ${tokens} tokens left${cooling}`;
}

function renderKeys(card, keys) {
  const box = card.querySelector('[data-f="keys"]');
  const shown = Boolean(keys && keys.busiest.length);
  box.hidden = !shown;
  if (!shown) return;
  box.replaceChildren(
    el('div', { 'data-f': 'keys_summary', text: keysSummary(keys) }),
    el('ol', {}, ...keys.busiest.map((k) => el('li', { 'data-label': k.label },
      el('code', { text: k.label }), el('span', { text: keyLine(k) })))));
}

function set(card, key, text) {
  const node = card.querySelector(`[data-f="${key}"]`);
  if (node && node.textContent !== text) node.textContent = text;
}

function renderUpstreams() {
  const container = $('#upstreams');
  const seen = new Set();
  for (const u of state.upstreams) {
    seen.add(u.name);
    let card = container.querySelector(`[data-upstream="${CSS.escape(u.name)}"]`);
    if (!card) {
      card = buildCard(u.name);
      container.append(card);
    }
    const live = u.live;
    const cfg = u.config;
    const origins = [cfg.base_url, ...(cfg.match || [])].filter(Boolean).join(', ');
    set(card, 'origins', origins || (u.name === 'default' ? 'every origin no upstream claims' : ''));
    set(card, 'source', u.source === 'admin' ? 'changed here' : u.source);
    card.querySelector('[data-f="source"]').classList.toggle('admin', u.source === 'admin');
    set(card, 'rate', fmt(live.requests_per_s));
    set(card, 'throttled', fmt(live.throttled_per_s));
    card.querySelector('.stat.throttle').classList.toggle('bad', live.throttled_per_s > 0);
    set(card, 'p50', fmtMs(live.latency_ms.p50));
    set(card, 'p99', fmtMs(live.latency_ms.p99));
    set(card, 'hit', fmtPct(live.cache_hit_ratio));
    set(card, 'tokens', live.tokens_available === null ? '—' : fmt(live.tokens_available, 0));
    set(card, 'in_flight', live.in_flight === null ? '—' : String(live.in_flight));
    set(card, 'in_flight_suffix', ` / ${cfg.max_concurrency}`);
    const byClass = live.queued_by_priority;
    set(card, 'queued', live.queued === null ? '—'
      : byClass ? `${live.queued} (${byClass.interactive} · ${byClass.batch} · ${byClass.background})` : String(live.queued));
    set(card, 'https', `${live.intercepted_last_minute} / ${live.tunnels_last_minute}`);
    set(card, 'policy', policySummary(cfg));
    set(card, 'learned', learnedSummary(live.learned));
    card.querySelector('[data-f="learned"]').hidden = !live.learned || !live.learned.limits.length;
    renderKeys(card, live.keys);
    if (live.cooldown_remaining_ms === null) state.cooldownUntil.delete(u.name);
    else state.cooldownUntil.set(u.name, performance.now() + live.cooldown_remaining_ms);
  }
  for (const card of [...container.children]) {
    if (!seen.has(card.dataset.upstream)) card.remove();
  }
  tickCooldowns();
}

function tickCooldowns() {
  for (const card of document.querySelectorAll('.card')) {
    const node = card.querySelector('[data-f="cooldown"]');
    const until = state.cooldownUntil.get(card.dataset.upstream);
    if (until === undefined) {
      node.textContent = '';
      continue;
    }
    const left = until - performance.now();
    node.classList.toggle('idle', left <= 0);
    node.textContent = left > 0 ? `cooling down ${(left / 1000).toFixed(1)} s` : 'no cooldown';
  }
}

// ---------- charts ----------

function makeChart(id) {
  if (!window.Chart) return null;
  return new window.Chart($(id), {
    type: 'line',
    data: { labels: state.labels, datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      elements: { point: { radius: 0 }, line: { borderWidth: 2, tension: 0.25 } },
      scales: {
        x: { ticks: { maxTicksLimit: 6, maxRotation: 0, color: '#6b7385' }, grid: { display: false } },
        y: { beginAtZero: true, ticks: { maxTicksLimit: 5, color: '#6b7385' }, grid: { color: '#eef0f4' } },
      },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, color: '#3b4456' } } },
    },
  });
}

function record(series, name, value) {
  if (!series.has(name)) series.set(name, new Array(state.labels.length - 1).fill(null));
  series.get(name).push(value === undefined ? null : value);
}

function updateCharts() {
  const now = new Date();
  state.labels.push(now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }));
  for (const u of state.upstreams) {
    record(state.series.rate, u.name, u.live.requests_per_s);
    record(state.series.throttled, u.name, u.live.throttled_per_s);
    record(state.series.latency, u.name, u.live.latency_ms.p99);
    record(state.series.inflight, u.name, u.live.in_flight);
  }
  const names = new Set(state.upstreams.map((u) => u.name));
  for (const series of Object.values(state.series)) {
    for (const [name, points] of series) {
      if (!names.has(name)) series.delete(name);
      else if (points.length < state.labels.length) points.push(null);
    }
  }
  if (state.labels.length > HISTORY_POINTS) {
    state.labels.shift();
    for (const series of Object.values(state.series)) for (const points of series.values()) points.shift();
  }
  for (const [key, chart] of Object.entries(state.charts)) {
    if (!chart) continue;
    chart.data.datasets = [...state.series[key]].map(([name, data]) => ({
      label: name, data, borderColor: colorOf(name), backgroundColor: colorOf(name), spanGaps: true,
    }));
    chart.update('none');
    chart.canvas.dataset.points = String(state.labels.length);
  }
}

// ---------- recent requests ----------

function traceBar(r) {
  const t = r.timing;
  const total = Math.max(r.elapsed_ms, t.queue_ms + t.cooldown_ms + t.upstream_ms + t.cache_ms, 0.001);
  const bar = el('div', {
    class: 'trace',
    title: `queue ${t.queue_ms} ms · cooldown ${t.cooldown_ms} ms · upstream ${t.upstream_ms} ms · cache ${t.cache_ms} ms`,
  });
  for (const [cls, v] of [['q', t.queue_ms], ['c', t.cooldown_ms], ['u', t.upstream_ms], ['k', t.cache_ms]]) {
    if (v > 0) bar.append(el('span', { class: cls, style: `width:${Math.max(1, (v / total) * 100)}%` }));
  }
  return bar;
}

function renderRecent(requests) {
  const rows = requests.map((r) => {
    const result = r.error
      ? el('span', { class: 'status-err', text: r.error.type, title: r.error.message })
      : el('span', { class: `status-${String(r.status)[0]}`, text: String(r.status) });
    return el('tr', {},
      el('td', { text: new Date(r.at).toLocaleTimeString() }),
      el('td', { text: r.upstream || '—' }),
      el('td', { class: 'url', title: r.url, text: `${r.method} ${r.url}` }),
      el('td', {}, result),
      el('td', { text: r.cache }),
      el('td', { class: 'num', text: String(r.attempts) }),
      el('td', { class: 'num', text: fmtMs(r.elapsed_ms) }),
      el('td', {}, traceBar(r)));
  });
  $('#recent tbody').replaceChildren(...rows);
}

// ---------- editing ----------

function limitRow(limit = {}) {
  const row = el('div', { class: 'limit-row' },
    el('label', {}, 'Rate', el('input', { name: 'rate', placeholder: '90/min', value: limit.rate || '' })),
    el('label', {}, 'Burst', el('input', { name: 'burst', type: 'number', min: '1', value: limit.burst || '' })),
    el('label', { class: 'per' }, el('input', { name: 'per', type: 'checkbox', checked: limit.per === 'key' }), ' per key'),
    el('button', { type: 'button', class: 'ghost small', text: '✕', title: 'Remove this bucket', onclick: () => row.remove() }));
  return row;
}

function field(name) {
  return $('#editor-form').elements.namedItem(name);
}

function openEditor(name) {
  const upstream = name ? state.upstreams.find((u) => u.name === name) : null;
  const cfg = upstream ? upstream.config : (state.upstreams.find((u) => u.name === 'default') || {}).config;
  state.editing = {
    name,
    headers: upstream ? cfg.headers : {},
    learn: upstream ? !!cfg.learn : false,
    free304: upstream ? !!cfg.free_304 : false,
    kept: upstream ? keptKeys(cfg) : {},
  };
  $('#editor-title').textContent = name ? `Edit ${name}` : 'Add upstream';
  $('#name-row').hidden = !!name;
  const isDefault = name === 'default';
  field('base_url').closest('label').hidden = isDefault;
  field('match').closest('label').hidden = isDefault;
  field('name').value = '';
  field('base_url').value = upstream ? cfg.base_url || '' : '';
  field('match').value = upstream ? (cfg.match || []).join(', ') : '';
  field('max_concurrency').value = cfg.max_concurrency;
  field('max_wait').value = cfg.max_wait;
  field('retry.max_attempts').value = cfg.retry.max_attempts;
  field('retry.base_delay').value = cfg.retry.base_delay;
  field('retry.max_delay').value = cfg.retry.max_delay;
  field('timeouts.connect').value = cfg.timeouts.connect;
  field('timeouts.response').value = cfg.timeouts.response;
  field('timeouts.total').value = cfg.timeouts.total;
  field('cache.enabled').checked = cfg.cache.enabled;
  field('cache.max_ttl').value = cfg.cache.max_ttl;
  field('cache.default_ttl').value = cfg.cache.default_ttl || '';
  field('allow_private').checked = upstream ? cfg.allow_private : false;
  $('#limits').replaceChildren(...limitList(cfg).map(limitRow));
  const headerNames = Object.keys(state.editing.headers);
  $('#headers-note').textContent = headerNames.length
    ? `Headers added to every request (${headerNames.join(', ')}) are kept as configured; edit them in the config file.`
    : '';
  $('#editor-error').hidden = true;
  $('#editor').showModal();
}

// The form edits some keys; all others (key, key_limits, cooldown, priority, tls, …) are sent back
// as they are, so that saving it changes only what it shows.
const FORM_KEYS = ['name', 'base_url', 'match', 'limits', 'learn', 'free_304', 'max_concurrency', 'max_wait', 'headers', 'allow_private'];
const FORM_GROUPS = { retry: ['max_attempts', 'base_delay', 'max_delay'], timeouts: ['connect', 'response', 'total'], cache: ['enabled', 'max_ttl', 'default_ttl'] };

function keptKeys(cfg) {
  const kept = JSON.parse(JSON.stringify(cfg));
  for (const k of FORM_KEYS) delete kept[k];
  for (const [group, keys] of Object.entries(FORM_GROUPS)) {
    if (kept[group]) for (const k of keys) delete kept[group][k];
  }
  return kept;
}

function formBody() {
  const text = (n) => field(n).value.trim();
  const body = JSON.parse(JSON.stringify(state.editing.kept));
  if (!$('#name-row').hidden) body.name = text('name');
  if (state.editing.name !== 'default') {
    if (text('base_url')) body.base_url = text('base_url');
    const match = text('match').split(',').map((s) => s.trim()).filter(Boolean);
    if (match.length) body.match = match;
  }
  body.limits = [...document.querySelectorAll('#limits .limit-row')]
    .map((row) => ({ rate: $('[name=rate]', row).value.trim(), burst: $('[name=burst]', row).value.trim(), per: $('[name=per]', row).checked }))
    .filter((l) => l.rate)
    .map((l) => ({ rate: l.rate, ...(l.burst ? { burst: Number(l.burst) } : {}), ...(l.per ? { per: 'key' } : {}) }));
  // Not in the form: kept as they are.
  body.learn = state.editing.learn;
  body.free_304 = state.editing.free304;
  if (text('max_concurrency')) body.max_concurrency = Number(text('max_concurrency'));
  if (text('max_wait')) body.max_wait = text('max_wait');
  body.retry = body.retry || {};
  if (text('retry.max_attempts')) body.retry.max_attempts = Number(text('retry.max_attempts'));
  if (text('retry.base_delay')) body.retry.base_delay = text('retry.base_delay');
  if (text('retry.max_delay')) body.retry.max_delay = text('retry.max_delay');
  body.timeouts = body.timeouts || {};
  for (const k of ['connect', 'response', 'total']) if (text('timeouts.' + k)) body.timeouts[k] = text('timeouts.' + k);
  body.cache = { ...(body.cache || {}), enabled: field('cache.enabled').checked };
  if (text('cache.max_ttl')) body.cache.max_ttl = text('cache.max_ttl');
  if (text('cache.default_ttl')) body.cache.default_ttl = text('cache.default_ttl');
  body.headers = state.editing.headers;
  body.allow_private = field('allow_private').checked;
  return body;
}

async function saveEditor(event) {
  event.preventDefault();
  const body = formBody();
  const name = state.editing.name;
  const save = $('#editor-save');
  save.disabled = true;
  try {
    const result = name
      ? await api(`/api/upstreams/${encodeURIComponent(name)}`, { method: 'PUT', body })
      : await api('/api/upstreams', { method: 'POST', body });
    $('#editor').close();
    notify(`Saved ${result.name}: applied now${result.persisted ? ' and written to the state file' : ' (not persisted: no state file)'}.`);
    await poll();
  } catch (e) {
    const box = $('#editor-error');
    box.textContent = e.message;
    box.hidden = false;
  } finally {
    save.disabled = false;
  }
}

async function purge(name) {
  try {
    const result = await api('/api/cache/purge', { method: 'POST', body: name ? { upstream: name } : {} });
    notify(`Purged ${result.purged} cached responses${name ? ' of ' + name : ''}.`);
  } catch (e) {
    notify(e.message, true);
  }
}

async function removeUpstream(name) {
  if (!window.confirm(`Remove upstream "${name}"? Its origins fall back to another match or to default.`)) return;
  try {
    await api(`/api/upstreams/${encodeURIComponent(name)}`, { method: 'DELETE' });
    notify(`Removed ${name}.`);
    await poll();
  } catch (e) {
    notify(e.message, true);
  }
}

// ---------- HTTPS ----------

function renderTls(tls) {
  $('#ca-subject').textContent = tls.ca.subject;
  $('#ca-sha256').textContent = tls.ca.sha256;
  $('#ca-not-after').textContent = new Date(tls.ca.not_after).toISOString().slice(0, 10);
  $('#tunnels-open').textContent = String(tls.tunnels_open);
}

// ---------- polling ----------

let pollTimer;
async function poll() {
  clearTimeout(pollTimer);
  const conn = $('#conn');
  try {
    const [upstreams, recent, tls] = await Promise.all([
      api('/api/upstreams'), api('/api/requests/recent?limit=60'), api('/api/tls')]);
    state.upstreams = upstreams.upstreams;
    renderUpstreams();
    renderTls(tls);
    updateCharts();
    renderRecent(recent.requests);
    state.polls += 1;
    document.body.dataset.polls = String(state.polls);
    conn.className = 'conn ok';
    conn.textContent = 'live · ' + new Date().toLocaleTimeString();
  } catch (e) {
    conn.className = 'conn down';
    conn.textContent = 'admin API unreachable: ' + e.message;
  }
  pollTimer = setTimeout(poll, POLL_MS);
}

function init() {
  $('#interval-label').textContent = String(POLL_MS / 1000);
  $('#auth-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  $('#add-upstream').addEventListener('click', () => openEditor(null));
  $('#purge-all').addEventListener('click', () => purge(null));
  $('#add-limit').addEventListener('click', () => $('#limits').append(limitRow()));
  $('#editor-form').addEventListener('submit', saveEditor);
  $('#editor-cancel').addEventListener('click', () => $('#editor').close());
  state.charts = {
    rate: makeChart('#chart-rate'),
    throttled: makeChart('#chart-throttled'),
    latency: makeChart('#chart-latency'),
    inflight: makeChart('#chart-inflight'),
  };
  setInterval(tickCooldowns, 200);
  checkAuth().then(poll);
}

document.addEventListener('DOMContentLoaded', init);
