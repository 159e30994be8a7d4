// receive.js - receive a dossier at the counter.
//
// The clerk picks a procedure from the catalogue in force (composite ones
// first), finds the applicant in the registries by personal ID or
// enterprise code, and the form is built from the procedure's own field
// list.  What the registries already know (the applicant as parent, their
// permanent address and household, their ethnic group) is filled in and
// marked, so that nobody is asked twice for what the state holds: the
// once-only principle.  Every read of a person states its purpose, which
// the audit trail records.  POST /api/v1/dossiers then receives it, and
// the receipt page opens.

import {
    t, lang, h, $, clear, api, ApiError, requireSession, startPage, showErrors, errorText,
    onLangChange, fmtDate, unitName,
} from '/static/common.js';

const state = {
    procedures: [],
    def: null, // the chosen procedure, in full
    applicant: null, // {kind, id, person?, residence?, business?}
    values: {}, // field name -> value, kept across re-renders
    docs: new Set(),
    prefilled: new Set(), // fields filled from the registries and not changed since
    notes: {}, // field name -> () => text shown under it (whom an ID names, a unit's name)
    errors: [],
};

function label(o) {
    return (lang() === 'en' ? o.label_en || o.name_en : o.label_vi || o.name_vi) || o.name || o.code;
}

function purpose() {
    return 'Tiếp nhận hồ sơ tại bộ phận một cửa' + (state.def ? ': ' + state.def.code : '');
}

// What the registries say for a field of the form, given the applicant.
function fromRegistry(name, a) {
    const p = a.person;
    const r = a.residence;
    const child = state.def.fields.some((f) => f.name === 'child_id');

    switch (name) {
    case 'father_id':
        return p && p.sex === 'male' ? p.id : undefined;
    case 'mother_id':
        return p && p.sex === 'female' ? p.id : undefined;
    case 'child_ethnicity':
        return p ? p.ethnicity : undefined;
    case 'person_id':
    case 'beneficiary_id':
        return p && !child ? p.id : undefined;
    case 'residence_unit':
        return r ? r.unit : undefined;
    case 'address_line':
        return r ? r.address_line : a.business ? a.business.address_line : undefined;
    case 'household_id':
        return r && r.household_id ? r.household_id : undefined;
    case 'relation_to_head':
        if (!r || !r.household_id) {
            return undefined;
        }
        if (!child) {
            return r.relation_to_head;
        }
        // the newborn of the head (or of the head's spouse) is a child of the head
        return { head: 'child', spouse: 'child', child: 'grandchild' }[r.relation_to_head];
    case 'business_code':
        return a.business ? a.business.code : undefined;
    default:
        return undefined;
    }
}

// Procedures.

async function loadCatalogue() {
    const sel = $('#procedure');
    const wanted = new URLSearchParams(location.search).get('procedure');
    const data = await api('GET', '/api/v1/procedures');

    state.procedures = data.procedures;
    clear(sel).append(h('option', { value: '' }, t('common.choose')));
    const composite = h('optgroup', { label: t('receive.composite_group') });
    const single = h('optgroup', { label: t('receive.single_group') });

    for (const p of state.procedures) {
        (p.composite ? composite : single).append(h('option', { value: p.code }, label(p)));
    }
    sel.append(composite, single);
    if (state.def) {
        sel.value = state.def.code;
    } else if (wanted && state.procedures.some((p) => p.code === wanted)) {
        sel.value = wanted;
        await chooseProcedure();
    }
}

async function chooseProcedure() {
    const code = $('#procedure').value;

    readValues();
    state.def = null;
    state.prefilled.clear();
    state.notes = {};
    if (code) {
        state.def = await api('GET', '/api/v1/procedures/' + encodeURIComponent(code));
        state.docs = new Set(); // ticked by the clerk, one by one, as each is handed over
        if (state.applicant) {
            prefill();
        }
    }
    render();
}

function timeLimitText(tl) {
    return tl.same_day ? t('receive.same_day') : t('receive.working_days', { n: tl.working_days });
}

