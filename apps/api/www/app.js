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
    const nd = s.netdb || {};
    fill($('router-netdb'), [['Routers', nd.routers], ['Floodfills', nd.floodfills], ['LeaseSets', nd.leasesets]]);
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
  if ($('f-media').value) q.set('media', $('f-media').value);
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
      el('div', { class: 'acts' }, el('a', { class: 'btn', href: '#/play/' + c.id,
        'aria-label': 'Play ' + c.title }, c.free ? 'Play' : 'Open'), like, fol)));
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


// ---- Player: /api/swarm (the swarm service in process) ----
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
function b32hex(s) {	// "<52 base32>.b32.i2p" -> 64 hex digits
  const m = /^([a-z2-7]{52})\.b32\.i2p$/.exec(s || '');
  if (!m) return null;
  let bits = 0, val = 0, out = '';
  for (const ch of m[1]) {
    val = (val << 5) | B32.indexOf(ch); bits += 5;
    if (bits >= 8) { bits -= 8; out += ((val >> bits) & 255).toString(16).padStart(2, '0'); }
  }
  return out.slice(0, 64);
}

const play = { hash: null, timer: null, started: 0, media: null, stats: null, src: null };

function playMsg(t, err) {
  $('play-state').textContent = t;
  $('play-state').classList.toggle('err', !!err);
}

function drawChunks(st) {
  const svg = $('play-bar');
  svg.replaceChildren();
  const n = st.chunks || 0, map = st.have_map || '';
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('class', 'bg'); bg.setAttribute('width', '1000'); bg.setAttribute('height', '24');
  svg.append(bg);
  let runStart = -1;
  const has = (i) => (parseInt(map.substr((i >> 3) * 2, 2) || '0', 16) >> (i & 7)) & 1;
  for (let i = 0; i <= n; i++) {
    const h = i < n && has(i);
    if (h && runStart < 0) runStart = i;
    if (!h && runStart >= 0) {
      const r = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      r.setAttribute('class', 'have');
      r.setAttribute('x', (1000 * runStart / n).toFixed(2));
      r.setAttribute('width', (1000 * (i - runStart) / n).toFixed(2));
      r.setAttribute('height', '24');
      svg.append(r);
      runStart = -1;
    }
  }
  const m = play.media;
  if (m && m.duration > 0 && isFinite(m.duration)) {
    const x = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
    x.setAttribute('class', 'head'); x.setAttribute('x', (1000 * m.currentTime / m.duration).toFixed(1));
    x.setAttribute('width', '4'); x.setAttribute('height', '24');
    svg.append(x);
  }
}

async function pollSwarm() {
  const h = play.hash;
  if (!h) return;
  let st = null;
  try {
    const r = await fetch('/api/swarm/' + h, { credentials: 'same-origin' });
    if (r.ok) st = await r.json();
  } catch (e) { /* shown below */ }
  if (h !== play.hash) return;
  play.stats = st;
  const secs = Math.round((Date.now() - play.started) / 1000);
  if (!st) { $('play-stats').textContent = 'The swarm has not started on this content yet.'; return; }
  const seeders = st.peers.filter((p) => p.have >= st.chunks && st.chunks > 0).length;
  $('play-stats').textContent = st.have + ' of ' + st.chunks + ' chunks here · ' + seeders + ' seeder' +
    (seeders === 1 ? '' : 's') + ' · ' + st.peers.length + ' peer' + (st.peers.length === 1 ? '' : 's') +
    ' · ' + bytes(st.bytes_down) + ' received';
  $('play-bar').setAttribute('aria-label', 'Downloaded ' + st.have + ' of ' + st.chunks + ' chunks');
  drawChunks(st);
  if (play.src) return;	// playing, or waiting for a key: the page says so
  if (st.chunks && st.have >= st.chunks) playMsg('All ' + st.chunks + ' chunks are on this router.');
  else if (st.peers.length === 0)
    playMsg(secs < 60 ? 'Looking for seeders: building tunnels and asking the trackers… (' + secs + ' s)'
      : 'No seeder found yet (' + secs + ' s): nobody holding this content is reachable. Still trying.', secs >= 60);
  else if (!st.chunks) playMsg('Connected to ' + st.peers.length + ' peer(s): fetching the content’s description…');
  else playMsg('Downloading from ' + st.peers.length + ' peer(s)…');
}

