// Events (claude_events): list filtered by source, type and status; one with its payload; replay
// one, or the ones ticked.
import {button, errorText, fields, formValues, h, json, link, show, status, time} from './dom.js';
import {get, post, query} from './api.js';
import {confirmAction, pagedTable} from './ui.js';

const STATUSES = ['', 'received', 'published', 'processed', 'failed', 'ignored'];

export async function render(ctx) {
  if (ctx.id) return renderOne(ctx, ctx.id);
  const filters = Object.fromEntries(['source', 'type', 'status'].map((k) => [k, ctx.params.get(k) ?? '']));
  const list = await pagedTable('/events', filters, [
    {label: '', cell: (e) => h('input', {type: 'checkbox', class: 'pick', value: e.id, 'aria-label': 'select event ' + e.id})},
    {label: 'id', cell: (e) => link(String(e.id), '#/events/' + e.id)},
    'source',
    'event_type',
    {label: 'status', cell: (e) => status(e.status)},
    {label: 'received', cell: (e) => time(e.received_at)},
    {label: 'routed', cell: (e) => time(e.routed_at)},
    {label: 'error', cell: (e) => errorText(e.error)},
    'delivery_id',
    'replays',
    {label: '', cell: (e) => replayButton(ctx, e.id)},
  ], (e) => e.id);
  const replaySelected = button('Replay selected', async () => {
    const ids = [...list.querySelectorAll('input.pick:checked')].map((c) => Number(c.value));
    if (ids.length === 0) return;
    if (await confirmAction(`Replay ${ids.length} events? Each is routed again to its topic.`, 'Replay')) {
      await ctx.act(() => post('/events/replay', {ids}), (r) => `Replayed ${show(r?.replayed)} events.`);
    }
  }, {id: 'replay-selected'});
  ctx.main.append(h('h1', {}, 'Events'), filterForm(ctx, filters), list, replaySelected);
}

function replayButton(ctx, id) {
  return button('Replay', async () => {
    if (await confirmAction(`Replay event ${id}? It is routed again to its topic.`, 'Replay')) {
      await ctx.act(() => post('/events/' + id + '/replay'), `Replayed event ${id}.`);
    }
  }, {data: {action: 'replay'}});
}

function filterForm(ctx, filters) {
  const form = h('form', {id: 'event-filters', class: 'filters'},
      h('label', {}, 'Source ', h('input', {name: 'source', value: filters.source})),
      h('label', {}, 'Type ', h('input', {name: 'type', value: filters.type})),
      h('label', {}, 'Status ', h('select', {name: 'status'},
          STATUSES.map((s) => h('option', {value: s, selected: s === filters.status}, s || 'any')))),
      h('button', {type: 'submit'}, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.go('#/events' + query(formValues(form)));
  });
  return form;
}

async function renderOne(ctx, id) {
  const e = await get('/events/' + encodeURIComponent(id));
  ctx.main.append(
      h('h1', {}, 'Event ', String(e.id), ' ', status(e.status)),
      h('div', {class: 'actions'}, replayButton(ctx, e.id)),
      fields(e, Object.keys(e).filter((k) => !['id', 'payload', 'headers'].includes(k))),
      h('h2', {}, 'Payload'), json(e.payload ?? null),
      h('h2', {}, 'Headers'), json(e.headers ?? {}));
}
