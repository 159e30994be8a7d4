// receipt.js - the receipt of a dossier: its code and the day its result
// is due, to print (print.css) and hand to the applicant.

import {
    t, lang, h, $, clear, api, ApiError, requireSession, startPage, notice, errorText,
    onLangChange, fmtDate, fmtTime, unitName,
} from '/static/common.js';

function name(o) {
    return lang() === 'en' ? o.name_en : o.name_vi;
}

async function main() {
    const who = await requireSession();
    const code = new URLSearchParams(location.search).get('code') || '';

    startPage(who);
    if (!code) {
        notice($('#message'), t('dossier.no_code'), 'error');
        return;
    }
    let d;
    let applicant = '';

    try {
        d = await api('GET', '/api/v1/dossiers/' + encodeURIComponent(code));
    } catch (e) {
        notice($('#message'), errorText(e), 'error');
        return;
    }
    if (d.applicant.kind === 'person') {
        try {
            applicant = (await api('GET', '/api/v1/people/' + d.applicant.id, { purpose: d.code })).record.full_name;
        } catch (e) {
            if (!(e instanceof ApiError)) {
                throw e;
            }
        }
    }
    const unit = await unitName(d.received_unit);
    const docs = await documentNames(d);

    function render() {
        const receiver = d.timeline.find((x) => x.action === 'receive');

        $('#receipt-unit').textContent = t('receipt.unit') + ' · ' + unit;
        $('#receipt-code').textContent = d.code;
        $('#receipt-due').textContent = fmtDate(d.due_date);
        $('#receipt-procedure').textContent = name(d.procedure);
        $('#receipt-applicant').textContent = (applicant ? applicant + ' · ' : '') + d.applicant.id;
        $('#receipt-received').textContent = fmtTime(d.received_at);
        $('#receipt-by').textContent = receiver ? receiver.actor : '';
        $('#receipt-url').textContent = location.origin + '/lookup?code=' + d.code;
        const steps = clear($('#receipt-steps'));

        if (d.steps && d.steps.length) {
            steps.append(h('h2', {}, t('receipt.steps')), h('ol', {}, d.steps.map((s) => h('li', {}, name(s)))));
        }
        clear($('#receipt-documents')).append(...d.documents.map((c) => h('li', {}, docs[c] ? name(docs[c]) : c)));
        $('#open-dossier').setAttribute('href', '/dossier?code=' + encodeURIComponent(d.code));
    }
    render();
    onLangChange(render);
    $('#receipt').hidden = false;
    $('#receipt-actions').hidden = false;
    $('#print').addEventListener('click', () => window.print());
}

// The documents' names, from the procedure as it stood on the day of receipt.
async function documentNames(d) {
    const out = {};

    try {
        const p = await api('GET', '/api/v1/procedures/' + encodeURIComponent(d.procedure.code) +
            '?date=' + d.received_at.slice(0, 10));

        for (const doc of p.documents) {
            out[doc.code] = doc;
        }
    } catch (e) {
        // codes are shown instead
    }
    return out;
}

main().catch((e) => notice($('#message'), errorText(e), 'error'));