function keyFor(card) {
  if (card.price && card.price.free) {
    const m = /(?:^|\n)bits-key: ([0-9a-f]{64})\s*$/.exec(card.description || '');
    if (m) return m[1];
  }
  return sessionStorage.getItem('key:' + card.contentHash);
}

async function startPlay(card, key) {
  const h = card.contentHash;
  const q = key ? '?key=' + key : '';
  const url = '/api/swarm/content/' + h + q;
  // start fetching, with the card's seeds as hints
  const hints = (card.seeds || []).map(b32hex).filter(Boolean).map((x) => 'peer=' + x).join('&');
  try {
    if (!csrf) csrf = (await api('/api/session')).csrf;
    const r = await fetch('/api/swarm/' + h + (hints ? '?' + hints : ''), { method: 'POST',
      credentials: 'same-origin', headers: { 'X-Bits-CSRF': csrf } });
    if (!r.ok) throw new Error((await r.text()).trim());
  } catch (e) {
    playMsg('The swarm did not start: ' + e.message, true); return;
  }
  // the first byte proves the key before the player gets the address
  const probe = await fetch(url, { credentials: 'same-origin', headers: { Range: 'bytes=0-0' } });
  if (h !== play.hash) return;
  if (probe.status === 403) {
    playMsg('This key does not open the content.', true);
    play.src = 'key';
    $('play-key').hidden = false;
    return;
  }
  if (!probe.ok) { playMsg('The content did not come: ' + (await probe.text()).trim(), true); return; }
  await probe.arrayBuffer();
  if (key && !(card.price && card.price.free)) sessionStorage.setItem('key:' + h, key);
  play.src = 'ready';
  const box = $('play-media');
  const kind = (card.mime || '').split('/')[0];
  let m;
  if (kind === 'video' || kind === 'audio') {
    m = el(kind, { controls: '', preload: 'metadata', 'aria-label': card.title });
    m.src = url;
    play.media = m;
    const seek = $('play-seek');
    seek.disabled = false;
    m.addEventListener('timeupdate', () => {
      if (m.duration > 0) seek.value = String(Math.round(1000 * m.currentTime / m.duration));
    });
    seek.oninput = () => { if (m.duration > 0) m.currentTime = m.duration * seek.value / 1000; };
    m.addEventListener('waiting', () => playMsg('Waiting for the chunks at this position…'));
    m.addEventListener('playing', () => playMsg('Playing.'));
    m.addEventListener('canplay', () => { if (m.paused) playMsg('Ready to play.'); });
    m.addEventListener('error', () => playMsg('The player cannot play this file (' + card.mime + ').', true));
  } else if (kind === 'image') {
    m = el('img', { alt: card.title });
    m.src = url;
    m.addEventListener('load', () => playMsg('Shown.'));
  } else if (kind === 'text') {
    m = el('pre', { class: 'text', tabindex: '0', 'aria-label': card.title });
    const r = await fetch(url, { credentials: 'same-origin', headers: { Range: 'bytes=0-1048575' } });
    m.textContent = await r.text();
    playMsg(card.size > 1048576 ? 'The first MiB of the text.' : 'The whole text.');
  } else {
    m = el('a', { href: url, download: card.title }, 'Save the file (' + card.mime + ')');
    playMsg('This kind of file is not shown here; it can be saved.');
  }
  box.replaceChildren(m);
  pollSwarm();
}

