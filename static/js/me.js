/* Residents' pages: the family list of codes kept on this phone (localStorage: tokens and
   masked labels only, never full ID numbers), registration, recovery, and the service worker. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("me-config").textContent);
  const KEY = "me.codes.v1";
  const CACHE = config.cache;  // the service worker's cache (its version)

  function loadCodes() {
    try {
      const list = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (e) { return []; }
  }

  function saveCodes(list) { localStorage.setItem(KEY, JSON.stringify(list)); }

  function remember(body) {
    const entry = {qr: body.qr, png: body.qr_png_url, name_masked: body.name_masked,
                   id_masked: body.id_masked, community: body.community || ""};
    const list = loadCodes().filter((c) => c.qr !== entry.qr);
    list.push(entry);
    saveCodes(list);
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.sw, {scope: config.home}).catch(() => {});
  }

  function keepForOffline(urls) {
    // Put the page and the code images shown into the worker's cache (the first visit is not
    // yet served by the worker), then mark the page ready for offline use.
    if (!("caches" in window)) return Promise.resolve();
    return caches.open(CACHE).then((cache) => Promise.all(urls.map((url) =>
      cache.match(url).then((hit) => hit || cache.add(url)).catch(() => null))));
  }

  function showCodes() {
    const box = document.getElementById("codes");
    const template = document.getElementById("code-template");
    const list = loadCodes();
    box.replaceChildren();
    document.getElementById("no-codes").hidden = list.length > 0;
    for (const code of list) {
      const node = template.content.firstElementChild.cloneNode(true);
      node.dataset.qr = code.qr;
      node.querySelector(".code-qr").src = code.png;
      node.querySelector(".code-name").textContent = code.name_masked;
      node.querySelector(".code-id").textContent = code.id_masked;
      node.querySelector(".code-community").textContent = code.community;
      const save = node.querySelector(".code-save");
      save.href = code.png;
      save.setAttribute("download", code.name_masked.replace(/\*/g, "_") + ".png");
      node.querySelector(".code-remove").addEventListener("click", () => {
        if (window.confirm(config.messages.remove_confirm)) {
          saveCodes(loadCodes().filter((c) => c.qr !== code.qr));
          showCodes();
        }
      });
      box.appendChild(node);
    }
    const wanted = location.hash.slice(1);
    const current = /^(S1[A-Z2-7]{24}|S2[A-Z2-7]{28})$/.test(wanted) ? box.querySelector(`[data-qr="${wanted}"]`) : null;
    if (current) { current.classList.add("code-current"); current.scrollIntoView({block: "start"}); }
    const urls = [config.home].concat(list.map((c) => c.png));
    const ready = navigator.onLine ? keepForOffline(urls) : Promise.resolve();
    ready.then(() => { document.body.dataset.offline = "ready"; });
  }

  function showErrors(form, error) {
    form.querySelectorAll(".field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const fields = (error && error.fields) || {};
    let first = null;
    for (const [name, message] of Object.entries(fields)) {
      const p = form.querySelector("#" + name + "-error");
      const input = form.querySelector("#" + name);
      if (p) { p.textContent = message; p.hidden = false; }
      if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
    }
    const formError = form.querySelector("#form-error");
    if (error && (!Object.keys(fields).length || error.code !== "validation")) {
      formError.textContent = error.message;
      formError.hidden = false;
      first = first || formError;
    }
    if (first) first.scrollIntoView({block: "center"});
    if (first && first.focus) first.focus();
  }

  async function send(form, url, payload) {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                          body: JSON.stringify(payload), credentials: "same-origin"});
      const body = await response.json().catch(() => ({error: {message: config.messages.failed}}));
      if (response.ok) {
        remember(body);
        window.location.assign(config.home + "#" + body.qr);
        return;
      }
      showErrors(form, body.error || {message: config.messages.failed});
    } catch (e) {
      showErrors(form, {message: config.messages.network});
    } finally {
      button.disabled = false;
    }
  }

  function regionsFailed(status, retry) {
    // The picker could not load (no network, or 429 when many register at once): say so and
    // offer to try again, rather than leaving the selects disabled without a word.
    const box = document.getElementById("regions-error");
    box.querySelector(".regions-error-text").textContent =
      status === 429 ? config.messages.regions_busy : config.messages.regions_failed;
    box.hidden = false;
    box.querySelector("button").onclick = () => { box.hidden = true; retry(); };
  }

  async function fillRegions(select, parent) {
    const url = "/api/v1/regions" + (parent ? "?parent=" + encodeURIComponent(parent) : "");
    select.replaceChildren(new Option(config.messages.choose, ""));
    select.disabled = true;
    select.dataset.parent = parent || "";
    if (parent === "") return;
    let regions;
    try {
      const response = await fetch(url);
      if (!response.ok) throw response.status;
      regions = (await response.json()).regions;
    } catch (status) {
      if (select.dataset.parent === (parent || "")) regionsFailed(status, () => fillRegions(select, parent));
      return;
    }
    if (select.dataset.parent !== (parent || "")) return;  // another choice was made meanwhile
    document.getElementById("regions-error").hidden = true;
    for (const region of regions) select.add(new Option(region.name, region.code));
    select.disabled = false;
  }

  function setUpRegister() {
    const form = document.getElementById("register-form");
    const title = document.getElementById("register-title");
    const family = new URLSearchParams(location.search).has("family");
    title.textContent = family ? title.dataset.familyTitle : title.dataset.title;
    const district = form.querySelector("#district");
    const street = form.querySelector("#street");
    const community = form.querySelector("#region_code");
    fillRegions(district, null);
    fillRegions(street, "");
    fillRegions(community, "");
    district.addEventListener("change", () => { fillRegions(street, district.value); fillRegions(community, ""); });
    street.addEventListener("change", () => fillRegions(community, street.value));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const payload = {};
      for (const name of ["name", "id_type", "id_number", "phone", "region_code", "address"]) {
        payload[name] = form.elements[name].value;
      }
      send(form, "/api/v1/residents", payload);
    });
  }

  function setUpRecover() {
    const form = document.getElementById("recover-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send(form, "/api/v1/residents/recover", {id_number: form.elements.id_number.value,
                                               name: form.elements.name.value, phone: form.elements.phone.value});
    });
  }

  const page = document.querySelector("[data-page]");
  if (page && page.dataset.page === "codes") showCodes();
  if (page && page.dataset.page === "register") setUpRegister();
  if (page && page.dataset.page === "recover") setUpRecover();
})();
