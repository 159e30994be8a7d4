// common.js - what every page of the web UI shares: the session, calls to
// the API, the header with its navigation and language switch, the error
// summary, and small helpers to build the page.
//
// The session is the HttpOnly cookie that POST /api/v1/auth/login sets; the
// page never sees the token.  The login answer's csrf value is kept in
// localStorage and sent as X-CSRF-Token with every POST, PUT and DELETE,
// as the guard (src/auth/guard.c) wants of a cookie-authenticated request.
// Everything the pages show is built with DOM calls and textContent, never
// from HTML text, so that data from the API is never read as markup.

import { t, lang, setLang, applyI18n, onLangChange } from '/static/i18n.js';

export { t, lang, onLangChange };

const ME = 'lt.me';
const CSRF = 'lt.csrf';

function store(key, value) {
    try {
        if (value === null) {
            localStorage.removeItem(key);
        } else {
            localStorage.setItem(key, value);
        }
    } catch (e) {
        // XXX: without localStorage the csrf value is lost on the next page: sign in again.
    }
}

function load(key) {
    try {
        return localStorage.getItem(key);
    } catch (e) {
        return null;
    }
}

// The signed-in account as the last answer about it said, or null.
export function me() {
    try {
        return JSON.parse(load(ME));
    } catch (e) {
        return null;
    }
}

export function saveSession(login) {
    const who = { account: login.account, role: login.role, unit: login.unit };

    if (login.person_id) {
        who.person_id = login.person_id;
    }
    store(ME, JSON.stringify(who));
    store(CSRF, login.csrf);
}

export function clearSession() {
    store(ME, null);
    store(CSRF, null);
}

// An error answer of the API: status, and the members of {"error": {...}}.
export class ApiError extends Error {
    constructor(status, body, retryAfter) {
        const e = (body && body.error) || {};

        super(e.message || 'HTTP ' + status);
        this.status = status;
        this.retryAfter = Number(retryAfter) || 0; // seconds, from Retry-After
        this.code = e.code || '';
        this.detail = e.detail || '';
        this.hint = e.hint || '';
        this.field = e.field || '';
    }
}

// Header values are bytes: a purpose in Vietnamese goes as its UTF-8 bytes
// (the server reads X-Purpose as UTF-8 text).
function headerBytes(s) {
    return String.fromCharCode(...new TextEncoder().encode(s));
}

// Call the API.  opts: body (sent as JSON), purpose (X-Purpose, for reads
// of personal data).  Resolves to the JSON answer; rejects with ApiError.
export async function api(method, path, opts) {
    const o = opts || {};
    const headers = { Accept: 'application/json' };
    let r;

    if (o.body !== undefined) {
        headers['Content-Type'] = 'application/json';
    }
    if (method !== 'GET' && method !== 'HEAD' && load(CSRF)) {
        headers['X-CSRF-Token'] = load(CSRF);
    }
    if (o.purpose) {
        headers['X-Purpose'] = headerBytes(o.purpose);
    }
    try {
        r = await fetch(path, {
            method,
            headers,
            body: o.body === undefined ? undefined : JSON.stringify(o.body),
            credentials: 'same-origin',
            cache: 'no-store',
        });
    } catch (e) {
        throw new ApiError(0, { error: { code: 'network', message: t('error.network') } });
    }
    const text = await r.text();
    let data = null;

    if (text) {
        try {
            data = JSON.parse(text);
        } catch (e) {
            data = null;
        }
    }
    if (!r.ok) {
        throw new ApiError(r.status, data, r.headers.get('Retry-After'));
    }
    return data;
}

// What to tell a person about an API error, in their language.
export function errorText(e) {
    if (!(e instanceof ApiError)) {
        return t('error.generic');
    }
    if (e.status === 0) {
        return t('error.network');
    }
    if (e.status === 401) {
        return t('error.unauthenticated');
    }
    if (e.status === 403 && e.field === 'X-CSRF-Token') {
        return t('error.csrf');
    }
    // XXX: the server's messages are in English; Vietnamese pages show them after a lead of their own.
    const lead = {
        403: 'error.forbidden',
        404: 'error.not_found',
        409: 'error.conflict',
    }[e.status];
    const said = t('common.server_said', { message: e.message + (e.detail ? ': ' + e.detail : '') });

    return lead ? t(lead) + ' ' + said : said;
}

