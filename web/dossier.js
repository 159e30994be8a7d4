// dossier.js - one dossier: what was declared, its steps, its timeline with
// who did what, and the actions its status allows to the account looking at
// it.  The server decides (src/oss/dossier.c); the page only offers what it
// would accept: an officer of the competent unit reviews, asks for more,
// approves (a composite step by step, in order, each by the officer of that
// step's unit) or rejects with a reason; the receiving counter resumes and
// hands the result over.  Each action sends the version it was based on, so
// that two officers acting at once cannot both win.

import {
    t, lang, h, $, clear, api, ApiError, requireSession, startPage, showErrors, notice, errorText,
    onLangChange, fmtDate, fmtTime, statusText, unitName, within, todayVN,
} from '/static/common.js';

const OPEN = ['received', 'in_review', 'waiting_applicant'];

const state = { who: null, d: null, def: null, applicant: '', units: {}, errors: [] };

function name(o) {
    return lang() === 'en' ? o.name_en || o.label_en : o.name_vi || o.label_vi;
}

function stepName(code) {
    const s = (state.d.steps || []).find((x) => x.code === code);

    return s ? name(s) : code;
}

// Unit names of the dossier, its steps, fetched once.
async function loadUnits(d) {
    const codes = new Set([d.received_unit, d.competent_unit, ...(d.steps || []).map((s) => s.competent_unit)]);

    for (const c of codes) {
        state.units[c] = await unitName(c);
    }
}

async function loadDossier(code) {
    const d = await api('GET', '/api/v1/dossiers/' + encodeURIComponent(code));

    state.d = d;
    await loadUnits(d);
    if (!state.def || state.def.code !== d.procedure.code) {
        try {
            state.def = await api('GET', '/api/v1/procedures/' + encodeURIComponent(d.procedure.code) +
                '?date=' + d.received_at.slice(0, 10));
        } catch (e) {
            state.def = null;
        }
    }
    if (d.applicant.kind === 'person' && !state.applicant) {
        try {
            state.applicant = (await api('GET', '/api/v1/people/' + d.applicant.id, { purpose: d.code })).record.full_name;
        } catch (e) {
            if (!(e instanceof ApiError)) {
                throw e;
            }
        }
    }
}

// The summary.

function pair(dl, key, ...value) {
    dl.append(h('dt', {}, t(key)), h('dd', {}, ...value));
}

function renderSummary() {
    const d = state.d;
    const dl = clear($('#summary'));
    const overdue = OPEN.includes(d.status) && d.due_date < todayVN();

    pair(dl, 'dossier.procedure', name(d.procedure));
    pair(dl, 'dossier.status', h('span', { class: 'status status-' + d.status, id: 'dossier-status' }, statusText(d.status)));
    pair(dl, 'dossier.applicant', (state.applicant ? state.applicant + ' · ' : '') + d.applicant.id);
    pair(dl, 'dossier.channel', t(d.channel === 'online' ? 'dossier.channel_online' : 'dossier.channel_counter'));
    pair(dl, 'dossier.received_unit', state.units[d.received_unit]);
    pair(dl, 'dossier.competent_unit', state.units[d.competent_unit]);
    pair(dl, 'dossier.received_at', fmtTime(d.received_at));
    pair(dl, 'dossier.due', h('span', { id: 'dossier-due' }, fmtDate(d.due_date)), ' ',
        overdue ? h('span', { class: 'badge overdue' }, t('queue.overdue')) : null);
    if (d.reason) {
        pair(dl, 'dossier.reason', d.reason);
    }
    $('#dossier-h1').textContent = t('dossier.h1', { code: d.code });
    document.title = t('dossier.h1', { code: d.code }) + ' · Lienthong';
    $('#receipt-link').setAttribute('href', '/receipt?code=' + encodeURIComponent(d.code));
}

function renderSteps() {
    const steps = state.d.steps || [];
    const body = clear($('#steps'));

    $('#steps-section').hidden = steps.length === 0;
    for (const s of steps) {
        body.append(h('tr', { 'data-step': s.code },
            h('td', {}, name(s)),
            h('td', {}, state.units[s.competent_unit] || s.competent_unit),
            h('td', {}, h('span', { class: 'status step-' + s.status }, t('step.' + s.status)))));
    }
}

function fieldValue(f, v) {
    if (f && f.type === 'enum') {
        const o = (f.options || []).find((x) => x.value === v);

        return o ? name(o) : v;
    }
    if (f && f.type === 'date') {
        return fmtDate(v);
    }
    return String(v);
}

function renderFields() {
    const d = state.d;
    const dl = clear($('#fields'));
    const defs = state.def ? state.def.fields : [];
    const docs = state.def ? state.def.documents : [];

    for (const [k, v] of Object.entries(d.fields || {})) {
        const f = defs.find((x) => x.name === k);

        dl.append(h('dt', {}, f ? name(f) : k), h('dd', {}, fieldValue(f, v)));
    }
    clear($('#documents')).append(...(d.documents || []).map((c) => {
        const doc = docs.find((x) => x.code === c);

        return h('li', {}, doc ? name(doc) : c);
    }));
}

