// Tells readers when they have no signal, so they know they are reading pages saved on the device.
(function () {
  "use strict";
  var note = document.querySelector("[data-connection]");
  function update() {
    document.documentElement.classList.toggle("is-offline", !navigator.onLine);
    if (note) note.hidden = navigator.onLine;
  }
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  update();
})();
