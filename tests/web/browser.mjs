// browser.mjs - the counter's web UI in headless Chromium, against a real
// node: "lienthong init", accounts made with "lienthong user add", people
// imported, "lienthong serve" on loopback.  Debian's chromium is driven by
// playwright-core (tests/web/package.json pins it).
//
// The scenario: a clerk signs in, receives the interconnected dossier birth
// registration + permanent residence + health insurance card for a child
// under six (the applicant found in the registries and the form filled in
// from them), prints the receipt; an officer signs in, takes the dossier from
// the queue and approves each step; the API then shows the child, the
// residence and the card in the registries.  Also: the public look-up, the
// queue's order and marks, the language switch, the sync dashboard with a
// silent child, and no Content Security Policy violation on any page (a
// planted one proves the watch works).
//
// Output is TAP ("ok N - ..."), one line per step, which tests/run.sh
// counts.  Environment: LT (the binary; default build-test/lienthong),
// LT_CHROMIUM (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const WEB = path.resolve(here, '../../web');
const LT = process.env.LT || path.resolve(here, '../../build-test/lienthong');
const CHROMIUM = process.env.LT_CHROMIUM || '/usr/bin/chromium';
const BUDGET_MS = 60000;
const PASSWORD = 'correct-horse-battery-7';

const FATHER = '001085000001';
const MOTHER = '001190000002';
const ELDER = '001040000003';
const started = Date.now();

// TAP.

let count = 0;
let failed = 0;

function report(good, what, detail) {
    count++;
    console.log((good ? 'ok ' : 'not ok ') + count + ' - ' + what);
    if (!good) {
        failed++;
        for (const line of String(detail || '').split('\n').slice(0, 20)) {
            console.log('#   ' + line);
        }
    }
}

async function step(what, fn) {
    try {
        await fn();
        report(true, what);
    } catch (e) {
        report(false, what, e && e.stack ? e.stack : e);
    }
}

function expect(cond, message) {
    if (!cond) {
        throw new Error(message);
    }
}

function eq(actual, wanted, what) {
    expect(actual === wanted, what + ': wanted ' + JSON.stringify(wanted) + ', got ' + JSON.stringify(actual));
}

// The node.

const tmp = mkdtempSync(path.join(tmpdir(), 'lt-web-'));
const data = path.join(tmp, 'node');
let server = null;
let base = '';

function lt(...args) {
    return execFileSync(LT, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

function vnDay(offsetDays) {
    return new Date(Date.now() + 7 * 3600 * 1000 + (offsetDays || 0) * 86400000).toISOString().slice(0, 10);
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();

        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();

            s.close(() => resolve(port));
        });
    });
}

