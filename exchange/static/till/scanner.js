// The device camera and the QR decoder (qr-scanner, from the npm registry: see docs/till.md).
// The rear camera first; switch camera and torch where the device has them. A camera that
// cannot be used is reported as a state, never thrown: the code field still works.
import QrScanner from "./vendor/qr-scanner.min.js";

// states: "starting", "scanning", "stopped", "denied", "missing", "insecure"
export function createScanner(video, { onCode, onState }) {
  let scanner = null;
  let cameras = [];
  let cameraIndex = -1;

  function ensure() {
    scanner ??= new QrScanner(video, (result) => onCode(result.data), {
      preferredCamera: "environment",
      returnDetailedScanResult: true,
      maxScansPerSecond: 8,
      onDecodeError: () => {},
      // The whole picture, not just its middle: a cashier need not aim.
      calculateScanRegion: (v) => {
        const scale = Math.min(1, 800 / Math.max(v.videoWidth, v.videoHeight));
        return { x: 0, y: 0, width: v.videoWidth, height: v.videoHeight,
          downScaledWidth: Math.round(v.videoWidth * scale), downScaledHeight: Math.round(v.videoHeight * scale) };
      },
    });
    return scanner;
  }

  async function why() {
    // qr-scanner reports every failure as "Camera not found."; ask the browser which it was.
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      stream.getTracks().forEach((track) => track.stop());
      return "missing";
    } catch (error) {
      return error && (error.name === "NotAllowedError" || error.name === "SecurityError") ? "denied" : "missing";
    }
  }

  return {
    async start() {
      if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) return onState("insecure");
      onState("starting");
      try {
        await ensure().start();
      } catch {
        return onState(await why());
      }
      onState("scanning");
      cameras = await QrScanner.listCameras(true).catch(() => []);
    },
    stop() {
      scanner?.stop();
      onState("stopped");
    },
    canSwitch: () => cameras.length > 1,
    async switchCamera() {
      if (cameras.length < 2) return;
      cameraIndex = (cameraIndex + 1) % cameras.length;
      await scanner.setCamera(cameras[cameraIndex].id);
    },
    hasTorch: async () => (scanner ? scanner.hasFlash().catch(() => false) : false),
    async toggleTorch() {
      await scanner.toggleFlash();
      return scanner.isFlashOn();
    },
  };
}
