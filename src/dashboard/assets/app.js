// The cluster dashboard: polls ../api/cluster (GET /_s3gw/api/cluster) and
// renders it. The API needs the session cookie that POST ../login sets: while
// it answers 401 the page shows the login form and does not poll. The form
// posts the root access key and secret once, as a form body; every poll then
// carries only that cookie (the browser adds it; no Authorization header).
// "Log out" posts ../logout, which clears the cookie, and reloads the page,
// so nothing of the session's data stays on screen. One fetch at a time; the
// next starts 2 s after the previous one ended. A failed fetch shows a banner
// and keeps the last data on screen. The access section (keys and grants,
// read-only) and "logged in as" come from ../api/access, fetched after a
// successful refresh when the last one is ACCESS_REFRESH_MS old; its
// failures show in its own summary line. Server strings (gateway ids, bucket
// names, key names, ...) only ever go into the DOM through textContent.
'use strict';

const REFRESH_MS = 2000;
const ACCESS_REFRESH_MS = 10000;
const FETCH_TIMEOUT_MS = 10000;
const PAGE_SIZE = 50;
const CHART_SPAN_MS = 10 * 60 * 1000;
const SVG_NS = 'http://www.w3.org/2000/svg';

const ui = { data: null, filter: '', sortKey: 'name', sortDir: 1, page: 0, bucketsKey: '' };
// epoch changes at each login: a refresh started before it neither renders
// nor schedules the next one.
const session = { epoch: 0, timer: null, throttle: null };
// The access view: when it was last fetched, and whether a fetch runs.
const access = { at: -Infinity, busy: false, key: '' };

const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------ formatting

const pad2 = (n) => String(n).padStart(2, '0');

