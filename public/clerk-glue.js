// Glue between ClerkJS and the server-rendered app (loaded only when CLERK_PUBLISHABLE_KEY is set).
// ClerkJS keeps the __session cookie fresh; this mounts Clerk's components into the placeholders
// the pages render, and reloads when the signed-in state no longer matches what the server rendered.
(function () {
  'use strict';

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
    mount('clerk-org-switcher', window.Clerk.mountOrganizationSwitcher, { hidePersonal: false });
  }

  function start() {
    if (!window.Clerk) return setTimeout(start, 50);
    window.Clerk.load().then(function () {
      var serverSignedIn = !!document.querySelector('[data-testid="header-user"], #clerk-user-button');
      mountAll();
      // Pages render placeholders after hydration and client-side navigation too.
      new MutationObserver(mountAll).observe(document.body, { childList: true, subtree: true });
      window.Clerk.addListener(function (state) {
        var signedIn = !!state.user;
        // Sign-in, sign-out or an organization switch: let the server render the new state.
        if (signedIn !== serverSignedIn) window.location.reload();
      });
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
