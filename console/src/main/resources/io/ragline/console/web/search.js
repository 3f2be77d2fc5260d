// Search: the embedding-worker's /search behaviour (POST /api/v1/search, the same Searcher).
import {formValues, h, json, link, show, table} from './dom.js';
import {post} from './api.js';
import {clearMessages, showProblem} from './ui.js';

export async function render(ctx) {
  const results = h('div', {id: 'search-results'});
  const form = h('form', {id: 'search-form', class: 'filters'},
      h('label', {}, 'Query ', h('input', {name: 'query', type: 'search', required: true, size: 40})),
      h('label', {}, 'Collection ', h('input', {name: 'collection', placeholder: 'default'})),
      h('label', {}, 'k ', h('input', {name: 'k', inputmode: 'numeric', size: 4, placeholder: '5'})),
      h('label', {}, 'Filter ', h('input', {name: 'filter', placeholder: '{"lang": "en"}', size: 24})),
      h('button', {type: 'submit', id: 'search-submit'}, 'Search'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearMessages();
    try {
      const answer = await post('/search', request(form));
      results.replaceChildren(resultsView(answer.results ?? []));
    } catch (e) {
      results.replaceChildren();
      if (e.status !== 401) showProblem(e);
    }
  });
  ctx.main.append(h('h1', {}, 'Search'), form, results);
}

function request(form) {
  const v = formValues(form);
  const body = {query: v.query ?? ''};
  if (v.collection) body.collection = v.collection;
  if (v.k) body.k = /^\d+$/.test(v.k) ? Number(v.k) : v.k;
  if (v.filter) {
    try {
      body.filter = JSON.parse(v.filter);
    } catch {
      body.filter = v.filter; // the API names what is wrong with it
    }
  }
  return body;
}

function resultsView(results) {
  return h('div', {},
      h('p', {class: 'hint'}, results.length + (results.length === 1 ? ' chunk' : ' chunks') + ', best first'),
      table([
        {label: 'score', cell: (r) => (typeof r.score === 'number' ? r.score.toFixed(4) : show(r.score))},
        'document_id',
        'title',
        {label: 'content', cell: (r) => h('div', {class: 'chunk'}, show(r.content))},
        {label: 'metadata', cell: (r) => json(r.metadata ?? {})},
        {label: 'chunk', cell: (r) => show(r.chunk_id)},
      ], results, (r) => r.chunk_id),
      results.length ? null : link('Documents', '#/documents'));
}
