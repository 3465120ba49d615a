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

  // Links and buttons marked data-confirm ask before a destructive action.
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
