// Inlined into every page's <head> (with the page's CSP nonce). It does what a page needs before,
// or without, the WASM:
// - the sign-in, set-up and lock pages ("light", no WASM) and any page still loading its WASM
//   post their forms natively; the button then says it is sending and a second submit is
//   ignored;
// - a form the server refused comes back with the error on its field: what was typed (never a
//   password) is put back and the first invalid field gets the focus;
// - a button that needs the WASM says the page is still loading instead of doing nothing;
// - a passcode (masked text) becomes a password field where the browser cannot mask text;
// - after a hydrated form is refused, its first invalid field gets the focus;
// - a locked page sent without the WASM loads again when another tab unlocks.
// `html[data-ready]` is set once the page's buttons act: at once on light pages, after hydration
// on the others (frontend/src/lib.rs).
(() => {
  const html = document.documentElement;
  const full = html.dataset.app === 'full';
  const hydrated = () => document.body && document.body.dataset.hydrated === '1';
  const KEY = 'portcullis:typed';
  // What may be put back after a refusal: never a password, a one-time code or a server value.
  const kept = (el) => el.name && el.type !== 'password' && el.type !== 'hidden' && el.autocomplete !== 'one-time-code'
    && !el.classList.contains('masked');
  // A passcode is masked text (see `.masked`); a browser that cannot mask text gets a password
  // field the moment one is focused, before anything is typed.
  if (!(window.CSS && CSS.supports('-webkit-text-security', 'disc'))) {
    document.addEventListener('focusin', (e) => {
      if (e.target instanceof HTMLInputElement && e.target.classList.contains('masked')) e.target.type = 'password';
    });
  }
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

  // A hydrated form the server refused: the first field marked invalid gets the focus, unless
  // the person has already moved on to another field.
  new MutationObserver((changes) => {
    for (const { target } of changes) {
      if (target.getAttribute('aria-invalid') !== 'true' || !target.form) continue;
      const active = document.activeElement;
      const idle = !active || active === document.body || (active.form === target.form && active.type === 'submit');
      const first = target.form.querySelector('[aria-invalid="true"]');
      if (idle && first) first.focus();
      return;
    }
  }).observe(html, { subtree: true, attributes: true, attributeFilter: ['aria-invalid'] });
})();