function fmtClock(ms) {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

function fmtAgo(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 90) return `${m} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${pad2(m % 60)} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

function fmtUptime(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad2(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad2(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

function fmtNum(x) {
  if (x == null || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
}

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const fmtInt = (n) => (n == null ? '–' : INT.format(n));
const fmtMBps = (bytesPerS) => (bytesPerS == null ? '–' : fmtNum(bytesPerS / 1e6));

function fmtPct(rate) {
  if (rate == null || !Number.isFinite(rate)) return '–';
  const p = rate * 100;
  return `${p.toFixed(p > 0 && p < 1 ? 2 : 1)} %`;
}

function fmtBytes(n) {
  if (n == null || !Number.isFinite(n)) return '–';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

// ------------------------------------------------------------ DOM helpers

// A cell with text; cls is an optional class list.
function td(text, cls) {
  const c = document.createElement('td');
  c.textContent = text;
  if (cls) c.className = cls;
  return c;
}

function badgeCell(up) {
  const c = document.createElement('td');
  const b = document.createElement('span');
  b.className = `badge ${up ? 'up' : 'down'}`;
  b.textContent = up ? 'up' : 'down';
  c.append(b);
  return c;
}

function emptyRow(text, colspan) {
  const tr = document.createElement('tr');
  const c = td(text, 'empty');
  c.colSpan = colspan;
  tr.append(c);
  return tr;
}

function setSummary(id, up, total, noun) {
  const p = $(id);
  p.textContent = `${up} of ${total} ${noun} up`;
  p.className = `summary ${total > 0 && up === total ? 'ok' : 'bad'}`;
}

// ------------------------------------------------------------ sections

function renderHeader(d) {
  $('backend').textContent = d.backend ?? '–';
  $('answered-by').textContent = d.answered_by ?? '–';
  $('updated').textContent = fmtClock(d.now_ms);
}

function renderGateways(d) {
  const gws = d.gateways || [];
  const rows = gws.map((g) => {
    const tr = document.createElement('tr');
    tr.dataset.gateway = g.id;
    tr.dataset.address = g.address;
    tr.dataset.state = g.up ? 'up' : 'down';
    const errCls = g.error_rate != null && g.error_rate >= 0.05 ? 'num warn' : 'num';
    const since = g.up
      ? fmtUptime(d.now_ms - g.started_ms)
      : `last seen ${fmtAgo(d.now_ms - g.last_seen_ms)} ago`;
    tr.append(
      td(g.id, 'id'), td(g.address), td(g.version ?? '–'), badgeCell(g.up),
      td(fmtNum(g.requests_per_s), 'num'), td(g.requests_per_s ? fmtPct(g.error_rate) : '–', errCls),
      td(g.p99_ms == null ? '–' : fmtNum(g.p99_ms), 'num'), td(fmtInt(g.in_flight), 'num'),
      td(fmtMBps(g.bytes_in_per_s), 'num'), td(fmtMBps(g.bytes_out_per_s), 'num'), td(since),
    );
    if (g.up) tr.lastChild.title = `started ${new Date(g.started_ms).toLocaleString()}`;
    return tr;
  });
  if (rows.length === 0) rows.push(emptyRow('No gateway has reported in the last day.', 11));
  $('gateways-body').replaceChildren(...rows);
  setSummary('gateways-summary', gws.filter((g) => g.up).length, gws.length, 'gateways');
}

function renderNodes(d) {
  const embedded = d.backend === 'embedded';
  $('nodes-embedded').hidden = !embedded;
  $('nodes').hidden = embedded;
  if (embedded) {
    const p = $('nodes-summary');
    p.textContent = 'embedded backend';
    p.className = 'summary muted';
    return;
  }
  const nodes = d.nodes || [];
  const rows = nodes.map((n) => {
    const tr = document.createElement('tr');
    tr.dataset.node = n.address;
    tr.dataset.state = n.up ? 'up' : 'down';
    const load = td(fmtBytes(n.load_bytes), 'num');
    if (n.load_bytes == null) load.title = 'not known yet (gossip publishes it every 60 s)';
    tr.append(td(n.address, 'id'), td(n.datacenter ?? '–'), td(n.status ?? '–'), badgeCell(n.up), load);
    return tr;
  });
  if (rows.length === 0) rows.push(emptyRow('No Cassandra node known.', 5));
  $('nodes-body').replaceChildren(...rows);
  setSummary('nodes-summary', nodes.filter((n) => n.up).length, nodes.length, 'nodes');
}

function bucketsOf(d) {
  const b = d && d.buckets;
  return { asOf: b ? b.as_of_ms : null, count: b ? b.count : 0, items: (b && b.items) || [] };
}

function renderBucketSummary(d) {
  const { asOf, count, items } = bucketsOf(d);
  const p = $('buckets-summary');
  if (asOf == null) {
    p.textContent = 'usage not scanned yet';
    p.className = 'summary muted';
    return;
  }
  let objects = 0;
  let bytes = 0;
  for (const it of items) { objects += it.objects || 0; bytes += it.bytes || 0; }
  const n = count ?? items.length;
  p.textContent = `${fmtInt(n)} bucket${n === 1 ? '' : 's'} · ${fmtInt(objects)} objects · ` +
    `${fmtBytes(bytes)} · as of ${fmtClock(asOf)} (${fmtAgo(d.now_ms - asOf)} ago)`;
  p.className = 'summary';
}

// Filters, sorts and shows one page of the buckets; skipped when neither
// the data nor the controls changed since the last time.
function renderBucketTable(force) {
  const d = ui.data;
  const { asOf, items } = bucketsOf(d);
  const key = [asOf, items.length, ui.filter, ui.sortKey, ui.sortDir, ui.page].join('|');
  if (!force && key === ui.bucketsKey) return;
  const needle = ui.filter.trim().toLowerCase();
  const shown = needle ? items.filter((it) => it.name.toLowerCase().includes(needle)) : items.slice();
  const k = ui.sortKey;
  shown.sort((a, b) => {
    const c = k === 'name' ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : (a[k] || 0) - (b[k] || 0) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return c * ui.sortDir;
  });
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  ui.page = Math.min(Math.max(0, ui.page), pages - 1);
  ui.bucketsKey = [asOf, items.length, ui.filter, ui.sortKey, ui.sortDir, ui.page].join('|');
  const rows = shown.slice(ui.page * PAGE_SIZE, (ui.page + 1) * PAGE_SIZE).map((it) => {
    const tr = document.createElement('tr');
    tr.dataset.bucket = it.name;
    const size = td(fmtBytes(it.bytes), 'num');
    size.title = `${fmtInt(it.bytes)} bytes`;
    const name = td(it.name, 'name');
    name.title = it.name;
    tr.append(name, td(fmtInt(it.objects), 'num'), size);
    return tr;
  });
  if (rows.length === 0) {
    rows.push(emptyRow(asOf == null ? 'Usage not scanned yet.' : needle ? 'No bucket matches the filter.' : 'No buckets.', 3));
  }
  $('buckets-body').replaceChildren(...rows);
  const matching = needle ? `${fmtInt(shown.length)} of ${fmtInt(items.length)} match` : `${fmtInt(items.length)} buckets`;
  $('bucket-page').textContent = `page ${ui.page + 1} of ${pages} · ${matching}`;
  $('bucket-prev').disabled = ui.page === 0;
  $('bucket-next').disabled = ui.page >= pages - 1;
  for (const th of document.querySelectorAll('#buckets th[data-sort]')) {
    if (th.dataset.sort === ui.sortKey) th.setAttribute('aria-sort', ui.sortDir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
}

// ------------------------------------------------------------ access keys

function fmtDate(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

const yesNo = (b) => (b ? 'yes' : 'no');

function whoText(w) {
  return w.root ? 'root' : `${w.name} (${w.access_key_id})`;
}

function listedNote(l, noun) {
  return l.truncated ? `${fmtInt(l.total)} ${noun}, the first ${fmtInt(l.items.length)} shown` : `${fmtInt(l.total)} ${noun}`;
}

// One bucket's grants: a chip per key, its name (else its id) and letters.
function grantsCell(b, names) {
  const c = document.createElement('td');
  const ids = Object.keys(b.grants || {});
  for (const id of ids) {
    const chip = document.createElement('span');
    chip.className = 'grant';
    chip.dataset.key = id;
    chip.title = id;
    const letters = document.createElement('b');
    letters.textContent = b.grants[id];
    chip.append(`${names.get(id) ?? id} `, letters);
    c.append(chip);
  }
  if (b.grants_truncated) c.append('…');
  if (ids.length === 0) c.textContent = '–';
  return c;
}

function renderAccess(a) {
  $('logged-in').textContent = whoText(a.logged_in);
  const key = JSON.stringify([a.logged_in, a.keys, a.buckets]);
  $('access').dataset.state = 'ok';
  const keys = a.keys.items;
  const admins = keys.filter((k) => k.admin).length;
  const p = $('access-summary');
  p.textContent = `${listedNote(a.keys, 'keys')} · ${fmtInt(admins)} admin · as of ${fmtClock(a.now_ms)}`;
  p.className = 'summary muted';
  if (key === access.key) return;
  access.key = key;
  const names = new Map(keys.map((k) => [k.access_key_id, k.name]));
  const keyRows = keys.map((k) => {
    const tr = document.createElement('tr');
    tr.dataset.key = k.access_key_id;
    tr.dataset.admin = yesNo(k.admin);
    tr.append(td(k.name, 'id'), td(k.access_key_id), td(fmtDate(k.created_ms)), td(yesNo(k.create_bucket)),
      td(yesNo(k.admin)));
    return tr;
  });
  if (keyRows.length === 0) keyRows.push(emptyRow('No access keys: only the root pair signs.', 5));
  $('access-keys-body').replaceChildren(...keyRows);
  const bucketRows = a.buckets.items.map((b) => {
    const tr = document.createElement('tr');
    tr.dataset.bucket = b.name;
    const ownerName = names.get(b.owner);
    tr.append(td(b.name, 'id'), td(ownerName ? `${ownerName} (${b.owner})` : b.owner), grantsCell(b, names));
    return tr;
  });
  if (bucketRows.length === 0) bucketRows.push(emptyRow('No buckets.', 3));
  $('access-grants-body').replaceChildren(...bucketRows);
  $('access-buckets-summary').textContent = `(${listedNote(a.buckets, 'buckets')})`;
}

// Fetches ../api/access for the session of epoch; a 401 is left to the
// cluster poll, which shows the login form.
async function refreshAccess(epoch) {
  access.busy = true;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
  try {
    let resp;
    try {
      resp = await fetch('../api/access', { cache: 'no-store', signal: ctl.signal, headers: { Accept: 'application/json' } });
    } catch (e) {
      throw new Error(e.name === 'AbortError' ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : `network error (${e.message})`);
    }
    if (epoch !== session.epoch || resp.status === 401) return;
    if (!resp.ok) throw new Error(`HTTP ${resp.status} ${resp.statusText}`.trim());
    const a = await resp.json();
    if (!a.logged_in || !a.keys || !Array.isArray(a.keys.items) || !a.buckets || !Array.isArray(a.buckets.items)) {
      throw new Error('unexpected answer');
    }
    if (epoch === session.epoch) renderAccess(a);
  } catch (e) {
    if (epoch === session.epoch) {
      const p = $('access-summary');
      p.textContent = `refresh failed at ${fmtClock(Date.now())}: ${e.message || String(e)}`;
      p.className = 'summary bad';
      $('access').dataset.state = 'error';
    }
  } finally {
    clearTimeout(timer);
    access.busy = false;
    access.at = Date.now();
  }
}

// ------------------------------------------------------------ chart

function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

// Axis ticks for values up to max: a step of 1, 2, 2.5 or 5 x 10^n giving at
// most 4 ticks above zero; top is the highest tick.
function ticks(max) {
  if (!(max > 0)) return { step: 0.25, top: 1 };
  const raw = max / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((v) => v >= raw * 0.9999);
  return { step, top: step * Math.max(1, Math.ceil(max / step - 1e-9)) };
}

const fmtTick = (v) => String(+v.toPrecision(4));

function renderChart(d) {
  const svg = $('throughput');
  const tp = d.throughput || {};
  const step = tp.step_s || 5;
  const pts = tp.points || [];
  const req = pts.map((p) => p.requests_per_s || 0);
  const last = pts.length ? pts[pts.length - 1] : null;
  svg.dataset.points = String(pts.length);
  svg.dataset.lastRequests = (last ? last.requests_per_s || 0 : 0).toFixed(2);
  svg.dataset.peakRequests = Math.max(0, ...req).toFixed(2);
  svg.dataset.totalRequests = String(Math.round(req.reduce((a, r) => a + r * step, 0)));
  $('legend-req').textContent = last ? fmtNum(last.requests_per_s) : '–';
  $('legend-err').textContent = last ? fmtNum(last.errors_per_s) : '–';
  $('legend-in').textContent = last ? fmtMBps(last.bytes_in_per_s) : '–';
  $('legend-out').textContent = last ? fmtMBps(last.bytes_out_per_s) : '–';

  const W = Math.max(320, Math.round(svg.getBoundingClientRect().width));
  const H = 240;
  const m = { l: 52, r: 56, t: 12, b: 26 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const t1 = d.now_ms;
  const t0 = t1 - CHART_SPAN_MS;
  const tl = ticks(Math.max(...req, ...pts.map((p) => p.errors_per_s || 0)));
  const tr = ticks(Math.max(...pts.map((p) => Math.max(p.bytes_in_per_s || 0, p.bytes_out_per_s || 0) / 1e6)));
  const x = (t) => m.l + ((t - t0) / CHART_SPAN_MS) * pw;
  const yL = (v) => m.t + ph - (v / tl.top) * ph;
  const yR = (v) => m.t + ph - (v / tr.top) * ph;

  // Grid lines follow the left axis (req/s); the right axis (MB/s) has its own ticks.
  const parts = [svgEl('line', { class: 'axis', x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph })];
  for (let v = 0; v <= tl.top * 1.0001; v += tl.step) {
    if (v > 0) parts.push(svgEl('line', { class: 'grid-line', x1: m.l, x2: m.l + pw, y1: yL(v), y2: yL(v) }));
    parts.push(svgEl('text', { x: m.l - 6, y: yL(v) + 4, 'text-anchor': 'end' }, fmtTick(v)));
  }
  for (let v = 0; v <= tr.top * 1.0001; v += tr.step) {
    parts.push(svgEl('line', { class: 'axis', x1: m.l + pw, x2: m.l + pw + 4, y1: yR(v), y2: yR(v) }));
    parts.push(svgEl('text', { x: m.l + pw + 7, y: yR(v) + 4 }, fmtTick(v)));
  }
  parts.push(svgEl('text', { x: 4, y: m.t + 4, transform: `rotate(-90 4 ${m.t + 4})`, 'text-anchor': 'end', dy: '0.8em' }, 'req/s'));
  parts.push(svgEl('text', { x: W - 4, y: m.t + 4, transform: `rotate(90 ${W - 4} ${m.t + 4})`, dy: '0.8em' }, 'MB/s'));
  for (let min = 10; min >= 0; min -= 2) {
    const xx = x(t1 - min * 60000);
    parts.push(svgEl('line', { class: 'grid-line', x1: xx, x2: xx, y1: m.t, y2: m.t + ph }));
    const anchor = min === 10 ? 'start' : min === 0 ? 'end' : 'middle';
    parts.push(svgEl('text', { x: xx, y: H - 8, 'text-anchor': anchor }, min === 0 ? 'now' : `−${min} min`));
  }
  // One path per series; a gap of more than two steps breaks the line.
  const series = [
    ['s-err', (p) => yL(p.errors_per_s || 0)],
    ['s-in', (p) => yR((p.bytes_in_per_s || 0) / 1e6)],
    ['s-out', (p) => yR((p.bytes_out_per_s || 0) / 1e6)],
    ['s-req', (p) => yL(p.requests_per_s || 0)],
  ];
  for (const [cls, y] of series) {
    let path = '';
    let prev = null;
    for (const p of pts) {
      if (p.t_ms < t0) continue;
      const cmd = prev == null || p.t_ms - prev > 2 * step * 1000 ? 'M' : 'L';
      path += `${cmd}${x(p.t_ms).toFixed(1)},${y(p).toFixed(1)}`;
      prev = p.t_ms;
    }
    if (path) parts.push(svgEl('path', { class: `series ${cls}`, d: path }));
  }
  if (pts.length === 0) {
    parts.push(svgEl('text', { class: 'no-data', x: m.l + pw / 2, y: m.t + ph / 2, 'text-anchor': 'middle' },
      'no throughput recorded yet'));
  }
  svg.replaceChildren(...parts);
}

// ------------------------------------------------------------ refresh loop

function render() {
  const d = ui.data;
  renderHeader(d);
  renderGateways(d);
  renderNodes(d);
  renderBucketSummary(d);
  renderBucketTable(false);
  renderChart(d);
}

function showBanner(text) {
  const banner = $('error');
  banner.textContent = text;
  banner.hidden = false;
}

function showError(message) {
  const kept = ui.data ? ` Showing the data of ${fmtClock(ui.data.now_ms)}.` : '';
  showBanner(`Refresh failed at ${fmtClock(Date.now())}: ${message}.${kept}`);
  document.body.dataset.fetch = 'error';
}

function schedule(ms) {
  clearTimeout(session.timer);
  session.timer = setTimeout(refresh, ms);
}

async function refresh() {
  const epoch = session.epoch;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
  let again = true;
  try {
    let resp;
    try {
      resp = await fetch('../api/cluster', { cache: 'no-store', signal: ctl.signal, headers: { Accept: 'application/json' } });
    } catch (e) {
      throw new Error(e.name === 'AbortError' ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : `network error (${e.message})`);
    }
    if (epoch !== session.epoch) return;
    if (resp.status === 401) {
      // No session (first visit, expired, or logged out elsewhere): stop polling.
      again = false;
      showLogin(ui.data ? 'Your session has ended: log in again.' : '');
      return;
    }
    if (!resp.ok) throw new Error(`HTTP ${resp.status} ${resp.statusText}`.trim());
    const data = await resp.json();
    if (typeof data.now_ms !== 'number' || !Array.isArray(data.gateways)) throw new Error('unexpected answer');
    if (epoch !== session.epoch) return;
    showDashboard();
    ui.data = data;
    render();
    $('error').hidden = true;
    document.body.dataset.fetch = 'ok';
    if (!access.busy && Date.now() - access.at >= ACCESS_REFRESH_MS) refreshAccess(epoch);
  } catch (e) {
    if (epoch === session.epoch) showError(e.message || String(e));
  } finally {
    clearTimeout(timer);
    if (again && epoch === session.epoch) schedule(REFRESH_MS);
  }
}

// ------------------------------------------------------------ login

function setLoginError(text) {
  const p = $('login-error');
  p.textContent = text;
  p.hidden = !text;
}

function showLogin(message) {
  document.body.dataset.auth = 'out';
  $('dashboard').hidden = true;
  $('logout').hidden = true;
  $('error').hidden = true;
  $('login').hidden = false;
  setLoginError(message);
  (($('login-access-key').value && $('login-secret-key')) || $('login-access-key')).focus();
}

function showDashboard() {
  if (document.body.dataset.auth === 'in') return;
  document.body.dataset.auth = 'in';
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('logout').hidden = false;
  setLoginError('');
}

// Seconds of a Retry-After header (delay-seconds or an HTTP date), or null.
function retryAfterSecs(value) {
  if (value == null || value.trim() === '') return null;
  if (/^\s*\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

// 429: the submit button stays disabled, with a countdown, until the
// gateway (or Nginx) will listen again.
function throttled(secs) {
  const button = $('login-submit');
  clearTimeout(session.throttle);
  if (secs == null) {
    setLoginError('Too many failed logins: retry later.');
    button.disabled = false;
    return;
  }
  const until = Date.now() + secs * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left > 0) {
      setLoginError(`Too many failed logins: retry in ${left} s.`);
      button.disabled = true;
      session.throttle = setTimeout(tick, Math.min(1000, until - Date.now()));
    } else {
      setLoginError('Too many failed logins: you can retry now.');
      button.disabled = false;
    }
  };
  tick();
}

async function login(ev) {
  ev.preventDefault();
  const button = $('login-submit');
  const secret = $('login-secret-key');
  button.disabled = true;
  setLoginError('');
  let resp;
  try {
    // URLSearchParams: an application/x-www-form-urlencoded body; the
    // cookie comes back with Set-Cookie (same-origin credentials).
    resp = await fetch('../login', {
      method: 'POST', body: new URLSearchParams(new FormData($('login-form'))),
      cache: 'no-store', credentials: 'same-origin',
    });
  } catch (e) {
    setLoginError(`Login failed: network error (${e.message}).`);
    button.disabled = false;
    return;
  }
  if (resp.status === 429) {
    throttled(retryAfterSecs(resp.headers.get('Retry-After')));
    return;
  }
  button.disabled = false;
  if (resp.status === 204) {
    secret.value = '';
    session.epoch += 1;
    // Another key may have logged in: fetch its view at the first refresh.
    access.at = -Infinity;
    $('logged-in').textContent = '…';
    showDashboard();
    schedule(0);
    return;
  }
  if (resp.status === 401) {
    setLoginError('Wrong access key or secret.');
    secret.value = '';
    secret.focus();
  } else if (resp.status === 403) {
    setLoginError('Login refused (HTTP 403): the request must come from this page\'s own address.');
  } else {
    setLoginError(`Login failed: HTTP ${resp.status} ${resp.statusText}`.trim() + '.');
  }
}

async function logout() {
  const button = $('logout');
  button.disabled = true;
  let resp = null;
  try {
    resp = await fetch('../logout', { method: 'POST', cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    showBanner(`Log out failed: network error (${e.message}). You are still logged in.`);
  }
  if (resp && resp.status === 204) {
    location.reload();
    return;
  }
  if (resp) showBanner(`Log out failed: HTTP ${resp.status} ${resp.statusText}`.trim() + '. You are still logged in.');
  button.disabled = false;
}

function setupControls() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('bucket-filter').addEventListener('input', (ev) => {
    ui.filter = ev.target.value;
    ui.page = 0;
    if (ui.data) renderBucketTable(true);
  });
  $('bucket-prev').addEventListener('click', () => { ui.page -= 1; if (ui.data) renderBucketTable(true); });
  $('bucket-next').addEventListener('click', () => { ui.page += 1; if (ui.data) renderBucketTable(true); });
  for (const th of document.querySelectorAll('#buckets th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      const k = th.dataset.sort;
      // Names start A→Z; counts and sizes start with the largest.
      ui.sortDir = ui.sortKey === k ? -ui.sortDir : k === 'name' ? 1 : -1;
      ui.sortKey = k;
      ui.page = 0;
      if (ui.data) renderBucketTable(true);
    });
  }
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (ui.data) renderChart(ui.data); }, 150);
  });
}

setupControls();
refresh();
