// Say out loud what htmx could not do: a refused or failed request would otherwise be silent.
document.addEventListener("htmx:responseError", function (event) {
  var live = document.getElementById("annonces");
  if (!live) return;
  var status = event.detail.xhr.status;
  live.textContent =
    status === 403
      ? "Action refusée : vous n'avez pas le droit de modifier cet élément."
      : status === 404
        ? "Élément introuvable : il a peut-être été supprimé. Rechargez la page."
        : "Une erreur est survenue (code " + status + "). Rien n'a été enregistré.";
});
document.addEventListener("htmx:sendError", function () {
  var live = document.getElementById("annonces");
  if (live) live.textContent = "Le serveur ne répond pas : rien n'a été enregistré.";
});