async function showPlay(id) {
  clearInterval(play.timer);
  play.hash = null; play.media = null; play.src = null;
  $('play-media').replaceChildren();
  $('play-key').hidden = true;
  $('play-buy').hidden = true;
  $('play-buy-steps').replaceChildren();
  $('play-seek').disabled = true; $('play-seek').value = '0';
  $('play-bar').replaceChildren(); $('play-stats').textContent = '';
  if (!/^[0-9a-f]{64}$/.test(id || '')) { playMsg('Pick something to play in the feed.'); return; }
  playMsg('Opening the card…');
  let d;
  try { d = await api('/api/feed/card/' + id); } catch (e) { playMsg('No such card here: ' + e.message, true); return; }
  const card = d.card;
  $('play-title').textContent = card.title;
  $('play-desc').textContent = (card.description || '').replace(/\n*bits-key: [0-9a-f]{64}\s*$/, '');
  fill($('play-info'), [['Type', card.mime], ['Size', bytes(card.size)],
    ['Price', card.price && card.price.free ? 'Free' : card.price.amount + ' ' + card.price.currency],
    ['Content', card.contentHash]]);
  play.hash = card.contentHash;
  play.started = Date.now();
  play.timer = setInterval(pollSwarm, 1000);
  let key = keyFor(card);
  if (!key) {
    try { if ((await api('/api/swarm/' + card.contentHash + '/key')).known) key = ''; } catch (e) {
      playMsg(/off on this router/.test(e.message) ? 'The swarm is off on this router (swarm = true in its config).'
        : 'The swarm did not answer: ' + e.message, true);
      clearInterval(play.timer); return;
    }
  }
  if (key === null) {
    playMsg('This content is paid: buy a licence, or enter the key your licence gave you.');
    play.src = 'key';
    offerBuy(card);
    $('play-key').hidden = false;
    $('play-key').onsubmit = (e) => {
      e.preventDefault();
      const k = $('play-key-in').value.trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(k)) { playMsg('A key is 64 hex digits.', true); return; }
      $('play-key').hidden = true;
      play.src = null;
      startPlay(card, k);
    };
    return;
  }
  playMsg('Building tunnels and looking for seeders…');
  startPlay(card, key);
}

// Buying through the market's key library (/api/market/buy): the router
// pays, waits for the confirmations, asks the key agent and keeps the key,
// which the content route then uses.
const BUY_STEPS = ['paying', 'confirming', 'requesting key', 'done'];

async function offerBuy(card) {
  const box = $('play-buy');
  box.hidden = true;
  if (!card.licence || !card.keyAgent) return;	// not sold on chain
  try { await api('/api/market'); } catch (e) { return; }	// no market here
  const btn = $('play-buy-btn');
  btn.textContent = 'Buy a licence for ' + card.price.amount + ' ' + card.price.currency;
  box.hidden = false;
  btn.onclick = async () => {
    btn.disabled = true;
    const h = card.contentHash;
    try {
      let j = await api('/api/market/buy', { method: 'POST', body: card });
      while (j.state !== 'done' && j.state !== 'failed') {
        const at = BUY_STEPS.indexOf(j.state);
        $('play-buy-steps').replaceChildren(...BUY_STEPS.slice(0, 3).map((t, i) =>
          el('li', { class: i < at ? 'done' : i === at ? 'active' : '' }, t +
            (t === 'confirming' && i === at && j.paid_block ? ' (' + Math.max(0, j.tip - j.paid_block) + ' of ' +
             j.confirmations + ' blocks)' : ''))));
        playMsg('Buying: ' + j.state + '…');
        await new Promise((r) => setTimeout(r, 1000));
        if (h !== play.hash) return;
        j = await api('/api/market/buy/' + j.id);
      }
      if (j.state === 'failed') throw new Error(j.error || 'failed');
      $('play-buy-steps').replaceChildren(...BUY_STEPS.slice(0, 3).map((t) => el('li', { class: 'done' }, t)));
      box.hidden = true;
      $('play-key').hidden = true;
      play.src = null;
      playMsg(j.route === 'owned' ? 'You hold this licence already: playing.' : 'Bought: the key is in your library. Playing.');
      startPlay(card, '');
    } catch (e) {
      playMsg('The purchase failed: ' + e.message, true);
      btn.disabled = false;
    }
  };
}

// ---- Publish: /api/publish, then /api/feed/publish ----
const PIECE = 192 * 1024;
const STEPS = ['Upload', 'Encrypt (seal)', 'Seed', 'Chain registration', 'Card in the feed'];
const UP_STEP = { sealing: 1, seeding: 2, registering: 3 };

function steps(done, active, notes) {
  const ol = $('pub-steps');
  ol.replaceChildren(...STEPS.map((t, i) => el('li', {
    class: i < done ? 'done' : i === active ? 'active' : '' },
    t + (notes[i] ? ': ' + notes[i] : '') + (i < done ? ' ✓' : ''))));
}

