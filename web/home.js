// home.js - the home page: the tasks of the signed-in account's role.

import { t, h, $, clear, requireSession, startPage, tasksFor, onLangChange, unitName, roleText } from '/static/common.js';

const WHAT = {
    '/receive': 'home.receive',
    '/queue': 'home.queue',
    '/indicators': 'home.indicators',
    '/nodes': 'home.nodes',
    '/lookup': 'home.lookup',
};

async function main() {
    const who = await requireSession();
    const unit = await unitName(who.unit);

    startPage(who);
    function render() {
        $('#greeting').textContent = t('nav.signed_in', { account: who.account, role: roleText(who.role), unit });
        const list = clear($('#tasks'));

        for (const task of tasksFor(who.role)) {
            list.append(h('li', {}, h('a', { href: task.href }, t(task.key)), h('p', {}, t(WHAT[task.href]))));
        }
    }
    render();
    onLangChange(render);
}

main();
