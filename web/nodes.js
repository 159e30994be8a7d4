// nodes.js - the sync dashboard of GET /sync/v1/status: for each child
// node its backlog in events and in seconds and its last contact, the
// silent ones (no contact for longer than the node's --silent-after)
// flagged in words and colour; this node and its way up beside.  Refreshed
// every 5 seconds while the box is ticked.

import {
    t, lang, h, $, clear, api, requireSession, startPage, notice, errorText, onLangChange, fmtTime,
    unitName,
} from '/static/common.js';

// XXX: polled, not pushed: the page is up to 5 s behind the node.
const REFRESH_MS = 5000;
const state = { status: null, names: {}, at: null, timer: null };

function num(x) {
    return Number(x).toLocaleString(lang() === 'en' ? 'en-GB' : 'vi-VN', { maximumFractionDigits: 1 });
}

function ago(seconds) {
    return seconds === null || seconds === undefined ? '' : t('common.seconds_ago', { n: num(seconds) });
}

function pair(dl, key, ...value) {
    dl.append(h('dt', {}, t(key)), h('dd', {}, ...value));
}

function renderChildren(s) {
    const body = clear($('#children'));
    const silent = s.children.filter((c) => c.silent).length;

    for (const c of s.children) {
        body.append(h('tr', { class: c.silent ? 'silent' : null, 'data-unit': c.unit },
            h('th', { scope: 'row' }, state.names[c.unit] || c.unit),
            h('td', { class: 'mono' }, c.origin),
            h('td', { class: 'num' }, num(c.backlog_events)),
            h('td', { class: 'num' }, num(c.backlog_seconds)),
            h('td', { class: 'nowrap' }, c.last_contact ? fmtTime(c.last_contact) : t('common.never'),
                c.last_contact ? h('span', { class: 'hint block' }, ago(c.seconds_since_contact)) : null),
            h('td', {}, c.silent ? h('span', { class: 'badge overdue' }, t('nodes.silent')) : h('span', { class: 'badge fine' }, t('nodes.ok'))),
            h('td', { class: 'num' }, num(c.refused), c.last_refusal ? h('span', { class: 'hint block' }, c.last_refusal) : null)));
    }
    if (!s.children.length) {
        body.append(h('tr', {}, h('td', { colspan: '7' }, t('nodes.no_children'))));
    }
    const box = $('#sync-summary');

    if (silent) {
        notice(box, t('nodes.silent_summary', { n: silent, s: num(s.silent_after_seconds) }), 'error');
    } else if (s.children.length) {
        notice(box, t('nodes.all_fine', { s: num(s.silent_after_seconds) }), 'success');
    } else {
        box.hidden = true;
    }
}

function renderSelf(s) {
    const self = clear($('#self'));
    const up = clear($('#upstream'));
    const u = s.upstream;

    pair(self, 'nodes.unit', state.names[s.node.unit] || s.node.unit);
    pair(self, 'nodes.origin', h('span', { class: 'mono' }, s.node.origin));
    pair(self, 'nodes.head', num(s.node.head));
    if (!u) {
        up.append(h('dd', {}, t('nodes.no_parent')));
        return;
    }
    if (!u.enrolled) {
        up.append(h('dd', {}, t('nodes.not_enrolled', { url: u.parent_url })));
        return;
    }
    pair(up, 'nodes.parent', u.parent_url + ' (' + u.parent_unit + ')');
    pair(up, 'nodes.connected', t(u.connected ? 'common.yes' : 'common.no'));
    pair(up, 'nodes.col_backlog_events', num(u.backlog_events));
    pair(up, 'nodes.col_backlog_seconds', num(u.backlog_seconds));
    pair(up, 'nodes.last_ack', u.last_ack ? fmtTime(u.last_ack) + ' (' + ago(u.seconds_since_ack) + ')' : t('common.never'));
    if (u.last_error) {
        pair(up, 'nodes.last_error', u.last_error);
    }
}

function render() {
    const s = state.status;

    if (!s) {
        return;
    }
    renderChildren(s);
    renderSelf(s);
    $('#updated').textContent = t('nodes.updated', { time: fmtTime(state.at) });
}

async function refresh() {
    try {
        const s = await api('GET', '/sync/v1/status');

        for (const code of [s.node.unit, ...s.children.map((c) => c.unit)]) {
            if (!state.names[code]) {
                state.names[code] = await unitName(code);
            }
        }
        state.status = s;
        state.at = new Date().toISOString();
        $('#message').hidden = true;
        render();
    } catch (e) {
        notice($('#message'), errorText(e), 'error');
    }
}

function schedule() {
    clearInterval(state.timer);
    state.timer = $('#auto').checked ? setInterval(refresh, REFRESH_MS) : null;
}

async function main() {
    const who = await requireSession();

    startPage(who);
    $('#auto').addEventListener('change', schedule);
    onLangChange(render);
    await refresh();
    schedule();
}

main().catch((e) => notice($('#message'), errorText(e), 'error'));