async function rawPost(path, body) {
  if (!csrf) csrf = (await api('/api/session')).csrf;
  const r = await fetch(path, { method: 'POST', credentials: 'same-origin', body: body,
    headers: { 'X-Bits-CSRF': csrf, 'Content-Type': 'application/octet-stream' } });
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}

function b64(buf) {
  let s = '';
  const a = new Uint8Array(buf);
  for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
  return btoa(s);
}

async function publish(e) {
  e.preventDefault();
  const f = $('pub-file').files[0];
  if (!f) return;
  const notes = [];
  const say = (t, err) => { $('pub-state').textContent = t; $('pub-state').classList.toggle('err', !!err); };
  $('pub-go').disabled = true;
  try {
    const meta = { title: $('pub-title').value.trim(), description: $('pub-desc').value,
      tags: $('pub-tags').value.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean),
      price: $('pub-price').value.trim() || '0', currency: $('pub-currency').value.trim(),
      decimals: Number($('pub-decimals').value), royalty: Number($('pub-royalty').value) };
    const pv = $('pub-preview').files[0];
    if (pv) {
      if (pv.size > 16384) throw new Error('the preview image is over 16 KiB');
      meta.preview = { mime: pv.type, data: b64(await pv.arrayBuffer()) };
    } else if ($('pub-excerpt').value.trim()) meta.excerpt = $('pub-excerpt').value.trim();
    say('Uploading…');
    steps(0, 0, notes);
    let up = await api('/api/publish', { method: 'POST',
      body: { name: f.name, size: f.size, mime: (f.type || 'application/octet-stream').toLowerCase() } });
    for (let off = 0; off < f.size; off += PIECE) {
      up = await rawPost('/api/publish/' + up.id + '/data?offset=' + off, f.slice(off, off + PIECE));
      notes[0] = Math.floor((100 * up.received) / f.size) + ' %';
      steps(0, 0, notes);
    }
    up = await api('/api/publish/' + up.id + '/seal', { method: 'POST', body: meta });
    steps(1, 1, notes);
    say('Encrypting and sealing…');
    const seeds = (u) => 'this router seeds ' + u.content_hash.slice(0, 12) + '…';
    while (UP_STEP[up.state]) {
      await new Promise((r) => setTimeout(r, 300));
      up = await api('/api/publish/' + up.id);
      const at = UP_STEP[up.state] || 0;
      if (at >= 3) { notes[2] = seeds(up); notes[3] = up.chain; say('Registering the licence on chain…'); }
      if (at) steps(at, at, notes);
    }
    if (up.state !== 'done') {
      if (up.content_hash) notes[2] = seeds(up);
      notes[3] = up.chain;
      steps(up.content_hash ? 3 : 1, -1, notes);
      throw new Error(up.error || up.state);
    }
    notes[2] = seeds(up);
    notes[3] = up.licence_index ? 'licence #' + up.licence_index + ' in the registry (transaction ' +
      up.tx.slice(0, 12) + '…, royalty ' + up.royalty_pct + ' %)' : up.chain;
    steps(4, 4, notes);
    say('Publishing the card…');
    try {
      await api('/api/feed/publish', { method: 'POST', body: { card: up.card } });
      notes[4] = 'card ' + up.card_id.slice(0, 12) + '…';
    } catch (err) {
      notes[4] = /Not Found/.test(err.message) ? 'the feed is off on this router (feed = true)' : err.message;
      steps(4, -1, notes);
      throw new Error('the card did not reach the feed: ' + notes[4]);
    }
    steps(5, -1, notes);
    say('Published: ' + (up.free ? 'free, anyone can play it' : up.licence_index ?
      'paid, licence #' + up.licence_index + ' on chain' : 'paid') + '.');
    const a = el('a', { href: '#/play/' + up.card_id }, 'Open it in the player');
    $('pub-state').append(' ', a);
  } catch (err) {
    say('Publishing failed: ' + err.message, true);
  } finally {
    $('pub-go').disabled = false;
  }
}
$('pub-form').addEventListener('submit', publish);

// ---- Wallet: /api/market/wallet, /api/market/keys, /api/console/earnings ----
function plot(svg, series, cls) {
  const top = Math.max(1, ...series.flat());
  svg.replaceChildren();
  series.forEach((a, k) => {
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    p.setAttribute('class', cls[k]);
    p.setAttribute('points', a.map((v, i) => ((300 * i) / Math.max(1, a.length - 1)).toFixed(1) + ',' +
      (78 - (74 * v) / top).toFixed(1)).join(' '));
    svg.append(p);
  });
}