function goLogin() {
    const next = location.pathname + location.search;

    clearSession();
    location.assign('/login?next=' + encodeURIComponent(next));
}

// Make sure someone is signed in (else go to the login page); resolves to
// the account {account, role, unit}.
export async function requireSession() {
    try {
        const who = await api('GET', '/api/v1/auth/me');
        const csrf = load(CSRF);

        store(ME, JSON.stringify(who));
        if (!csrf) {
            // A live cookie without its csrf value (storage cleared): writes would fail.
            goLogin();
            return new Promise(() => {});
        }
        return who;
    } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
            goLogin();
            return new Promise(() => {});
        }
        throw e;
    }
}

// Build an element: h('a', {href: '/x', class: 'y'}, 'text', child, ...).
// Attributes named on... are listeners (addEventListener), never markup.
export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);

    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) {
            continue;
        }
        if (k.startsWith('on') && typeof v === 'function') {
            el.addEventListener(k.slice(2), v);
        } else if (k === 'dataset') {
            Object.assign(el.dataset, v);
        } else {
            el.setAttribute(k, v === true ? '' : String(v));
        }
    }
    for (const c of children.flat()) {
        if (c === undefined || c === null || c === false) {
            continue;
        }
        el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
}

export function $(sel, root) {
    return (root || document).querySelector(sel);
}

export function clear(el) {
    while (el.firstChild) {
        el.removeChild(el.firstChild);
    }
    return el;
}

// Today in Vietnam, "YYYY-MM-DD" (the server counts days in UTC+7).
export function todayVN() {
    const d = new Date(Date.now() + 7 * 3600 * 1000);

    return d.toISOString().slice(0, 10);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// "2026-12-07" as 07/12/2026 (Vietnamese) or 7 Dec 2026 (English).
export function fmtDate(day) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(day || '');

    if (!m) {
        return day || '';
    }
    if (lang() === 'en') {
        return Number(m[3]) + ' ' + MONTHS[Number(m[2]) - 1] + ' ' + m[1];
    }
    return m[3] + '/' + m[2] + '/' + m[1];
}

// An instant (ISO 8601 with its offset) as a Vietnam time and day.
export function fmtTime(iso) {
    const d = new Date(iso);

    if (!iso || isNaN(d.getTime())) {
        return iso || '';
    }
    const v = new Date(d.getTime() + 7 * 3600 * 1000).toISOString();

    return v.slice(11, 16) + ' ' + fmtDate(v.slice(0, 10));
}

export function statusText(s) {
    return t('status.' + s);
}

export function roleText(r) {
    return t('role.' + r);
}

// Unit names, asked once per page.
const unitCache = new Map();

export function unitInfo(code) {
    if (!unitCache.has(code)) {
        unitCache.set(
            code,
            api('GET', '/api/v1/units/' + encodeURIComponent(code)).catch(() => null)
        );
    }
    return unitCache.get(code);
}

export async function unitName(code) {
    const u = await unitInfo(code);

    return u && u.name ? u.name + ' (' + code + ')' : code;
}

// May an account of unit mine act for unit code?  (a commune's parent is its
// province; the centre covers all.)  The server decides; this only decides
// which buttons to show.
// XXX: judged on today's register: an account bound to a unit merged away may see a button refused.
export async function within(mine, code) {
    if (mine === 'VN' || mine === code) {
        return true;
    }
    const u = await unitInfo(code);

    return !!(u && u.parent && u.parent.code === mine);
}

