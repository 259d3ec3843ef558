// Sound and vibration for each scan, made with WebAudio (no audio files): one short high beep
// when a scan is accepted, two low buzzes for an error, a rising pair when a tube is sealed.

let audio = null;

/** Create the audio context on the first tap (browsers allow sound only after a gesture). */
export function unlockAudio() {
  const Context = globalThis.AudioContext || globalThis.webkitAudioContext;
  if (!Context) return;
  if (!audio) audio = new Context();
  if (audio.state === "suspended") audio.resume().catch(() => {});
}

function tone(frequency, start, duration, type = "sine", volume = 0.3) {
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = type;
  osc.frequency.value = frequency;
  const t0 = audio.currentTime + start;
  gain.gain.setValueAtTime(volume, t0);
  gain.gain.exponentialRampToValueAtTime(0.001, t0 + duration);
  osc.connect(gain).connect(audio.destination);
  osc.start(t0);
  osc.stop(t0 + duration + 0.02);
}

const PATTERNS = {
  ok: { tones: [[1760, 0, 0.09, "sine"]], vibrate: 40 },
  error: { tones: [[220, 0, 0.16, "square"], [180, 0.22, 0.22, "square"]], vibrate: [120, 80, 120] },
  sealed: { tones: [[1320, 0, 0.1, "sine"], [1760, 0.13, 0.18, "sine"]], vibrate: [40, 60, 40] },
};

export const played = []; // the last signals given (read by tests)

/** Give the signal `kind` ("ok", "error", "sealed"). */
export function signal(kind) {
  const pattern = PATTERNS[kind];
  played.push(kind);
  if (played.length > 50) played.shift();
  try {
    if (audio && audio.state === "running") {
      for (const [f, start, duration, type] of pattern.tones) tone(f, start, duration, type);
    }
  } catch {
    // no sound is better than a broken scan
  }
  if (navigator.vibrate) navigator.vibrate(pattern.vibrate);
}
