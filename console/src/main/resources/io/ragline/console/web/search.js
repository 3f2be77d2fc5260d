// Search: the embedding-worker's /search behaviour (POST /api/v1/search, the same Searcher): the
// mode (hybrid, vector, text), a metadata filter, one hit per document or every chunk, a minimum
// score and neighbouring chunks as context.
import {formValues, h, json, link, show, table} from './dom.js';
import {post} from './api.js';
import {clearMessages, showProblem} from './ui.js';

const MODES = [
  ['hybrid', 'hybrid (vector + full text, fused)'],
  ['vector', 'vector'],
  ['text', 'full text'],
];

export async function render(ctx) {
  const results = h('div', {id: 'search-results'});
  const form = h('form', {id: 'search-form', class: 'filters'},
      h('label', {}, 'Query ', h('input', {name: 'query', type: 'search', required: true, size: 40})),
      h('label', {}, 'Collection ', h('input', {name: 'collection', placeholder: 'default'})),
      h('label', {}, 'Mode ', h('select', {name: 'mode'},
          MODES.map(([value, label]) => h('option', {value}, label)))),
      h('label', {}, 'k ', h('input', {name: 'k', inputmode: 'numeric', size: 4, placeholder: '5'})),
      h('label', {}, 'Filter ', h('input', {name: 'filter', placeholder: '{"lang": "en"}', size: 24})),
      h('label', {}, 'Min score ', h('input', {name: 'min_score', inputmode: 'decimal', size: 6})),
      h('label', {}, 'Context chunks ', h('input', {name: 'context', inputmode: 'numeric', size: 3, placeholder: '0'})),
      h('label', {}, h('input', {name: 'every_chunk', type: 'checkbox', value: 'true'}), ' every matching chunk'),
      h('button', {type: 'submit', id: 'search-submit'}, 'Search'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessages();
    const body = request(form);
    try {
      const answer = await post('/search', body);
      results.replaceChildren(resultsView(answer.results ?? [], body));
    } catch (e) {
      results.replaceChildren();
      if (e.status !== 401) showProblem(e);
    }
  });
  ctx.main.append(h('h1', {}, 'Search'), form, results);
}

/** The form as the API's request: numbers typed as numbers, anything else left for the API to name. */
export function request(form) {
  const v = formValues(form);
  const body = {query: v.query ?? '', mode: v.mode ?? 'hybrid'};
  if (v.collection) body.collection = v.collection;
  if (v.k) body.k = number(v.k);
  if (v.min_score) body.min_score = number(v.min_score);
  if (v.context) body.context = number(v.context);
  if (v.every_chunk) body.group_by_document = false;
  if (v.filter) {
    try {
      body.filter = JSON.parse(v.filter);
    } catch {
      body.filter = v.filter; // the API names what is wrong with it
    }
  }
  return body;
}

function number(text) {
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

function resultsView(results, body) {
  const grouped = body.group_by_document !== false;
  const noun = grouped ? ['document', 'documents'] : ['chunk', 'chunks'];
  return h('div', {},
      h('p', {class: 'hint'}, `${results.length} ${results.length === 1 ? noun[0] : noun[1]}, best first (${body.mode})`),
      table([
        {label: 'score', cell: (r) => h('span', {title: scoreTitle(r)}, decimal(r.score))},
        'document_id',
        'title',
        {label: 'content', cell: (r) => contentView(r)},
        {label: 'metadata', cell: (r) => json(r.metadata ?? {})},
        {label: 'chunk', cell: (r) => show(r.chunk_id)},
        {label: 'position', cell: (r) => positions(r, grouped)},
      ], results, (r) => r.chunk_id),
      results.length ? null : link('Documents', '#/documents'));
}

function decimal(value) {
  return typeof value === 'number' ? value.toFixed(4) : show(value);
}

/** The parts a hybrid score is fused from, as a tooltip. */
function scoreTitle(r) {
  const parts = [];
  if (r.vector_score !== undefined && r.vector_score !== null) parts.push('vector ' + decimal(r.vector_score));
  if (r.text_score !== undefined && r.text_score !== null) parts.push('text ' + decimal(r.text_score));
  return parts.join(', ');
}

/** The best chunk, with its neighbours (context) before and after it in document order. */
function contentView(r) {
  const context = Array.isArray(r.context) ? r.context : [];
  if (!context.length) return h('div', {class: 'chunk'}, show(r.content));
  const pieces = [...context.map((c) => ({seq: c.seq, content: c.content, hit: false})),
    {seq: r.seq, content: r.content, hit: true}].sort((a, b) => a.seq - b.seq);
  return h('div', {class: 'chunk-context'}, pieces.map((p) =>
    h('div', {class: p.hit ? 'chunk hit' : 'chunk context', data: {seq: p.seq}}, show(p.content))));
}

function positions(r, grouped) {
  const others = (r.matching_chunks ?? []).filter((s) => s !== r.seq);
  if (!grouped || !others.length) return show(r.seq);
  return `${show(r.seq)} (also ${others.join(', ')})`;
}
