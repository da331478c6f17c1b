/* Copy buttons of the calendar subscription page (/-/calendar/subscribe).
   Progressive enhancement: without this script the buttons stay hidden and every address is a
   read-only text field that can be selected and copied by hand. */
(() => {
  "use strict";

  async function copy(field) {
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(field.value);
        return true;
      } catch (error) {
        /* fall back to the selection below */
      }
    }
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.status);
    if (!field) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const done = await copy(field);
      if (status) {
        status.textContent = done ? button.dataset.copied : button.dataset.failed;
      }
    });
  }
})();