function ndjson(file, records) {
    writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

function setUpNode() {
    const pw = path.join(tmp, 'password');

    writeFileSync(pw, PASSWORD + '\n');
    lt('init', '--data', data, '--unit', '01');
    for (const [account, role, unit] of [['clerk.00004', 'clerk', '00004'], ['officer.01', 'officer', '01']]) {
        lt('user', 'add', '--data', data, '--account', account, '--role', role, '--unit', unit, '--password-file', pw);
    }
    const person = (id, name, born, sex) => ({
        id, full_name: name, birth_date: born, sex, ethnicity: '01', nationality: 'VN', status: 'alive',
    });
    const home = (id, line) => ({ person_id: id, kind: 'permanent', unit: '00004', address_line: line, from_date: '2015-01-01' });

    ndjson(path.join(tmp, 'people.ndjson'), [
        person(FATHER, 'Nguyễn Văn An', '1985-03-02', 'male'),
        person(MOTHER, 'Trần Thị Bình', '1990-05-06', 'female'),
        person(ELDER, 'Lê Văn Cường', '1940-01-01', 'male'),
    ]);
    ndjson(path.join(tmp, 'residences.ndjson'), [
        home(FATHER, '1 Phố Đội Cấn'), home(MOTHER, '1 Phố Đội Cấn'), home(ELDER, '3 Phố Đội Cấn'),
    ]);
    lt('import', '--data', data, path.join(tmp, 'people.ndjson'));
    lt('import', '--data', data, path.join(tmp, 'residences.ndjson'));
    return {
        clerk: lt('user', 'token', '--data', data, '--account', 'clerk.00004').trim(),
        officer: lt('user', 'token', '--data', data, '--account', 'officer.01').trim(),
    };
}

async function startServer() {
    const port = await freePort();

    base = 'http://127.0.0.1:' + port;
    // A child silent after 1 s, so that the dashboard flags one without waiting a minute.
    server = spawn(LT, ['serve', '--data', data, '--listen', '127.0.0.1:' + port, '--silent-after', '1'], {
        stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';

    server.stderr.on('data', (b) => (log += b));
    for (let i = 0; i < 100; i++) {
        try {
            if ((await fetch(base + '/healthz')).ok) {
                return;
            }
        } catch (e) {
            // not up yet
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the node did not come up:\n' + log);
}

// The API, as a script would use it: bearer token, no cookie.
async function call(token, method, p, body) {
    const r = await fetch(base + p, {
        method,
        headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json', 'X-Purpose': 'browser test' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });

    return { status: r.status, body: await r.json().catch(() => null) };
}

// The browser.

const csp = []; // violations reported by any page
const pageErrors = [];

async function newContext(browser) {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'vi-VN' });

    await ctx.exposeBinding('__ltCsp', (source, v) => csp.push(v));
    await ctx.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) =>
            window.__ltCsp(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));
    });
    ctx.on('page', (p) => watch(p));
    return ctx;
}

function watch(page) {
    page.on('pageerror', (e) => pageErrors.push(page.url() + ': ' + e.message));
    page.on('console', (m) => {
        if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text())) {
            csp.push(m.text());
        }
    });
}

async function signIn(page, account, query) {
    await page.goto(base + '/login' + (query || ''));
    await page.fill('#account', account);
    await page.fill('#password', PASSWORD);
    await page.click('#login-submit');
}

// With LT_SHOTS=DIR, a screenshot of each page shown, for a person to look at.
async function shot(page, name) {
    if (process.env.LT_SHOTS) {
        await page.screenshot({ path: path.join(process.env.LT_SHOTS, name + '.png'), fullPage: true });
    }
}

function fmtVi(day) {
    return day.slice(8, 10) + '/' + day.slice(5, 7) + '/' + day.slice(0, 4);
}

