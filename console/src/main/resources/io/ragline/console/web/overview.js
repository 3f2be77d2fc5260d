// Overview: outbox backlog, dispatcher lease, consumer lag, workers' readiness (GET /system) and
// their throughput and error rates (GET /system/rates), refreshed every few seconds.
import {append, errorText, h, keysOf, show, status, table, timeText} from './dom.js';
import {get} from './api.js';
import {showProblem} from './ui.js';

const REFRESH_MS = 5000;

export async function render(ctx) {
  const system = h('div', {id: 'system'});
  const rates = h('div', {id: 'rates'});
  const stamp = h('span', {id: 'refreshed'});
  ctx.main.append(h('h1', {}, 'Overview'), h('p', {class: 'hint'}, 'Refreshed every 5 s. ', stamp), system, rates);
  await refresh(ctx, system, rates, stamp);
  ctx.every(REFRESH_MS, () => refresh(ctx, system, rates, stamp).catch(showProblem));
}

async function refresh(ctx, system, rates, stamp) {
  const [s, r] = await Promise.all([get('/system'), get('/system/rates')]);
  if (!ctx.current()) return;
  system.replaceChildren();
  append(system, systemView(s));
  rates.replaceChildren();
  append(rates, ratesView(r));
  stamp.textContent = 'Last: ' + new Date().toISOString().slice(11, 19) + ' UTC';
}

function systemView(s) {
  const lag = s.consumer_lag;
  const totalLag = (lag ?? []).reduce((sum, l) => sum + (Number(l.lag) || 0), 0);
  const problems = s.problems ?? [];
  return [
    problems.length ? h('ul', {class: 'warnings', id: 'system-problems'}, problems.map((p) => h('li', {}, show(p)))) : null,
    h('div', {class: 'cards'},
        card('Outbox backlog', show(s.outbox?.backlog), 'outbox-backlog'),
        card('Oldest outbox row', s.outbox?.oldest_age_seconds == null ? '—' : s.outbox.oldest_age_seconds + ' s', 'outbox-age'),
        card('Outbox dead letters', show(s.outbox?.dead_letters), 'outbox-dead-letters'),
        card('Consumer lag', lag == null ? 'unreadable' : String(totalLag), 'total-lag'),
        card('Dispatcher lease', show(s.dispatcher?.lease_holder), 'lease-holder',
            s.dispatcher?.lease_expires_at ? 'until ' + timeText(s.dispatcher.lease_expires_at) : null),
        card('Version', show(s.version), 'version',
            s.schema_version ? 'schema ' + s.schema_version : null)),
    h('h2', {}, 'Workers'),
    table([
      'name',
      {label: 'ready', cell: (w) => status(w.ready ? 'ready' : 'not ready')},
      'admin_url',
      'detail',
    ], s.workers ?? [], (w) => w.name),
    h('h2', {}, 'Consumer lag'),
    lag == null ? h('p', {class: 'error-text'}, 'Kafka did not answer.') : table(['group', 'topic', 'partition', 'committed', 'end', 'lag'], lag),
    s.postgres_version ? h('p', {class: 'hint'}, 'PostgreSQL ' + s.postgres_version) : null,
  ];
}

function ratesView(r) {
  const workers = r.workers ?? [];
  const columns = keysOf(workers).map((k) => ({
    label: k.replaceAll('_', ' '),
    cell: (w) => (k === 'error' ? errorText(w[k]) : typeof w[k] === 'number' ? rate(w[k]) : show(w[k])),
  }));
  return [h('h2', {}, 'Throughput and errors (per second)'), table(columns.length ? columns : ['name'], workers, (w) => w.name)];
}

function rate(n) {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function card(label, value, id, note) {
  return h('div', {class: 'card', id}, h('div', {class: 'card-label'}, label), h('div', {class: 'card-value'}, value),
      note ? h('div', {class: 'card-note'}, note) : null);
}
