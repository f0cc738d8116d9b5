// `@username` mentions in a message text: the parser lives with the send path that resolves
// them (domain/messages/mentions.ts); the workers use it for messages stored without `mentions`.
export { MAX_MENTIONS, mentionedUsernameKeys } from '../../domain/messages/mentions';
