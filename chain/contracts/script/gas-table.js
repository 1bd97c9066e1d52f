#!/usr/bin/env node
// Join a forge broadcast file with the GasBench labels; print full transaction
// gas per CHAIN.md §6 operation and check the targets. Exit 1 on a miss.
'use strict';
const fs = require('fs');
const [runFile, labelFile] = process.argv.slice(2);
const run = JSON.parse(fs.readFileSync(runFile, 'utf8'));
const labels = fs.readFileSync(labelFile, 'utf8').split('\n').filter(Boolean);
const gasByHash = new Map(run.receipts.map((r) => [r.transactionHash, parseInt(r.gasUsed, 16)]));
if (run.transactions.length !== labels.length) {
	console.error(`gas-table: ${run.transactions.length} transactions but ${labels.length} labels`);
	process.exit(1);
}
for (const r of run.receipts) {
	if (r.status !== '0x1') { console.error('gas-table: a transaction failed: ' + r.transactionHash); process.exit(1); }
}
const gas = {};
run.transactions.forEach((t, i) => { gas[labels[i]] = gasByHash.get(t.hash); });
// CHAIN.md §6 reference figures and the C1 targets (>= 10 % better)
const ref = {
	'fund new pot (open)': 105600, 'top up': 51500,
	'redeem ticket (fresh payee)': 88500,
	'redeem voucher first': 71000, 'redeem voucher later': 53900,
	'relayed withdraw (withdrawFor)': 95000, 'unlock (requestUnlock)': 30600,
	'publish': 94600, 'buy licence (new holder)': 133000, 'resale buyListed': 115500,
	'plain transfer': 59900, 'DID attribute first': 50900, 'DID attribute later': 34300,
	'key request (fallback)': 30900, 'key delivery (fallback)': 42500,
};
const targets = { 'redeem voucher later': 48500, 'batch10: tickets from one pot, fresh payees': 37000 * 10 };
let bad = 0;
const rows = [];
for (const [label, g] of Object.entries(gas)) {
	if (label.startsWith('setup:')) continue;
	const per = label.startsWith('batch10') ? Math.round(g / 10) : g;
	const t = targets[label];
	const ok = t === undefined || g <= t;
	if (!ok) bad++;
	const r = ref[label] ? `${(ref[label] / 1000).toFixed(1)}k` : (label.startsWith('batch10') ? '41-61k each' : '');
	rows.push(`| ${label} | ${g} | ${label.startsWith('batch10') ? per + ' each' : ''} | ${r} | ${t ? (t / (label.startsWith('batch10') ? 10 : 1)) + (ok ? ' ok' : ' MISSED') : ''} |`);
}
console.log('| operation | tx gas | per item | CHAIN.md §6 | target |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) console.log(r);
if (bad) { console.error(`gas-table: ${bad} target(s) missed`); process.exit(1); }
