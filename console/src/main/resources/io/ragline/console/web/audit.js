// Audit log: every mutating call of the API and every refusal, newest first (who, role, what, on
// what, outcome), filtered by caller.
import {formValues, h, show, status, time} from './dom.js';
import {query} from './api.js';
import {pagedTable} from './ui.js';

export async function render(ctx) {
  const who = ctx.params.get('who') ?? '';
  const list = await pagedTable('/audit', {who}, [
    'id',
    {label: 'at', cell: (a) => time(a.at)},
    'who',
    'role',
    {label: 'action', cell: (a) => h('code', {}, show(a.action))},
    {label: 'target', cell: (a) => h('code', {}, show(a.target))},
    {label: 'status', cell: (a) => statusCode(a.status)},
    {label: 'outcome', cell: (a) => h('div', {class: 'outcome'}, show(a.outcome))},
    {label: 'finished', cell: (a) => time(a.finished_at)},
  ], (a) => a.id);
  const form = h('form', {id: 'audit-filters', class: 'filters'},
      h('label', {}, 'Who ', h('input', {name: 'who', value: who, placeholder: 'a token name'})),
      h('button', {type: 'submit'}, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.go('#/audit' + query(formValues(form)));
  });
  ctx.main.append(h('h1', {}, 'Audit log'), form, list);
}

function statusCode(code) {
  if (code == null) return status('running');
  return h('span', {class: 'status ' + (code < 400 ? 'status-ok' : 'status-failed')}, String(code));
}
