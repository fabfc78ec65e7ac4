// What the cashier sees of offline mode everywhere: the banner, the queue's line under it (how
// many wait, how many were refused), and the list of offline redemptions in 今日 — each one
// pending, synced or refused, never to be mistaken for a confirmed one.
import { $, el, shopTime } from "../dom.js";
import { problemMessage, t } from "../i18n.js";
import { formatFen } from "../money.js";
import { catalogAgeHours } from "../offline.js";

function stateText(item) {
  if (item.state === "synced") return t("state_synced", { id: item.redemption?.id ?? item.reversal?.id ?? "" });
  if (item.state === "dropped") return `${t("state_dropped")}: ${problemMessage(item.problem)}`;
  if (item.state === "refused") {
    const conflict = item.problem?.code === "offline_double_spend" || item.problem?.code === "offline_limit_reached";
    return `${t(conflict ? "state_conflict" : "state_refused")}: ${problemMessage(item.problem)}`;
  }
  return t("state_pending");
}

// A queued refund: its amount off, the order it refunds, and its own state.
function refundRow(item) {
  return el("li", { className: `offline-item is-refund is-${item.state}`,
    attrs: { "data-state": item.state, "data-key": item.key, "data-kind": "refund" } },
  el("div", { className: "static" },
    el("span", { text: shopTime(item.offlineAt, { date: false }) }),
    el("span", { className: "mono", text: item.orderRef ?? `#${item.redemptionId}` }),
    el("span", { className: "amount-cell", text: formatFen(-item.amount) }),
    el("span", { className: "status", text: [t("refund_item"), item.code, item.reason].filter(Boolean).join(" · ") }),
    el("span", { className: "state", text: stateText(item) })));
}

function row(item) {
  if (item.kind === "refund") return refundRow(item);
  return el("li", { className: `offline-item is-${item.state}`, attrs: { "data-state": item.state, "data-key": item.key } },
    el("div", { className: "static" },
      el("span", { text: shopTime(item.offlineAt, { date: false }) }),
      el("span", { className: "mono", text: item.orderRef }),
      el("span", { className: "amount-cell", text: formatFen(item.payable) }),
      el("span", { className: "status", text: `${item.redemption?.coupon_code ?? item.code ?? `#${item.couponId}`} · ${t("discount")} ${formatFen(item.discount)}` }),
      el("span", { className: "state", text: stateText(item) })));
}

export function render(ctx) {
  const items = ctx.queue.items();
  const offline = !navigator.onLine;
  const pending = items.filter((i) => i.state === "pending").length;
  const refused = items.filter((i) => i.state === "refused" && !i.seen).length;
  $("offline-banner").hidden = !offline;
  $("offline-badge").hidden = !offline;
  // A catalog past the store's age limit is said at once: nothing can be taken offline with it.
  const { catalog } = ctx.offlineData();
  const stale = !catalog ? t("catalog_missing_flag")
    : catalogAgeHours(catalog) > catalog.limits.max_catalog_age_hours
      ? t("catalog_stale_flag", { hours: catalog.limits.max_catalog_age_hours }) : "";
  $("offline-banner").textContent = stale ? `${t("offline_banner")} ${stale}` : t("offline_banner");
  const status = $("queue-status");
  const parts = [];
  if (pending) parts.push(t(offline ? "queue_pending_offline" : "queue_pending", { n: pending }));
  if (refused) parts.push(t("queue_refused", { n: refused }));
  status.hidden = parts.length === 0;
  status.classList.toggle("is-refused", refused > 0);
  $("queue-status-text").textContent = parts.join(" · ");
  $("offline-list").hidden = items.length === 0;
  $("offline-items").replaceChildren(...[...items].reverse().map(row));
}

export function init(ctx) {
  $("queue-open").addEventListener("click", () => ctx.show("today"));
  const update = () => render(ctx);
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  update();
}