// Earnings in token units over time from the chain's licence sales
// (/api/market/history): a step line of the running total, time across.
async function showEarned() {
  let h;
  try { h = await api('/api/market/history'); } catch (err) {
    $('earned-now').textContent = 'The chain did not answer: ' + err.message;
    return;
  }
  const sales = h.sales || [];
  const now = Math.floor(Date.now() / 1000);
  const t0 = sales.length ? Math.min(sales[0].t, now - 60) : now - 3600;
  const t1 = Math.max(now, sales.length ? sales[sales.length - 1].t : now);
  let run = 0n;
  const steps = sales.map((x) => [x.t, (run += BigInt(x.amount))]);
  const top = run > 0n ? run : 1n;
  const X = (t) => (300 * (t - t0) / Math.max(1, t1 - t0)).toFixed(1);
  const Y = (v) => (78 - Number((74n * 1000n * v) / top) / 1000).toFixed(1);
  const pts = [[t0, 0n]];
  for (const [t, v] of steps) { pts.push([t, pts[pts.length - 1][1]], [t, v]); }
  pts.push([t1, run]);
  const p = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  p.setAttribute('class', 'in');
  p.setAttribute('points', pts.map(([t, v]) => X(t) + ',' + Y(v)).join(' '));
  $('earned').replaceChildren(p);
  $('earned-now').textContent = 'total: ' + h.total + ' token units from ' + sales.length +
    (sales.length === 1 ? ' sale' : ' sales') + ' (blocks ' + h.from_block + '–' + h.to_block + ')';
  $('earned-list').replaceChildren(...sales.slice(-5).reverse().map((x) => el('li', {},
    new Date(x.t * 1000).toLocaleString() + ' · ' + (x.kind === 'resale' ? 'resale' : 'sale') + ' of licence #' +
    x.index + ' for ' + x.price + ' · earned ' + x.amount)));
}

// Money paid over time (/api/console/earnings, sampled in bitsd from the
// seedpay, relaypay and hostpay sections): vouchers earned as seeder (held
// and redeemed), relay tickets that won, and vouchers earned as host (paid
// by creators per epoch of their content kept), in token base units.
function showPaid(s, m) {
  const on = 'seeder' in m || 'relay_won' in m || 'host' in m;
  const n = (v) => Number(BigInt(v || '0'));
  $('paid').toggleAttribute('hidden', !on);
  if (on) {
    plot($('paid'), [s.map((x) => n((x.money || {}).seeder)), s.map((x) => n((x.money || {}).relay_won)),
      s.map((x) => n((x.money || {}).host))], ['in', 'out', 'host']);
  }
  const parts = [];
  if ('seeder' in m) parts.push('as seeder ' + m.seeder + ' (' + m.seeder_redeemed + ' redeemed)');
  if ('relay_won' in m) {
    parts.push('as relay ' + m.relay_won + ' won (expected ' + m.relay_expected + ', ' + m.relay_redeemed + ' redeemed)');
  }
  if ('host' in m) parts.push('as host ' + m.host + ' (' + m.host_redeemed + ' redeemed)');
  $('paid-now').textContent = on ? parts.join(' · ') + ' token units'
    : 'Not paid here: pay per chunk (swarm.pay.price), paid relaying (relay.pay) and hosting (swarm.host.price) are off.';
}

// The Wallet's "As host" line: what creators paid this router for keeping
// their content (the hostpay section through the earnings samples).
function hostLine(m) {
  return 'host' in m ? m.host + ' token units (' + m.host_redeemed + ' redeemed)'
    : 'not a host here (swarm.host.price is off)';
}

// What this router paid hosts for keeping its content, as a creator
// (swarm.host.pay-key): a row only when it pays hosts.
function hostPaidRows(m) {
  return 'host_paid' in m ? [['Paid to hosts (as creator)', m.host_paid + ' token units']] : [];
}

