// The console's shell: the hash router (#/page/id?filters), the sign-in box, and the page's
// lifecycle (a page's timers stop when another page opens). Pages live in their own modules.
import {h} from './dom.js';
import {onUnauthorized, setToken, token} from './api.js';
import {clearMessages, notify, showProblem} from './ui.js';
import * as overview from './overview.js';
import * as collections from './collections.js';
import * as documents from './documents.js';
import * as search from './search.js';
import * as events from './events.js';
import * as deadLetters from './dead-letters.js';
import * as training from './training.js';
import * as audit from './audit.js';

const PAGES = {
  'overview': overview,
  'collections': collections,
  'documents': documents,
  'search': search,
  'events': events,
  'dead-letters': deadLetters,
  'training': training,
  'audit': audit,
};

let generation = 0;
let timers = [];

function parse(hash) {
  const [path, q] = hash.replace(/^#\/?/, '').split('?');
  const [page, ...rest] = path.split('/').filter((s) => s !== '');
  return {
    page: PAGES[page] ? page : 'overview',
    id: rest.length ? decodeURIComponent(rest.join('/')) : null,
    params: new URLSearchParams(q ?? ''),
  };
}

/** Renders the page the address names; keepMessages leaves an action's notice on screen. */
async function route(keepMessages = false) {
  const mine = ++generation;
  timers.forEach(clearTimeout);
  timers = [];
  if (!keepMessages) clearMessages();
  const {page, id, params} = parse(location.hash);
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('current', a.id === 'nav-' + page);
  }
  const main = document.getElementById('main');
  main.dataset.loaded = '';
  main.setAttribute('aria-busy', 'true');
  const container = h('div', {class: 'page', id: 'page-' + page});
  const ctx = {
    main: container,
    id,
    params,
    current: () => mine === generation,
    // The next call is scheduled when the last one has ended: a slow answer never stacks requests up.
    every(ms, fn) {
      const tick = async () => {
        if (mine !== generation) return;
        try {
          await fn();
        } catch (e) {
          // the page shows its own problems; the refresh goes on
        }
        if (mine === generation) timers.push(setTimeout(tick, ms));
      };
      if (mine === generation) timers.push(setTimeout(tick, ms));
    },
    go(hash) {
      location.hash = hash;
    },
    /** Runs an action, shows what it did, and renders the page again with fresh data. */
    async act(fn, message) {
      clearMessages();
      try {
        const result = await fn();
        notify(typeof message === 'function' ? message(result) : message);
        await route(true);
      } catch (e) {
        if (e.status !== 401) showProblem(e);
      }
    },
  };
  try {
    await PAGES[page].render(ctx);
  } catch (e) {
    if (mine !== generation) return;
    if (e.status === 401) return;
    showProblem(e);
  }
  if (mine !== generation) return;
  document.getElementById('login').hidden = true;
  main.hidden = false;
  main.replaceChildren(container);
  main.removeAttribute('aria-busy');
  main.dataset.loaded = page;
}

function showTokenState() {
  const has = Boolean(token());
  document.getElementById('token-state').textContent = has ? 'token in use' : '';
  document.getElementById('sign-out').hidden = !has;
}

function showLogin(problem) {
  generation++;
  timers.forEach(clearTimeout);
  timers = [];
  document.getElementById('login-reason').textContent = token()
    ? 'The API refused the token (401' + (problem?.detail ? ': ' + problem.detail : '') + '). Give another.'
    : 'The API answered 401: it needs a bearer token (one of RAGLINE_API_TOKENS).';
  document.getElementById('main').hidden = true;
  document.getElementById('login').hidden = false;
  document.getElementById('login-token').focus();
}

function start() {
  onUnauthorized(showLogin);
  document.getElementById('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const field = document.getElementById('login-token');
    setToken(field.value.trim());
    field.value = '';
    showTokenState();
    route();
  });
  document.getElementById('sign-out').addEventListener('click', () => {
    setToken(null);
    showTokenState();
    route();
  });
  window.addEventListener('hashchange', () => route());
  showTokenState();
  route();
}

start();
