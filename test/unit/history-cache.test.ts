// The per-node newest-page cache: when it may answer, and how updates and database fills
// arriving in any order keep it equal to the database.
import { describe, expect, it } from 'vitest';
import type { MessageDto } from '../../server/src/contracts/dto';
import { HistoryCache, PAGE_MAX } from '../../server/src/domain/messages/history-cache';

const msg = (seq: number, text = `m${seq}`, roomId = 'r1'): MessageDto => ({
  id: `${roomId}:${seq}`,
  roomId,
  seq,
  senderId: 'u1',
  clientMsgId: `c${seq}`,
  text,
  replyTo: null,
  createdAt: new Date(1_700_000_000_000 + seq).toISOString(),
  editedAt: null,
  deletedAt: null,
  reactions: {},
});
const deliverAll = (c: HistoryCache, from: number, to: number, roomId = 'r1') => {
  for (let s = from; s <= to; s++) c.delivered(msg(s, `m${s}`, roomId));
};
const seqs = (p: { items: MessageDto[] } | null) => p?.items.map((m) => m.seq);
const page = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ m: msg(from + i), v: 0 }));

describe('HistoryCache', () => {
  it('answers from a room it saw from seq 1, and says when it cannot', () => {
    const c = new HistoryCache(10);
    expect(c.newest('r1', 50, 0)).toBeNull();
    deliverAll(c, 1, 30);
    expect(c.newest('r1', 50, 30)).toEqual({ items: page(1, 30).map((e) => e.m), hasMore: false, proofSeq: 1 });
    const ten = c.newest('r1', 10, 30)!;
    expect(seqs(ten)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(ten.hasMore).toBe(true);
    expect(ten.proofSeq).toBe(20);
    // The room's lastSeq is ahead (a message stored elsewhere not yet delivered here): not sure.
    expect(c.newest('r1', 10, 31)).toBeNull();
  });

  it('a room first seen mid-way answers only pages it holds with one more below', () => {
    const c = new HistoryCache(10);
    deliverAll(c, 500, 520);
    expect(c.newest('r1', 21, 520)).toBeNull(); // 21 held, nothing known below
    expect(c.newest('r1', 20, 520)?.hasMore).toBe(true);
  });

  it('keeps at most PAGE_MAX messages per room and the rooms used last', () => {
    const c = new HistoryCache(2);
    deliverAll(c, 1, PAGE_MAX + 20);
    const p = c.newest('r1', PAGE_MAX, PAGE_MAX + 20)!;
    expect(p.items).toHaveLength(PAGE_MAX);
    expect(p.hasMore).toBe(true);
    expect(c.newest('r1', PAGE_MAX + 1, PAGE_MAX + 20)).toBeNull(); // never more than it holds
    deliverAll(c, 1, 3, 'r2');
    c.newest('r1', 10, 0); // r1 used: r2 is now the least recent
    deliverAll(c, 1, 3, 'r3');
    expect(c.size).toBe(2);
    expect(c.newest('r2', 10, 3)).toBeNull();
    expect(seqs(c.newest('r1', 1, PAGE_MAX + 20))).toEqual([PAGE_MAX + 20]);
  });

  it('a gap restarts the run; a seq already held is ignored', () => {
    const c = new HistoryCache(10);
    deliverAll(c, 1, 10);
    c.delivered(msg(5, 'a re-announced retry'));
    expect(c.newest('r1', 10, 10)!.items[4].text).toBe('m5');
    c.delivered(msg(12));
    expect(c.newest('r1', 2, 12)).toBeNull();
    expect(c.newest('r1', 1, 12)).toBeNull(); // one held, nothing known below
  });

  it('applies updates by version: a late, older update changes nothing', () => {
    const c = new HistoryCache(10);
    deliverAll(c, 1, 5);
    c.applyUpdate({ ...msg(3, 'second edit'), editedAt: new Date().toISOString() }, 2);
    c.applyUpdate({ ...msg(3, 'first edit'), editedAt: new Date().toISOString() }, 1);
    expect(c.newest('r1', 5, 5)!.items[2].text).toBe('second edit');
  });

  it('an update that arrives before its message keeps the stale message out of the cache', () => {
    const c = new HistoryCache(10);
    deliverAll(c, 1, 5);
    c.applyUpdate({ ...msg(7, 'edited'), editedAt: new Date().toISOString() }, 1);
    deliverAll(c, 6, 7); // 7 arrives with its original text
    expect(c.newest('r1', 1, 7)).toBeNull();
    deliverAll(c, 8, 8);
    expect(c.newest('r1', 1, 8)).toBeNull(); // 8 alone, nothing known below it
  });

  it('sends its own updates to the peers', () => {
    const c = new HistoryCache(10);
    const sent: Array<[number, number]> = [];
    c.updateOnPeers = (m, v) => sent.push([m.seq, v]);
    deliverAll(c, 1, 2);
    c.updated(msg(2, 'edited'), 1);
    expect(sent).toEqual([[2, 1]]);
    expect(c.newest('r1', 2, 2)!.items[1].text).toBe('edited');
  });

  it('a database fill merges with what arrived meanwhile, unless an update raced it', () => {
    const c = new HistoryCache(10);
    let epoch = c.beginFill('r1');
    deliverAll(c, 1001, 1002); // live messages while the read was in flight
    c.fill('r1', epoch, page(951, 1001), true);
    expect(seqs(c.newest('r1', 52, 1002))).toEqual(Array.from({ length: 52 }, (_, i) => 951 + i));
    expect(c.newest('r1', 52, 1002)!.hasMore).toBe(true);

    const c2 = new HistoryCache(10);
    epoch = c2.beginFill('r1');
    c2.applyUpdate(msg(990, 'edited after the read'), 1);
    c2.fill('r1', epoch, page(951, 1000), true);
    expect(c2.newest('r1', 50, 1000)).toBeNull();
  });

  it('a fill keeps the newer version of an entry it already holds', () => {
    const c = new HistoryCache(10);
    deliverAll(c, 1, 3);
    c.applyUpdate(msg(2, 'edited'), 1);
    const epoch = c.beginFill('r1');
    c.fill('r1', epoch, page(1, 3), false);
    expect(c.newest('r1', 3, 3)!.items[1].text).toBe('edited');
  });

  it('a fill that does not reach the run leaves the run alone', () => {
    const c = new HistoryCache(10);
    const epoch = c.beginFill('r1');
    deliverAll(c, 200, 210);
    c.fill('r1', epoch, page(100, 149), true);
    expect(c.newest('r1', 11, 210)).toBeNull();
    expect(seqs(c.newest('r1', 10, 210))).toEqual(Array.from({ length: 10 }, (_, i) => 201 + i));
  });

  it('serves nothing while the cluster link is down, and can be cleared', () => {
    const c = new HistoryCache(10);
    deliverAll(c, 1, 3);
    c.linked = () => false;
    expect(c.newest('r1', 3, 3)).toBeNull();
    c.linked = () => true;
    c.clear();
    expect(c.newest('r1', 3, 3)).toBeNull();
  });

  it('size 0 keeps nothing', () => {
    const c = new HistoryCache(0);
    deliverAll(c, 1, 3);
    expect(c.size).toBe(0);
    expect(c.newest('r1', 3, 3)).toBeNull();
  });
});