function renderInfo() {
    const box = clear($('#procedure-info'));
    const d = state.def;

    if (!d) {
        return;
    }
    const dl = h('dl', { class: 'summary' },
        h('dt', {}, t('receive.time_limit')), h('dd', { id: 'time-limit' }, timeLimitText(d.time_limit)),
        h('dt', {}, t('receive.fee')),
        h('dd', {}, d.fee_vnd ? d.fee_vnd.toLocaleString(lang() === 'en' ? 'en-GB' : 'vi-VN') + ' đ' : t('receive.free')));

    box.append(dl);
    if (d.steps && d.steps.length) {
        box.append(h('h3', {}, t('receive.steps')),
            h('ol', { class: 'steps' }, d.steps.map((s) => h('li', {}, label(s)))));
    }
}

// The form.

function fieldId(name) {
    return 'f-' + name;
}

function hintOf(f) {
    switch (f.type) {
    case 'person_id':
        return t('receive.hint_person_id');
    case 'unit':
        return t('receive.hint_unit');
    default:
        return '';
    }
}

function inputFor(f) {
    const id = fieldId(f.name);
    const common = { id, name: f.name, 'data-field': f.name };

    switch (f.type) {
    case 'enum': {
        const sel = h('select', common, h('option', { value: '' }, t('common.choose')));

        for (const o of f.options || []) {
            sel.append(h('option', { value: o.value }, label(o)));
        }
        return sel;
    }
    case 'date':
        // XXX: the browser's own date field: shown in the browser's language (mm/dd/yyyy in English).
        return h('input', { ...common, type: 'date', class: 'w-date' });
    case 'number':
        return h('input', { ...common, type: 'number', min: '0', step: 'any', class: 'w-number' });
    case 'person_id':
        return h('input', { ...common, class: 'w-id', inputmode: 'numeric', maxlength: '12', autocomplete: 'off', spellcheck: 'false' });
    case 'unit':
        return h('input', { ...common, class: 'w-unit', inputmode: 'numeric', maxlength: '5', autocomplete: 'off' });
    default:
        return h('input', { ...common, type: 'text', class: f.name === 'address_line' ? 'w-full' : 'w-text', autocomplete: 'off' });
    }
}

function renderFields() {
    const box = clear($('#fields'));

    if (!state.def) {
        box.append(h('p', { class: 'hint' }, t('receive.pick_first')));
        return;
    }
    for (const f of state.def.fields) {
        const input = inputFor(f);
        const hint = hintOf(f);
        const hintId = fieldId(f.name) + '-hint';
        const tag = state.prefilled.has(f.name) ? h('span', { class: 'tag registry' }, t('receive.from_registry')) : null;

        if (hint) {
            input.setAttribute('aria-describedby', hintId);
        }
        if (state.values[f.name] !== undefined) {
            input.value = state.values[f.name];
        }
        input.addEventListener('input', () => edited(f.name));
        input.addEventListener('change', () => explain(f));
        box.append(
            h('div', { class: 'field' },
                h('label', { for: fieldId(f.name) }, label(f), ' ',
                    f.required ? null : h('span', { class: 'optional' }, t('common.optional')), tag ? ' ' : null, tag),
                hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
                input,
                h('p', { class: 'note', id: fieldId(f.name) + '-note', 'aria-live': 'polite' }, noteText(f.name)))
        );
    }
}

function renderDocuments() {
    const box = clear($('#documents'));

    if (!state.def) {
        return;
    }
    box.append(h('legend', { class: 'visually-hidden' }, t('receive.documents')));
    for (const d of state.def.documents) {
        const id = 'doc-' + d.code;
        const cb = h('input', { type: 'checkbox', id, value: d.code, checked: state.docs.has(d.code) });

        cb.addEventListener('change', () => (cb.checked ? state.docs.add(d.code) : state.docs.delete(d.code)));
        box.append(h('div', { class: 'check' }, cb, ' ',
            h('label', { for: id }, label(d), ' ', h('span', { class: 'optional' }, d.required ? t('common.required') : t('common.optional')))));
    }
}

function readValues() {
    document.querySelectorAll('[data-field]').forEach((el) => {
        state.values[el.dataset.field] = el.value;
    });
}

function edited(name) {
    if (state.prefilled.delete(name)) {
        const tag = $('label[for="' + fieldId(name) + '"] .tag');

        if (tag) {
            tag.remove();
        }
    }
}

function noteText(name) {
    return state.notes[name] ? state.notes[name]() : '';
}

// text: a function giving the note in the language of the moment.
function setNote(name, text) {
    const el = document.getElementById(fieldId(name) + '-note');

    state.notes[name] = text;
    if (el) {
        el.textContent = noteText(name);
    }
}

