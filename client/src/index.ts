// The chat SDK: a typed client over Socket.IO for the chat backend's v1 contract.
export { ChatClient, createChatClient } from './client';
export type { ChatClientEvents, ChatClientOptions, ConnectionState, SdkEvents, UnreadState } from './client';
export { HistoryPager } from './history';
export { RoomStream } from './room-stream';
export { backoffDelay } from './backoff';
export { readClaims, refreshDelayMs } from './token';
export type { TokenProvider, TokenClaims } from './token';
export { register, login, me } from './rest';
export type { Session } from './rest';
export { isRetryable } from './errors';
export type { ChatError, ChatErrorCode, Result } from './errors';
export type { Requests, RequestName } from './requests';
export type * from './contract/dto';
export type { ErrorCode, ErrorBody } from './contract/errors';
export type { AckResponse } from './contract/ack';
export type { ServerToClientEvents } from './contract/events';