async function showWallet() {
  let money = {};
  try {
    const e = await api('/api/console/earnings');
    const s = e.samples.concat(e.now ? [e.now] : []);
    plot($('earn'), [s.map((x) => x.seeded), s.map((x) => x.relayed), s.map((x) => x.hosted)], ['in', 'out', 'host']);
    const last = s[s.length - 1] || { seeded: 0, relayed: 0, hosted: 0, money: {} };
    $('earn-now').textContent = 'total: ' + bytes(last.seeded) + ' seeded, ' + bytes(last.relayed) +
      ' relayed, ' + bytes(last.hosted) + ' served by hosted sites (a sample every ' + e.interval_s + ' s)';
    money = last.money || {};
    showPaid(s, money);
  } catch (err) { $('earn-now').textContent = 'No samples: ' + err.message; }
  let w = null, msg = '';
  try { w = await api('/api/market/wallet'); } catch (err) {
    msg = /Not Found/.test(err.message) ? 'Market not configured on this router: no balances to show (market.* keys in its config).'
      : 'The market did not answer: ' + err.message;
  }
  if (w) {
    fill($('wallet-bal'), (w.accounts || []).flatMap((a) => [[a.address, a.eth + ' wei ETH'],
      ['', a.token + ' token units']]));
    const earn = w.earnings || {};
    fill($('wallet-earn'), [['As creator (licences owed)', (earn.licences || []).reduce((t, l) => t + BigInt(l.owed), 0n)],
      ['As seeder and relay (vouchers and tickets redeemed)', (earn.stealth || []).reduce((t, l) => t + BigInt(l.balance), 0n)],
      ['As host (epochs of creators\' content kept)', hostLine(money)],
      ['Total', earn.total], ...hostPaidRows(money)]);
  } else {
    fill($('wallet-bal'), [['Balance', 'market not configured']]);
    fill($('wallet-earn'), [['Earnings', 'market not configured'], ['As host', hostLine(money)],
      ...hostPaidRows(money)]);
  }
  if (w) await showEarned();
  else {
    $('earned').replaceChildren();
    $('earned-now').textContent = 'market not configured';
    $('earned-list').replaceChildren();
  }
  const lic = $('wallet-lic');
  try {
    const k = await api('/api/market/keys');
    lic.replaceChildren(...(k.licences || []).map((x) => el('li', {},
      el('code', {}, (x.content_hash || '').slice(0, 16) + '…'), ' licence #' + x.index +
      (x.token_id ? ', token ' + x.token_id : '') + ' · paid ' + x.price + ' (base units)' +
      (x.bought_at ? ' · ' + new Date(x.bought_at * 1000).toLocaleDateString() : '') +
      (x.has_key ? ' · key held' : ' · key not received yet'))));
    if (!lic.children.length) lic.append(el('li', {}, 'No licences yet.'));
  } catch (err) {
    lic.replaceChildren(el('li', {}, w ? 'No key library: ' + err.message : 'Market not configured.'));
  }
  $('wallet-state').textContent = msg || 'Up to date.';
  $('wallet-state').classList.toggle('err', !!msg && !/not configured/.test(msg));
}

// ---- Resale: GET /api/market/resale (each licence as the chain has it),
// POST /api/market/resale (list, cancel, payout through the relayer) ----
const resale = { rows: new Map(), busy: false, cards: new Map(), ids: new Set(), cardsAt: 0 };

// Token base units as the card's currency shows them ("1.5 USDC").
function units(v, c) {
  if (!c || !c.currency) return v + ' token units';
  const d = BigInt(c.decimals || 0), b = BigInt(v || '0'), m = 10n ** d;
  const frac = d ? (b % m).toString().padStart(Number(d), '0').replace(/0+$/, '') : '';
  return (b / m) + (frac ? '.' + frac : '') + ' ' + c.currency + ' (' + b + ' base units)';
}