// Under an ID or a unit: whom or what it names, so that a typo shows at once.
async function explain(f) {
    const v = (document.getElementById(fieldId(f.name)).value || '').trim();

    if (!v) {
        setNote(f.name, null);
        return;
    }
    if (f.type === 'unit' && /^\d{2}(\d{3})?$/.test(v)) {
        const name = await unitName(v);

        setNote(f.name, () => name);
    } else if (f.type === 'person_id' && /^\d{12}$/.test(v)) {
        try {
            const p = (await api('GET', '/api/v1/people/' + v, { purpose: purpose() })).record;

            setNote(f.name, () => (f.check === 'new' ? t('receive.person_exists', { name: p.full_name }) : personLine(p)));
        } catch (e) {
            if (e instanceof ApiError && e.status === 404) {
                setNote(f.name, () => (f.check === 'new' ? t('receive.person_new') : t('receive.not_found')));
            } else {
                setNote(f.name, () => errorText(e));
            }
        }
    }
}

// The applicant.

function personLine(p) {
    return t('receive.found_person', {
        name: p.full_name,
        born: fmtDate(p.birth_date),
        sex: t(p.sex === 'female' ? 'receive.sex_female' : 'receive.sex_male'),
    });
}

function applicantKind() {
    return $('#kind-business').checked ? 'business' : 'person';
}

function renderApplicantLabels() {
    const business = applicantKind() === 'business';

    $('#applicant-id-label').textContent = t(business ? 'receive.applicant_code' : 'receive.applicant_id');
    $('#applicant-id-hint').textContent = t(business ? 'receive.applicant_code_hint' : 'receive.applicant_id_hint');
}

function renderFound() {
    const box = clear($('#applicant-found'));
    const a = state.applicant;

    if (!a) {
        return;
    }
    if (a.missing) {
        box.append(h('p', { class: 'notice error' }, t('receive.not_found')));
        return;
    }
    if (a.business) {
        box.append(h('p', { class: 'found-name', id: 'applicant-name' },
            t('receive.found_business', { name: a.business.name, form: a.business.legal_form })));
        return;
    }
    box.append(h('p', { class: 'found-name', id: 'applicant-name' }, personLine(a.person)));
    if (a.person.status === 'deceased') {
        box.append(h('p', { class: 'notice error' }, t('receive.deceased')));
    }
    box.append(h('p', {}, a.residence ? t('receive.address', { address: a.residence.address_line + ' (' + a.residence.unit + ')' })
        : t('receive.no_residence')));
}

async function getOrNull(path) {
    try {
        return (await api('GET', path, { purpose: purpose() })).record;
    } catch (e) {
        if (e instanceof ApiError && e.status === 404) {
            return null;
        }
        throw e;
    }
}

async function lookupApplicant() {
    const id = $('#applicant-id').value.trim();
    const kind = applicantKind();
    const box = $('#errors');

    readValues();
    state.applicant = null;
    if (!(kind === 'person' ? /^\d{12}$/ : /^\d{10}$/).test(id)) {
        state.errors = [{ message: t('receive.err_applicant'), target: 'applicant-id' }];
        showErrors(box, state.errors);
        renderFound();
        return;
    }
    try {
        if (kind === 'person') {
            const person = await getOrNull('/api/v1/people/' + id);
            const residence = person ? await getOrNull('/api/v1/residences/' + id + '/permanent') : null;

            state.applicant = person ? { kind, id, person, residence } : { kind, id, missing: true };
        } else {
            const business = await getOrNull('/api/v1/businesses/' + id);

            state.applicant = business ? { kind, id, business } : { kind, id, missing: true };
        }
        state.errors = [];
        showErrors(box, []);
    } catch (e) {
        state.errors = [{ message: errorText(e), target: 'applicant-id' }];
        showErrors(box, state.errors);
    }
    if (state.def && state.applicant && !state.applicant.missing) {
        prefill();
    }
    render();
}

// Fill in, from the registries, the fields still empty.
function prefill() {
    for (const f of state.def.fields) {
        const v = fromRegistry(f.name, state.applicant);

        if (v !== undefined && v !== null && v !== '' && !state.values[f.name]) {
            state.values[f.name] = String(v);
            state.prefilled.add(f.name);
        }
    }
}

