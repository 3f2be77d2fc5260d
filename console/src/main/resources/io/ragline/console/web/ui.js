// What every page shares: the problem and notice lines, the confirmation and edit dialogs, and
// paged tables (the API's {items, next} lists, one "More" at a time).
import {addRows, append, button, h, table} from './dom.js';
import {get, query} from './api.js';

const problemBox = () => document.getElementById('problem');
const noticeBox = () => document.getElementById('notice');

/** Shows an API problem (title, detail, each field's error) or any other error. */
export function showProblem(error) {
  const p = error?.problem ?? {title: 'Error', detail: String(error?.message ?? error)};
  const box = problemBox();
  box.replaceChildren(
      h('strong', {class: 'problem-title'}, p.title),
      p.detail ? h('span', {class: 'problem-detail'}, ' ' + p.detail) : null);
  if (p.errors && typeof p.errors === 'object') {
    append(box, h('ul', {class: 'problem-errors'},
        Object.entries(p.errors).map(([field, message]) => h('li', {}, h('code', {}, field), ' ' + message))));
  }
  box.hidden = false;
}

export function clearMessages() {
  problemBox().hidden = true;
  problemBox().replaceChildren();
  noticeBox().hidden = true;
  noticeBox().replaceChildren();
}

export function notify(message) {
  noticeBox().replaceChildren(message);
  noticeBox().hidden = false;
}

function ask(dialog, onOpen) {
  return new Promise((resolve) => {
    onOpen();
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), {once: true});
    dialog.returnValue = '';
    dialog.showModal();
  });
}

/** Asks before a destructive action; true when the operator confirmed. */
export function confirmAction(message, action = 'Confirm') {
  const dialog = document.getElementById('confirm');
  return ask(dialog, () => {
    document.getElementById('confirm-message').textContent = message;
    document.getElementById('confirm-ok').textContent = action;
  });
}

/** Lets the operator edit a text (a message before a redrive); null when cancelled. */
export async function editText(message, text) {
  const dialog = document.getElementById('edit');
  const area = document.getElementById('edit-text');
  const ok = await ask(dialog, () => {
    document.getElementById('edit-message').textContent = message;
    area.value = text ?? '';
  });
  return ok ? area.value : null;
}

/** A table of an API list, with a "More" button while the answer has a next cursor. */
export async function pagedTable(path, params, columns, idOf) {
  const first = await get(path + query(params));
  const t = table(columns, first.items, idOf);
  let next = first.next;
  const more = button('More', async () => {
    try {
      more.disabled = true;
      const page = await get(path + query({...params, after: next}));
      addRows(t, t.columns, page.items, idOf);
      next = page.next;
    } catch (e) {
      showProblem(e);
    } finally {
      more.disabled = false;
      more.hidden = !next;
    }
  }, {class: 'more'});
  more.hidden = !next;
  return h('div', {class: 'list'}, t, more);
}
