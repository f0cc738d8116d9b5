// Thread indexes (ThreadDoc, extension): one document per thread, `_id` = the parent
// message's id, listing its replies' room seqs and its participants. Written only through
// domain/messages/threads.ts, under the thread's doc lock: FerretDB applies `$addToSet` as
// read-modify-write.
import type { Models, ThreadDoc } from '../models';

export function threadsRepository({ Thread }: Models) {
  return {
    get: (parentId: string) => Thread.findById(parentId).lean<ThreadDoc>().exec(),

    /**
     * Adds a reply (idempotent: a retried send adds nothing twice) and its participants;
     * resolves the thread as stored afterwards.
     */
    async addReply(parentId: string, roomId: string, seq: number, participants: string[], at: Date): Promise<ThreadDoc> {
      const doc = await Thread.findOneAndUpdate(
        { _id: parentId },
        { $setOnInsert: { roomId }, $addToSet: { seqs: seq, participants: { $each: participants } }, $max: { lastReplyAt: at } },
        { upsert: true, new: true },
      )
        .lean<ThreadDoc>()
        .exec();
      if (!doc) throw new Error(`thread ${parentId} missing after its upsert`);
      return doc;
    },
  };
}
export type ThreadsRepository = ReturnType<typeof threadsRepository>;
