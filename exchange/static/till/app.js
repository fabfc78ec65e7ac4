// The till: pairing, then sale → receipt → next customer, refunds and the day's list.
// Each view is a module with init(ctx) and enter(ctx, arg); this file wires them together.
import { createApi } from "./api.js";
import { pairingCodeFromHash } from "./codes.js";
import { $, applyLanguage } from "./dom.js";
import { language, setLanguage, t } from "./i18n.js";
import { createQueue } from "./queue.js";
import { openDeviceStore } from "./store.js";
import * as offlineStatus from "./views/offline-status.js";
import * as pair from "./views/pair.js";
import * as receipt from "./views/receipt.js";
import * as refund from "./views/refund.js";
import * as sale from "./views/sale.js";
import * as settings from "./views/settings.js";
import * as today from "./views/today.js";

const VIEWS = { pair, sale, receipt, refund, today, settings };
const TABS = { sale: "sale", receipt: "sale", refund: "sale", today: "today", settings: "settings" };

function announce(text) {
  const node = $("announcer");
  node.textContent = "";
  // A change of text after a frame is announced even when the words repeat.
  requestAnimationFrame(() => { node.textContent = text; });
}

function createContext(device) {
  let current = null;
  const ctx = {
    device,
    announce,
    pairing: () => device.get("pairing"),
    show(name, arg) {
      if (current && current !== name) VIEWS[current].leave?.(ctx);
      current = name;
      for (const view of Object.keys(VIEWS)) $(`view-${view}`).hidden = view !== name;
      $("view-loading").hidden = true;
      $("tabs").hidden = name === "pair";
      for (const tab of $("tabs").querySelectorAll("button")) {
        if (tab.dataset.view === TABS[name]) tab.setAttribute("aria-current", "page");
        else tab.removeAttribute("aria-current");
      }
      VIEWS[name].enter?.(ctx, arg);
    },
    current: () => current,
    refreshHeader() {
      $("store-name").textContent = ctx.pairing()?.store?.name ?? t("app_name");
    },
    async unpaired(notice) {
      await device.remove("pairing");
      ctx.refreshHeader();
      ctx.show("pair", { notice });
    },
  };
  ctx.api = createApi({ key: () => ctx.pairing()?.key, onUnpaired: () => ctx.unpaired(t("unpaired_notice")) });
  ctx.queue = createQueue({ device, api: ctx.api, onChange: () => offlineStatus.render(ctx) });
  ctx.offlineData = () => ({ catalog: device.get("catalog"), jwks: device.get("jwks") });
  // The keys and the catalog, fetched whenever the till is online: what offline checks rely on.
  ctx.refreshOffline = async () => {
    if (!ctx.pairing() || !navigator.onLine) return;
    try {
      const [jwks, catalog] = await Promise.all([ctx.api.jwks(), ctx.api.catalog()]);
      // How far the exchange's clock is from the till's: expiry and windows are the exchange's.
      const skewMs = Date.parse(catalog.generated_at) - Date.now();
      await device.set("jwks", jwks);
      await device.set("catalog", { ...catalog, skewMs });
      document.body.dataset.catalogAt = catalog.generated_at;
    } catch {
      // Offline or refused: the cached copy stays (and is refused once older than its limit).
    }
  };
  ctx.sync = async () => {
    if (!ctx.pairing() || !navigator.onLine) return;
    await ctx.queue.drain();
    await ctx.refreshOffline();
  };
  ctx.askBackgroundSync = () => {
    navigator.serviceWorker?.ready.then((r) => r.sync?.register("till-queue")).catch(() => {});
  };
  return ctx;
}

function watchNetwork(ctx) {
  window.addEventListener("online", () => ctx.sync());
  // A background sync (where the browser has it) wakes the page through the service worker.
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data === "till-sync") ctx.sync();
  });
  setInterval(() => ctx.sync(), 5 * 60 * 1000);
}

async function main() {
  const device = await openDeviceStore();
  setLanguage(device.get("lang") ?? "zh");
  applyLanguage();
  const ctx = createContext(device);
  $("lang-toggle").addEventListener("click", () => {
    setLanguage(language() === "zh" ? "en" : "zh");
    applyLanguage();
    ctx.refreshHeader();
    VIEWS[ctx.current()]?.relabel?.(ctx);
    device.set("lang", language());
  });
  for (const tab of $("tabs").querySelectorAll("button")) {
    tab.addEventListener("click", () => ctx.show(tab.dataset.view));
  }
  for (const view of Object.values(VIEWS)) view.init(ctx);
  offlineStatus.init(ctx);
  watchNetwork(ctx);
  // The pairing link's code is in the fragment; it leaves the address bar at once.
  const code = pairingCodeFromHash(location.hash);
  if (location.hash) history.replaceState(null, "", location.pathname);
  ctx.refreshHeader();
  if (code) ctx.show("pair", { code });
  else if (ctx.pairing()) ctx.show("sale");
  else ctx.show("pair");
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => {});
  // On every start: what an earlier session queued goes out, and the offline data is renewed.
  ctx.sync();
}

main();
