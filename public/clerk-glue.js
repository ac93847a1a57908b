// Glue between ClerkJS and the server-rendered app (loaded only when CLERK_PUBLISHABLE_KEY is set).
// ClerkJS keeps the __session cookie fresh; this mounts Clerk's components into the placeholders
// the pages render, and reloads when the signed-in state no longer matches what the server rendered.
(function () {
  'use strict';

  // The ClerkJS state this tab last reloaded for. If the server still disagrees after that
  // reload, another reload would only loop (e.g. a token the server refuses), so it stops there.
  var RELOADED_FOR = 'clerk-glue:reloaded-for';

  function mount(id, mountFn, props) {
    var el = document.getElementById(id);
    if (el && !el.dataset.mounted) {
      el.dataset.mounted = 'true';
      mountFn.call(window.Clerk, el, props || {});
    }
  }

  function mountAll() {
    mount('clerk-sign-in', window.Clerk.mountSignIn, { fallbackRedirectUrl: '/account', signUpUrl: '/sign-in' });
    mount('clerk-user-button', window.Clerk.mountUserButton, { afterSignOutUrl: '/' });
    // Choosing an organization goes to its URL (`/orgs/:slug`), the personal account to `/me`:
    // `reconcile` below navigates there once the new token is written (ClerkJS's own
    // `afterSelectOrganizationUrl` raced that navigation).
    mount('clerk-org-switcher', window.Clerk.mountOrganizationSwitcher, { hidePersonal: false });
  }

  // "user|org" as the server rendered it (the header's user button carries both), '' when signed out.
  function serverState() {
    var button = document.getElementById('clerk-user-button');
    return button ? (button.dataset.user || '') + '|' + (button.dataset.org || '') : '';
  }

  function clerkState(state) {
    return state.user ? state.user.id + '|' + (state.organization ? state.organization.id : '') : '';
  }

  // ClerkJS navigates by itself after some changes (sign-out to afterSignOutUrl, sign-in to the
  // redirect URL), and it does so before any network answer can arrive; a reload on top of that
  // would be a second page load. `beforeunload` says such a navigation has begun.
  var leaving = false;
  window.addEventListener('beforeunload', function () {
    leaving = true;
  });

  function settle(outcome) {
    document.body.dataset.clerkGlue = outcome;
  }

  // sessionStorage can be blocked (privacy settings): then every state is treated as new, and
  // a disagreement the reload cannot fix still stops after one reload per page load.
  var memory = {};
  function remembered() {
    try {
      return sessionStorage.getItem(RELOADED_FOR);
    } catch (_) {
      return memory.reloadedFor || null;
    }
  }
  function remember(value) {
    try {
      if (value === null) sessionStorage.removeItem(RELOADED_FOR);
      else sessionStorage.setItem(RELOADED_FOR, value);
    } catch (_) {
      memory.reloadedFor = value;
    }
  }

  function reconcile(rendered, state) {
    var wanted = clerkState(state);
    if (wanted === rendered) {
      remember(null);
      return settle('in-sync');
    }
    if (remembered() === wanted) return settle('out-of-sync');
    remember(wanted);
    settle('reloading');
    var before;
    if (wanted === '') {
      // Signed out in ClerkJS: end the server session's Clerk record too before reloading, so
      // the server cannot stand in for the user who just left. `keepalive` lets it finish even
      // if ClerkJS navigates away first.
      before = fetch('/api/session/sign-out', { method: 'POST', credentials: 'same-origin', keepalive: true });
    } else {
      // Signed in or switched organization: let ClerkJS write the new token's cookie first.
      before = state.session && state.session.getToken ? state.session.getToken() : null;
    }
    // The same user in another organization (the switcher, another tab): the organization
    // lives in the URL, so go to its page (or the personal one) rather than reload this one.
    var sameUser = wanted !== '' && rendered.split('|')[0] === wanted.split('|')[0];
    var target = !sameUser ? null : state.organization ? '/orgs/' + state.organization.slug : '/me';
    Promise.resolve(before)
      .catch(function () {})
      .then(function () {
        if (leaving) return;
        if (target && target !== window.location.pathname) window.location.assign(target);
        else window.location.reload();
      });
  }

  // Step-up: a page that got Clerk's reverification 403 fires `clerk-starter:reverify`; ClerkJS
  // asks the user to verify again, and the page hears how it ended (and retries once).
  function announce(name) {
    document.body.dataset.reverification = name;
    window.dispatchEvent(new Event('clerk-starter:' + name));
  }
  window.addEventListener('clerk-starter:reverify', function () {
    document.body.dataset.reverification = 'opened';
    var clerk = window.Clerk;
    if (!clerk || typeof clerk.__internal_openReverification !== 'function') return announce('reverify-cancelled');
    clerk.__internal_openReverification({
      afterVerification: function () {
        announce('reverified');
      },
      afterVerificationCancelled: function () {
        announce('reverify-cancelled');
      },
    });
  });

  // Organizations in the URL: a page that names one (`data-url-org`; '' for the personal account)
  // has ClerkJS make it the active one, so the token catches up with what the server rendered.
  var switchingTo; // the organization a setActive is under way for, so one is asked at a time
  function followUrlOrg() {
    var el = document.querySelector('[data-url-org]');
    if (!el || !window.Clerk.user) return Promise.resolve();
    var wanted = el.getAttribute('data-url-org') || null;
    var current = window.Clerk.organization ? window.Clerk.organization.id : null;
    if (wanted === current || wanted === switchingTo) return Promise.resolve();
    switchingTo = wanted;
    return window.Clerk.setActive({ organization: wanted })
      .catch(function () {})
      .then(function () {
        switchingTo = undefined;
      });
  }

  function start() {
    if (!window.Clerk) return setTimeout(start, 50);
    window.Clerk.load().then(followUrlOrg).then(function () {
      var rendered = serverState();
      mountAll();
      // Pages render placeholders after hydration and client-side navigation too.
      new MutationObserver(function () {
        mountAll();
        followUrlOrg();
      }).observe(document.body, { childList: true, subtree: true });
      // Sign-in, sign-out or an organization switch: let the server render the new state.
      var reloading = false;
      function onState(state) {
        if (reloading) return;
        reconcile(rendered, state);
        reloading = document.body.dataset.clerkGlue === 'reloading';
      }
      onState({ user: window.Clerk.user, organization: window.Clerk.organization });
      window.Clerk.addListener(onState);
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
