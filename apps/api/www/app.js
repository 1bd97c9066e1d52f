'use strict';
// The console: plain modern JS (no framework, no build step), talking only
// to this router's own API on the same origin.

const $ = (id) => document.getElementById(id);
let csrf = null;

async function api(path, opts = {}) {
  const o = Object.assign({ credentials: 'same-origin', headers: {} }, opts);
  if (o.method && o.method !== 'GET') {
    if (!csrf) csrf = (await api('/api/session')).csrf;
    o.headers['X-Bits-CSRF'] = csrf;
    if (o.body !== undefined && typeof o.body !== 'string') {
      o.headers['Content-Type'] = 'application/json';
      o.body = JSON.stringify(o.body);
    }
  }
  const r = await fetch(path, o);
  if (r.status === 401) { location.replace('/login'); throw new Error('signed out'); }
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}

function fill(dl, rows) {
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = k;
    dd.textContent = v === undefined || v === null ? '–' : String(v);
    dl.append(dt, dd);
  }
}

function bytes(n) {
  if (n === undefined) return undefined;
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

function duration(s) {
  if (s === undefined) return undefined;
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return (d ? d + ' d ' : '') + (d || h ? h + ' h ' : '') + m + ' min';
}

// Bandwidth samples (bytes/s in and out), newest last.
const bw = { in: [], out: [], max: 150 };

function drawBandwidth() {
  const svg = $('bw');
  const top = Math.max(1024, ...bw.in, ...bw.out);
  const line = (a) => a.map((v, i) =>
    ((300 * i) / (bw.max - 1)).toFixed(1) + ',' + (78 - (74 * v) / top).toFixed(1)).join(' ');
  svg.replaceChildren();
  for (const k of ['in', 'out']) {
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    p.setAttribute('class', k);
    p.setAttribute('points', line(bw[k]));
    svg.append(p);
  }
  const last = (a) => (a.length ? bytes(a[a.length - 1]) + '/s' : '–');
  $('bw-now').textContent = 'now: in ' + last(bw.in) + ', out ' + last(bw.out);
}

async function showRouter() {
  try {
    const s = await api('/api/status');
    const r = s.router || {}, t = s.transports || {}, tu = s.tunnels || {};
    const own = tu.own || {}, lim = tu.transit_limits || {};
    fill($('router-id'), [['Version', r.version], ['Network', r.netid],
      ['Up', duration(r.uptime_s)], ['Identity', r.hash]]
      .concat(r.last_crash ? [['Last run crashed', r.last_crash]] : []));
    fill($('router-peers'), [['Sessions', t.sessions], ['Connecting', t.connecting],
      ['Received', bytes(t.bytes_in)], ['Sent', bytes(t.bytes_out)]]);
    fill($('router-tunnels'), [['Inbound', own.inbound], ['Outbound', own.outbound],
      ['Built', own.builds_ok], ['Tests passed', own.tests_ok]]);
    fill($('router-transit'), [['Transit tunnels', tu.transit],
      ['Limit', lim.max_tunnels], ['Relayed in', bytes(tu.bytes_relayed_in)],
      ['Relayed out', bytes(tu.bytes_relayed_out)]]);
    bw.in.push(t.rate_in_Bps || 0);
    bw.out.push(t.rate_out_Bps || 0);
    for (const k of ['in', 'out']) while (bw[k].length > bw.max) bw[k].shift();
    drawBandwidth();
    $('router-state').textContent = 'Up to date.';
    $('router-state').classList.remove('err');
  } catch (e) {
    $('router-state').textContent = 'The router did not answer: ' + e.message;
    $('router-state').classList.add('err');
  }
}

const pages = { router: { show: showRouter, every: 2000 } };
let timer = null;

function route() {
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1] || 'router';
  const page = pages[name] ? name : 'router';
  for (const sec of document.querySelectorAll('.page')) sec.hidden = sec.id !== 'page-' + page;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  clearInterval(timer);
  pages[page].show();
  timer = setInterval(pages[page].show, pages[page].every);
}

$('logout').addEventListener('click', async () => {
  try { await api('/api/logout', { method: 'POST' }); } finally { location.replace('/login'); }
});
window.addEventListener('hashchange', route);
route();
