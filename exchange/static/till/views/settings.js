// Who this till is, and its unpair button (a device handed back: its key is revoked at once).
import { $, shopTime } from "../dom.js";
import { problemMessage, t } from "../i18n.js";

function fill(ctx) {
  const pairing = ctx.pairing();
  if (!pairing) return;
  $("settings-merchant").textContent = pairing.merchant?.name ?? "";
  $("settings-store").textContent = `${pairing.store?.name ?? ""}\n${pairing.store?.address ?? ""}`.trim();
  $("settings-label").textContent = pairing.label ?? "";
  $("settings-paired").textContent = pairing.pairedAt ? shopTime(pairing.pairedAt) : "";
  const catalog = ctx.offlineData().catalog;
  $("settings-catalog").textContent = catalog ? shopTime(catalog.generated_at) : t("catalog_none");
}

export function init(ctx) {
  $("unpair").addEventListener("click", () => {
    $("unpair-confirm").hidden = false;
    $("unpair-no").focus();
  });
  $("unpair-no").addEventListener("click", () => {
    $("unpair-confirm").hidden = true;
    $("unpair").focus();
  });
  $("unpair-yes").addEventListener("click", async () => {
    try {
      await ctx.api.unpair();
      await ctx.unpaired(null);
    } catch (error) {
      if (error.status !== 401) ctx.announce(problemMessage(error.problem));
    }
  });
}

export function enter(ctx) {
  $("unpair-confirm").hidden = true;
  fill(ctx);
  $("settings-title").focus();
  // The store's name may have changed since pairing.
  ctx.api.whoami().then(async (me) => {
    await ctx.device.set("pairing", { ...ctx.pairing(), store: me.store, merchant: me.merchant, label: me.till.label });
    ctx.refreshHeader();
    fill(ctx);
  }).catch(() => {});
}

export function relabel(ctx) {
  fill(ctx);
}
