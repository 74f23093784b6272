// Shows a note while the reader is offline, so they know they are reading saved pages.
(function () {
  "use strict";
  var note = document.querySelector("[data-connection]");
  if (!note) return;
  function update() {
    note.hidden = navigator.onLine;
  }
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  update();
})();
