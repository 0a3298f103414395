// Streams one call's transcript into the page (server-sent events), and keeps the simulator's
// reply box ready for the next line; asks before forms marked data-confirm. Everything else on
// the dashboard works without scripts.
(function () {
  "use strict";

  function follow(log) {
    if (!window.EventSource) return;
    var status = document.getElementById("call-status");
    var source = new EventSource(log.dataset.stream);
    source.addEventListener("turn", function (event) {
      var placeholder = log.querySelector(".placeholder");
      if (placeholder) placeholder.remove();
      var id = event.lastEventId && "m" + event.lastEventId;
      if (id && document.getElementById(id)) return; // already on the page
      log.insertAdjacentHTML("beforeend", event.data);
      log.scrollTop = log.scrollHeight;
    });
    source.addEventListener("status", function (event) {
      if (!status) return;
      var open = status.querySelector("details[open]");
      status.innerHTML = event.data;
      var box = status.querySelector("details");
      if (open && box) box.open = true;
    });
    source.addEventListener("end", function () {
      source.close();
      log.dataset.ended = "true";
      document.querySelectorAll("[data-live-only]").forEach(function (el) {
        el.disabled = true;
      });
      var note = document.getElementById("reply-note");
      if (note && !note.textContent.trim()) note.textContent = "The call is over.";
    });
  }

  // Undoing a do-not-call entry is a compliance decision: ask before the form goes.
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var log = document.querySelector("[data-stream]");
    if (log) follow(log);
    var reply = document.getElementById("reply");
    if (reply) {
      reply.addEventListener("htmx:afterRequest", function (event) {
        if (!event.detail.successful) return;
        var text = document.getElementById("reply-text");
        if (text) {
          text.value = "";
          text.focus();
        }
      });
    }
  });
})();