// Every key the pages name, written out or made from a status, step,
// action or role, is in both languages, and each language has the same keys.
async function checkWords() {
    const { keys } = await import(pathToFileURL(path.join(WEB, 'i18n.js')));
    const k = keys();
    const vi = new Set(k.vi);
    const en = new Set(k.en);
    const used = new Set();

    for (const f of readdirSync(WEB)) {
        const text = readFileSync(path.join(WEB, f), 'utf8');

        for (const m of text.matchAll(/data-i18n="([a-z_]+\.[a-z_.]+)"|\bt\('([a-z_]+\.[a-z_.]+)'/g)) {
            used.add(m[1] || m[2]);
        }
    }
    for (const s of ['received', 'in_review', 'waiting_applicant', 'approved', 'rejected', 'result_returned']) {
        used.add('status.' + s);
    }
    for (const a of ['receive', 'review', 'request_info', 'resume', 'approve', 'reject', 'return_result']) {
        used.add('action.' + a);
    }
    for (const r of ['citizen', 'clerk', 'officer', 'auditor', 'admin', 'node']) {
        used.add('role.' + r);
    }
    for (const st of ['pending', 'approved', 'rejected']) {
        used.add('step.' + st);
    }
    const missing = [...used].filter((x) => !vi.has(x) || !en.has(x));
    const odd = [...vi].filter((x) => !en.has(x)).concat([...en].filter((x) => !vi.has(x)));

    expect(used.size > 100, 'only ' + used.size + ' keys found in the pages');
    expect(missing.length === 0, 'missing: ' + missing.join(', '));
    expect(odd.length === 0, 'in one language only: ' + odd.join(', '));
}

async function main() {
    let tokens;
    let browser;
    let code = '';
    const born = vnDay(-10);
    const child = '0012' + born.slice(2, 4) + '000006'; // Hà Nội, male, born this century

    await step('every word of the pages is there in Vietnamese and in English', checkWords);
    await step('a node: init, a clerk of 00004 and an officer of 01, three people imported', async () => {
        tokens = setUpNode();
        await startServer();
    });
    if (!tokens || !server) {
        return;
    }
    await step('Chromium starts headless', async () => {
        browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    });
    if (!browser) {
        return;
    }
    const clerkCtx = await newContext(browser);
    const page = await clerkCtx.newPage();

    await step('the watch for CSP violations sees a planted inline style', async () => {
        await page.goto(base + '/login');
        await page.evaluate(() => {
            const d = document.createElement('div');

            d.setAttribute('style', 'color: red');
            document.body.append(d);
        });
        await page.waitForTimeout(100);
        expect(csp.length > 0, 'no violation reported');
        csp.length = 0;
    });

    await step('a visit without a session lands on the sign-in page', async () => {
        await page.goto(base + '/receive');
        await page.waitForURL(/\/login\?next=%2Freceive$/);
    });

    await step('a wrong password: the error summary at the top links to the field', async () => {
        await page.fill('#account', 'clerk.00004');
        await page.fill('#password', 'not-the-password-1');
        await page.click('#login-submit');
        await page.waitForSelector('#errors:not([hidden]) a[href="#account"]');
        await page.click('#errors a[href="#account"]');
        eq(await page.evaluate(() => document.activeElement.id), 'account', 'focused');
        await shot(page, 'login-error');
    });

    await step('the clerk signs in: an HttpOnly, SameSite=Strict cookie, back to the page asked for', async () => {
        await page.fill('#password', PASSWORD);
        await page.click('#login-submit');
        await page.waitForURL(base + '/receive');
        const c = (await clerkCtx.cookies()).find((x) => x.name === 'lt_session');

        expect(c && c.httpOnly && c.sameSite === 'Strict' && !c.secure, 'cookie ' + JSON.stringify(c));
        expect(await page.evaluate(() => !!localStorage.getItem('lt.csrf')), 'no csrf value kept');
        eq(await page.evaluate(() => document.cookie), '', 'cookie visible to scripts');
    });

    await step('receive: the composite is in the catalogue; its form is built from its fields', async () => {
        await page.waitForSelector('#procedure option[value="birth_residence_health_insurance"]', { state: 'attached' });
        const group = await page.$eval('#procedure option[value="birth_residence_health_insurance"]', (o) => o.parentElement.label);

        eq(group, 'Thủ tục liên thông', 'group');
        await page.selectOption('#procedure', 'birth_residence_health_insurance');
        await page.waitForSelector('#f-child_id');
        eq(await page.textContent('#time-limit'), '3 ngày làm việc', 'time limit');
        for (const f of ['child_full_name', 'child_birth_date', 'child_sex', 'mother_id', 'residence_unit', 'card_no']) {
            expect(await page.$('#f-' + f), 'no field ' + f);
        }
    });

    await step('an incomplete form is refused before sending, each error linked to its field', async () => {
        await page.click('#receive-submit');
        await page.waitForSelector('#errors:not([hidden])');
        const links = await page.$$eval('#errors a', (as) => as.map((a) => a.getAttribute('href')));

        expect(links.includes('#applicant-id') && links.includes('#f-child_id') && links.includes('#doc-birth_certificate'),
            'links ' + links.join(' '));
        await page.click('#errors a[href="#f-child_id"]');
        await shot(page, 'receive-errors');
        eq(await page.evaluate(() => document.activeElement.id), 'f-child_id', 'focused');
    });

    await step('the applicant found by personal ID; what the registries know is filled in (once only)', async () => {
        await page.fill('#applicant-id', FATHER);
        await page.click('#applicant-lookup');
        await page.waitForSelector('#applicant-name');
        expect((await page.textContent('#applicant-name')).includes('Nguyễn Văn An'), 'applicant name');
        eq(await page.inputValue('#f-father_id'), FATHER, 'father');
        eq(await page.inputValue('#f-residence_unit'), '00004', 'residence unit');
        eq(await page.inputValue('#f-address_line'), '1 Phố Đội Cấn', 'address');
        eq(await page.inputValue('#f-child_ethnicity'), '01', 'ethnic group');
        eq(await page.inputValue('#f-mother_id'), '', 'mother left to the clerk');
        expect((await page.$$('label .tag.registry')).length === 4, 'four fields marked as from the registries');
        await shot(page, 'receive-prefilled');
    });

    await step('the clerk completes the form and receives the dossier', async () => {
        await page.fill('#f-child_id', child);
        await page.fill('#f-child_full_name', 'Nguyễn Văn Bé');
        await page.fill('#f-child_birth_date', born);
        await page.selectOption('#f-child_sex', 'male');
        await page.fill('#f-mother_id', MOTHER);
        await page.press('#f-mother_id', 'Tab');
        await page.waitForFunction(() => document.getElementById('f-mother_id-note').textContent.includes('Trần Thị Bình'));
        await page.fill('#f-card_no', 'TE1010000006');
        await page.check('#doc-birth_certificate');
        await page.check('#doc-declaration');
        await page.click('#receive-submit');
        await page.waitForURL(/\/receipt\?code=/);
        code = new URL(page.url()).searchParams.get('code');
        expect(/^[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}$/.test(code), 'code ' + code);
    });

    await step('the receipt shows the code and the due date, and its print view keeps them', async () => {
        const d = await call(tokens.officer, 'GET', '/api/v1/dossiers/' + code);

        await page.waitForSelector('#receipt:not([hidden])');
        eq(await page.textContent('#receipt-code'), code, 'code');
        eq(await page.textContent('#receipt-due'), fmtVi(d.body.due_date), 'due date');
        expect((await page.textContent('#receipt-applicant')).includes('Nguyễn Văn An'), 'applicant');
        await shot(page, 'receipt');
        await page.emulateMedia({ media: 'print' });
        expect(await page.isVisible('#receipt-due'), 'due date not printed');
        expect(await page.isVisible('#receipt-code'), 'code not printed');
        expect(!(await page.isVisible('#top')) && !(await page.isVisible('#print')), 'navigation printed');
        await shot(page, 'receipt-print');
        await page.emulateMedia({ media: 'screen' });
    });

    await step('the public look-up page: status and due date, nothing about the person', async () => {
        const anon = await browser.newPage();

        watch(anon);
        await anon.goto(base + '/lookup');
        await anon.fill('#code', code);
        await Promise.all([anon.waitForURL(/\/lookup\?code=/), anon.click('button[type="submit"]')]);
        const text = await anon.textContent('#lookup-result');

        expect(text.includes(code) && text.includes('Đã tiếp nhận'), 'result ' + text);
        const body = await anon.textContent('body');

        expect(!body.includes(FATHER) && !body.includes('Nguyễn') && !body.includes(child), 'personal data shown');
        await shot(anon, 'lookup');
        await anon.close();
    });

    // Two more dossiers with other time limits, received by the counter over the API.
    const more = [
        { procedure: 'permanent_residence', id: MOTHER, docs: ['declaration', 'legal_residence'],
          fields: { person_id: MOTHER, residence_unit: '00004', address_line: '5 Phố Đội Cấn' } },
        { procedure: 'residence_removal', id: ELDER, docs: ['declaration'],
          fields: { person_id: ELDER, removal_date: vnDay(0) } },
    ];

    const officerCtx = await newContext(browser);
    const officer = await officerCtx.newPage();

    await step('the officer\'s queue lists the unit\'s dossiers by due date', async () => {
        for (const m of more) {
            const r = await call(tokens.clerk, 'POST', '/api/v1/dossiers', {
                procedure: m.procedure, applicant: { kind: 'person', id: m.id }, channel: 'counter',
                fields: m.fields, documents: m.docs,
            });

            eq(r.status, 201, m.procedure + ' ' + JSON.stringify(r.body));
            m.code = r.body.code;
        }
        // a page of another site to go to after sign-in is ignored: the officer's own page instead
        await signIn(officer, 'officer.01', '?next=' + encodeURIComponent('/\t/example.org/queue'));
        await officer.waitForURL(base + '/queue');
        await officer.waitForSelector('#queue-rows tr[data-code]');
        const rows = await officer.$$eval('#queue-rows tr[data-code]', (trs) => trs.map((tr) => tr.dataset.code));
        const api = await call(tokens.officer, 'GET', '/api/v1/dossiers?unit=01');
        const dues = api.body.dossiers.map((d) => d.due_date);

        eq(rows.length, 3, 'rows');
        eq(rows.join(' '), api.body.dossiers.map((d) => d.code).join(' '), 'order');
        expect(dues.every((d, i) => i === 0 || dues[i - 1] <= d), 'due dates not in order: ' + dues.join(' '));
        expect(dues[0] < dues[2], 'time limits of 1 and 7 days gave ' + dues.join(' '));
        expect(!(await officer.isVisible('#queue-more')), '"show more" offered with nothing more');
    });

    const queueApi = (url) => url.pathname === '/api/v1/dossiers';

    await step('overdue and due-today dossiers are marked in words', async () => {
        const item = (c, due, overdue, today) => ({
            code: c, procedure: { code: 'x', version: 1, name_vi: 'Thủ tục', name_en: 'Procedure' },
            applicant: { kind: 'person', id: FATHER }, channel: 'counter', received_unit: '00004',
            competent_unit: '00004', status: 'in_review', received_at: vnDay(-9) + 'T08:00:00+07:00',
            due_date: due, overdue, due_today: today,
        });

        await officer.route(queueApi, (route) => route.fulfill({
            json: { dossiers: [item('AAA-AAA-AAA', vnDay(-2), true, false), item('BBB-BBB-BBB', vnDay(0), false, true),
                item('CCC-CCC-CCC', vnDay(3), false, false)], next: null },
        }));
        await officer.reload();
        await officer.waitForSelector('tr[data-code="AAA-AAA-AAA"]');
        eq(await officer.textContent('tr[data-code="AAA-AAA-AAA"] .badge'), 'Quá hạn', 'overdue mark');
        eq(await officer.textContent('tr[data-code="BBB-BBB-BBB"] .badge'), 'Đến hạn hôm nay', 'due-today mark');
        eq(await officer.$('tr[data-code="CCC-CCC-CCC"] .badge'), null, 'no mark');
        expect(await officer.$('tr.overdue[data-code="AAA-AAA-AAA"]'), 'overdue row class');
        await shot(officer, 'queue-marks');
        await officer.unroute(queueApi);
        await officer.reload();
        await officer.waitForSelector('#queue-rows tr[data-code="' + code + '"]');
    });

    await step('the officer opens the dossier and approves each step in order', async () => {
        await officer.click('a.code[href="/dossier?code=' + code + '"]');
        await officer.waitForURL(/\/dossier\?code=/);
        await officer.waitForSelector('button[data-action="review"]');
        await officer.click('button[data-action="review"]');
        for (const s of ['birth', 'residence', 'health_insurance']) {
            const button = 'button[data-action="approve"][data-step="' + s + '"]';

            await officer.waitForSelector(button);
            await officer.click(button);
            await officer.waitForSelector('tr[data-step="' + s + '"] .step-approved');
        }
        await officer.waitForSelector('button[data-action="return_result"]');
        eq(await officer.textContent('#dossier-status'), 'Đã giải quyết, chờ trả kết quả', 'status');
        const actors = await officer.$$eval('#timeline .actor', (s) => s.map((x) => x.textContent));

        eq(actors.length, 5, 'timeline entries');
        await shot(officer, 'dossier-approved');
        expect(actors[0].includes('clerk.00004') && actors[4].includes('officer.01'), 'actors ' + actors.join(', '));
    });

    await step('another dossier: wait for the applicant, resume, reject with a reason, hand over', async () => {
        const status = () => officer.textContent('#dossier-status');
        const press = async (action, wanted) => {
            await officer.click('button[data-action="' + action + '"]');
            await officer.waitForFunction((w) => document.getElementById('dossier-status').textContent === w, wanted);
        };

        await officer.goto(base + '/dossier?code=' + more[0].code);
        await officer.waitForSelector('button[data-action="review"]');
        await press('review', 'Đang giải quyết');
        await officer.fill('#note', 'Thiếu hợp đồng thuê nhà');
        await press('request_info', 'Chờ bổ sung (tạm dừng tính thời hạn)');
        await press('resume', 'Đang giải quyết');
        await officer.click('button[data-action="reject"]');
        await officer.waitForSelector('#errors:not([hidden]) a[href="#reason"]');
        eq(await status(), 'Đang giải quyết', 'a rejection without a reason was sent');
        await officer.fill('#reason', 'Chỗ ở không hợp pháp');
        await press('reject', 'Từ chối giải quyết');
        await press('return_result', 'Đã trả kết quả');
        const text = await officer.textContent('#timeline');

        expect(text.includes('Thiếu hợp đồng thuê nhà') && text.includes('Chỗ ở không hợp pháp'), 'timeline ' + text);
        eq((await officer.$$('#timeline li')).length, 6, 'timeline entries');
        eq(await officer.$('#action-buttons button'), null, 'an action offered on a closed dossier');
    });

    await step('the registries hold the child, the permanent residence and the health insurance card', async () => {
        const p = await call(tokens.officer, 'GET', '/api/v1/people/' + child);
        const r = await call(tokens.officer, 'GET', '/api/v1/residences/' + child + '/permanent');
        const b = await call(tokens.officer, 'GET', '/api/v1/benefits/' + child + '/health_insurance');

        eq(p.status, 200, 'person');
        eq(p.body.record.mother_id, MOTHER, 'mother');
        eq(p.body.record.father_id, FATHER, 'father');
        eq(r.status, 200, 'residence');
        eq(r.body.record.unit, '00004', 'residence unit');
        eq(b.status, 200, 'benefit');
        eq(b.body.record.status, 'active', 'card');
        eq(b.body.record.card_no, 'TE1010000006', 'card number');
    });

    await step('the language switch: English on the spot, remembered on the next page', async () => {
        await officer.goto(base + '/dossier?code=' + code);
        await officer.waitForSelector('button[data-action="return_result"]');
        await officer.click('#lang-switch');
        await officer.waitForFunction(() => document.documentElement.lang === 'en');
        eq(await officer.textContent('#dossier-status'), 'Approved, result to hand over', 'status in English');
        eq(await officer.textContent('#dossier-h1'), 'Dossier ' + code, 'heading');
        await officer.goto(base + '/queue');
        await officer.waitForSelector('#queue-rows tr');
        eq(await officer.textContent('h1'), 'Dossier queue', 'next page');
        eq(await officer.evaluate(() => document.documentElement.lang), 'en', 'lang attribute');
        await shot(officer, 'queue-en');
        await officer.click('#lang-switch');
        eq(await officer.textContent('h1'), 'Hàng chờ hồ sơ', 'back to Vietnamese');
    });

    await step('the result is handed over; the look-up says so', async () => {
        await officer.goto(base + '/dossier?code=' + code);
        await officer.waitForSelector('button[data-action="return_result"]');
        await officer.click('button[data-action="return_result"]');
        await officer.waitForFunction(() => document.getElementById('dossier-status').textContent === 'Đã trả kết quả');
        const r = await fetch(base + '/api/v1/public/dossiers/' + code).then((x) => x.json());

        eq(r.status, 'result_returned', 'public status');
    });

    await step('indicators of the unit for the year', async () => {
        await officer.goto(base + '/indicators');
        await officer.waitForSelector('#indicators-rows tr[data-unit="01"]');
        const cells = await officer.$$eval('#indicators-rows tr[data-unit="01"] td', (tds) => tds.map((td) => td.textContent));

        eq(cells[1], '3', 'received');
        eq(cells[2], '2', 'settled');
        await shot(officer, 'indicators');
    });

    await step('the sync dashboard flags a silent child node', async () => {
        const childDir = path.join(tmp, 'child');
        const token = lt('enrol', '--data', data, '--child-unit', '00004').trim();

        lt('init', '--data', childDir, '--unit', '00004', '--parent', base);
        lt('enrol', '--data', childDir, '--token', token);
        await new Promise((r) => setTimeout(r, 1200)); // past --silent-after 1
        await officer.goto(base + '/nodes');
        await officer.waitForSelector('#children tr[data-unit="00004"]');
        eq(await officer.textContent('#children tr[data-unit="00004"] .badge'), 'Im lặng', 'silent mark');
        expect(await officer.$('#children tr.silent[data-unit="00004"]'), 'silent row');
        expect((await officer.textContent('#sync-summary')).includes('1 nút cấp dưới'), 'summary');
        await shot(officer, 'nodes');
    });

    await step('keyboard only: the skip link comes first, then the form; Enter signs in', async () => {
        const kb = await newContext(browser);
        const k = await kb.newPage();

        await k.goto(base + '/login');
        await k.waitForSelector('#lang-switch');
        await k.keyboard.press('Tab');
        eq(await k.evaluate(() => document.activeElement.className), 'skip', 'first stop');
        await k.keyboard.press('Enter');
        await k.keyboard.press('Tab');
        eq(await k.evaluate(() => document.activeElement.id), 'account', 'after the skip link');
        await k.keyboard.type('officer.01');
        await k.keyboard.press('Tab');
        await k.keyboard.type(PASSWORD);
        await k.keyboard.press('Enter');
        await k.waitForURL(base + '/queue');
        await kb.close();
    });

    await step('sign-out ends the session: the cookie goes, pages send back to sign-in', async () => {
        await officer.goto(base + '/');
        await officer.waitForSelector('#tasks li');
        await shot(officer, 'home');
        await officer.click('#logout');
        await officer.waitForURL(base + '/login');
        expect(!(await officerCtx.cookies()).some((c) => c.name === 'lt_session' && c.value), 'cookie kept');
        await officer.goto(base + '/queue');
        await officer.waitForURL(/\/login\?next=%2Fqueue$/);
        const r = await call(tokens.officer, 'GET', '/api/v1/auth/me');

        eq(r.status, 200, 'the other session (a bearer token) lives on');
    });

    await step('no page broke the Content Security Policy or threw', async () => {
        expect(csp.length === 0, 'violations:\n' + csp.join('\n'));
        expect(pageErrors.length === 0, 'errors:\n' + pageErrors.join('\n'));
    });

    await browser.close();
}

function finish() {
    const ms = Date.now() - started;

    report(ms < BUDGET_MS, 'the browser run took ' + (ms / 1000).toFixed(1) + ' s (budget ' + BUDGET_MS / 1000 + ' s)');
    if (server) {
        server.kill('SIGTERM');
    }
    rmSync(tmp, { recursive: true, force: true });
    console.log('1..' + count);
    process.exitCode = failed ? 1 : 0;
}

const guard = setTimeout(() => {
    report(false, 'the browser run ended within ' + (2 * BUDGET_MS) / 1000 + ' s');
    finish();
    process.exit(1);
}, 2 * BUDGET_MS);

main()
    .catch((e) => report(false, 'the run went to its end', e.stack))
    .finally(() => {
        clearTimeout(guard);
        finish();
    });
