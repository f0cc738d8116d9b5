// History page selection and checking, pure so it is unit-tested: which page the
// i-th request asks for, and whether the answer is exactly that page.

export type PageKind = 'newest' | 'before' | 'after' | 'deep';

export interface PageQuery {
  kind: PageKind;
  beforeSeq?: number;
  afterSeq?: number;
}

/** Deterministic PRNG (mulberry32): the same run asks for the same pages. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One request in four asks for the newest page (what an opening client does); with `deepBack`,
 * one in four the page that many messages below the top (`deep`, a beforeSeq page); the rest
 * are random pages.
 */
export function pickPage(i: number, rand: () => number, top: number, deepBack = 0): PageQuery {
  if (i % 4 === 0 || top < 1) return { kind: 'newest' };
  if (deepBack > 0 && i % 4 === 2 && top > deepBack) return { kind: 'deep', beforeSeq: top - deepBack };
  if (rand() < 0.5) return { kind: 'before', beforeSeq: 2 + Math.floor(rand() * top) };
  return { kind: 'after', afterSeq: Math.floor(rand() * top) };
}

/** True if items are exactly the page the contract defines for q in a room whose seqs are 1..top. */
export function pageIsExact(q: PageQuery, items: Array<{ seq?: unknown }>, limit: number, top: number): boolean {
  let first: number;
  let last: number;
  if (q.kind === 'after') {
    first = q.afterSeq! + 1;
    last = Math.min(top, q.afterSeq! + limit);
  } else {
    last = Math.min(top, q.kind === 'newest' ? top : q.beforeSeq! - 1);
    first = Math.max(1, last - limit + 1);
  }
  const want = Math.max(0, last - first + 1);
  if (items.length !== want) return false;
  return items.every((m, k) => m.seq === first + k);
}
