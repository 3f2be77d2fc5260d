// Training: request a job, list jobs, one job with its metrics and model, cancel, deploy a model,
// roll a project back, schedules.
import {button, errorText, fields, h, json, keysOf, link, show, status, table, time} from './dom.js';
import {del, get, post, seg} from './api.js';
import {confirmAction, pagedTable, showProblem} from './ui.js';

// A training topic request; the API gives it a request_id when it has none.
const REQUEST = {
  project: 'sections',
  task: 'classification',
  backend: 'builtin',
  data: {collection: 'default', label_path: 'section'},
};

export async function render(ctx) {
  if (ctx.id) return renderOne(ctx, ctx.id);
  const jobs = await pagedTable('/training/jobs', {}, [
    {label: 'id', cell: (j) => link(String(j.id), '#/training/' + j.id)},
    'project',
    'task',
    'algorithm',
    {label: 'status', cell: (j) => status(j.status)},
    {label: 'accuracy', cell: (j) => (typeof j.accuracy === 'number' ? j.accuracy.toFixed(3) : '—')},
    {label: 'requested', cell: (j) => time(j.requested_at)},
    {label: 'started', cell: (j) => time(j.started_at)},
    {label: 'finished', cell: (j) => time(j.finished_at)},
    {label: 'error', cell: (j) => errorText(j.error)},
    {label: '', cell: (j) => (j.finished_at ? null : cancelButton(ctx, j))},
  ], (j) => j.id);
  const schedules = await get('/training/schedules');
  ctx.main.append(
      h('h1', {}, 'Training jobs'), jobs,
      h('h2', {}, 'Request training'),
      jsonForm(ctx, 'request-training', REQUEST, 'Request', (body) => post('/training/jobs', body), 'Training requested.'),
      h('h2', {}, 'Schedules'), schedulesTable(ctx, schedules.items ?? []),
      h('h2', {}, 'New schedule'),
      jsonForm(ctx, 'create-schedule', {name: 'daily-sections', every: '24h', min_new_labelled: 0, request: REQUEST}, 'Create schedule',
          (body) => post('/training/schedules', body), 'Schedule created.'));
}

function cancelButton(ctx, j) {
  return button('Cancel', async () => {
    if (await confirmAction(`Cancel training job ${j.id} (${j.project})?`, 'Cancel job')) {
      await ctx.act(() => post('/training/jobs/' + j.id + '/cancel'), `Cancelled training job ${j.id}.`);
    }
  }, {class: 'danger', data: {action: 'cancel'}});
}

function schedulesTable(ctx, items) {
  const columns = keysOf(items).map((k) => ({label: k, cell: (s) => (typeof s[k] === 'object' && s[k] ? json(s[k]) : show(s[k]))}));
  columns.push({label: '', cell: (s) => button('Delete', async () => {
    if (await confirmAction(`Delete the schedule ${s.name}?`, 'Delete')) {
      await ctx.act(() => del('/training/schedules/' + seg(s.name)), `Deleted the schedule ${s.name}.`);
    }
  }, {class: 'danger', data: {action: 'delete'}})});
  return table(columns.length > 1 ? columns : ['name'], items, (s) => s.name);
}

function jsonForm(ctx, id, example, label, send, message) {
  const area = h('textarea', {name: 'body', rows: 9, cols: 80, spellcheck: 'false'});
  area.value = JSON.stringify(example, null, 2);
  const form = h('form', {id}, area, h('div', {}, h('button', {type: 'submit'}, label)));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(area.value);
    } catch (e) {
      showProblem({problem: {title: 'Not JSON', detail: e.message}});
      return;
    }
    ctx.act(() => send(body), message);
  });
  return form;
}

async function renderOne(ctx, id) {
  const j = await get('/training/jobs/' + encodeURIComponent(id));
  const models = Array.isArray(j.models) ? j.models : j.model ? [j.model] : [];
  const shown = ['id', 'status', 'metrics', 'model', 'models'];
  ctx.main.append(
      h('h1', {}, 'Training job ', String(j.id), ' ', status(j.status)),
      h('div', {class: 'actions'},
          j.finished_at ? null : cancelButton(ctx, j),
          button('Roll the project back', async () => {
            if (await confirmAction(`Roll ${j.project} back to the model deployed before?`, 'Roll back')) {
              await ctx.act(() => post('/training/projects/' + seg(j.project) + '/rollback'), `Rolled ${j.project} back.`);
            }
          }, {class: 'danger', data: {action: 'rollback'}})),
      fields(j, Object.keys(j).filter((k) => !shown.includes(k))),
      h('h2', {}, 'Metrics'), metricsTable(j.metrics),
      h('h2', {}, 'Models'), models.length ? modelsTable(ctx, j, models) : h('p', {}, 'No model.'));
}

function modelsTable(ctx, j, models) {
  const columns = keysOf(models).map((k) => ({label: k, cell: (m) => (k.endsWith('_at') ? time(m[k]) : show(m[k]))}));
  columns.push({label: '', cell: (m) => (m.deployed ? null : button('Deploy', async () => {
    if (await confirmAction(`Deploy model ${m.id} for ${j.project}? It replaces the deployed one.`, 'Deploy')) {
      await ctx.act(() => post('/training/models/' + m.id + '/deploy'), `Deployed model ${m.id}.`);
    }
  }, {data: {action: 'deploy'}}))});
  return table(columns, models, (m) => m.id);
}

function metricsTable(metrics) {
  if (!metrics || typeof metrics !== 'object') return h('p', {}, 'No metrics.');
  const rows = Array.isArray(metrics) ? metrics : Object.entries(metrics).map(([name, value]) => ({name, value}));
  return table(keysOf(rows).map((k) => ({label: k, cell: (r) => (typeof r[k] === 'number' ? r[k].toFixed(4) : show(r[k]))})), rows);
}