// Passkeys on the pages that load no WASM, and on the lock screen whichever way it was drawn.
// A `[data-passkey]` box holds a "… with a passkey" button (`[data-passkey-start]`) and its
// error line (`[data-passkey-error]`); boxes show only where the browser has WebAuthn's JSON
// helpers (`html[data-passkeys]`, see style). The box names what it is for:
// - `sign-in`: passwordless sign-in over REST, also offered by the browser's autofill in the
//   username field (conditional mediation); signed in, the sign-in page loads again and the
//   server sends the browser on (to `rd` when given);
// - otherwise the address of a server function (`/rpc/passkey/…`): its `/options` begins the
//   ceremony and it finishes it, with the fields of the form `data-passkey-form` names (never a
//   code or password), and answers where to go next ("" for: this page, unlocked).
(() => {
  const PKC = window.PublicKeyCredential;
  if (!PKC || !PKC.parseRequestOptionsFromJSON || !navigator.credentials || !navigator.credentials.get) return;
  const html = document.documentElement;
  html.dataset.passkeys = '1';
  // A server function's refusal names its kind; these are the ones a passkey step meets.
  const WORDS = {
    InvalidToken: 'This sign-in step has expired or was already used. Start again with your password.',
    PasskeyFailed: 'That passkey did not check out. Try again.',
    PasskeyNotFound: 'Your account has no passkey.',
    PasskeysUnavailable: 'Passkeys are not available on this address.',
    Unauthenticated: 'Your session has ended. Sign in again.',
    AccountLocked: 'This session is locked. Unlock it first.',
  };
  const reason = async (res) => {
    let b = null;
    try { b = await res.json(); } catch (_) {}
    if (b && typeof b.error === 'string' && b.error) return b.error;
    if (b && typeof b.message === 'string' && b.message) return b.message;
    if (b && b.remaining_time) return 'Too many attempts. Try again in ' + Math.ceil(b.remaining_time / 60) + ' minute(s).';
    if (b && WORDS[b.kind]) return WORDS[b.kind];
    return res.status >= 500 ? 'Portcullis could not answer. Try again in a moment.' : 'That did not work. Try again.';
  };
  const post = (url, body, json, signal) => fetch(url, {
    method: 'POST',
    signal,
    credentials: 'same-origin',
    headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: json ? JSON.stringify(body) : new URLSearchParams(body),
  });
  const secret = (name) => ['code', 'passcode', 'password', 'challenge_id', 'credential'].includes(name);
  const fieldsOf = (box) => {
    const out = {};
    const form = box.dataset.passkeyForm && document.getElementById(box.dataset.passkeyForm);
    if (!form) return out;
    for (const [k, v] of new FormData(form)) if (!secret(k) && typeof v === 'string') out[k] = v;
    return out;
  };
  class Refused extends Error {}
  // One ceremony: the server's options, the browser's dialog (or autofill), the server again.
  // `onAnswer` runs once the browser has answered (the busy state starts there for autofill).
  const ceremony = async (box, autofill, signal, onAnswer) => {
    const rest = box.dataset.passkey === 'sign-in';
    const fields = fieldsOf(box);
    const opened = rest
      ? await post('/api/users/login/passkey/options', { autofill }, true, signal)
      : await post(box.dataset.passkey + '/options', fields, false, signal);
    if (!opened.ok) throw new Refused(await reason(opened));
    const body = await opened.json();
    const options = rest ? body.options : JSON.parse(body.options);
    const request = { publicKey: PKC.parseRequestOptionsFromJSON(options.publicKey), signal };
    if (autofill) request.mediation = 'conditional';
    const credential = await navigator.credentials.get(request);
    onAnswer();
    const remember = document.querySelector('input[name=remember]');
    const done = rest
      ? await post('/api/users/login/passkey', {
        challengeId: body.challengeId,
        credential: credential.toJSON(),
        rememberMe: !!(remember && remember.checked),
      }, true)
      : await post(box.dataset.passkey, {
        ...fields,
        challenge_id: body.challenge_id,
        credential: JSON.stringify(credential.toJSON()),
      }, false);
    if (!done.ok) {
      throw new Refused(rest && done.status === 401
        ? 'That passkey did not sign you in. Try again or use your password.'
        : await reason(done));
    }
    return rest ? '' : await done.json();
  };
  // Signed in, unlocked or confirmed: on to `to`, or this page again. An unlocked lock screen
  // tells the other tabs; a hydrated page takes the news without loading again.
  const arrive = (box, to) => {
    if (to) return location.assign(to);
    if (box.closest('.lock-card')) {
      try { localStorage.setItem('portcullis-lock', 'unlock:' + Date.now()); } catch (_) {}
      if (document.body && document.body.dataset.hydrated === '1') {
        dispatchEvent(new Event('portcullis-unlocked'));
        return false;
      }
    }
    location.reload();
  };
  const say = (box, text) => {
    const line = box.querySelector('[data-passkey-error]');
    if (!line) return;
    line.textContent = text;
    line.hidden = !text;
  };
  const busy = (button, on) => {
    if (on) {
      if (!button.dataset.label) button.dataset.label = button.textContent;
      button.textContent = button.dataset.busy || 'Checking…';
      button.setAttribute('aria-busy', 'true');
      button.disabled = true;
    } else {
      if (button.dataset.label) button.textContent = button.dataset.label;
      button.removeAttribute('aria-busy');
      button.disabled = false;
    }
  };
  const failure = (e) => {
    if (e instanceof Refused) return e.message;
    if (e && e.name === 'NotAllowedError') return 'No passkey was used (cancelled or timed out).';
    if (e && e.name === 'AbortError') return '';
    if (e instanceof TypeError) return 'Portcullis could not be reached. Check the connection and try again.';
    return 'Your browser could not use a passkey here.';
  };

  // The sign-in page's autofill: one request waits for the browser's suggestions; a click on
  // the button stops it first (the browser runs one request at a time), and it waits again
  // after the button's ceremony. Nothing is said unless a passkey was picked.
  let autofill = null;
  const waitForAutofill = (box) => {
    if (!PKC.isConditionalMediationAvailable || autofill) return;
    const controller = new AbortController();
    autofill = controller;
    PKC.isConditionalMediationAvailable().then(async (yes) => {
      if (!yes || controller.signal.aborted) return;
      const button = box.querySelector('[data-passkey-start]');
      let picked = false;
      try {
        const to = await ceremony(box, true, controller.signal, () => {
          picked = true;
          say(box, '');
          busy(button, true);
        });
        if (arrive(box, to) !== false) return;
      } catch (e) {
        if (picked) say(box, failure(e));
      }
      // (Stopped for the button, the button's ceremony owns it now.)
      if (picked) busy(button, false);
      if (autofill === controller) {
        autofill = null;
        if (picked) waitForAutofill(box);
      }
    }).catch(() => {});
  };
  const start = () => {
    const box = document.querySelector('[data-passkey="sign-in"]');
    if (box) waitForAutofill(box);
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();

  // Back to a page the browser kept: its passkey buttons are not waiting any more.
  addEventListener('pageshow', (e) => {
    if (!e.persisted) return;
    for (const b of document.querySelectorAll('[data-passkey-start][aria-busy]')) busy(b, false);
    start();
  });

  document.addEventListener('click', async (e) => {
    const button = e.target instanceof Element && e.target.closest('[data-passkey] [data-passkey-start]');
    if (!button || button.disabled) return;
    const box = button.closest('[data-passkey]');
    const signIn = box.dataset.passkey === 'sign-in';
    if (signIn && autofill) {
      autofill.abort();
      autofill = null;
    }
    say(box, '');
    busy(button, true);
    try {
      const to = await ceremony(box, false, undefined, () => {});
      if (arrive(box, to) !== false) return;
    } catch (err) {
      const text = failure(err);
      say(box, text);
    }
    busy(button, false);
    button.focus();
    if (signIn) waitForAutofill(box);
  });
})();
