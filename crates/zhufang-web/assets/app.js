// zhufang page behaviour (no inline scripts: the CSP forbids them).

// Shared by the page scripts loaded after this one (map.js, incident-import.js):
// the session's CSRF token, and text made safe for HTML.
window.zf = {
  csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrf-token"] || ""; } catch (e) { return ""; }
  },
  esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  },
};
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
// The triage suggestion while the intake description is typed (nothing stored).
let triageTimer = null;
document.addEventListener("input", (ev) => {
  const box = ev.target.closest && ev.target.closest("[data-live-triage]");
  if (!box) return;
  clearTimeout(triageTimer);
  triageTimer = setTimeout(async () => {
    const out = document.querySelector(box.dataset.liveTriage);
    const text = box.value.trim();
    if (!out || text.length < 4) { if (out) out.textContent = ""; return; }
    const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrf-token"] || "";
    const r = await fetch("/api/v1/triage", { method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf }, body: JSON.stringify({ text }) });
    if (!r.ok) return;
    const v = await r.json();
    const kind = v.police ? out.dataset.lPolice : out.dataset.lNonPolice;
    out.textContent = `${out.dataset.lTitle}：${kind} · ${v.department}（${Math.round(v.confidence * 100)}%）${v.reasons.length ? " · " + v.reasons.join("、") : ""}${v.rule ? " · " + v.rule : ""}`;
    out.dataset.police = v.police ? "1" : "0";
  }, 250);
});
