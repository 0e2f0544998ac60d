// The engine page's only script: polls live regions, sends actions as same-origin JSON.
// Every URL it uses comes from an attribute the server rendered; every text it shows
// arrives as escaped server HTML or is set through textContent.
"use strict";

(() => {
  const toast = (message, bad) => {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.classList.toggle("bad", Boolean(bad));
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.hidden = true; }, 4000);
  };

  const keyOf = (el) => { const holder = el.closest("[id]"); return holder ? holder.id : null; };

  // Replace a region's HTML, keeping what the reader had: open/closed steps, log scroll.
  const swap = (region, html) => {
    const open = new Map();
    const scroll = new Map();
    region.querySelectorAll("details[id]").forEach((d) => open.set(d.id, d.open));
    region.querySelectorAll("pre.log").forEach((p) => {
      const key = keyOf(p);
      if (key) scroll.set(key, { top: p.scrollTop, atEnd: p.scrollTop + p.clientHeight >= p.scrollHeight - 4 });
    });
    region.innerHTML = html;
    region.querySelectorAll("details[id]").forEach((d) => { if (open.has(d.id)) d.open = open.get(d.id); });
    region.querySelectorAll("pre.log").forEach((p) => {
      const s = scroll.get(keyOf(p));
      p.scrollTop = !s || s.atEnd ? p.scrollHeight : s.top;
    });
  };

  const setWaiting = (n) => {
    const el = document.getElementById("waiting-count");
    if (!el || typeof n !== "number") return;
    el.textContent = String(n);
    el.hidden = n === 0;
  };

  const refresh = async (region) => {
    const url = new URL(region.dataset.live, window.location.href);
    if (region.dataset.sig) url.searchParams.set("v", region.dataset.sig);
    let res;
    try {
      res = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    } catch (err) {
      region.classList.add("stale");
      return;
    }
    region.classList.toggle("stale", !res.ok);
    if (!res.ok) return;
    const body = await res.json();
    region.dataset.sig = body.sig;
    setWaiting(body.waiting);
    if (typeof body.html === "string") swap(region, body.html);
  };

  const refreshAll = () => Promise.all([...document.querySelectorAll("[data-live]")].map(refresh));

  const poll = (region) => {
    const every = Number(region.dataset.interval || 1500);
    const tick = async () => {
      if (!document.hidden) await refresh(region);
      setTimeout(tick, every);
    };
    setTimeout(tick, every);
  };

  const readInputs = (form) => {
    const inputs = {};
    for (const el of form.querySelectorAll("input[name]")) {
      const type = el.dataset.type || "string";
      if (type === "boolean") { inputs[el.name] = el.checked; continue; }
      const raw = el.value.trim();
      if (raw === "") continue;  // the pipeline's default applies
      if (type === "number" || type === "integer") {
        const n = Number(raw);
        if (Number.isNaN(n)) throw new Error(`${el.name} must be a number`);
        inputs[el.name] = n;
      } else if (type === "object" || type === "array") {
        try { inputs[el.name] = JSON.parse(raw); } catch (err) { throw new Error(`${el.name} must be JSON`); }
      } else {
        inputs[el.name] = raw;
      }
    }
    return inputs;
  };

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form.js-action");
    if (!form) return;
    event.preventDefault();
    let payload = {};
    try {
      if (form.dataset.kind === "trigger") payload = { inputs: readInputs(form) };
    } catch (err) {
      toast(err.message, true);
      return;
    }
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const res = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(payload),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        toast(body.message || `failed: HTTP ${res.status}`, true);
        return;
      }
      if (body.location) { window.location.assign(body.location); return; }
      toast(body.status ? `${body.status}` : "done");
      await refreshAll();
    } catch (err) {
      toast(`the engine did not answer: ${err.message}`, true);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });

  document.querySelectorAll("[data-live]").forEach(poll);
  document.querySelectorAll("pre.log").forEach((p) => { p.scrollTop = p.scrollHeight; });
})();
