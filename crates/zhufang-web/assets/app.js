// zhufang page behaviour (no inline scripts: the CSP forbids them).
document.addEventListener("click", (ev) => {
  const t = ev.target.closest("[data-toggle-nav]");
  if (t) document.getElementById("sidebar").classList.toggle("open");
  const geo = ev.target.closest("[data-geolocate]");
  if (geo && navigator.geolocation) {
    const form = geo.closest("form");
    navigator.geolocation.getCurrentPosition((p) => {
      form.querySelector("[name=lat]").value = p.coords.latitude.toFixed(6);
      form.querySelector("[name=lon]").value = p.coords.longitude.toFixed(6);
    });
  }
  const fill = ev.target.closest("[data-fill-form]");
  if (fill) {
    const form = document.querySelector(fill.dataset.fillForm);
    for (const [k, v] of Object.entries(fill.dataset)) {
      const el = form.querySelector(`[name=${k}]`);
      if (!el) continue;
      if (el.type === "checkbox") el.checked = v === "true"; else el.value = v;
    }
    form.closest("details").open = true;
    form.scrollIntoView({ behavior: "smooth" });
  }
});
function showGuideline(sel) {
  const out = document.querySelector(sel.dataset.guidelineTarget);
  const opt = sel.selectedOptions[0];
  if (out && opt) out.textContent = opt.dataset.guideline || "";
}
document.addEventListener("change", (ev) => {
  if (ev.target.matches("[data-guideline-target]")) showGuideline(ev.target);
});
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-guideline-target]").forEach(showGuideline);
});
// Ctrl+Enter (⌘+Enter) submits forms built for the keyboard (intake, actions).
document.addEventListener("keydown", (ev) => {
  if (ev.key !== "Enter" || !(ev.ctrlKey || ev.metaKey)) return;
  const form = ev.target.closest && ev.target.closest("form[data-submit-on-ctrl-enter]");
  if (form) {
    ev.preventDefault();
    form.requestSubmit();
  }
});
