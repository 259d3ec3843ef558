// The outbox: every action of the sampler is written to IndexedDB first, with the client id it
// will be sent with, then sent in order in batches to POST /api/v1/sync. Online and offline are
// the same path; online the outbox is flushed at once. The server applies each client id once,
// so sending a batch again after a lost answer is safe. A batch the server fails on ALONE_AFTER
// times in a row (a 5xx other than 503) is sent again one item at a time: an item the server
// fails on alone, while the next one goes through, is set aside as a problem the sampler sees,
// instead of blocking everything queued behind it.

import { newClientId } from "./codes.js";

export const RETRY_MS = [1000, 2000, 5000, 10000, 20000, 30000];
export const ALONE_AFTER = 3; // whole batches failed in a row before their items are sent one at a time

/** A whole-batch answer that says the server failed on the batch: 5xx, except 503 (busy or
 * restarting: only a matter of time). */
function serverFailed(status) {
  return status >= 500 && status !== 503;
}

/** What a per-item HTTP status means for the action: applied, refused for good, or try later. */
export function classify(status) {
  if (status >= 200 && status < 300) return "done";
  if (status === 408 || status === 429 || status >= 500 || !status) return "retry";
  return "failed";
}

/** The item as POST /api/v1/sync takes it. */
export function syncItem(action) {
  return { client_id: action.client_id, op: action.op, ...action.body };
}

export class Outbox {
  /**
   * @param store    a Store (store.js)
   * @param options  send(items) -> Promise<{status, json}> (throws when there is no network);
   *                 userId; batchSize; onChange(); onResult(action, result, outcome) -> action to save;
   *                 onAuth(status, json) -> Promise<boolean> (true: credentials renewed, retry now);
   *                 setAsideMessage: the reason shown for an action the server fails on every time
   */
  constructor(store, options) {
    this.store = store;
    this.send = options.send;
    this.userId = options.userId;
    this.batchSize = options.batchSize || 50;
    this.onChange = options.onChange || (() => {});
    this.onResult = options.onResult || (() => {});
    this.onAuth = options.onAuth || (async () => false);
    this.retryMs = options.retryMs || RETRY_MS;
    this.attempt = 0;
    this.timer = null;
    this.running = null;
    this.again = false;
    this.setAsideMessage = options.setAsideMessage || "";
    this.lastProblem = null; // null | "network" | "server" | "auth"
    this.failures = 0; // whole batches failed in a row (ALONE_AFTER of them: send their items alone)
    this.alone = 0; // items still to send one at a time
    this.suspect = null; // {action, status}: failed alone; set aside once another item goes through
  }

  /** Queue an action durably and start sending it; resolves to the stored action. */
  async enqueue(op, body, extra = {}) {
    const action = {
      client_id: newClientId(), user_id: this.userId, op, body, state: "queued",
      created_at: Date.now(), ...extra,
    };
    action.seq = await this.store.add("actions", action);
    this.onChange();
    this.flush();
    return action;
  }

  async save(action) {
    await this.store.put("actions", action);
  }

  /** This user's actions still to send, oldest first. */
  async queued() {
    const queued = await this.store.byIndex("actions", "state", "queued");
    return queued.filter((a) => a.user_id === this.userId).sort((a, b) => a.seq - b.seq);
  }

  async pendingCount() {
    return (await this.queued()).length;
  }

  /** Send everything queued; concurrent calls join the run under way. */
  flush() {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    clearTimeout(this.timer);
    this.timer = null;
    this.running = this._run().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.flush();
      }
    });
    return this.running;
  }

  _retryLater() {
    const wait = this.retryMs[Math.min(this.attempt, this.retryMs.length - 1)];
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** The next request's items: a batch, or one item alone while a failed batch is searched for
   * the item the server fails on (after a suspect, the next item tells whether the server works;
   * if it does, the suspect is sent alone once more). */
  async _nextBatch() {
    const queued = await this.queued();
    if (!this.alone) {
      this.suspect = null;
      return queued.slice(0, this.batchSize);
    }
    const suspect = this.suspect && queued.find((a) => a.client_id === this.suspect.action.client_id);
    if (!suspect) this.suspect = null;
    if (this.suspect?.probed) return [suspect];
    return queued.filter((a) => a !== suspect).slice(0, 1);
  }

  /** After a whole-batch failure: whether to send again at once. An item failing alone becomes
   * the suspect (the next item is tried at once); a suspect failing again alone after the next item
   * went through is set aside; any other failure counts towards ALONE_AFTER. */
  async _failed(batch, status) {
    if (!serverFailed(status)) {
      this.suspect = null;
      return false;
    }
    if (this.alone && !this.suspect) {
      this.suspect = { action: batch[0], status, probed: false };
      return true;
    }
    if (this.suspect?.probed) {
      await this._setAside(batch[0], status);
      return true;
    }
    if (this.alone) {
      this.suspect = null; // two different items failed alone: the server, not an item
    } else if (++this.failures >= ALONE_AFTER) {
      this.failures = 0;
      this.alone = batch.length;
    }
    return false;
  }

  /** The server fails on this action and on no other: it becomes a problem the sampler sees,
   * instead of blocking everything queued behind it. */
  async _setAside(action, status) {
    this.suspect = null;
    this.alone = Math.max(0, this.alone - 1);
    action.state = "failed";
    action.result = { status, body: { error: { code: "server_error", message: this.setAsideMessage } } };
    action.answered_at = Date.now();
    await this.save((await this.onResult(action, action.result, "failed")) || action);
  }

  async _run() {
    for (;;) {
      const batch = await this._nextBatch();
      if (!batch.length) {
        this.suspect = null; // alone in the queue: nothing tells it from a failing server; try later
        this.lastProblem = (await this.queued()).length ? "server" : null;
        this.onChange();
        if (this.lastProblem) this._retryLater();
        return;
      }
      let response;
      try {
        response = await this.send(batch.map(syncItem));
      } catch (err) {
        this.suspect = null;
        this.lastProblem = "network";
        this.onChange();
        this._retryLater();
        return;
      }
      if (response.status === 401 || response.status === 403) {
        this.lastProblem = "auth";
        this.onChange();
        if (await this.onAuth(response.status, response.json)) continue;
        this._retryLater();
        return;
      }
      if (response.status !== 200 || !Array.isArray(response.json?.results)) {
        if (await this._failed(batch, response.status)) continue;
        this.lastProblem = "server";
        this.onChange();
        this._retryLater();
        return;
      }
      this.failures = 0;
      if (this.suspect) {
        // the next item went through: send the suspect alone once more; if it went through itself, clear
        if (this.suspect.probed) this.suspect = null;
        else this.suspect.probed = true;
      }
      const byId = new Map(response.json.results.map((r) => [r.client_id, r]));
      let retry = false;
      for (const action of batch) {
        const result = byId.get(action.client_id);
        const outcome = result ? classify(result.status) : "retry";
        if (outcome === "retry") {
          retry = true;
          continue;
        }
        if (this.alone) this.alone -= 1;
        action.state = outcome;
        action.result = { status: result.status, body: result.body ?? null };
        action.answered_at = Date.now();
        // The hook may merge the answer into its own copy of the action and hand that back.
        await this.save((await this.onResult(action, result, outcome)) || action);
      }
      this.onChange();
      if (retry) {
        this.lastProblem = "server";
        this._retryLater();
        return;
      }
      this.attempt = 0;
      this.lastProblem = null;
    }
  }
}