// A price typed in the card's currency ("1.5"), in base units; null when
// it is not a positive amount with at most the currency's decimals.
function parseUnits(text, c) {
  const d = c && c.currency ? Number(c.decimals || 0) : 0;
  const m = /^([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (!m || (m[2] || '').length > d) return null;
  const v = BigInt(m[1]) * 10n ** BigInt(d) + BigInt((m[2] || '').padEnd(d, '0') || '0');
  return v > 0n ? v.toString() : null;
}

// The titles and currencies of the licences' contents, from the feed's
// cards of contents owned (asked again every 30 s at most; a licence
// sold keeps what was found while it was held).
async function resaleCards() {
  if (Date.now() - resale.cardsAt < 30000) return;
  resale.cardsAt = Date.now();
  try {
    const f = await api('/api/feed?price=owned&limit=100');
    for (const c of f.cards || []) {
      if (resale.ids.has(c.id)) continue;
      const d = (await api('/api/feed/card/' + c.id)).card;
      resale.ids.add(c.id);
      resale.cards.set(d.contentHash, { title: d.title, currency: d.price && d.price.currency,
        decimals: d.price && d.price.decimals });
    }
  } catch (e) { /* shown by hash and in base units */ }
}

function resaleRow(x) {
  const id = 'rs-' + x.content_hash.slice(0, 16);
  const c = resale.cards.get(x.content_hash);
  const price = el('input', { id: id + '-price', type: 'text', inputmode: 'decimal', autocomplete: 'off',
    size: '14', pattern: '[0-9]+([.][0-9]+)?', required: '' });
  const list = el('button', { type: 'submit' }, 'List for sale');
  const form = el('form', { class: 'filters' },
    el('label', { for: id + '-price' }, 'Price for licence #' + x.index + ' (' +
      (c && c.currency ? c.currency : 'token base units') + ')'), price, list);
  const cancel = el('button', { type: 'button' }, 'Cancel the listing');
  const payout = el('button', { type: 'button' }, 'Take the payout');
  const r = {
    box: el('article', { class: 'card', 'aria-labelledby': id + '-h' },
      el('h2', { id: id + '-h' }, 'Licence #' + x.index),
      el('p', { class: 'meta' }, c && c.title ? el('strong', { title: x.content_hash }, c.title)
        : el('code', {}, x.content_hash.slice(0, 16) + '…'), ' · token ' + x.token_id +
        ' · you paid ' + units(x.price, c)),
      el('p', { id: id + '-st', class: 'rs-st', role: 'status' }), form,
      el('div', { class: 'acts' }, cancel, payout),
      el('p', { id: id + '-out', class: 'rs-out', 'aria-live': 'polite' })),
    st: null, out: null, form, price, list, cancel, payout, x, c };
  r.st = r.box.querySelector('.rs-st');
  r.out = r.box.querySelector('.rs-out');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = parseUnits(price.value.trim(), c);
    if (!p) {
      r.out.textContent = c && c.currency ? 'A price is an amount of ' + c.currency + ' above 0, with at most ' +
        c.decimals + ' decimals.' : 'A price is a whole number of token base units, above 0.';
      return;
    }
    resaleStep(r, { action: 'list', price: p }, 'Listing it for ' + units(p, c));
  });
  cancel.addEventListener('click', () => resaleStep(r, { action: 'cancel' }, 'Cancelling the listing'));
  payout.addEventListener('click', () => resaleStep(r, { action: 'payout' }, 'Paying out'));
  return r;
}

function resaleShow(r, x, relayer, fee) {
  r.x = x;
  const owed = BigInt(x.owed || '0'), listed = x.ask && x.ask !== '0';
  let t;
  if (!x.held) t = 'Sold: the licence now belongs to ' + x.owner + '. Your key still plays it here.';
  else if (listed) t = 'Listed for sale at ' + units(x.ask, r.c) + '.';
  else t = 'Yours, not for sale.';
  if (owed > 0n) t += ' Owed to you: ' + units(owed.toString(), r.c) + '.';
  else if (!x.held) t += ' Nothing more owed to you.';
  r.st.textContent = t;
  r.form.hidden = !x.held || listed;
  r.cancel.hidden = !x.held || !listed;
  r.payout.hidden = owed === 0n;
  const payable = owed > BigInt(fee || '0');
  for (const b of [r.list, r.cancel, r.payout]) b.disabled = resale.busy || !relayer;
  if (!payable) r.payout.disabled = true;
  r.payout.textContent = 'Take the payout' + (payable ? ' (' + (owed - BigInt(fee || '0')) + ' after the relayer\u2019s ' +
    (fee || '0') + ')' : '');
}

let resaleLast = null;

