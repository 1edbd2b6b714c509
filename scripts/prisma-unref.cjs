/**
 * Preload for the Prisma CLI (`node --require ./scripts/prisma-unref.cjs`): the Wasm schema engine leaves
 * 10 s / 60 s timers pending after a command finished, which keeps the process alive that long. Timers of
 * 5 s or more are un-ref'd so they never hold the process open; shorter ones behave as usual.
 */
"use strict";
const LONG_MS = 5000;
for (const name of ["setTimeout", "setInterval"]) {
  const original = globalThis[name];
  globalThis[name] = function unrefLongTimer(callback, delay, ...args) {
    const timer = original.call(this, callback, delay, ...args);
    if (Number(delay) >= LONG_MS && timer && typeof timer.unref === "function") timer.unref();
    return timer;
  };
}
