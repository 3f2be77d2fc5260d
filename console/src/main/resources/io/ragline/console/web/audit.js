// Audit log: every mutating call of the API, newest first (who, role, what, on what, outcome).
import {h, show, status, time} from './dom.js';
import {pagedTable} from './ui.js';

export async function render(ctx) {
  const list = await pagedTable('/audit', {}, [
    'id',
    {label: 'at', cell: (a) => time(a.at)},
    'who',
    'role',
    {label: 'action', cell: (a) => h('code', {}, show(a.action))},
    'target',
    'status',
    {label: 'outcome', cell: (a) => status(a.outcome)},
  ], (a) => a.id);
  ctx.main.append(h('h1', {}, 'Audit log'), list);
}
