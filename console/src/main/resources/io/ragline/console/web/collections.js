// Collections (the pipeline registry): counts by status and the last error, create, change the
// chunking, pause and resume, re-embed, delete.
import {button, errorText, formValues, h, link, show, status, time} from './dom.js';
import {del, patch, post, seg} from './api.js';
import {confirmAction, pagedTable} from './ui.js';

const NUMBERS = ['dimensions', 'chunk_size_tokens', 'chunk_overlap_tokens', 'm', 'ef_construction', 'ef_search',
  'lists', 'probes'];

/** A form's values as a request body: whole numbers as JSON numbers, a ticked box as true, the rest as typed. */
export function body(form) {
  const values = formValues(form);
  for (const k of NUMBERS) if (k in values && /^-?\d+$/.test(values[k])) values[k] = Number(values[k]);
  if (values.halfvec === 'true') values.halfvec = true;
  return values;
}

export async function render(ctx) {
  const list = await pagedTable('/collections', {}, [
    {label: 'name', cell: (c) => link(c.name, '#/documents?collection=' + encodeURIComponent(c.name))},
    {label: 'status', cell: (c) => status(c.status)},
    {label: 'model', cell: (c) => `${show(c.embedding_provider)} ${show(c.embedding_model)} (${show(c.dimensions)})`},
    {label: 'chunks', cell: (c) => `${show(c.chunk_size_tokens)} tokens, ${show(c.chunk_overlap_tokens)} overlap`},
    {label: 'index', cell: (c) => indexText(c)},
    {label: 'received', cell: (c) => show(c.counts?.received)},
    {label: 'chunked', cell: (c) => show(c.counts?.chunked)},
    {label: 'embedded', cell: (c) => show(c.counts?.embedded)},
    {label: 'failed', cell: (c) => show(c.counts?.failed)},
    {label: 'deleted', cell: (c) => show(c.counts?.deleted)},
    {label: 'last error', cell: (c) => errorText(c.last_error)},
    {label: 'updated', cell: (c) => time(c.updated_at)},
    {label: '', cell: (c) => actions(ctx, c)},
  ], (c) => c.name);
  ctx.main.append(h('h1', {}, 'Collections'), list, h('h2', {}, 'New collection'), createForm(ctx));
}

/** The vector index as chosen at creation: type, distance, storage and its parameters; full-text configuration. */
export function indexText(c) {
  const params = c.index === 'ivfflat'
    ? `lists ${show(c.lists)}, probes ${show(c.probes)}`
    : `m ${show(c.m)}, ef_construction ${show(c.ef_construction)}, ef_search ${show(c.ef_search)}`;
  return `${show(c.index)} ${show(c.distance)}${c.halfvec ? ' halfvec' : ''} (${params}); text ${show(c.text_config)}`;
}

function actions(ctx, c) {
  const path = '/collections/' + seg(c.name);
  const paused = String(c.status).toLowerCase() === 'paused';
  return h('div', {class: 'actions'},
      paused
        ? button('Resume', () => ctx.act(() => post(path + '/resume'), `Resumed ${c.name}.`), {data: {action: 'resume'}})
        : button('Pause', () => ctx.act(() => post(path + '/pause'), `Paused ${c.name}.`), {data: {action: 'pause'}}),
      button('Re-embed', async () => {
        if (await confirmAction(`Embed every document of ${c.name} again? Each one is chunked and embedded anew.`, 'Re-embed')) {
          await ctx.act(() => post(path + '/reembed'), (r) => `Re-embedding ${show(r?.documents)} documents of ${c.name}.`);
        }
      }, {data: {action: 'reembed'}}),
      button('Edit', (event) => {
        const cell = event.target.closest('td');
        if (!cell.querySelector('form')) cell.append(editForm(ctx, c));
      }, {data: {action: 'edit'}}),
      button('Delete', async () => {
        if (await confirmAction(`Delete the collection ${c.name} with all its documents and vectors?`, 'Delete')) {
          await ctx.act(() => del(path), `Deleted ${c.name}.`);
        }
      }, {class: 'danger', data: {action: 'delete'}}));
}

function editForm(ctx, c) {
  const form = h('form', {class: 'edit-collection'},
      field('Chunk size (tokens)', 'chunk_size_tokens', c.chunk_size_tokens),
      field('Overlap (tokens)', 'chunk_overlap_tokens', c.chunk_overlap_tokens),
      field('Chunk template', 'chunk_template', c.chunk_template),
      h('button', {type: 'submit'}, 'Save'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.act(() => patch('/collections/' + seg(c.name), body(form)), `Saved ${c.name}.`);
  });
  return form;
}

function createForm(ctx) {
  const form = h('form', {id: 'create-collection', class: 'grid-form'},
      field('Name', 'name', '', {required: true, placeholder: 'docs'}),
      field('Embedding provider', 'embedding_provider', '', {placeholder: 'default'}),
      field('Embedding model', 'embedding_model', '', {placeholder: 'default'}),
      field('Dimensions', 'dimensions', '', {inputmode: 'numeric'}),
      field('Chunk size (tokens)', 'chunk_size_tokens', '', {inputmode: 'numeric'}),
      field('Overlap (tokens)', 'chunk_overlap_tokens', '', {inputmode: 'numeric'}),
      field('Chunk template', 'chunk_template', ''),
      choice('Distance', 'distance', [['', 'default (cosine)'], ['cosine', 'cosine'], ['l2', 'L2'],
        ['inner_product', 'inner product']]),
      choice('Index', 'index', [['', 'default (HNSW)'], ['hnsw', 'HNSW'], ['ivfflat', 'IVFFlat']]),
      field('HNSW m', 'm', '', {inputmode: 'numeric', placeholder: '16'}),
      field('HNSW ef_construction', 'ef_construction', '', {inputmode: 'numeric', placeholder: '64'}),
      field('HNSW ef_search', 'ef_search', '', {inputmode: 'numeric', placeholder: '40'}),
      field('IVFFlat lists', 'lists', '', {inputmode: 'numeric'}),
      field('IVFFlat probes', 'probes', '', {inputmode: 'numeric'}),
      h('label', {}, 'Half-precision vectors (halfvec)', h('input', {name: 'halfvec', type: 'checkbox', value: 'true'})),
      field('Text search configuration', 'text_config', '', {placeholder: 'english'}),
      h('p', {class: 'hint'}, 'Distance, index, storage and text configuration are fixed once the collection exists.'),
      h('button', {type: 'submit', id: 'create-collection-submit'}, 'Create'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = body(form);
    ctx.act(() => post('/collections', values), `Created the collection ${values.name}.`);
  });
  return form;
}

function choice(label, name, options) {
  return h('label', {}, label, h('select', {name}, options.map(([value, text]) => h('option', {value}, text))));
}

export function field(label, name, value, attrs = {}) {
  return h('label', {}, label, h('input', {name, value: value ?? '', ...attrs}));
}