// Checking and sending.

function validate() {
    const errors = [];
    const a = state.applicant;

    if (!state.def) {
        errors.push({ message: t('receive.err_procedure'), target: 'procedure' });
        return errors;
    }
    if (!a || a.missing || a.id !== $('#applicant-id').value.trim() || a.kind !== applicantKind()) {
        errors.push({ message: t('receive.err_applicant'), target: 'applicant-id' });
    }
    for (const f of state.def.fields) {
        const v = (state.values[f.name] || '').trim();
        const full = label(f);
        const name = full.charAt(0).toLowerCase() + full.slice(1); // inside a sentence

        if (!v) {
            if (f.required) {
                errors.push({ message: t('receive.err_required', { label: name }), target: fieldId(f.name) });
            }
            continue;
        }
        if (f.type === 'person_id' && !/^\d{12}$/.test(v)) {
            errors.push({ message: t('receive.err_person_id', { label: full }), target: fieldId(f.name) });
        } else if (f.type === 'unit' && !/^\d{2}(\d{3})?$/.test(v)) {
            errors.push({ message: t('receive.err_unit', { label: full }), target: fieldId(f.name) });
        } else if (f.type === 'number' && !(Number(v) > 0)) {
            errors.push({ message: t('receive.err_number', { label: full }), target: fieldId(f.name) });
        }
    }
    for (const d of state.def.documents) {
        if (d.required && !state.docs.has(d.code)) {
            errors.push({ message: t('receive.err_document', { name: label(d) }), target: 'doc-' + d.code });
        }
    }
    return errors;
}

function request() {
    const fields = {};

    for (const f of state.def.fields) {
        const v = (state.values[f.name] || '').trim();

        if (v) {
            fields[f.name] = f.type === 'number' ? Number(v) : v;
        }
    }
    // XXX: the counter's channel only: no page yet for a citizen filing online.
    return {
        procedure: state.def.code,
        applicant: { kind: state.applicant.kind, id: state.applicant.id },
        channel: 'counter',
        fields,
        documents: state.def.documents.filter((d) => state.docs.has(d.code)).map((d) => d.code),
    };
}

// The form element a server error names ("fields.child_id", "applicant.id", ...).
function targetOf(field) {
    if (field.startsWith('fields.')) {
        return fieldId(field.slice(7));
    }
    return { 'applicant.id': 'applicant-id', 'applicant.kind': 'kind-person', documents: 'documents', procedure: 'procedure' }[field];
}

async function submit(ev) {
    ev.preventDefault();
    const box = $('#errors');

    readValues();
    state.errors = validate();
    showErrors(box, state.errors);
    if (state.errors.length) {
        return;
    }
    $('#receive-submit').disabled = true;
    try {
        const d = await api('POST', '/api/v1/dossiers', { body: request() });

        location.assign('/receipt?code=' + encodeURIComponent(d.code));
    } catch (e) {
        // XXX: a session that ended meanwhile (401) means signing in again, and the form is lost.
        state.errors = [{ message: errorText(e), target: e instanceof ApiError ? targetOf(e.field) : undefined }];
        showErrors(box, state.errors);
        $('#receive-submit').disabled = false;
    }
}

function render() {
    renderApplicantLabels();
    renderInfo();
    renderFields();
    renderDocuments();
    renderFound();
    $('#prefill-note').hidden = state.prefilled.size === 0;
}

async function main() {
    const who = await requireSession();

    startPage(who);
    render();
    await loadCatalogue();
    $('#procedure').addEventListener('change', () => chooseProcedure().catch(fail));
    $('#applicant-lookup').addEventListener('click', () => lookupApplicant());
    $('#applicant-id').addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') {
            ev.preventDefault();
            lookupApplicant();
        }
    });
    document.querySelectorAll('input[name="applicant-kind"]').forEach((r) =>
        r.addEventListener('change', () => {
            state.applicant = null;
            render();
        }));
    $('#receive-form').addEventListener('submit', submit);
    onLangChange(() => {
        readValues();
        loadCatalogue().catch(fail);
        render();
        if (state.errors.length) {
            showErrors($('#errors'), validate());
        }
    });
}

function fail(e) {
    showErrors($('#errors'), [{ message: errorText(e) }]);
}

main().catch(fail);
