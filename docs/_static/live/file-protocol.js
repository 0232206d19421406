// A classic script, because module scripts do not run from file:// at all: opened from a file, the live page
// says how to serve it instead of failing silently.
document.addEventListener("DOMContentLoaded", () => {
  if (location.protocol !== "file:") return;
  for (const panel of document.querySelectorAll(".mg-live")) {
    panel.querySelector(".mg-live-file").hidden = false;
    panel.dataset.liveState = "error";
    for (const control of panel.querySelectorAll("button, input, textarea")) control.disabled = true;
    for (const button of panel.querySelectorAll("button")) button.setAttribute("aria-describedby", "mg-live-file");
  }
});
