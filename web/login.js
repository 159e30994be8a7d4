// login.js - sign in: POST /api/v1/auth/login sets the session cookie
// (HttpOnly, SameSite=Strict, Secure over TLS); the answer's csrf value is
// kept for the writes of the other pages.  Then on to the page asked for
// (?next=, a path of this site only) or the first task of the role.

import { t, $, api, ApiError, saveSession, showErrors, startPage, errorText, onLangChange } from '/static/common.js';

const HOME = {
    clerk: '/receive',
    officer: '/queue',
    citizen: '/queue',
    auditor: '/indicators',
    admin: '/indicators',
    node: '/nodes',
};

// Only a page of this site ("/queue?x=1"), never another ("//elsewhere",
// "https://...", "/\t/elsewhere" that a browser reads as "//elsewhere").
function nextPage(role) {
    const next = new URLSearchParams(location.search).get('next');

    if (next && next.startsWith('/') && !/[\u0000-\u001f\\]/.test(next)) {
        const u = new URL(next, location.origin);

        if (u.origin === location.origin && u.pathname !== '/login') {
            return u.pathname + u.search;
        }
    }
    return HOME[role] || '/';
}

let lastErrors = [];

function check() {
    const errors = [];

    if (!$('#account').value.trim()) {
        errors.push({ message: t('login.need_account'), target: 'account' });
    }
    if (!$('#password').value) {
        errors.push({ message: t('login.need_password'), target: 'password' });
    }
    return errors;
}

async function submit(ev) {
    ev.preventDefault();
    const box = $('#errors');
    const errors = check();

    lastErrors = errors;
    showErrors(box, errors);
    if (errors.length) {
        return;
    }
    $('#login-submit').disabled = true;
    try {
        const who = await api('POST', '/api/v1/auth/login', {
            body: { account: $('#account').value.trim(), password: $('#password').value },
        });

        saveSession(who);
        location.assign(nextPage(who.role));
    } catch (e) {
        let message = errorText(e);

        if (e instanceof ApiError && e.status === 401) {
            message = t('login.bad');
        } else if (e instanceof ApiError && e.status === 429) {
            message = t('login.limited', { n: Math.max(1, Math.ceil(e.retryAfter / 60)) });
        }
        lastErrors = [{ message, target: 'account' }];
        showErrors(box, lastErrors);
        $('#password').value = '';
    } finally {
        $('#login-submit').disabled = false;
    }
}

startPage(null);
$('#login-form').addEventListener('submit', submit);
onLangChange(() => {
    if (lastErrors.length) {
        showErrors($('#errors'), check());
    }
});
