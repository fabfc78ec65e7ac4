// The till: pairing, then sale → receipt → next customer, refunds and the day's list.
// Each view is a module with init(ctx) and enter(ctx, arg); this file wires them together.
import { createApi } from "./api.js";
import { pairingCodeFromHash } from "./codes.js";
import { $, applyLanguage } from "./dom.js";
import { language, setLanguage, t } from "./i18n.js";
import { openDeviceStore } from "./store.js";
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
  return ctx;
}

function watchNetwork() {
  const update = () => { $("offline-banner").hidden = navigator.onLine; };
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  update();
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
  watchNetwork();
  // The pairing link's code is in the fragment; it leaves the address bar at once.
  const code = pairingCodeFromHash(location.hash);
  if (location.hash) history.replaceState(null, "", location.pathname);
  ctx.refreshHeader();
  if (code) ctx.show("pair", { code });
  else if (ctx.pairing()) ctx.show("sale");
  else ctx.show("pair");
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => {});
}

main();
