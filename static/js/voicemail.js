// Playing a voicemail marks it read (here and on RingCentral): a POST, once per page view.
(function () {
  "use strict";
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  document.addEventListener("play", async (event) => {
    const audio = event.target;
    if (!(audio instanceof HTMLAudioElement) || !audio.dataset.readUrl || audio.dataset.readSent) return;
    audio.dataset.readSent = "1";
    const item = audio.closest(".voicemail");
    try {
      const response = await fetch(audio.dataset.readUrl, {
        method: "POST", credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
      });
      if (response.ok && item) item.classList.remove("unread");
    } catch (err) { delete audio.dataset.readSent; }
  }, true);
})();
