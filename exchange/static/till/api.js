// The one way the till talks to the exchange: the key, Idempotency-Keys, retries, and
// problem+json turned into ApiProblem. Views never call fetch() themselves; the offline queue
// (queue.js) sends what it kept through `sync`, with the key and the till's time it kept.

export class ApiProblem extends Error {
  constructor(problem) {
    super(problem.detail || problem.code);
    this.problem = problem;
    this.code = problem.code;
    this.status = problem.status ?? 0;
  }

  // Worth sending again with the same Idempotency-Key: the request may not have arrived, or
  // the server could not answer (it stores nothing for those), or the first is still running.
  get retryable() {
    return this.code === "network_error" || this.code === "idempotency_in_progress"
      || [502, 503, 504].includes(this.status);
  }
}

// A version 4 UUID. crypto.randomUUID() exists only on secure origins; a till on a shop's
// plain-HTTP address still has crypto.getRandomValues().
export function newIdempotencyKey(random = globalThis.crypto) {
  const b = random.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const RETRY_DELAYS_MS = [400, 1000, 2000, 4000, 8000];

export function createApi({ fetch = globalThis.fetch.bind(globalThis), key = () => null, onUnpaired = () => {},
  sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)), delays = RETRY_DELAYS_MS } = {}) {
  async function call(method, path, { body, idempotencyKey, auth = true } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && key()) headers.Authorization = `Bearer ${key()}`;
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let response;
    try {
      response = await fetch(path, { method, headers, credentials: "omit", cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new ApiProblem({ code: "network_error", status: 0, detail: String(error) });
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (response.ok) return data;
    const problem = data && data.code ? data
      : { code: response.status >= 500 ? "server_error" : "http_error", status: response.status };
    if (response.status === 401 && auth) onUnpaired(problem);
    throw new ApiProblem(problem);
  }

  // The same request, with the same Idempotency-Key, until it gets an answer (or gives up).
  async function retried(method, path, options, onRetry = () => {}) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await call(method, path, options);
      } catch (error) {
        if (!(error instanceof ApiProblem) || !error.retryable || attempt >= delays.length) throw error;
        onRetry(attempt + 1, error);
        await sleep(delays[attempt]);
      }
    }
  }

  return {
    pair: (code) => call("POST", "/api/v1/till-pairings/exchange", { body: { code }, auth: false }),
    whoami: () => call("GET", "/api/v1/till"),
    unpair: () => call("DELETE", "/api/v1/till"),
    day: () => call("GET", "/api/v1/till/day"),
    redemption: (id) => call("GET", `/api/v1/redemptions/${Number(id)}`),
    verify: (payload, orderAmount) => call("POST", "/api/v1/redemptions/verify",
      { body: { payload, order_amount: orderAmount } }),
    // attempt = {key, payload, orderAmount}: its key was made once, for every try of it.
    redeem: (attempt, onRetry) => retried("POST", "/api/v1/redemptions", {
      body: { payload: attempt.payload, order_amount: attempt.orderAmount }, idempotencyKey: attempt.key,
    }, onRetry),
    // What the till caches for offline use: the exchange's public keys and its store's catalog.
    jwks: () => call("GET", "/.well-known/jwks.json", { auth: false }),
    catalog: () => call("GET", "/api/v1/till/catalog"),
    // One queued offline redemption: no retries here, the queue has its own backoff.
    sync: (item) => call("POST", "/api/v1/redemptions", {
      body: { payload: item.payload, order_amount: item.orderAmount, order_ref: item.orderRef,
        offline_at: item.offlineAt },
      idempotencyKey: item.key,
    }),
    // One queued offline refund, of the redemption the exchange accepted (its id), as the queue kept it.
    syncRefund: (item) => call("POST", `/api/v1/redemptions/${Number(item.redemptionId)}/reversals`, {
      body: { refund_amount: item.amount, reason: item.reason, offline_at: item.offlineAt },
      idempotencyKey: item.key,
    }),
    refund: (attempt, onRetry) => retried("POST", `/api/v1/redemptions/${Number(attempt.redemptionId)}/reversals`, {
      body: { refund_amount: attempt.amount, reason: attempt.reason }, idempotencyKey: attempt.key,
    }, onRetry),
  };
}
