// A small promise wrapper around IndexedDB: the outbox and the tubes survive reloads,
// closed tabs and a phone out of network.

const VERSION = 1;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class Store {
  constructor(db) {
    this.db = db;
  }

  /** Open (and create on first use) the database `name`. */
  static async open(name = "field-scan") {
    const request = indexedDB.open(name, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      const actions = db.createObjectStore("actions", { keyPath: "seq", autoIncrement: true });
      actions.createIndex("client_id", "client_id", { unique: true });
      actions.createIndex("tube_code", "tube_code");
      actions.createIndex("state", "state");
      db.createObjectStore("tubes", { keyPath: "code" });
    };
    return new Store(await promised(request));
  }

  _store(name, mode) {
    return this.db.transaction(name, mode).objectStore(name);
  }

  /** Add a record; resolves to its key once the write is durable. */
  add(name, value) {
    return this._write(name, (store) => store.add(value));
  }

  put(name, value) {
    return this._write(name, (store) => store.put(value));
  }

  delete(name, key) {
    return this._write(name, (store) => store.delete(key));
  }

  _write(name, op) {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(name, "readwrite");
      const request = op(tx.objectStore(name));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  get(name, key) {
    return promised(this._store(name, "readonly").get(key));
  }

  all(name) {
    return promised(this._store(name, "readonly").getAll());
  }

  byIndex(name, index, value) {
    return promised(this._store(name, "readonly").index(index).getAll(value));
  }

  getByIndex(name, index, value) {
    return promised(this._store(name, "readonly").index(index).get(value));
  }

  close() {
    this.db.close();
  }
}
