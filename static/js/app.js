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

// The fiche's journal after a write: the page says which line it shows first (its key), and
// the answer brings only the lines since, put on top of the list (hx-swap-oob="afterbegin"),
// with the key of the oldest line a fresh page shows (data-keep-from): older lines leave, so
// that the list is the one a reload would show.
document.addEventListener("htmx:configRequest", function (event) {
  var newest = document.querySelector("#journal-lignes > li[data-key]");
  if (newest) event.detail.headers["X-Journal-Newest"] = newest.getAttribute("data-key");
});
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  var incoming = event.detail.fragment;
  var list = event.detail.target;
  if (!incoming || !incoming.getAttribute || !list || list.id !== "journal-lignes") return;
  var keep = incoming.getAttribute("data-keep-from");
  if (!keep) return;
  // Two writes sent before the first answer came back carry the same key, so the second
  // answer brings the first one's lines again, and answers may arrive in any order: each
  // line is put where its key sorts (newest first), once. Lines of one change share a key.
  var current = Array.prototype.slice.call(list.children);
  var shown = {};
  current.forEach(function (line) { shown[line.getAttribute("data-key") || ""] = true; });
  Array.prototype.slice.call(incoming.children).forEach(function (line) {
    var key = line.getAttribute("data-key") || "";
    if (shown[key]) return;
    var older = null;
    for (var i = 0; i < current.length && !older; i++) {
      if ((current[i].getAttribute("data-key") || "") < key) older = current[i];
    }
    list.insertBefore(line, older);
  });
  Array.prototype.slice.call(list.children).forEach(function (line) {
    if ((line.getAttribute("data-key") || "") < keep) line.remove();
  });
  event.detail.shouldSwap = false;
});

// After every htmx swap, one contract for the whole app (templates set it, this file obeys):
// - `data-announce="…"` on the swapped content (or inside it): read out in the live region
//   #annonce and shown briefly in #toast;
// - focus goes to the element marked `data-focus` in the swapped content; failing that, if the
//   swap took the focus away (it fell to <body>), to the content's first heading (made focusable
//   with tabindex="-1"), else to the content itself. Focus the user still has (typing in a
//   filter outside the swapped part) is left alone.
// htmx fires htmx:afterSettle once per swapped element (main and out-of-band): they are gathered
// and handled once, after the last.
(function () {
  var settled = [];
  var mainTarget = null;
  var toastTimer = null;

  function announce(text) {
    var live = document.getElementById("annonce");
    var toast = document.getElementById("toast");
    if (live) {
      // Emptied first, so that the same words twice in a row are read twice.
      live.textContent = "";
      window.setTimeout(function () { live.textContent = text; }, 50);
    }
    if (toast) {
      toast.textContent = text;
      toast.hidden = false;
      window.clearTimeout(toastTimer);
      toastTimer = window.setTimeout(function () { toast.hidden = true; }, 4000);
    }
  }

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }

  function focusOn(element) {
    if (!element) return;
    if (!element.matches("a[href], button, input, select, textarea, summary, [tabindex]")) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus();
  }

  function within(elements, selector) {
    for (var i = 0; i < elements.length; i++) {
      var element = elements[i];
      if (!element.isConnected) continue;
      if (element.matches(selector)) return element;
      var found = element.querySelector(selector);
      if (found) return found;
    }
    return null;
  }

  function handle() {
    var elements = settled.filter(function (e) { return e.nodeType === 1; });
    var target = mainTarget;
    settled = [];
    mainTarget = null;
    if (!elements.length) return;
    // The main content first: the target itself (inner swaps) or what replaced it (same id).
    var main = null;
    if (target && target.isConnected) main = target;
    else if (target && target.id) main = document.getElementById(target.id);
    var ordered = main ? [main].concat(elements.filter(function (e) { return e !== main; })) : elements;

    var texts = [];
    ordered.forEach(function (element) {
      if (!element.isConnected) return;
      var marked = element.matches("[data-announce]") ? [element] : [];
      marked = marked.concat(Array.prototype.slice.call(element.querySelectorAll("[data-announce]")));
      marked.forEach(function (m) {
        var text = m.getAttribute("data-announce");
        if (text && texts.indexOf(text) === -1) texts.push(text);
      });
    });
    if (texts.length) announce(texts.join(" "));

    var marked = within(ordered, "[data-focus]");
    if (marked) return focusOn(marked);
    if (!focusLost()) return;
    var home = main && main.isConnected ? main : ordered[0];
    focusOn(within([home], "h1, h2, h3, h4, h5, h6") || home);
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    mainTarget = event.detail.target || null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    settled.push(event.target);
    if (settled.length === 1) window.setTimeout(handle, 0);
  });
})();

// The header menu folds behind its button on narrow screens. Without JavaScript the button
// stays hidden and the menu is listed in full, wrapping.
(function () {
  function setUp() {
    var button = document.querySelector(".nav-toggle");
    var nav = document.getElementById("menu-principal");
    if (!button || !nav) return;
    button.hidden = false;
    nav.classList.add("foldable");
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        button.setAttribute("aria-expanded", "false");
        nav.classList.remove("open");
        button.focus();
      }
    });
  }
  // A chart's table of figures is one click away: with JavaScript it is hidden from sight (but
  // still read by screen readers) until its button shows it; without, it is simply shown.
  function setUpChartData() {
    document.querySelectorAll(".chart-data-toggle").forEach(function (button) {
      var data = document.getElementById(button.getAttribute("aria-controls"));
      if (!data) return;
      // Out of sight, its scrolling region leaves the Tab order (screen readers still read it).
      var regions = data.querySelectorAll("[tabindex]");
      function show(open) {
        button.setAttribute("aria-expanded", open ? "true" : "false");
        data.classList.toggle("visually-hidden", !open);
        regions.forEach(function (region) { region.setAttribute("tabindex", open ? "0" : "-1"); });
      }
      button.hidden = false;
      show(false);
      button.addEventListener("click", function () {
        show(button.getAttribute("aria-expanded") !== "true");
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(); setUpChartData(); });
  } else {
    setUp();
    setUpChartData();
  }
})();