function renderTimeline() {
    const list = clear($('#timeline'));

    for (const e of state.d.timeline || []) {
        list.append(h('li', {},
            h('span', { class: 'when' }, fmtTime(e.time)), ' ',
            h('strong', { class: 'what' }, t('action.' + e.action), e.step ? ' · ' + stepName(e.step) : ''), ' ',
            h('span', { class: 'actor' }, t('dossier.by', { actor: e.actor })), ' → ',
            h('span', { class: 'status-after' }, statusText(e.status)),
            e.reason ? h('p', { class: 'reason' }, t('dossier.reason') + ': ' + e.reason) : null,
            e.note ? h('p', { class: 'note' }, e.note) : null));
    }
}

// The actions.

// What the status allows, and to whom: [{action, step?, text, cls, who}]
// with who 'officer' (of the competent unit, or of the step's unit) or
// 'counter' (the receiving clerk, or such an officer).
function allowed(d) {
    switch (d.status) {
    case 'received':
        return [{ action: 'review', who: 'officer' }];
    case 'in_review': {
        const out = [];
        const next = (d.steps || []).find((s) => s.status === 'pending');

        if (d.steps && d.steps.length) {
            if (next) {
                out.push({ action: 'approve', step: next.code, unit: next.competent_unit, who: 'officer' });
            }
        } else {
            out.push({ action: 'approve', who: 'officer' });
        }
        out.push({ action: 'request_info', who: 'officer' }, { action: 'reject', who: 'officer' });
        return out;
    }
    case 'waiting_applicant':
        return [{ action: 'resume', who: 'counter' }];
    case 'approved':
    case 'rejected':
        return [{ action: 'return_result', who: 'counter' }];
    default:
        return [];
    }
}

// XXX: accounts are per node: on a commune's node, the province's step needs a province officer's account made there.
async function mayDo(a) {
    const me = state.who;
    const d = state.d;
    const officer = me.role === 'officer' && (await within(me.unit, a.unit || d.competent_unit));

    if (a.who === 'officer') {
        return officer;
    }
    return officer || (me.role === 'clerk' && (await within(me.unit, d.received_unit)));
}

const CLASS = { approve: 'button', review: 'button', resume: 'button', return_result: 'button', request_info: 'button secondary', reject: 'button warning' };

async function renderActions() {
    const box = clear($('#action-buttons'));
    const options = allowed(state.d);
    let offered = 0;

    $('#reason-field').hidden = true;
    $('#note-field').hidden = options.length === 0;
    if (!options.length) {
        box.append(h('p', {}, t('dossier.no_actions')));
        return;
    }
    for (const a of options) {
        if (!(await mayDo(a))) {
            if (a.step) {
                box.append(h('p', { class: 'hint' }, t('dossier.step_other_unit', { step: stepName(a.step), unit: state.units[a.unit] })));
            }
            continue;
        }
        const text = a.step ? t('dossier.approve_step', { step: stepName(a.step) }) : t('action.' + a.action);

        box.append(h('button', {
            type: 'button',
            class: CLASS[a.action],
            'data-action': a.action,
            'data-step': a.step,
            onclick: () => act(a),
        }, text));
        if (a.action === 'reject') {
            $('#reason-field').hidden = false;
        }
        offered++;
    }
    if (!offered) {
        $('#note-field').hidden = true;
        box.append(h('p', {}, t('dossier.not_yours')));
    }
}

async function act(a) {
    const note = $('#note').value.trim();
    const reason = $('#reason').value.trim();
    const body = { action: a.action, version: state.d.version };

    if (a.action === 'reject' && !reason) {
        state.errors = [{ message: t('dossier.err_reason'), target: 'reason' }];
        showErrors($('#errors'), state.errors);
        return;
    }
    if (a.step) {
        body.step = a.step;
    }
    if (note) {
        body.note = note;
    }
    if (a.action === 'reject') {
        body.reason = reason;
    }
    document.querySelectorAll('#action-buttons button').forEach((b) => (b.disabled = true));
    try {
        state.d = await api('POST', '/api/v1/dossiers/' + encodeURIComponent(state.d.code) + '/actions', { body });
        await loadUnits(state.d);
        state.errors = [];
        showErrors($('#errors'), []);
        $('#note').value = '';
        $('#reason').value = '';
        const done = a.step ? t('dossier.approve_step', { step: stepName(a.step) }) : t('action.' + a.action);

        notice($('#action-message'), t('dossier.done', { action: done }), 'success');
    } catch (e) {
        state.errors = [{ message: errorText(e), target: e instanceof ApiError && e.field === 'reason' ? 'reason' : undefined }];
        showErrors($('#errors'), state.errors);
        if (e instanceof ApiError && e.status === 409) {
            await loadDossier(state.d.code).catch(() => {});
        }
    }
    await render();
}

async function render() {
    renderSummary();
    renderSteps();
    renderFields();
    renderTimeline();
    await renderActions();
}

async function main() {
    const code = new URLSearchParams(location.search).get('code') || '';

    state.who = await requireSession();
    startPage(state.who);
    if (!code) {
        notice($('#message'), t('dossier.no_code'), 'error');
        return;
    }
    try {
        await loadDossier(code);
    } catch (e) {
        notice($('#message'), errorText(e), 'error');
        return;
    }
    $('#dossier').hidden = false;
    await render();
    onLangChange(() => render());
}

main().catch((e) => notice($('#message'), errorText(e), 'error'));
