// Scroll-back over message:history: the newest page first, then each older page.
import type { HistoryPage, MessageDto } from './contract/dto';
import type { Result } from './errors';

type Fetch = (payload: { roomId: string; beforeSeq?: number; limit: number }) => Promise<Result<HistoryPage>>;

export class HistoryPager {
  /** Whether older messages remain (true until a page says otherwise). */
  hasMore = true;
  /** The lowest seq loaded so far (null before the first page). */
  oldestSeq: number | null = null;

  constructor(
    private readonly fetchPage: Fetch,
    readonly roomId: string,
    private readonly limit: number,
  ) {}

  /** The next older page, ascending by seq; an empty array once the start is reached. */
  async older(): Promise<Result<MessageDto[]>> {
    if (!this.hasMore) return { ok: true, data: [] };
    const r = await this.fetchPage({ roomId: this.roomId, limit: this.limit, ...(this.oldestSeq !== null ? { beforeSeq: this.oldestSeq } : {}) });
    if (!r.ok) return r;
    const items = r.data.items;
    if (items.length > 0) this.oldestSeq = items[0].seq;
    // The first (newest) page's hasMore speaks of older messages too.
    this.hasMore = r.data.hasMore && items.length > 0 && items[0].seq > 1;
    return { ok: true, data: items };
  }
}
