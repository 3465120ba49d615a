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

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    showError(messages[status] || "Une erreur est survenue (" + status + "). Réessayez dans un instant.");
  });

  document.addEventListener("htmx:sendError", function () {
    showError("Le serveur ne répond pas. Vérifiez votre connexion puis réessayez.");
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("htmx-error");
    if (box) { box.hidden = true; }
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
