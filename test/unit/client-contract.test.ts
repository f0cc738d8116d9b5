// The SDK's copy of the wire types must match the server's: regenerate with
// `npx tsx tools/client-contract.ts` when this fails (and check the SDK still fits).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_CONTRACT_DIR, generateClientContract } from '../../tools/client-contract';

describe('client contract copy', () => {
  const expected = generateClientContract();
  for (const [file, content] of Object.entries(expected)) {
    it(`client/src/contract/${file} matches the server's contract`, () => {
      const actual = fs.readFileSync(path.join(CLIENT_CONTRACT_DIR, file), 'utf8');
      expect(actual, `client/src/contract/${file} drifted: run npx tsx tools/client-contract.ts`).toBe(content);
    });
  }

  it('holds nothing but the generated files', () => {
    expect(fs.readdirSync(CLIENT_CONTRACT_DIR).sort()).toEqual(Object.keys(expected).sort());
  });

  it('the SDK imports nothing from server/', () => {
    const src = path.join(CLIENT_CONTRACT_DIR, '..');
    const files = fs.readdirSync(src, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
    for (const f of files) expect(fs.readFileSync(path.join(src, f), 'utf8'), f).not.toMatch(/from ['"][./]*server\//);
  });
});
