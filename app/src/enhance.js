// Inlined into every page's <head> (with the page's CSP nonce). It does what a page needs before,
// or without, the WASM:
// - the sign-in, set-up and lock pages ("light", no WASM) and any page still loading its WASM
//   post their forms natively; the button then says it is sending and a second submit is
//   ignored;
// - a form the server refused comes back with the error on its field: what was typed (never a
//   password) is put back and the first invalid field gets the focus;
// - a button that needs the WASM says the page is still loading instead of doing nothing;
// - a locked page sent without the WASM loads again when another tab unlocks.
// `html[data-ready]` is set once the page's buttons act: at once on light pages, after hydration
// on the others (frontend/src/lib.rs).
(() => {
  const html = document.documentElement;
  const full = html.dataset.app === 'full';
  const hydrated = () => document.body && document.body.dataset.hydrated === '1';
  const KEY = 'portcullis:typed';
  const UNLOCKING = 'portcullis:unlocking';

  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || (full && hydrated())) return;
    if (form.dataset.sending) {
      e.preventDefault();
      return;
    }
    form.dataset.sending = '1';
    form.setAttribute('aria-busy', 'true');
    const button = e.submitter || form.querySelector('[type=submit]');
    if (button) {
      if (button.dataset.busy) button.textContent = button.dataset.busy;
      button.setAttribute('aria-busy', 'true');
      // After the browser has read the form: a disabled submitter would drop out of it.
      setTimeout(() => { button.disabled = true; });
    }
    const typed = {};
    for (const el of form.elements) {
      if (!el.name || el.type === 'password' || el.type === 'hidden') continue;
      if (el.type === 'checkbox' || el.type === 'radio') { if (el.checked) typed[el.name + '=' + el.value] = true; }
      else if (el instanceof HTMLInputElement) typed[el.name] = el.value;
    }
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ action: form.getAttribute('action'), typed }));
      if (form.closest('.lock-card') && form.querySelector('[name=passcode]')) sessionStorage.setItem(UNLOCKING, '1');
    } catch (_) {}
  }, true);

  // Back to a page the browser kept: its forms are not sending any more.
  addEventListener('pageshow', (e) => {
    if (!e.persisted) return;
    for (const form of document.querySelectorAll('form[data-sending]')) {
      delete form.dataset.sending;
      form.removeAttribute('aria-busy');
      for (const b of form.querySelectorAll('[aria-busy=true]')) { b.disabled = false; b.removeAttribute('aria-busy'); }
    }
  });

  document.addEventListener('click', (e) => {
    if (!full || hydrated()) return;
    const button = e.target instanceof Element && e.target.closest('button[type=button]');
    if (!button) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    let note = document.getElementById('loading-note');
    if (!note) {
      note = document.createElement('p');
      note.id = 'loading-note';
      note.className = 'loading-note';
      note.setAttribute('role', 'status');
      document.body.append(note);
    }
    note.textContent = 'Still loading. Try again in a moment.';
  }, true);

  // A locked page without the WASM follows another tab that unlocks or signs out: it loads
  // again and the server decides what it shows (the key is `browser::tell_other_tabs`'s).
  addEventListener('storage', (e) => {
    if (!full && e.key === 'portcullis-lock' && e.newValue && !e.newValue.startsWith('lock:') && document.querySelector('.lock-card')) location.reload();
  });

  document.addEventListener('DOMContentLoaded', () => {
    // A server function sends the browser back to the page with an empty query: tidy it.
    if (location.search === '?' || location.href.endsWith('?')) history.replaceState(history.state, '', location.pathname + location.hash);
    // Unlocked by posting the lock screen's form: tell the other tabs, as the WASM does.
    try {
      if (sessionStorage.getItem(UNLOCKING) && !document.querySelector('.lock-card')) {
        sessionStorage.removeItem(UNLOCKING);
        localStorage.setItem('portcullis-lock', 'unlock:' + Date.now());
      }
    } catch (_) {}
    const query = new URLSearchParams(location.search);
    if (query.has('__err')) {
      let saved = null;
      try { saved = JSON.parse(sessionStorage.getItem(KEY) || 'null'); sessionStorage.removeItem(KEY); } catch (_) {}
      const form = saved && [...document.forms].find((f) => f.getAttribute('action') === saved.action);
      if (form) {
        for (const el of form.elements) {
          if (!el.name || el.type === 'password' || el.type === 'hidden') continue;
          if (el.type === 'checkbox' || el.type === 'radio') el.checked = !!saved.typed[el.name + '=' + el.value];
          else if (el instanceof HTMLInputElement && !el.value && typeof saved.typed[el.name] === 'string') el.value = saved.typed[el.name];
        }
      }
      const invalid = document.querySelector('[aria-invalid=true]');
      if (invalid) invalid.focus();
      // The error is on the page now; a reload should not show it again. (A hydrating page
      // reads it from the address, so only light pages tidy it.)
      if (!full) {
        query.delete('__err');
        query.delete('__path');
        const rest = query.toString();
        history.replaceState(history.state, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
      }
    }
    if (!full) html.dataset.ready = '1';
  });
})();
