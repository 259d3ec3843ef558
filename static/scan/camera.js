// The phone camera as a continuous scanner: the browser's BarcodeDetector where it has one that
// reads QR and Code 128, otherwise the vendored zxing-wasm decoder (served from static/).

const NATIVE_FORMATS = ["qr_code", "code_128", "code_39", "code_93", "codabar", "ean_13", "ean_8",
  "itf", "upc_a", "upc_e", "data_matrix"];
const ZXING_FORMATS = ["QRCode", "Code128", "Code39", "Code93", "Codabar", "EAN13", "EAN8", "ITF",
  "UPCA", "UPCE", "DataMatrix"];
const MAX_WIDTH = 960; // frames are scaled down to this before decoding
const INTERVAL_MS = 100;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

async function nativeDetector() {
  if (!("BarcodeDetector" in globalThis)) return null;
  try {
    const supported = await globalThis.BarcodeDetector.getSupportedFormats();
    if (!supported.includes("qr_code") || !supported.includes("code_128")) return null;
    const detector = new globalThis.BarcodeDetector({ formats: NATIVE_FORMATS.filter((f) => supported.includes(f)) });
    return { name: "native", read: async (video) => (await detector.detect(video)).map((r) => r.rawValue) };
  } catch {
    return null;
  }
}

/** The zxing-wasm decoder, its .wasm fetched from our own static files (never a CDN). */
export async function zxingDetector(scriptUrl, wasmUrl) {
  if (!globalThis.ZXingWASM) await loadScript(scriptUrl);
  await globalThis.ZXingWASM.prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasmUrl : prefix + path) },
    fireImmediately: true,
  });
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const options = { formats: ZXING_FORMATS, tryHarder: true, maxNumberOfSymbols: 1 };
  return {
    name: "zxing-wasm",
    read: async (source) => {
      const width = source.videoWidth || source.width;
      const height = source.videoHeight || source.height;
      if (!width || !height) return [];
      const scale = Math.min(1, MAX_WIDTH / width);
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const results = await globalThis.ZXingWASM.readBarcodes(image, options);
      return results.filter((r) => r.isValid !== false && r.text).map((r) => r.text);
    },
  };
}

export class Camera {
  /** video: a <video> element; onCode(text) for every decoded symbol (repeats included). */
  constructor(video, { onCode, scriptUrl, wasmUrl }) {
    this.video = video;
    this.onCode = onCode;
    this.scriptUrl = scriptUrl;
    this.wasmUrl = wasmUrl;
    this.stream = null;
    this.detector = null;
    this.timer = null;
  }

  get running() {
    return Boolean(this.stream);
  }

  async start() {
    if (this.stream) return;
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    this.video.srcObject = this.stream;
    this.video.setAttribute("playsinline", "");
    this.video.muted = true;
    await this.video.play();
    this.detector = this.detector || (await nativeDetector()) || (await zxingDetector(this.scriptUrl, this.wasmUrl));
    this._tick();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }

  async _tick() {
    if (!this.stream) return;
    if (!document.hidden && this.video.readyState >= 2) {
      try {
        for (const text of await this.detector.read(this.video)) this.onCode(text);
      } catch (err) {
        console.warn("decode failed", err);
      }
    }
    if (this.stream) this.timer = setTimeout(() => this._tick(), INTERVAL_MS);
  }
}
