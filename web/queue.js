// queue.js - the officer's queue: a unit's dossiers by due date (the API's
// order), overdue ones and those due today marked in words as well as in
// colour; pages of 100 with "show more".

import {
    t, lang, h, $, clear, api, requireSession, startPage, showErrors, errorText, onLangChange,
    fmtDate, fmtTime, statusText,
} from '/static/common.js';

const STATUSES = ['received', 'in_review', 'waiting_applicant', 'approved', 'rejected', 'result_returned'];
// XXX: by due date only (the API's order); no other sort.
const PAGE = 100;

const state = { rows: [], next: null, query: null };

function fillStatuses() {
    const sel = $('#status');
    const v = sel.value;

    clear(sel).append(h('option', { value: '' }, t('queue.status_open')));
    for (const s of STATUSES) {
        sel.append(h('option', { value: s }, statusText(s)));
    }
    sel.value = v;
}

function queryOf(after) {
    const q = new URLSearchParams();

    for (const k of ['unit', 'status', 'due', 'side']) {
        const v = $('#' + k).value.trim();

        if (v) {
            q.set(k, v);
        }
    }
    q.set('limit', String(PAGE));
    if (after) {
        q.set('after', after);
    }
    return q;
}

function row(d) {
    const marks = [];

    if (d.overdue) {
        marks.push(h('span', { class: 'badge overdue' }, t('queue.overdue')));
    } else if (d.due_today) {
        marks.push(h('span', { class: 'badge today' }, t('queue.due_today_mark')));
    }
    return h('tr', { class: d.overdue ? 'overdue' : d.due_today ? 'due-today' : null, 'data-code': d.code },
        h('td', { class: 'due' }, h('span', { class: 'day' }, fmtDate(d.due_date)), ' ', marks),
        h('td', {}, h('a', { class: 'code', href: '/dossier?code=' + encodeURIComponent(d.code) }, d.code)),
        h('td', {}, lang() === 'en' ? d.procedure.name_en : d.procedure.name_vi),
        h('td', {}, d.applicant.id, d.channel === 'online' ? ' (' + t('queue.online') + ')' : ''),
        h('td', {}, statusText(d.status)),
        h('td', {}, fmtTime(d.received_at)),
        h('td', {}, d.received_unit + ' / ' + d.competent_unit));
}

function render() {
    const body = clear($('#queue-rows'));

    for (const d of state.rows) {
        body.append(row(d));
    }
    if (!state.rows.length) {
        body.append(h('tr', {}, h('td', { colspan: '7' }, t('queue.empty'))));
    }
    $('#queue-count').textContent = t('queue.count', { n: state.rows.length + (state.next ? '+' : '') });
    $('#queue-more').hidden = !state.next;
}

async function load(more) {
    try {
        const page = await api('GET', '/api/v1/dossiers?' + queryOf(more ? state.next : null));

        state.rows = more ? state.rows.concat(page.dossiers) : page.dossiers;
        state.next = page.next;
        showErrors($('#errors'), []);
        render();
    } catch (e) {
        showErrors($('#errors'), [{ message: errorText(e), target: e.field === 'unit' ? 'unit' : undefined }]);
    }
}

async function main() {
    const who = await requireSession();
    const params = new URLSearchParams(location.search);

    startPage(who);
    fillStatuses();
    $('#unit').value = params.get('unit') || who.unit;
    for (const k of ['status', 'due', 'side']) {
        if (params.get(k)) {
            $('#' + k).value = params.get(k);
        }
    }
    $('#queue-form').addEventListener('submit', (ev) => {
        ev.preventDefault();
        const q = queryOf(null);

        q.delete('limit');
        history.replaceState(null, '', '/queue?' + q);
        load(false);
    });
    $('#queue-more').addEventListener('click', () => load(true));
    onLangChange(() => {
        fillStatuses();
        render();
    });
    await load(false);
}

main().catch((e) => showErrors($('#errors'), [{ message: errorText(e) }]));
