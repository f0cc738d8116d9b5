// History pages: the newest from this node's cache when it is sure of it, else from the
// database in the form it serves well (one range query, or `_id` lookups; config HISTORY_READS).
import type { HistoryPage } from '../../contracts/dto';
import type { MessageDoc, RoomDoc } from '../../data/models';
import type { Repositories } from '../../data/repositories';
import { toMessageDto } from '../mappers';
import type { HistoryCache } from './history-cache';

export type HistoryReads = 'range' | 'points';

export interface HistoryQuery {
  beforeSeq?: number;
  afterSeq?: number;
  limit: number;
}

export type PageSource = 'cache' | HistoryReads;

export function createHistoryReader(repos: Repositories, reads: HistoryReads, cache: HistoryCache | null, onPage: (source: PageSource) => void = () => {}) {
  const fromDatabase = (room: RoomDoc, q: HistoryQuery): Promise<{ items: MessageDoc[]; hasMore: boolean }> =>
    reads === 'points' ? repos.messages.pageByPoints(room._id, q, room.lastSeq) : repos.messages.page(room._id, q);

  /** A cached page, if its proof holds: where retention may have deleted messages, one `_id` lookup. */
  async function cached(room: RoomDoc, limit: number): Promise<HistoryPage | null> {
    const hit = cache?.newest(room._id, limit, room.lastSeq);
    if (!hit) return null;
    if (room.retentionDays && hit.proofSeq !== null && !(await repos.messages.existsAt(room._id, hit.proofSeq))) {
      cache!.forget(room._id);
      return null;
    }
    return { items: hit.items, hasMore: hit.hasMore };
  }

  return {
    reads,

    /** A page of `room` for a caller already authorized to read it. */
    async page(room: RoomDoc, q: HistoryQuery): Promise<HistoryPage> {
      const newest = q.beforeSeq === undefined && q.afterSeq === undefined;
      if (newest && cache) {
        const hit = await cached(room, q.limit);
        if (hit) {
          onPage('cache');
          return hit;
        }
      }
      const epoch = newest && cache ? cache.beginFill(room._id) : 0;
      const page = await fromDatabase(room, q);
      onPage(reads);
      const items = page.items.map((doc) => ({ m: toMessageDto(doc), v: doc.v ?? 0 }));
      if (newest && cache) cache.fill(room._id, epoch, items, page.hasMore);
      return { items: items.map((e) => e.m), hasMore: page.hasMore };
    },

    /** Stored messages fromSeq..toSeq for filling a live-delivery gap. */
    inRange: (roomId: string, fromSeq: number, toSeq: number): Promise<MessageDoc[]> =>
      reads === 'points' ? repos.messages.inRangeByPoints(roomId, fromSeq, toSeq) : repos.messages.inRange(roomId, fromSeq, toSeq),
  };
}
export type HistoryReader = ReturnType<typeof createHistoryReader>;
