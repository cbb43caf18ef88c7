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
  // What may be put back after a refusal: never a password, a one-time code or a server value.
  const kept = (el) => el.name && el.type !== 'password' && el.type !== 'hidden' && el.autocomplete !== 'one-time-code';
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
      if (button.dataset.busy) {
        button.dataset.label = button.textContent;
        button.textContent = button.dataset.busy;
      }
      button.setAttribute('aria-busy', 'true');
      // After the browser has read the form: a disabled submitter would drop out of it.
      setTimeout(() => { button.disabled = true; });
    }
    const typed = {};
    for (const el of form.elements) {
      if (!kept(el)) continue;
      if (el.type === 'checkbox' || el.type === 'radio') { if (el.checked) typed[el.name + '=' + el.value] = true; }
      else if (el instanceof HTMLInputElement) typed[el.name] = el.value;
    }
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ action: form.getAttribute('action'), index: [...document.forms].indexOf(form), typed }));
      if (form.closest('.lock-card') && form.querySelector('[name=passcode]')) sessionStorage.setItem(UNLOCKING, '1');
    } catch (_) {}
  }, true);

  // Back to a page the browser kept: its forms are not sending any more.
  addEventListener('pageshow', (e) => {
    if (!e.persisted) return;
    for (const form of document.querySelectorAll('form[data-sending]')) {
      delete form.dataset.sending;
      form.removeAttribute('aria-busy');
      for (const b of form.querySelectorAll('[aria-busy=true]')) {
        b.disabled = false;
        b.removeAttribute('aria-busy');
        if (b.dataset.label) b.textContent = b.dataset.label;
      }
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
    // Unlocked by posting the lock screen's passcode: the page that comes back is a signed-in
    // one without the lock screen; tell the other tabs, as the WASM does.
    try {
      if (sessionStorage.getItem(UNLOCKING)) {
        sessionStorage.removeItem(UNLOCKING);
        if (full && !document.querySelector('.lock-card')) localStorage.setItem('portcullis-lock', 'unlock:' + Date.now());
      }
    } catch (_) {}
    const query = new URLSearchParams(location.search);
    // What was typed is only for the answer to that very submit.
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(KEY) || 'null'); sessionStorage.removeItem(KEY); } catch (_) {}
    if (query.has('__err')) {
      const form = saved && document.forms[saved.index];
      if (form && form.getAttribute('action') === saved.action) {
        for (const el of form.elements) {
          if (!kept(el)) continue;
          if (el.type === 'checkbox' || el.type === 'radio') el.checked = !!saved.typed[el.name + '=' + el.value];
          else if (el instanceof HTMLInputElement && !el.value && typeof saved.typed[el.name] === 'string') el.value = saved.typed[el.name];
        }
      }
      // The field in error, else the first required one still empty (the password after a
      // refused sign-in, the username being put back).
      const restored = saved && document.forms[saved.index];
      const next = document.querySelector('[aria-invalid=true]')
        || (restored && [...restored.elements].find((el) => el.required && !el.value));
      if (next) next.focus();
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

// Passkey sign-in on the sign-in page (`[data-passkey-sign-in]`, shown only when this instance
// can use passkeys), without the WASM: "Sign in with a passkey" opens the browser's dialog, and
// the browser's autofill offers passkeys in the username field (conditional mediation). A
// signed-in browser loads the sign-in page again, which sends it on (to `rd` when given).
(() => {
  const start = () => {
    const box = document.querySelector('[data-passkey-sign-in]');
    const PKC = window.PublicKeyCredential;
    if (!box || !PKC || !PKC.parseRequestOptionsFromJSON || !navigator.credentials) return;
    const button = box.querySelector('[data-passkey-start]');
    const error = box.querySelector('[data-passkey-error]');
    const remember = document.querySelector('input[name=remember]');
    let waiting = null;
    const say = (text) => {
      error.textContent = text;
      error.hidden = !text;
    };
    const post = (url, body) => fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const run = async (autofill) => {
      // A click stops the autofill request first (the browser runs one request at a time).
      const controller = new AbortController();
      waiting = controller;
      const opened = await post('/api/users/login/passkey/options', { autofill });
      if (controller.signal.aborted) return;
      if (!opened.ok) throw new Error((await opened.json()).error || 'Passkey sign-in is not available.');
      const { challengeId, options } = await opened.json();
      const publicKey = PKC.parseRequestOptionsFromJSON(options.publicKey);
      const request = { publicKey, signal: controller.signal };
      if (autofill) request.mediation = 'conditional';
      const credential = await navigator.credentials.get(request);
      button.disabled = true;
      button.textContent = 'Signing in…';
      const done = await post('/api/users/login/passkey', {
        challengeId,
        credential: credential.toJSON(),
        rememberMe: !!(remember && remember.checked),
      });
      if (done.ok) {
        location.reload();
        return;
      }
      button.disabled = false;
      button.textContent = 'Sign in with a passkey';
      throw new Error(done.status === 401 ? 'That passkey did not sign you in. Try again or use your password.' : (await done.json()).error);
    };
    const quiet = (e) => e && (e.name === 'AbortError' || e.name === 'NotAllowedError');
    button.hidden = false;
    button.addEventListener('click', async () => {
      say('');
      if (waiting) waiting.abort();
      try {
        await run(false);
      } catch (e) {
        if (!quiet(e)) say(e.message || 'Passkey sign-in failed.');
        else if (e.name === 'NotAllowedError') say('No passkey was chosen.');
      }
    });
    if (PKC.isConditionalMediationAvailable) {
      PKC.isConditionalMediationAvailable().then((yes) => {
        if (yes) run(true).catch((e) => { if (!quiet(e)) say(e.message || 'Passkey sign-in failed.'); });
      });
    }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
