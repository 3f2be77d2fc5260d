// Building the page. Every datum becomes a text node or an attribute value, never markup: this
// module is the only place that creates elements, and it has no innerHTML.

/** An element: h('a', {href: '#/x', onclick: f}, 'text', child, [more]). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'data') for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    else if (key === 'value') el.value = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A value as text: none as a dash, objects as JSON. */
export function show(value) {
  if (value === undefined || value === null || value === '') return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A timestamp of the API (ISO-8601 UTC) shortened for a table. */
export function time(iso) {
  if (!iso) return '—';
  return h('time', {datetime: iso}, timeText(iso));
}

/** The same as text, inside a sentence. */
export function timeText(iso) {
  return iso ? String(iso).replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}

/** A JSON value, pretty-printed in a <pre>. */
export function json(value) {
  let text = value;
  if (typeof value === 'string') {
    try {
      text = JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      text = value;
    }
  } else {
    text = JSON.stringify(value, null, 2);
  }
  return h('pre', {class: 'json'}, text ?? '—');
}

export function status(value) {
  return h('span', {class: 'status status-' + String(value ?? 'none').toLowerCase().replace(/[^a-z0-9]+/g, '-')},
      show(value));
}

/**
 * A table: columns are [{label, cell(item) -> node|text}] (or strings: the item's field); rows
 * carry data-id when idOf is given, so a test or a stylesheet can find one.
 */
export function table(columns, items, idOf) {
  const cols = columns.map((c) => (typeof c === 'string' ? {label: c, cell: (it) => show(it[c])} : c));
  const body = h('tbody');
  const t = h('table', {},
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, c.label)))),
      body);
  addRows(t, cols, items, idOf);
  t.columns = cols;
  t.idOf = idOf;
  return t;
}

export function addRows(t, cols, items, idOf) {
  const body = t.tBodies[0];
  for (const item of items) {
    body.append(h('tr', {data: idOf ? {id: idOf(item)} : undefined}, cols.map((c) => h('td', {}, c.cell(item)))));
  }
  if (body.rows.length === 0) {
    body.append(h('tr', {class: 'empty'}, h('td', {colspan: cols.length}, 'Nothing here.')));
  } else {
    for (const row of [...body.querySelectorAll('tr.empty')]) row.remove();
  }
}

/** The fields of an object as a definition list. */
export function fields(object, names) {
  const keys = names ?? Object.keys(object ?? {});
  return h('dl', {class: 'fields'}, keys.map((k) => [h('dt', {}, k), h('dd', {}, show(object?.[k]))]));
}

/** The union of the items' keys, in first-seen order, for a table of rows whose shape we do not fix. */
export function keysOf(items) {
  const keys = [];
  for (const item of items) for (const k of Object.keys(item)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

export function button(label, onclick, attrs = {}) {
  return h('button', {type: 'button', ...attrs, onclick}, label);
}

export function link(label, href) {
  return h('a', {href}, label);
}

/** The form's named fields as an object of strings (empty ones left out). */
export function formValues(form) {
  const values = {};
  for (const [k, v] of new FormData(form).entries()) {
    if (typeof v === 'string' && v.trim() !== '') values[k] = v.trim();
  }
  return values;
}

/** An error message in red, or a plain dash when there is none. */
export function errorText(value) {
  return value === undefined || value === null || value === '' ? '—' : h('span', {class: 'error-text'}, show(value));
}
