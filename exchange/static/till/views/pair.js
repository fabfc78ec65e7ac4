// Pairing: the code from the pairing link (or typed) is traded for this device's terminal key.
import { readPairingCode } from "../codes.js";
import { $, busy, setError } from "../dom.js";
import { problemMessage, t } from "../i18n.js";

async function pairWith(ctx, text) {
  const input = $("pair-code");
  const code = readPairingCode(text);
  if (!code) {
    setError(input, $("pair-error"), t("pair.invalid"));
    input.focus();
    return;
  }
  input.value = code;
  setError(input, $("pair-error"), null);
  busy($("pair-button"), true, t("pairing"));
  try {
    const till = await ctx.api.pair(code);
    await ctx.device.set("pairing", { key: till.terminal_key, tillId: till.till_id, label: till.label,
      store: till.store, merchant: till.merchant, pairedAt: new Date().toISOString() });
    ctx.refreshHeader();
    ctx.announce(t("paired", { store: till.store.name }));
    ctx.show("sale");
    ctx.refreshOffline();
  } catch (error) {
    setError(input, $("pair-error"), problemMessage(error.problem));
    input.focus();
  } finally {
    busy($("pair-button"), false, t("pair_button"));
  }
}

export function init(ctx) {
  $("pair-form").addEventListener("submit", (event) => {
    event.preventDefault();
    pairWith(ctx, $("pair-code").value);
  });
}

export function enter(ctx, { notice, code } = {}) {
  $("pair-notice").hidden = !notice;
  $("pair-notice").textContent = notice ?? "";
  setError($("pair-code"), $("pair-error"), null);
  if (code) {
    pairWith(ctx, code);
    return;
  }
  $("pair-code").value = "";
  $("pair-title").focus();
}
