// A shared one-second clock for countdowns and ages (protection time left, regime age).
export const clock = $state({ now: Date.now() });

setInterval(() => {
  clock.now = Date.now();
}, 1000);
