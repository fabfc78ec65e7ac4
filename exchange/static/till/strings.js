// Every word the till shows, in Chinese and English. Keys are shared by both.
import en from "./strings/en.js";
import zh from "./strings/zh.js";

export const STRINGS = { zh, en };
