import { createHash as nodeHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JS } from '../report/html-assets.js';
import { createHash } from './web/shims/crypto.js';

describe('the browser sha256 that html.ts hashes its script with', () => {
  it('equals node:crypto on the report script, the empty string, block edges and non-ASCII', () => {
    const inputs = [JS, '', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'é≤ — 🙂'.repeat(20)];
    for (const s of inputs) {
      expect(createHash('sha256').update(s).digest('base64')).toBe(
        nodeHash('sha256').update(s).digest('base64'),
      );
    }
  });
});
