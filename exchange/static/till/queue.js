// The offline queue: redemptions accepted while the network was down, kept on the device
// (IndexedDB, through store.js) with their Idempotency-Keys and the till's time, and sent to the
// exchange in the order they were taken as soon as it answers — retried with backoff, on every
// app start, when the browser says it is online, and when a background sync fires. An item is
// written to IndexedDB before the cashier sees it as taken, so a reload or a closed tab loses
// nothing; a retried send carries the same key, so nothing is redeemed twice.
//
// States: "pending" (not yet known to the exchange), "synced" (the exchange accepted it:
// `redemption`, or for a refund `reversal`), "refused" (the exchange refused it: `problem`; a
// double spend is a conflict), "dropped" (a refund of a redemption the exchange refused: never sent).
//
// A refund (`kind: "refund"`) is queued after what it refunds: a confirmed redemption
// (`redemptionId`) or one still in this queue (`redemptionKey`). It is sent only once that
// redemption was accepted — it then refunds the exchange's redemption — and dropped if it was refused.

const BACKOFF_MS = [1000, 2000, 5000, 10000, 30000, 60000];
const KEEP_MS = 7 * 24 * 3600 * 1000;   // settled items stay listed for a week

export function createQueue({ device, api, onChange = () => {}, setTimer = setTimeout, clearTimer = clearTimeout,
  now = () => Date.now() }) {
  let items = [...(device.get("queue") ?? [])];
  let running = null;
  let failures = 0;
  let timer = null;

  async function save() {
    items = items.filter((i) => i.state === "pending" || now() - Date.parse(i.offlineAt) < KEEP_MS);
    await device.set("queue", items);
    onChange(items);
  }

  function schedule() {
    if (timer !== null) clearTimer(timer);
    const delay = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
    failures += 1;
    timer = setTimer(() => { timer = null; drain(); }, delay);
  }

  // The oldest item still pending, looked up afresh each time: one taken meanwhile goes out too.
  const nextPending = () => items.find((i) => i.state === "pending");

  // What a queued redemption's answer means for the refunds queued after it.
  function settleRefundsOf(item) {
    for (const refund of items.filter((i) => i.kind === "refund" && i.redemptionKey === item.key)) {
      if (refund.state !== "pending") continue;
      if (item.state === "synced") refund.redemptionId = item.redemption.id;
      else Object.assign(refund, { state: "dropped", problem: { code: "refund_of_refused_redemption" } });
    }
  }

  async function send(item) {
    if (item.kind !== "refund") {
      item.redemption = await api.sync(item);
    } else {
      item.reversal = await api.syncRefund(item);
    }
  }

  async function sendAll() {
    for (let item = nextPending(); item; item = nextPending()) {
      if (item.kind === "refund" && !item.redemptionId) {
        // Its redemption is neither confirmed nor in the queue any more: nothing to refund.
        Object.assign(item, { state: "dropped", problem: { code: "refund_of_refused_redemption" } });
        await save();
        continue;
      }
      try {
        await send(item);
        item.state = "synced";
        item.syncedAt = new Date(now()).toISOString();
      } catch (error) {
        if (!error.problem || error.retryable || error.status === 401 || error.status === 429) {
          await save();
          if (error.status !== 401) schedule();
          return false;
        }
        item.state = "refused";
        item.problem = error.problem;
      }
      settleRefundsOf(item);
      await save();
    }
    failures = 0;
    return true;
  }

  // Send what is pending, one at a time in order; a second call while sending waits for it.
  function drain() {
    if (!running) running = sendAll().finally(() => { running = null; });
    return running;
  }

  return {
    items: () => items,
    pending: () => items.filter((i) => i.state === "pending"),
    // The refunds queued of a redemption (its id, or its key while it waits in the queue itself).
    refundsOf: (target) => items.filter((i) => i.kind === "refund" && i.state !== "dropped" && i.state !== "refused"
      && ((target.key && i.redemptionKey === target.key) || (target.id && i.redemptionId === target.id))),
    async add(item) {
      items.push({ ...item, state: "pending" });
      await save();
    },
    drain,
    async acknowledge(key) {
      const item = items.find((i) => i.key === key);
      if (item) item.seen = true;
      await save();
    },
  };
}
