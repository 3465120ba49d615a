/* Incubateur: small progressive enhancements. Everything works without this file. */
(function () {
  "use strict";

  var messages = {
    400: "La demande a été refusée : rechargez la page puis réessayez.",
    401: "Votre session a expiré : reconnectez-vous.",
    403: "Vous n'avez pas les droits nécessaires pour cette action.",
    404: "Cet élément n'existe plus.",
    409: "L'élément a changé entre-temps : rechargez la page.",
    413: "Le fichier envoyé est trop volumineux.",
    429: "Trop de tentatives : patientez quelques minutes.",
  };

  function showError(text) {
    var box = document.getElementById("htmx-error");
    if (!box) { return; }
    box.textContent = text;
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  // The server's own reason, from its error page or fragment ([data-error-message]).
  function serverMessage(xhr) {
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var node = doc.querySelector("[data-error-message]");
      return node ? node.textContent.replace(/\s+/g, " ").trim() : "";
    } catch (error) {
      return "";
    }
  }

  // The slot next to the control that sent the request: a [data-error-slot] in its
  // [data-error-scope], else one made right after its form. None for a link.
  function errorSlot(elt, create) {
    if (!elt || !elt.isConnected || !elt.closest) { return null; }
    var scope = elt.closest("[data-error-scope]");
    var slot = scope && scope.querySelector("[data-error-slot]");
    if (slot) { return slot; }
    var form = elt.closest("form");
    if (!form) { return null; }
    slot = form.nextElementSibling;
    if (slot && slot.hasAttribute("data-error-slot")) { return slot; }
    if (!create) { return null; }
    slot = document.createElement("p");
    slot.className = "error-slot";
    slot.setAttribute("data-error-slot", "");
    slot.setAttribute("role", "alert");
    slot.hidden = true;
    form.insertAdjacentElement("afterend", slot);
    return slot;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr.status;
    var text = serverMessage(xhr) || messages[status] ||
      "Une erreur est survenue (" + status + "). Réessayez dans un instant.";
    var slot = errorSlot(event.detail.elt, true);
    if (!slot) { showError(text); return; }
    slot.hidden = false;
    slot.textContent = text;
    slot.scrollIntoView({ block: "nearest" });
  });

  document.addEventListener("htmx:sendError", function () {
    showError("Le serveur ne répond pas. Vérifiez votre connexion puis réessayez.");
  });

  // A late answer to a search must not push its address after the reader went elsewhere:
  // a navigation (a boosted link or form) stops the searches' address updates (htmx reads
  // hx-push-url when the answer comes), and no search starts while it runs. Restored if
  // the navigation fails.
  var navigation = null;

  function suspendPushes(except) {
    document.querySelectorAll("[data-hx-push-url='true']").forEach(function (elt) {
      if (elt.contains(except)) { return; }
      elt.setAttribute("data-hx-push-url", "false");
      elt.setAttribute("data-push-suspended", "");
    });
  }

  function restorePushes() {
    document.querySelectorAll("[data-push-suspended]").forEach(function (elt) {
      elt.setAttribute("data-hx-push-url", "true");
      elt.removeAttribute("data-push-suspended");
    });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var detail = event.detail;
    var box = document.getElementById("htmx-error");
    if (box) { box.hidden = true; }
    var slot = errorSlot(detail.elt, false);
    if (slot) { slot.hidden = true; slot.textContent = ""; }
    if (detail.boosted) {
      navigation = detail.xhr;
      suspendPushes(detail.elt);
    } else if (navigation && navigation.readyState !== 4 && detail.elt.closest &&
               detail.elt.closest("[data-hx-push-url]")) {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.boosted && !event.detail.successful) { restorePushes(); }
  });

  // Parts that need this file show; their plain fallbacks hide.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-js-only]").forEach(function (elt) { elt.hidden = false; });
    root.querySelectorAll("[data-no-js]").forEach(function (elt) { elt.hidden = true; });
  });

  // A refused form's error summary takes the focus, so that it is read first and its links
  // lead to the fields (RGAA 11.10); after a swap too, where htmx has just given the focus
  // back to the control that sent the form. A later swap without a summary (the form
  // corrected) takes "Erreur : " off the title, which htmx only changes when told.
  var ERROR_PREFIX = "Erreur : ";

  function focusSummary(root) {
    var summary = root && root.querySelector && root.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () { focusSummary(document); });

  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (root && root.matches && root.matches("[data-error-summary]")) { root.focus(); return; }
    focusSummary(root);
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (document.title.indexOf(ERROR_PREFIX) === 0 && !document.querySelector("[data-error-summary]")) {
      document.title = document.title.slice(ERROR_PREFIX.length);
    }
  });

  // A link of the summary focuses its field and shows the field's label above it (the
  // browser would scroll the control alone to the top, its label out of sight).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (field && field.matches("fieldset")) {  // a group: its first control
      field = field.querySelector("input:not([type=hidden]), select, textarea") || field;
    }
    if (!field) { return; }
    event.preventDefault();
    var holder = field.closest(".field") || field;
    holder.scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
  });

  // The team picker: an agent already in the team is not added twice (their line gets the
  // focus); a new line gets the focus on its role.
  function focusMember(id) {
    var input = document.getElementById(id + "-role");
    if (input) { input.focus(); }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var id = event.detail.elt.getAttribute && event.detail.elt.getAttribute("data-add-member");
    if (id && document.getElementById(id)) {
      event.preventDefault();
      focusMember(id);
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var id = event.detail.elt.getAttribute && event.detail.elt.getAttribute("data-add-member");
    if (!id || !event.detail.successful) { return; }
    var empty = document.getElementById("equipe-vide");
    if (empty) { empty.remove(); }
    focusMember(id);
  });

  // A search field inside a larger form searches on Enter instead of sending that form.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target.hasAttribute && target.hasAttribute("data-search-in-form")) {
      event.preventDefault();
      htmx.trigger(target, "search");
    }
  });

  // The session's time limits (RGAA 13.1, WCAG 2.2.1). The server gives the seconds left
  // before the idle limit and the total one: with the page (#session-warning's data) and on
  // every htmx answer (header). Shortly before either, a box says so and moves the focus to
  // its button: « Rester connecté » starts the idle clock again; the total limit cannot be
  // extended, so the box says so and, once it is over, links to the sign-in with this page
  // as the return address. Tabs share the idle clock's end (localStorage): activity in one
  // keeps the others from warning for nothing.
  var clock = { idleAt: 0, endAt: 0, timer: null, shown: null, dismissed: false, before: null };
  var IDLE_KEY = "incubateur-session-idle-at";

  function sessionBox() { return document.getElementById("session-warning"); }

  function sessionLeft(idle, end) {
    var now = Date.now();
    clock.idleAt = now + idle * 1000;
    clock.endAt = now + end * 1000;
    try { window.localStorage.setItem(IDLE_KEY, String(clock.idleAt)); } catch (error) { /* private mode */ }
    scheduleSession();
  }

  function sharedIdleAt() {
    var stored = 0;
    try { stored = Number(window.localStorage.getItem(IDLE_KEY)) || 0; } catch (error) { stored = 0; }
    // Never past the total end: a value left by an older session must not delay a warning.
    return Math.min(Math.max(clock.idleAt, stored), clock.endAt);
  }

  function inWords(ms) {
    var minutes = Math.round(ms / 60000);
    if (minutes < 1) { return "dans moins d'une minute"; }
    return "dans " + minutes + (minutes > 1 ? " minutes" : " minute");
  }

  function showSession(box, kind, ms) {
    var title = document.getElementById("session-warning-title");
    var text = box.querySelector("[data-session-text]");
    var extend = box.querySelector("[data-session-extend]");
    var dismiss = box.querySelector("[data-session-dismiss]");
    var relogin = box.querySelector("[data-session-relogin]");
    if (box.hidden) { clock.before = document.activeElement; }
    clock.shown = kind;
    extend.hidden = kind !== "idle";
    dismiss.hidden = kind !== "end";
    relogin.hidden = kind !== "expired";
    var target;
    if (kind === "idle") {
      title.textContent = "Votre session va bientôt prendre fin";
      text.textContent = "Sans action de votre part, votre session prendra fin " + inWords(ms) +
        " : ce que vous n'avez pas enregistré serait perdu.";
      target = extend.querySelector("button");
    } else if (kind === "end") {
      title.textContent = "Votre session va bientôt prendre fin";
      text.textContent = "Votre session atteint sa durée maximale et prendra fin " + inWords(ms) +
        " : enregistrez votre travail. Après vous être reconnecté·e, vous reviendrez sur cette page.";
      target = dismiss;
    } else {
      title.textContent = "Votre session a pris fin";
      text.textContent = "Reconnectez-vous pour continuer : vous reviendrez ensuite sur cette page.";
      target = relogin.querySelector("a");
      target.href = box.getAttribute("data-login-url") + "?next=" +
        encodeURIComponent(window.location.pathname + window.location.search);
    }
    box.hidden = false;
    target.focus();
  }

  function hideSession(box, message) {
    var hadFocus = box.contains(document.activeElement);
    box.hidden = true;
    clock.shown = null;
    var status = document.getElementById("session-status");
    if (status && message) { status.textContent = message; }
    if (hadFocus && clock.before && clock.before.isConnected) { clock.before.focus(); }
  }

  function scheduleSession() {
    var box = sessionBox();
    window.clearTimeout(clock.timer);
    if (!box) { return; }
    var lead = Number(box.getAttribute("data-warn-before")) * 1000;
    var now = Date.now();
    clock.idleAt = sharedIdleAt();
    var soonest = Math.min(clock.idleAt, clock.endAt);
    if (now >= soonest) {
      if (clock.shown !== "expired") { showSession(box, "expired", 0); }
      return;
    }
    if (now >= soonest - lead) {
      var kind = clock.idleAt < clock.endAt ? "idle" : "end";
      if (clock.shown !== kind && !(kind === "end" && clock.dismissed)) { showSession(box, kind, soonest - now); }
      clock.timer = window.setTimeout(scheduleSession, soonest - now);
      return;
    }
    if (clock.shown) { hideSession(box, ""); }  // extended from another tab
    clock.timer = window.setTimeout(scheduleSession, soonest - lead - now);
  }

  function readSessionBox() {
    var box = sessionBox();
    if (!box) { window.clearTimeout(clock.timer); return; }
    clock.shown = null;
    sessionLeft(Number(box.getAttribute("data-idle-left")), Number(box.getAttribute("data-end-left")));
  }

  document.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (root && root.querySelector && (root.id === "session-warning" || root.querySelector("#session-warning"))) {
      readSessionBox();
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var header = event.detail.xhr && event.detail.xhr.getResponseHeader("X-Session-Time-Left");
    var found = header && /idle=(\d+), end=(\d+)/.exec(header);
    if (found && sessionBox()) { sessionLeft(Number(found[1]), Number(found[2])); }
  });

  window.addEventListener("storage", function (event) {
    if (event.key === IDLE_KEY) { scheduleSession(); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-session-extend")) { return; }
    event.preventDefault();
    window.fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                                headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw response.status; }
        return response.json();
      })
      .then(function (left) {
        hideSession(sessionBox(), "Votre session est prolongée.");
        sessionLeft(left.idle, left.end);
      })
      .catch(function () {
        var box = sessionBox();
        if (box) { showSession(box, "expired", 0); }
      });
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("[data-session-dismiss]")) { return; }
    clock.dismissed = true;
    hideSession(sessionBox(), "");
  });

  // Links and buttons marked data-confirm ask before a destructive action.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
