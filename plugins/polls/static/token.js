/* Slip landing page: copy the code from the URL fragment (#t=CODE) into the token field.
   The fragment never reaches the server (so no access log holds the code); it is removed from
   the address bar afterwards, so it is not kept in a bookmark or shared by accident. */
(function () {
  "use strict";
  var match = /(?:^#|&)t=([A-Za-z0-9-]{1,64})/.exec(window.location.hash || "");
  if (!match) {
    return;
  }
  var fields = document.querySelectorAll("input[data-polls-token]");
  for (var i = 0; i < fields.length; i += 1) {
    if (!fields[i].value) {
      fields[i].value = match[1];
    }
  }
  if (window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
})();