// The error summary at the top of a form: errors are [{message, target}]
// with target the id of the field at fault (or none).  Focused, so that a
// screen reader reads it first; each line links to its field.
export function showErrors(box, errors) {
    clear(box);
    document.querySelectorAll('.field-error').forEach((el) => el.remove());
    document.querySelectorAll('[aria-invalid]').forEach((el) => {
        el.removeAttribute('aria-invalid');
        if (el.dataset.describedby) {
            el.setAttribute('aria-describedby', el.dataset.describedby);
        } else {
            el.removeAttribute('aria-describedby');
        }
    });
    document.querySelectorAll('.has-error').forEach((el) => el.classList.remove('has-error'));
    if (!errors.length) {
        box.hidden = true;
        return;
    }
    const list = h('ul');

    for (const e of errors) {
        const target = e.target ? document.getElementById(e.target) : null;

        if (target) {
            list.append(
                h('li', {}, h('a', {
                    href: '#' + e.target,
                    onclick: (ev) => {
                        ev.preventDefault();
                        target.focus();
                    },
                }, e.message))
            );
            markField(target, e.message);
        } else {
            list.append(h('li', {}, e.message));
        }
    }
    box.append(h('h2', {}, t('common.error_title')), list);
    box.hidden = false;
    box.focus();
}

// The message goes above the field (under its label and hint), in its group.
function markField(target, message) {
    const group = target.closest('.field') || target.parentElement;
    const id = target.id + '-error';
    let anchor = target;

    while (anchor.parentElement !== group) {
        anchor = anchor.parentElement;
    }
    const hint = target.getAttribute('aria-describedby') || '';

    target.dataset.describedby = hint;
    target.setAttribute('aria-invalid', 'true');
    target.setAttribute('aria-describedby', (id + ' ' + hint).trim());
    group.classList.add('has-error');
    group.insertBefore(h('p', { class: 'field-error', id }, message), anchor);
}

// A one-line message in a box (role status or alert).
export function notice(box, text, kind) {
    clear(box);
    box.className = 'notice ' + (kind || 'info');
    box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    box.append(text);
    box.hidden = false;
}

const NAV = [
    { href: '/', key: 'nav.home', roles: null },
    { href: '/receive', key: 'nav.receive', roles: ['clerk'] },
    { href: '/queue', key: 'nav.queue', roles: ['clerk', 'officer', 'citizen'] },
    { href: '/indicators', key: 'nav.indicators', roles: ['officer', 'auditor', 'admin'] },
    { href: '/nodes', key: 'nav.nodes', roles: ['officer', 'auditor', 'admin', 'node'] },
    { href: '/lookup', key: 'nav.lookup', roles: null },
];

// The tasks an account of role may open (home page, navigation).
export function tasksFor(role) {
    return NAV.filter((n) => n.href !== '/' && (!n.roles || n.roles.includes(role)));
}

async function logout() {
    try {
        await api('POST', '/api/v1/auth/logout');
    } catch (e) {
        // the session may be over already: sign-in page either way
    }
    clearSession();
    location.assign('/login');
}

// Fill <header id="top"> with the name, the navigation for the account's
// role, who is signed in, the language switch and sign-out.
export function renderHeader(who) {
    const top = document.getElementById('top');
    const here = location.pathname;

    function build() {
        clear(top);
        const nav = h('ul', { class: 'nav' });

        for (const n of NAV) {
            if (who && n.roles && !n.roles.includes(who.role)) {
                continue;
            }
            if (!who && n.href !== '/lookup') {
                continue;
            }
            nav.append(
                h('li', {}, h('a', { href: n.href, 'aria-current': n.href === here ? 'page' : null }, t(n.key)))
            );
        }
        const tools = h('div', { class: 'tools' });

        if (who) {
            tools.append(
                h('span', { class: 'who', id: 'who' },
                  t('nav.signed_in', { account: who.account, role: roleText(who.role), unit: who.unit }))
            );
        }
        tools.append(
            h('button', {
                type: 'button',
                class: 'link-button',
                id: 'lang-switch',
                lang: lang() === 'vi' ? 'en' : 'vi',
                onclick: () => setLang(lang() === 'vi' ? 'en' : 'vi'),
            }, t('lang.switch'))
        );
        if (who) {
            tools.append(h('button', { type: 'button', class: 'link-button', id: 'logout', onclick: logout }, t('nav.logout')));
        }
        top.append(
            h('a', { class: 'brand', href: '/' }, t('app.name')),
            h('nav', { 'aria-label': t('nav.main') }, nav),
            tools
        );
    }
    build();
    onLangChange(build);
}

// Start a page: words in the chosen language, and the header.
export function startPage(who) {
    applyI18n();
    renderHeader(who);
}
