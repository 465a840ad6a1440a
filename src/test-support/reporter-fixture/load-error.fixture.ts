import { it } from 'vitest';

// Fails while the file loads, before any test is collected: it imports a module that is not there
// (through a variable, so that tsc lets it pass).
const missing = './no-such-module.js';
await import(missing);
it('never collected', () => {});
