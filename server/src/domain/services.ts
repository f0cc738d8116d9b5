// The bundle of domain services that both transports (socket handlers, REST routes) call.
import type { UserService } from './users/user.service';
import type { RoomService } from './rooms/room.service';
import type { MessageService } from './messages/message.service';
import type { PresenceService } from './presence/presence.service';
import type { TypingService } from './typing/typing.service';

export interface Services {
  users: UserService;
  rooms: RoomService;
  messages: MessageService;
  presence: PresenceService;
  typing: TypingService;
}
