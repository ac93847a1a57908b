// A stand-in for ClerkJS in the browser tests: the part of its public API that
// public/clerk-glue.js uses (load, addListener, user, organization, session.getToken, signOut and
// the mount* calls). The tests route the instance's clerk.browser.js URL here. As with ClerkJS,
// the signed-in state lives in the __session and __client_uat cookies; tokens come from the fake
// Clerk through window.__standinMint, which the test exposes. `localStorage['standin:user']`
// makes it claim a user whatever the cookies say (a ClerkJS the server disagrees with).
(function () {
  'use strict';
  var listeners = [];

  function readCookie(name) {
    var match = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
    return match ? match[1] : null;
  }

  function writeCookie(name, value, maxAge) {
    document.cookie = name + '=' + value + '; Path=/; SameSite=Lax' + (maxAge === undefined ? '' : '; Max-Age=' + maxAge);
  }

  function claims(token) {
    try {
      return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    } catch (_) {
      return null;
    }
  }

  function fromCookies() {
    var forced = localStorage.getItem('standin:user');
    var token = readCookie('__session');
    var c = forced ? { sub: forced } : token && claims(token);
    Clerk.user = c && c.sub ? { id: c.sub } : null;
    Clerk.organization = c && c.o && c.o.id ? { id: c.o.id } : null;
    Clerk.session = Clerk.user ? { id: c.sid || 'sess_standin', getToken: getToken } : null;
  }

  function getToken() {
    return Promise.resolve(readCookie('__session'));
  }

  function emit() {
    var state = { user: Clerk.user, organization: Clerk.organization, session: Clerk.session };
    listeners.forEach(function (fn) {
      fn(state);
    });
  }

  function button(el, text, testid, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.dataset.testid = testid;
    b.addEventListener('click', onClick);
    el.appendChild(b);
  }

  var Clerk = {
    loaded: false,
    user: null,
    organization: null,
    session: null,
    load: function () {
      fromCookies();
      Clerk.loaded = true;
      return Promise.resolve();
    },
    addListener: function (fn) {
      listeners.push(fn);
      if (Clerk.loaded) fn({ user: Clerk.user, organization: Clerk.organization, session: Clerk.session });
      return function () {
        listeners = listeners.filter(function (l) {
          return l !== fn;
        });
      };
    },
    // Signs in as `sub` with a token the fake Clerk mints, as a finished ClerkJS sign-in would.
    signIn: function (sub) {
      return window.__standinMint(sub).then(function (token) {
        writeCookie('__session', token);
        writeCookie('__client_uat', String(Math.floor(Date.now() / 1000)));
        fromCookies();
        emit();
      });
    },
    // As ClerkJS: the token cookie goes, and __client_uat=0 says the client signed out.
    signOut: function () {
      localStorage.removeItem('standin:user');
      writeCookie('__session', '', 0);
      writeCookie('__client_uat', '0');
      fromCookies();
      emit();
      return Promise.resolve();
    },
    mountSignIn: function (el) {
      button(el, 'Continue as user_0000002', 'standin-sign-in', function () {
        Clerk.signIn('user_0000002');
      });
    },
    mountUserButton: function (el) {
      button(el, 'Sign out', 'standin-sign-out', function () {
        Clerk.signOut();
      });
    },
    mountOrganizationSwitcher: function () {},
  };
  window.Clerk = Clerk;
})();
