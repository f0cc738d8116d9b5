// Invitations to private rooms and bans after a kick.
import type { Models, RoomAccessDoc } from '../models';
import { membershipId } from '../ids';

export function roomAccessRepository({ RoomAccess }: Models) {
  return {
    get: (roomId: string, userId: string) => RoomAccess.findById(membershipId(roomId, userId)).lean<RoomAccessDoc>().exec(),
    /** `until`/`reason`: a ban's expiry (null = until lifted) and why (moderation). */
    set: (roomId: string, userId: string, kind: RoomAccessDoc['kind'], by: string, ban: { until: Date | null; reason: string | null } = { until: null, reason: null }) =>
      RoomAccess.updateOne(
        { _id: membershipId(roomId, userId) },
        { $set: { roomId, userId, kind, by, at: new Date(), until: ban.until, reason: ban.reason } },
        { upsert: true },
      ).exec(),
    remove: (roomId: string, userId: string) => RoomAccess.deleteOne({ _id: membershipId(roomId, userId) }).exec(),
  };
}
export type RoomAccessRepository = ReturnType<typeof roomAccessRepository>;
