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


// ---- Feed: /api/feed (apps/feed via apps/bitsd_feed) ----
const feed = { offset: 0, limit: 24, items: [], details: new Map(), more: false };

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

function feedQuery() {
  const q = new URLSearchParams();
  const text = $('f-text').value.trim(), tag = $('f-tag').value.trim();
  if (text) q.set('text', text);
  if (tag) q.set('tag', tag);
  if ($('f-price').value) q.set('price', $('f-price').value);
  q.set('sort', $('f-sort').value);
  if ($('f-followed').checked) q.set('followed', '1');
  q.set('offset', String(feed.offset));
  q.set('limit', String(feed.limit));
  return q.toString();
}

function preview(d, title) {
  const pv = el('div', { class: 'pv', 'aria-hidden': 'true' });
  const p = d && d.card && d.card.preview;
  if (p && p.kind === 'image' && /^image\/(png|jpeg|webp|gif)$/.test(p.mime))
    pv.append(el('img', { src: 'data:' + p.mime + ';base64,' + p.data, alt: '' }));
  else if (p && p.kind === 'text') pv.append(el('p', {}, p.text.slice(0, 200)));
  else pv.textContent = (title || '?').trim().charAt(0).toUpperCase();
  return pv;
}

function priceText(c, d) {
  if (c.free) return 'Free';
  const p = d && d.card && d.card.price;
  return p ? p.amount + ' ' + p.currency : c.price + ' (base units)';
}

async function react(c, btn) {
  try {
    await api('/api/feed/react', { method: 'POST', body: { card: c.id, reaction: 'like' } });
    c.stats.likes++;
    btn.setAttribute('aria-pressed', 'true');
    btn.textContent = 'Liked · ' + c.stats.likes;
  } catch (e) { $('feed-state').textContent = 'Could not like it: ' + e.message; }
}

async function follow(c, btn) {
  const on = btn.getAttribute('aria-pressed') !== 'true';
  try {
    await api('/api/feed/follow', { method: 'POST', body: { card: c.id, on: on } });
    const d = feed.details.get(c.id);
    if (d) d.followed = on;
    btn.setAttribute('aria-pressed', String(on));
    btn.textContent = on ? 'Following' : 'Follow';
  } catch (e) { $('feed-state').textContent = 'Could not follow: ' + e.message; }
}

function cardItem(c) {
  const d = feed.details.get(c.id);
  const tags = (d && d.card && d.card.tags) || [];
  const like = el('button', { type: 'button', 'aria-pressed': 'false' }, 'Like · ' + c.stats.likes);
  like.addEventListener('click', () => react(c, like));
  const fol = el('button', { type: 'button', 'aria-pressed': String(!!(d && d.followed)) },
                 d && d.followed ? 'Following' : 'Follow');
  fol.addEventListener('click', () => follow(c, fol));
  return el('article', { class: 'item', 'data-id': c.id },
    preview(d, c.title),
    el('div', { class: 'body' },
      el('h3', {}, c.title),
      el('div', { class: 'meta' }, 'by ' + c.creator.slice(0, 8) + ' · ' +
         new Date(c.created * 1000).toLocaleDateString() + ' · ' + c.stats.views + ' views'),
      el('div', { class: 'tags' }, ...tags.map((t) => el('span', {}, t))),
      el('div', { class: 'price' }, priceText(c, d)),
      el('div', { class: 'acts' }, like, fol)));
}

function renderFeed() {
  const list = $('feed-list'), view = $('f-view').value;
  list.className = 'feed ' + view;
  list.replaceChildren();
  if (view === 'rows') {
    const groups = new Map();
    for (const c of feed.items) {
      const d = feed.details.get(c.id);
      const t = (d && d.card && d.card.tags && d.card.tags[0]) || 'Other';
      if (!groups.has(t)) groups.set(t, []);
      groups.get(t).push(c);
    }
    for (const [t, cs] of groups)
      list.append(el('section', { 'aria-label': t }, el('h2', {}, t),
                     el('div', { class: 'row' }, ...cs.map(cardItem))));
  } else {
    list.append(...feed.items.map(cardItem));
  }
  $('feed-more').hidden = !feed.more;
}

async function loadFeed(append) {
  if (!append) { feed.offset = 0; feed.items = []; }
  try {
    const r = await api('/api/feed?' + feedQuery());
    await Promise.all(r.cards.filter((c) => !feed.details.has(c.id)).map(async (c) => {
      try { feed.details.set(c.id, await api('/api/feed/card/' + c.id)); } catch (e) { /* shown without */ }
    }));
    feed.items = feed.items.concat(r.cards);
    feed.more = r.cards.length === feed.limit;
    feed.offset += r.cards.length;
    $('feed-state').textContent = feed.items.length ? feed.items.length + ' cards' :
      'Nothing here yet: cards arrive as this router gossips with its feed peers.';
    $('feed-state').classList.remove('err');
    renderFeed();
  } catch (e) {
    $('feed-state').textContent = /Not Found/.test(e.message) ?
      'The feed is off on this router (feed = true in its config).' :
      'The feed did not answer: ' + e.message;
    $('feed-state').classList.add('err');
  }
}

$('feed-filters').addEventListener('submit', (e) => { e.preventDefault(); loadFeed(false); });
$('f-view').addEventListener('change', renderFeed);
$('feed-more').addEventListener('click', () => loadFeed(true));

const pages = {
  feed: { show: () => loadFeed(false), every: 0 },
  router: { show: showRouter, every: 2000 },
};
let timer = null;

function route() {
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1] || 'feed';
  const page = pages[name] ? name : 'feed';
  for (const sec of document.querySelectorAll('.page')) sec.hidden = sec.id !== 'page-' + page;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  clearInterval(timer);
  pages[page].show();
  if (pages[page].every) timer = setInterval(pages[page].show, pages[page].every);
}

$('logout').addEventListener('click', async () => {
  try { await api('/api/logout', { method: 'POST' }); } finally { location.replace('/login'); }
});
window.addEventListener('hashchange', route);
route();
