// The few DOM helpers the views share. Text goes in as text (textContent), never as HTML.
import { language, t } from "./i18n.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, { className, text, attrs = {} } = {}, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

// Every [data-i18n] element gets its text, every [data-i18n-aria] its aria-label.
export function applyLanguage(root = document) {
  document.documentElement.lang = language() === "zh" ? "zh-CN" : "en";
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
  $("lang-toggle").lang = language() === "zh" ? "en" : "zh-CN";
}

export function setError(input, errorNode, message) {
  errorNode.textContent = message ?? "";
  if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
}

// A moment as the shop reads it: Beijing time, in the page's language.
export function shopTime(iso, { date = true } = {}) {
  const options = { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false };
  if (date) Object.assign(options, { year: "numeric", month: "2-digit", day: "2-digit", second: "2-digit" });
  return new Intl.DateTimeFormat(language() === "zh" ? "zh-CN" : "en-GB", options).format(new Date(iso));
}

// A button that shows it is working and cannot be pressed twice meanwhile.
export function busy(button, working, label) {
  button.disabled = working;
  button.setAttribute("aria-busy", working ? "true" : "false");
  if (label !== undefined) button.textContent = label;
}