async function showResale() {
  let j;
  try { j = await api('/api/market/resale'); } catch (e) {
    if (/under way/.test(e.message)) return;	// another chain call: the next tick
    $('resale-state').textContent = /Not Found|no such market call/.test(e.message) ?
      'Market not configured on this router: nothing to resell (market.* keys in its config).' :
      'The market did not answer: ' + e.message;
    $('resale-state').classList.toggle('err', !/not configured/.test($('resale-state').textContent));
    return;
  }
  resaleLast = j;
  if (j.licences.some((x) => !resale.rows.has(x.content_hash))) await resaleCards();
  const box = $('resale-list');
  for (const x of j.licences) {
    let r = resale.rows.get(x.content_hash);
    if (!r) { r = resaleRow(x); resale.rows.set(x.content_hash, r); box.append(r.box); }
    resaleShow(r, x, j.relayer, j.relayer_fee);
  }
  if (!resale.busy) {
    $('resale-state').textContent = !j.licences.length ? 'No licences to resell: buy one from the player first.' :
      !j.relayer ? 'Resale needs a relayer (market.buy.relayer in the config): the licence\u2019s address has no ETH.' :
      'Up to date. The relayer takes ' + j.relayer_fee + ' token units a step.';
    $('resale-state').classList.remove('err');
  }
}

async function resaleStep(r, body, what) {
  resale.busy = true;
  resaleShow(r, r.x, false, '0');
  r.out.textContent = what + '… (signed here, sent by the relayer, waiting for the transaction)';
  $('resale-state').textContent = what + '…';
  try {
    body.content_hash = r.x.content_hash;
    const j = await api('/api/market/resale', { method: 'POST', body });
    r.out.textContent = j.action === 'list' ? 'Listed for ' + units(j.price, r.c) + '.' :
      j.action === 'cancel' ? 'The listing is withdrawn.' :
      'Paid out: ' + j.amount + ' token units to ' + j.to + '.';
  } catch (e) {
    r.out.textContent = 'The ' + body.action + ' failed: ' + e.message;
  } finally {
    resale.busy = false;
  }
  await showResale();
}

async function showRouterExtras() {
  try {
    const r = await api('/api/console/router');
    const p = r.proxy;
    fill($('router-proxy'), p.on ? [['HTTP proxy', p.http], ['SOCKS proxy', p.socks]] : [['Proxies', 'off']]);
    $('router-proxy-hint').textContent = p.on ?
      'Set your browser’s HTTP proxy to ' + p.http + ' (or SOCKS5 to ' + p.socks + ') to visit .i2p sites.' :
      'The browsing proxies are off (proxy = true in the config).';
    const ul = $('router-sites');
    ul.replaceChildren(...r.sites.map((s) => el('li', {}, el('strong', {}, s.name), ' (' + s.type + ', ' + s.serves + ')',
      el('br'), el('code', {}, s.address || 'address not known yet'),
      el('br'), el('span', { class: 'served' }, 'served ' + bytes(s.served || 0)))));
    if (!r.sites.length) ul.append(el('li', {}, 'No hosted sites (server or web tunnels in tunnels.conf).'));
  } catch (e) { $('router-proxy-hint').textContent = 'Not known: ' + e.message; }
}

const pages = {
  feed: { show: () => loadFeed(false), every: 0 },
  play: { show: showPlay, every: 0 },
  publish: { show: () => {}, every: 0 },
  wallet: { show: showWallet, every: 10000 },
  resale: { show: showResale, every: 5000 },
  router: { show: () => { showRouter(); }, once: showRouterExtras, every: 2000 },
};
let timer = null;

function route() {
  const m = location.hash.match(/^#\/(\w+)(?:\/([0-9a-f]{64}))?/) || [];
  const page = pages[m[1]] ? m[1] : 'feed';
  for (const sec of document.querySelectorAll('.page')) sec.hidden = sec.id !== 'page-' + page;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  clearInterval(timer);
  if (page !== 'play') { clearInterval(play.timer); play.hash = null; if (play.media) play.media.pause(); }
  pages[page].show(m[2]);
  if (pages[page].once) pages[page].once();
  if (pages[page].every) timer = setInterval(pages[page].show, pages[page].every);
}

$('logout').addEventListener('click', async () => {
  try { await api('/api/logout', { method: 'POST' }); } finally { location.replace('/login'); }
});
window.addEventListener('hashchange', route);
route();
