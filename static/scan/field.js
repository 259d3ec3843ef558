// The sampler's work on this phone: tubes opened, codes scanned, seals and undos, and the
// problems the server reported. Each action goes to the outbox; this module keeps the local
// picture (what the sampler sees) and merges the server's answers into it.

import { isResidentCode, isTubeCode, normalize } from "./codes.js";

const KEEP_MS = 12 * 3600 * 1000; // answered actions of closed tubes are kept this long
const LIVE = new Set(["queued", "done"]);

function problem(key, params) {
  return { ok: false, error: key, params: params || {} };
}

/** Forget a no-code person's typed details (full document number, phone) once the action no
 * longer needs them: recorded, dismissed, moved (the new action carries them) or resolved. */
function forgetPerson(action) {
  if (action.body.resident) action.body = { ...action.body, resident: null };
}

function personKey(resident) {
  return `${resident.id_type}:${String(resident.id_number || "").replace(/\s/g, "").toUpperCase()}`;
}

export class Field {
  constructor(store, outbox, userId) {
    this.store = store;
    this.outbox = outbox;
    this.userId = userId;
    this.actions = new Map(); // client_id -> action (the one copy that is saved)
    this.tubes = new Map(); // code -> tube
    this.setup = null; // {round_id, site_code}
    this.listeners = [];
    outbox.onResult = (action, result, outcome) => this._answer(action, result, outcome);
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  _changed(event) {
    for (const fn of this.listeners) fn(event);
  }

  /** Read this phone's records; forget old answered ones. */
  async load() {
    const now = Date.now();
    for (const tube of await this.store.all("tubes")) {
      if (tube.user_id !== this.userId) continue;
      this.tubes.set(tube.code, tube);
    }
    for (const action of await this.store.all("actions")) {
      if (action.user_id !== this.userId) continue;
      const tube = this.tubes.get(action.tube_code);
      const old = action.answered_at && now - action.answered_at > KEEP_MS;
      if (old && action.state !== "queued" && action.state !== "failed" && (!tube || tube.state !== "open")) {
        await this.store.delete("actions", action.seq);
        continue;
      }
      this.actions.set(action.client_id, action);
    }
    for (const tube of [...this.tubes.values()]) {
      if (tube.state !== "open" && now - (tube.opened_at || 0) > KEEP_MS && !this.scans(tube.code).length) {
        await this.store.delete("tubes", tube.code);
        this.tubes.delete(tube.code);
      }
    }
  }

  // --- what the page shows ---------------------------------------------------------------
  currentTube() {
    let best = null;
    for (const tube of this.tubes.values()) {
      if (tube.state === "open" && (!best || tube.opened_at > best.opened_at)) best = tube;
    }
    return best;
  }

  scans(code) {
    return [...this.actions.values()].filter((a) => a.op === "add_sample" && a.tube_code === code)
      .sort((a, b) => a.seq - b.seq);
  }

  /** Scans that hold a place in the tube: not removed, not refused by the server. */
  liveScans(code) {
    return this.scans(code).filter((a) => !a.undone && LIVE.has(a.state));
  }

  count(code) {
    return this.liveScans(code).length;
  }

  /** Whether the tube opened last on this phone holds this resident's code. */
  lastTubeHolds(code) {
    const last = [...this.tubes.values()].sort((a, b) => b.opened_at - a.opened_at)[0];
    return Boolean(last) && this.liveScans(last.code).some((a) => a.body.qr === code);
  }

  problems() {
    return [...this.actions.values()].filter((a) => a.state === "failed").sort((a, b) => a.seq - b.seq);
  }

  recentTubes(n = 5) {
    return [...this.tubes.values()].sort((a, b) => b.opened_at - a.opened_at).slice(0, n);
  }

  pendingFor(code) {
    return [...this.actions.values()].filter((a) => a.tube_code === code && a.state === "queued").length;
  }

  // --- the sampler's actions ---------------------------------------------------------------
  /** One code from the camera, a hand-held scanner or the keyboard. The camera seeing a resident
   * of the current tube again (the code held up a second time) is ignored, not an error. */
  async handleCode(text, capacity, { camera = false } = {}) {
    const code = normalize(text);
    if (!code) return problem("bad_tube_code");
    const tube = this.currentTube();
    // the camera still seeing the resident who filled the last tube, while the page waits for the
    // next tube: no mistake either (a scanner or typed input still gets the clear error)
    if (!tube && camera && isResidentCode(code) && this.lastTubeHolds(code)) return { ok: true, ignored: true };
    if (!tube) return this.openTube(code, capacity);
    if (code === tube.code) return { ok: true, ignored: true };
    if (camera && this.liveScans(tube.code).some((a) => a.body.qr === code)) return { ok: true, ignored: true };
    return this.addScan(code);
  }

  async openTube(text, capacity) {
    if (!this.setup?.round_id || !this.setup?.site_code) return problem("choose_setup");
    const code = normalize(text);
    if (isResidentCode(code)) return problem("resident_not_tube");
    if (!isTubeCode(code)) return problem("bad_tube_code");
    const known = this.tubes.get(code);
    if (known && known.state === "open") return { ok: true, ignored: true };
    if (known) return problem("tube_used", { code });
    const tube = {
      code, user_id: this.userId, round_id: this.setup.round_id, site_code: this.setup.site_code,
      capacity, state: "open", opened_at: Date.now(),
    };
    this.tubes.set(code, tube);
    await this.store.put("tubes", tube);
    const action = await this.outbox.enqueue("open_tube", {
      tube_code: code, round_id: tube.round_id, site_code: tube.site_code, capacity,
    }, { tube_code: code });
    tube.client_id = action.client_id;
    await this.store.put("tubes", tube);
    this.actions.set(action.client_id, action);
    this._changed({ type: "opened", tube });
    return { ok: true, kind: "tube", tube };
  }

  async addScan(text, tube = this.currentTube(), extra = {}) {
    if (!tube) return problem("no_tube");
    const qr = normalize(text);
    if (!isResidentCode(qr)) return problem("not_resident_code");
    if (this.liveScans(tube.code).some((a) => a.body.qr === qr)) return problem("dup_in_tube");
    return this._add(tube, { tube_code: tube.code, qr, ...extra });
  }

  /** A person without a code (the supplementary form). */
  async addPerson(resident, tube = this.currentTube(), extra = {}) {
    if (!tube) return problem("no_tube");
    if (!resident.name || !resident.id_number) return problem("form_invalid");
    const key = personKey(resident);
    if (this.liveScans(tube.code).some((a) => a.body.resident && personKey(a.body.resident) === key)) {
      return problem("dup_in_tube");
    }
    return this._add(tube, { tube_code: tube.code, resident, ...extra });
  }

  async _add(tube, body) {
    if (this.count(tube.code) >= tube.capacity) return problem("no_room");
    const action = await this.outbox.enqueue("add_sample", body, { tube_code: tube.code });
    this.actions.set(action.client_id, action);
    const result = { ok: true, kind: "sample", action, tube, count: this.count(tube.code) };
    if (result.count >= tube.capacity) {
      await this.seal(tube, true);
      result.sealed = true;
    }
    this._changed({ type: "added", action, tube });
    return result;
  }

  async undoLast() {
    const tube = this.currentTube();
    const last = tube && this.liveScans(tube.code).at(-1);
    if (!last) return problem("nothing_to_undo");
    last.undone = true;
    await this.outbox.save(last);
    const action = await this.outbox.enqueue("undo", { sample_client_id: last.client_id }, {
      tube_code: tube.code, target: last.client_id,
    });
    this.actions.set(action.client_id, action);
    this._changed({ type: "undone", action: last, tube });
    return { ok: true, action: last };
  }

  async seal(tube = this.currentTube(), auto = false) {
    if (!tube || tube.state !== "open") return problem("no_tube");
    tube.state = "sealed";
    tube.sealed_at = Date.now();
    tube.auto_sealed = auto;
    await this.store.put("tubes", tube);
    const action = await this.outbox.enqueue("seal", { tube_code: tube.code }, { tube_code: tube.code });
    this.actions.set(action.client_id, action);
    this._changed({ type: "sealed", tube, auto });
    return { ok: true, tube, count: this.count(tube.code) };
  }

  // --- fixing problems ---------------------------------------------------------------------
  async dismiss(action) {
    action.state = "resolved";
    action.resolved_at = Date.now();
    forgetPerson(action);
    await this.outbox.save(action);
    this._changed({ type: "resolved", action });
    return { ok: true };
  }

  /** What fixes a refused action: "edit" (the typed details), "resample", "move", or null. */
  fixFor(action) {
    if (action.op !== "add_sample") return null;
    const code = action.result?.body?.error?.code;
    if (action.body.resident && (action.result?.status === 422 || code === "name_mismatch")) return "edit";
    if (code === "already_sampled_this_round") return "resample";
    if (code === "invalid_code" || code === "already_in_tube") return null;
    return "move";
  }

  /** Move every movable problem into the current tube, oldest first, while it has room. */
  async moveAll() {
    const into = [];
    for (const action of this.problems().filter((a) => this.fixFor(a) === "move")) {
      const result = await this.moveToCurrent(action);
      if (!result.ok) return into.length ? { ok: true, count: into.length, tubes: [...new Set(into)] } : result;
      into.push(result.moved);
    }
    return { ok: true, count: into.length, tubes: [...new Set(into)] };
  }

  /** Put a refused scan into the current tube (a new action; the old one is marked moved). */
  async moveToCurrent(action, extra = {}) {
    const tube = this.currentTube();
    if (!tube || this.count(tube.code) >= tube.capacity) return problem("no_room");
    const body = { ...extra };
    const result = action.body.qr ? await this.addScan(action.body.qr, tube, body)
      : await this.addPerson(action.body.resident, tube, body);
    if (!result.ok) return result;
    action.state = "moved";
    action.moved_to = tube.code;
    action.resolved_at = Date.now();
    forgetPerson(action);
    await this.outbox.save(action);
    this._changed({ type: "moved", action, tube });
    return { ...result, moved: tube.code };
  }

  // --- the server's answers ----------------------------------------------------------------
  async _sealedElsewhere(tube) {
    tube.state = "sealed";
    tube.sealed_at = Date.now();
    tube.sealed_by_server = true;
    await this.store.put("tubes", tube);
    this._changed({ type: "sealed", tube, auto: true });
  }

  async _answer(copy, result, outcome) {
    const action = this.actions.get(copy.client_id) || copy;
    action.state = copy.state;
    action.result = copy.result;
    action.answered_at = copy.answered_at;
    const body = result.body || {};
    const errorCode = body.error?.code;
    const tube = this.tubes.get(action.tube_code);
    if (action.op === "add_sample") {
      if (outcome === "done") {
        action.shown = body.resident || null;
        action.sample_id = body.sample_id;
        forgetPerson(action);
        if (tube && body.tube) {
          tube.server_count = body.tube.count;
          await this.store.put("tubes", tube);
          // filled by another phone too: ask for the next tube
          if (body.tube.status && body.tube.status !== "open" && tube.state === "open") await this._sealedElsewhere(tube);
        }
      } else if (action.undone) {
        action.state = "resolved"; // removed by the sampler before the server refused it
        forgetPerson(action);
      } else if ((errorCode === "tube_sealed" || errorCode === "tube_full") && tube && tube.state === "open") {
        await this._sealedElsewhere(tube); // the server's tube is closed: ask for the next one
      }
    } else if (action.op === "open_tube") {
      if (outcome === "failed" && tube) {
        tube.state = "failed";
        tube.error = body.error || null;
        await this.store.put("tubes", tube);
      }
    } else if (action.op === "seal") {
      if (outcome === "failed" && errorCode === "tube_sealed") action.state = "done";
      if (tube && body.count !== undefined) {
        tube.server_count = body.count;
        await this.store.put("tubes", tube);
      }
    } else if (action.op === "undo" && outcome === "failed") {
      const target = this.actions.get(action.target);
      if (target && (target.state !== "done" || result.status === 404)) {
        action.state = "done"; // the scan never reached the server: nothing to remove
      } else if (target) {
        target.undone = false; // it stays recorded: show it again, and say so
        await this.outbox.save(target);
      }
    }
    this._changed({ type: "answer", action });
    return action;
  }
}
