// What the phone can tell about a scanned code without the server.

// A resident's personal code: "S1" + 24 characters of base32, or, after a re-bind at a site (a new
// code version), "S2" + 28 (sampling/residents/codes.py TOKEN_PATTERN).
export const RESIDENT_CODE = /^(S1[A-Z2-7]{24}|S2[A-Z2-7]{28})$/;
// A tube barcode: 4 to 64 printable characters without spaces (Code 128, Code 39, QR ...).
export const TUBE_CODE = /^[\x21-\x7E]{4,64}$/;

/** The code as scanners and people type it: trimmed; a resident code upper-cased. */
export function normalize(text) {
  const value = String(text ?? "").replace(/[\r\n\t]/g, "").trim();
  const upper = value.toUpperCase();
  return RESIDENT_CODE.test(upper) ? upper : value;
}

export function isResidentCode(text) {
  return RESIDENT_CODE.test(normalize(text));
}

export function isTubeCode(text) {
  const value = normalize(text);
  return TUBE_CODE.test(value) && !RESIDENT_CODE.test(value);
}

/**
 * A camera sees the same codes in many frames in a row, and more than one code at once (two
 * residents' codes in view, a code beside a tube label): report each code once, and again only
 * after it has been out of sight for `quietMs` (each sighting restarts its wait), whatever other
 * codes were seen in between.
 */
export class RepeatFilter {
  constructor(quietMs = 2000, now = () => Date.now()) {
    this.quietMs = quietMs;
    this.now = now;
    this.seen = new Map(); // code -> when it was last seen
  }

  /** True when this sighting is new and should be handled. */
  accept(text) {
    const t = this.now();
    const last = this.seen.get(text);
    this.seen.set(text, t);
    if (this.seen.size > 32) {
      for (const [code, at] of this.seen) if (t - at > this.quietMs) this.seen.delete(code);
    }
    return last === undefined || t - last > this.quietMs;
  }
}

/** A client id for an action: a random UUID (crypto.randomUUID where the browser has it). */
export function newClientId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
