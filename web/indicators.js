// indicators.js - the on-time figures of GET /api/v1/indicators for one or
// more units (and, if asked, each commune under a province) over a period.

import {
    t, lang, h, $, clear, api, requireSession, startPage, showErrors, errorText, onLangChange,
    fmtDate, unitName, todayVN,
} from '/static/common.js';

// XXX: one request per commune, in turn, and at most this many communes.
const CHILDREN_MAX = 200;
const state = { rows: [] }; // [{unit name, figures}]

function pct(x) {
    return (Math.round(x * 1000) / 10).toLocaleString(lang() === 'en' ? 'en-GB' : 'vi-VN') + ' %';
}

function share(x) {
    return h('span', { class: 'share' }, h('meter', { min: '0', max: '1', value: String(x) }), ' ', pct(x));
}

function render() {
    const body = clear($('#indicators-rows'));

    for (const r of state.rows) {
        const f = r.figures;

        body.append(h('tr', { 'data-unit': f.unit },
            h('th', { scope: 'row' }, r.name),
            h('td', { class: 'nowrap' }, fmtDate(f.from), h('br'), fmtDate(f.to)),
            h('td', { class: 'num' }, f.received),
            h('td', { class: 'num' }, f.settled),
            h('td', { class: 'num' }, f.settled_on_time),
            h('td', { class: 'num' }, f.settled_late),
            h('td', { class: 'num' }, f.settled ? share(f.settled_on_time / f.settled) : '–'),
            h('td', { class: 'num' }, f.open),
            h('td', { class: 'num' + (f.overdue ? ' alarm' : '') }, f.overdue),
            h('td', { class: 'num' }, f.received ? share(f.online_share) : '–')));
    }
    $('#indicators-table').hidden = state.rows.length === 0;
}

function codes() {
    return $('#units').value.split(',').map((s) => s.trim()).filter(Boolean);
}

async function show(ev) {
    if (ev) {
        ev.preventDefault();
    }
    const errors = [];
    const from = $('#from').value;
    const to = $('#to').value;

    for (const c of codes()) {
        if (!/^(VN|\d{2}|\d{5})$/.test(c)) {
            errors.push({ message: t('indicators.err_unit', { code: c }), target: 'units' });
        }
    }
    if (from && to && from > to) {
        errors.push({ message: t('indicators.err_period'), target: 'to' });
    }
    showErrors($('#errors'), errors);
    if (errors.length) {
        return;
    }
    let list = codes();

    if ($('#children').checked) {
        const more = [];

        for (const c of list) {
            more.push(c);
            if (c.length === 2) {
                const kids = await api('GET', '/api/v1/units/' + c + '/children');

                more.push(...(kids.children || []).slice(0, CHILDREN_MAX).map((u) => u.code));
            }
        }
        list = more;
    }
    const rows = [];

    try {
        for (const c of list) {
            const q = new URLSearchParams({ unit: c });

            if (from) {
                q.set('from', from);
            }
            if (to) {
                q.set('to', to);
            }
            rows.push({ name: await unitName(c), figures: await api('GET', '/api/v1/indicators?' + q) });
        }
    } catch (e) {
        showErrors($('#errors'), [{ message: errorText(e), target: e.field === 'unit' ? 'units' : e.field === 'to' ? 'to' : undefined }]);
    }
    state.rows = rows;
    render();
}

async function main() {
    const who = await requireSession();
    const today = todayVN();

    startPage(who);
    $('#units').value = who.unit;
    $('#from').value = today.slice(0, 4) + '-01-01';
    $('#to').value = today;
    $('#indicators-form').addEventListener('submit', show);
    onLangChange(render);
    await show();
}

main().catch((e) => showErrors($('#errors'), [{ message: errorText(e) }]));
