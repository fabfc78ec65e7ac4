// What the device keeps: its pairing (the terminal key, its store) and the cashier's language,
// in IndexedDB: not in a URL, not in a cookie, never sent but as the Authorization header.
// Falls back to memory where IndexedDB is unavailable (a private window): the till then works
// until the page is closed.

const DB_NAME = "till";
const STORE = "device";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function openDatabase() {
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  return request(open);
}

export async function openDeviceStore() {
  const memory = new Map();
  let db = null;
  try {
    db = await openDatabase();
    const tx = db.transaction(STORE, "readonly");
    const keys = await request(tx.objectStore(STORE).getAllKeys());
    for (const key of keys) memory.set(key, await request(db.transaction(STORE).objectStore(STORE).get(key)));
  } catch {
    db = null;
  }
  async function write(fn) {
    if (!db) return;
    const tx = db.transaction(STORE, "readwrite");
    fn(tx.objectStore(STORE));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  }
  return {
    get: (name) => memory.get(name),
    async set(name, value) {
      memory.set(name, value);
      await write((s) => s.put(value, name));
    },
    async remove(name) {
      memory.delete(name);
      await write((s) => s.delete(name));
    },
  };
}
