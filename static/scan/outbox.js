// The outbox: every action of the sampler is written to IndexedDB first, with the client id it
// will be sent with, then sent in order in batches to POST /api/v1/sync. Online and offline are
// the same path; online the outbox is flushed at once. The server applies each client id once,
// so sending a batch again after a lost answer is safe.

import { newClientId } from "./codes.js";

export const RETRY_MS = [1000, 2000, 5000, 10000, 20000, 30000];

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
   *                 onAuth(status, json) -> Promise<boolean> (true: credentials renewed, retry now)
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
    this.lastProblem = null; // null | "network" | "server" | "auth"
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

  async _run() {
    for (;;) {
      const batch = (await this.queued()).slice(0, this.batchSize);
      if (!batch.length) {
        this.lastProblem = null;
        this.onChange();
        return;
      }
      let response;
      try {
        response = await this.send(batch.map(syncItem));
      } catch (err) {
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
        this.lastProblem = "server";
        this.onChange();
        this._retryLater();
        return;
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
