// Operations page: reload every 30 s while the tab is visible (the page is cheap to render).
(function () {
  "use strict";
  const PERIOD_MS = 30000;
  setInterval(() => {
    if (document.visibilityState === "visible" && !document.querySelector("dialog[open]")) {
      window.location.reload();
    }
  }, PERIOD_MS);
})();
