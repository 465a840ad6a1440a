/**
 * setImmediate for the Web Worker: explore/units.ts yields to the event loop between runs with it
 * (Node has it, browsers do not). A MessageChannel message is a macrotask with no clamping, where
 * setTimeout(0) would wait 4 ms once nested.
 */
const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
if (typeof g.setImmediate !== 'function') {
  const queue: (() => void)[] = [];
  const channel = new MessageChannel();
  channel.port1.onmessage = () => queue.shift()?.();
  g.setImmediate = (fn: () => void) => {
    queue.push(fn);
    channel.port2.postMessage(null);
    return 0;
  };
}
