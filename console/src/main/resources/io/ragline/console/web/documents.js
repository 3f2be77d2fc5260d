// Documents: list filtered by collection, status and text; one document with its chunks and their
// vector state; publish (through Kafka, as any producer), delete, re-embed.
import {button, errorText, fields, formValues, h, json, link, show, status, table, time} from './dom.js';
import {del, get, post, query, seg} from './api.js';
import {confirmAction, pagedTable, showProblem} from './ui.js';

const STATUSES = ['', 'received', 'chunked', 'embedded', 'failed', 'deleted'];
const EXAMPLE = {op: 'upsert', collection: 'default', id: 'doc-1', title: 'A title', content: 'The text.', metadata: {}};

export async function render(ctx) {
  if (ctx.id) return renderOne(ctx, ctx.id);
  const filters = Object.fromEntries(['collection', 'status', 'q'].map((k) => [k, ctx.params.get(k) ?? '']));
  const list = await pagedTable('/documents', filters, [
    {label: 'id', cell: (d) => link(String(d.id), '#/documents/' + d.id)},
    'collection',
    'external_id',
    'title',
    {label: 'status', cell: (d) => status(d.status)},
    'version',
    'chunk_count',
    {label: 'error', cell: (d) => errorText(d.error)},
    {label: 'updated', cell: (d) => time(d.updated_at)},
  ], (d) => d.id);
  ctx.main.append(h('h1', {}, 'Documents'), filterForm(ctx, filters), list, h('h2', {}, 'Publish a document'), publishForm(ctx));
}

function filterForm(ctx, filters) {
  const form = h('form', {id: 'document-filters', class: 'filters'},
      h('label', {}, 'Collection ', h('input', {name: 'collection', value: filters.collection})),
      h('label', {}, 'Status ', h('select', {name: 'status'},
          STATUSES.map((s) => h('option', {value: s, selected: s === filters.status}, s || 'any')))),
      h('label', {}, 'Id or title ', h('input', {name: 'q', value: filters.q, type: 'search'})),
      h('button', {type: 'submit'}, 'Filter'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.go('#/documents' + query(formValues(form)));
  });
  return form;
}

function publishForm(ctx) {
  const area = h('textarea', {name: 'message', rows: 8, cols: 80, spellcheck: 'false'});
  area.value = JSON.stringify(EXAMPLE, null, 2);
  const form = h('form', {id: 'publish-document'},
      h('p', {class: 'hint'}, 'A message of the documents topic; the console publishes it to Kafka like any producer.'),
      area, h('div', {}, h('button', {type: 'submit'}, 'Publish')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    let message;
    try {
      message = JSON.parse(area.value);
    } catch (e) {
      showProblem({problem: {title: 'Not JSON', detail: e.message}});
      return;
    }
    ctx.act(() => post('/documents', message), (r) => `Published to ${r.topic}-${r.partition} at offset ${r.offset}.`);
  });
  return form;
}

async function renderOne(ctx, id) {
  const d = await get('/documents/' + seg(id));
  const path = '/documents/' + seg(d.id);
  ctx.main.append(
      h('h1', {}, 'Document ', String(d.id), ' ', status(d.status)),
      h('div', {class: 'actions'},
          button('Re-embed', () => ctx.act(() => post(path + '/reembed'), `Re-embedding document ${d.id}.`), {data: {action: 'reembed'}}),
          button('Delete', async () => {
            if (await confirmAction(`Delete the document ${d.external_id} of ${d.collection}? Its chunks and vectors go too.`, 'Delete')) {
              await ctx.act(() => del(path), `Deleting document ${d.id}.`);
            }
          }, {class: 'danger', data: {action: 'delete'}})),
      fields(d, ['collection', 'external_id', 'title', 'status', 'version', 'chunk_count', 'error', 'source', 'updated_at']),
      h('h2', {}, 'Metadata'), json(d.metadata ?? {}),
      h('h2', {}, 'Chunks'),
      table([
        'seq',
        'token_count',
        {label: 'embedded', cell: (c) => status(c.embedded ? 'embedded' : 'no vector')},
        'model',
        {label: 'content', cell: (c) => h('div', {class: 'chunk'}, show(c.content))},
      ], d.chunks ?? [], (c) => c.seq));
}
