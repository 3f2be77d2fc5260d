// Dead letters: the Kafka dead-letter topics (by partition and offset, with their reason) and the
// outbox's dead letters; redrive (optionally with a fixed message) and discard, each recorded.
import {button, errorText, fields, h, json, keysOf, link, show, table, time, timeText} from './dom.js';
import {get, post, query, seg} from './api.js';
import {confirmAction, editText, pagedTable} from './ui.js';

export async function render(ctx) {
  if (ctx.id) return renderTopic(ctx, ctx.id);
  const topics = await get('/dead-letters/topics');
  const outbox = await get('/dead-letters/outbox');
  ctx.main.append(
      h('h1', {}, 'Dead letters'),
      h('h2', {}, 'Kafka dead-letter topics'),
      table([
        {label: 'topic', cell: (t) => link(t.topic, '#/dead-letters/' + encodeURIComponent(t.topic))},
        'source_topic',
        {label: 'records', cell: (t) => String(count(t))},
        {label: 'partitions', cell: (t) => (t.partitions ?? []).map((p) => `${p.partition}: ${p.start_offset}–${p.end_offset}`).join(', ')},
      ], topics.items ?? [], (t) => t.topic),
      h('h2', {}, 'Outbox dead letters'),
      outboxTable(ctx, outbox));
}

function count(t) {
  return (t.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.end_offset) - Number(p.start_offset)), 0);
}

function outboxTable(ctx, outbox) {
  const items = outbox.items ?? [];
  const columns = keysOf(items).map((k) => ({
    label: k,
    cell: (row) => (k === 'payload' ? json(row[k]) : k.endsWith('_at') ? time(row[k]) : show(row[k])),
  }));
  columns.push({label: '', cell: (row) => outboxActions(ctx, row)});
  return table(columns.length > 1 ? columns : ['id'], items, (row) => row.id);
}

function outboxActions(ctx, row) {
  const path = '/dead-letters/outbox/' + row.id;
  return h('div', {class: 'actions'},
      button('Redrive', async () => {
        if (await confirmAction(`Put outbox dead letter ${row.id} back into the outbox? It is published again.`, 'Redrive')) {
          await ctx.act(() => post(path + '/redrive'), `Redrove outbox dead letter ${row.id}.`);
        }
      }, {data: {action: 'redrive'}}),
      button('Discard', async () => {
        if (await confirmAction(`Discard outbox dead letter ${row.id}? It is never published.`, 'Discard')) {
          await ctx.act(() => post(path + '/discard'), `Discarded outbox dead letter ${row.id}.`);
        }
      }, {class: 'danger', data: {action: 'discard'}}));
}

async function renderTopic(ctx, topic) {
  const all = await get('/dead-letters/topics');
  const t = (all.items ?? []).find((x) => x.topic === topic);
  const partitions = t?.partitions ?? [];
  const chosen = ctx.params.has('partition')
    ? Number(ctx.params.get('partition'))
    : (partitions.find((p) => p.end_offset > p.start_offset) ?? partitions[0])?.partition ?? 0;
  const start = partitions.find((p) => p.partition === chosen)?.start_offset ?? 0;
  const params = {partition: chosen, offset: ctx.params.get('offset') ?? start, limit: ctx.params.get('limit') ?? 50};
  const list = await pagedTable('/dead-letters/topics/' + seg(topic) + '/records', params, [
    'partition',
    'offset',
    {label: 'time', cell: (r) => time(r.timestamp)},
    'key',
    {label: 'reason', cell: (r) => errorText(r.reason)},
    {label: 'value', cell: (r) => h('div', {class: 'chunk'}, show(r.value), r.value_truncated ? ' (cut)' : null)},
    {label: 'headers', cell: (r) => json(r.headers ?? {})},
    {label: 'done', cell: (r) => (r.disposition ? `${r.disposition.action} by ${r.disposition.by} at ${timeText(r.disposition.at)}` : '—')},
    {label: '', cell: (r) => recordActions(ctx, topic, r)},
  ], (r) => `${r.partition}-${r.offset}`);
  ctx.main.append(
      h('h1', {}, 'Dead letters of ', topic),
      t ? fields(t, ['source_topic']) : null,
      h('nav', {class: 'partitions'}, 'Partition: ', partitions.map((p) =>
        link(`${p.partition} (${p.start_offset}–${p.end_offset})`,
            '#/dead-letters/' + encodeURIComponent(topic) + query({partition: p.partition})))),
      list);
}

function recordActions(ctx, topic, r) {
  const path = `/dead-letters/topics/${seg(topic)}/records/${r.partition}/${r.offset}`;
  const at = `${topic}-${r.partition} offset ${r.offset}`;
  return h('div', {class: 'actions'},
      button('Redrive', async () => {
        if (await confirmAction(`Publish ${at} again to its source topic as it is?`, 'Redrive')) {
          await ctx.act(() => post(path + '/redrive'), (a) => redriven(a, at));
        }
      }, {data: {action: 'redrive'}}),
      button('Fix and redrive', async () => {
        const cut = r.value_truncated ? ' (the listing cut this value: give the whole message)' : '';
        const value = await editText(`The message to publish instead of ${at}${cut}:`, r.value ?? '');
        if (value !== null) await ctx.act(() => post(path + '/redrive', {value}), (a) => redriven(a, at));
      }, {data: {action: 'fix-redrive'}}),
      button('Discard', async () => {
        if (await confirmAction(`Discard ${at}? It is marked discarded and never redriven.`, 'Discard')) {
          await ctx.act(() => post(path + '/discard'), `Discarded ${at}.`);
        }
      }, {class: 'danger', data: {action: 'discard'}}));
}

function redriven(answer, at) {
  return answer?.topic ? `Redrove ${at} to ${answer.topic}-${answer.partition} offset ${answer.offset}.` : `Redrove ${at}.`;
}
