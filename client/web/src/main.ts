// The web client: a small chat UI on the SDK, plain DOM (no framework: a handful of
// views that re-render from the SDK's events). Served by the server at `/`.
import { createChatClient, login, register, type ChatClient, type HistoryPager, type MemberDto, type MessageDto, type RoomSummaryDto, type Session } from '../../src';
import { h, clear } from './dom';

const app = document.getElementById('app')!;
const origin = location.origin;

interface State {
  session: Session;
  client: ChatClient;
  rooms: RoomSummaryDto[];
  openRoomId: string | null;
  pager: HistoryPager | null;
  members: MemberDto[];
  /** Other members' read marks in the open room. */
  readMarks: Map<string, number>;
}

let state: State | null = null;

const short = (userId: string) => (state && userId === state.session.user.id ? 'you' : `user-${userId.slice(-6)}`);
const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

// ------------------------------------------------------------------ login

function showLogin(error = ''): void {
  clear(app);
  const username = h('input', { name: 'username', placeholder: 'username', autocomplete: 'username', 'data-testid': 'username' });
  const password = h('input', { name: 'password', type: 'password', placeholder: 'password (8+ characters)', autocomplete: 'current-password', 'data-testid': 'password' });
  const message = h('p', { class: 'error', 'data-testid': 'login-error' }, error);
  const submit = async (mode: 'login' | 'register') => {
    const body = { username: username.value.trim(), password: password.value };
    const r = mode === 'login' ? await login(origin, body) : await register(origin, body);
    if (!r.ok) {
      message.textContent = `${r.error.code}: ${r.error.message}`;
      return;
    }
    sessionStorage.setItem('chat.session', JSON.stringify(r.data));
    void start(r.data);
  };
  const form = h('form', { class: 'login' }, h('h1', {}, 'Chat'), username, password,
    h('div', { class: 'row' },
      h('button', { type: 'submit', 'data-testid': 'login' }, 'Log in'),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'register', onclick: () => submit('register') }, 'Register')),
    message);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submit('login');
  });
  app.append(form);
  username.focus();
}

// ------------------------------------------------------------------ main view

const el = {
  status: h('span', { class: 'status', 'data-testid': 'status' }),
  rooms: h('ul', { class: 'rooms', 'data-testid': 'rooms' }),
  header: h('header', { class: 'room-header' }),
  members: h('ul', { class: 'members', 'data-testid': 'members' }),
  older: h('button', { class: 'older secondary', 'data-testid': 'older' }, 'Load older messages'),
  messages: h('ol', { class: 'messages', 'data-testid': 'messages' }),
  typing: h('p', { class: 'typing', 'data-testid': 'typing' }),
  input: h('input', { placeholder: 'Write a message', maxlength: '4000', 'data-testid': 'composer', disabled: '' }),
  error: h('p', { class: 'error', 'data-testid': 'error' }),
};

async function start(session: Session): Promise<void> {
  const client = createChatClient({ url: origin, token: () => session.token, transports: ['websocket', 'polling'] });
  state = { session, client, rooms: [], openRoomId: null, pager: null, members: [], readMarks: new Map() };
  renderShell();
  client.on('state', (s) => (el.status.textContent = s));
  client.on('error', (e) => {
    if (e.code === 'UNAUTHORIZED') {
      sessionStorage.removeItem('chat.session');
      client.close();
      showLogin('Session ended, log in again');
    }
  });
  client.on('unread', () => renderRooms());
  client.on('message', (m) => onMessage(m));
  client.on('message:new', (m) => {
    if (!state!.rooms.some((r) => r.id === m.roomId)) void refreshRooms(); // a new DM or room
  });
  client.on('message:updated', (m) => replaceMessage(m));
  client.on('typingChanged', ({ roomId, userIds }) => {
    if (roomId === state?.openRoomId) el.typing.textContent = userIds.length ? `${userIds.map(short).join(', ')} typing…` : '';
  });
  client.on('presence:updated', () => renderMembers());
  client.on('read:updated', ({ roomId, userId, lastReadSeq }) => {
    if (roomId === state?.openRoomId && userId !== session.user.id) {
      state.readMarks.set(userId, lastReadSeq);
      renderReadMarks();
    }
  });
  client.on('room:member_joined', ({ roomId }) => roomId === state?.openRoomId && void loadMembers());
  client.on('room:member_left', ({ roomId }) => roomId === state?.openRoomId && void loadMembers());
  client.on('room:invited', async ({ roomId }) => {
    await client.joinRoom(roomId);
    await refreshRooms();
  });
  const connected = await client.connect();
  if (!connected.ok) return showLogin(connected.error.message);
  await refreshRooms();
  if (state.rooms[0]) await openRoom(state.rooms[0].id);
}

function renderShell(): void {
  clear(app);
  const s = state!;
  const newRoom = h('input', { placeholder: 'new room name', 'data-testid': 'new-room-name' });
  const privateBox = h('input', { type: 'checkbox', 'data-testid': 'new-room-private' });
  const joinId = h('input', { placeholder: 'room id to join', 'data-testid': 'join-room-id' });
  const create = h('form', { class: 'stack' }, newRoom, h('label', {}, privateBox, ' private'), h('button', { type: 'submit', 'data-testid': 'create-room' }, 'Create room'));
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await s.client.createRoom(privateBox.checked ? 'private' : 'public', newRoom.value.trim());
    if (!r.ok) return showError(r.error.message);
    newRoom.value = '';
    await refreshRooms();
    await openRoom(r.data.id);
  });
  const join = h('form', { class: 'stack' }, joinId, h('button', { type: 'submit', 'data-testid': 'join-room' }, 'Join room'));
  join.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await s.client.joinRoom(joinId.value.trim());
    if (!r.ok) return showError(`${r.error.code}: ${r.error.message}`);
    joinId.value = '';
    await refreshRooms();
    await openRoom(r.data.id);
  });
  const logout = h('button', { class: 'secondary', onclick: () => {
    sessionStorage.removeItem('chat.session');
    s.client.close();
    showLogin();
  } }, 'Log out');
  const composer = h('form', { class: 'composer' }, el.input, h('button', { type: 'submit', 'data-testid': 'send' }, 'Send'));
  composer.addEventListener('submit', (e) => {
    e.preventDefault();
    void sendCurrent();
  });
  el.input.addEventListener('input', () => s.openRoomId && s.client.typing(s.openRoomId));
  el.older.addEventListener('click', () => void loadOlder());
  el.messages.addEventListener('scroll', () => el.messages.scrollTop === 0 && s.pager?.hasMore && void loadOlder());
  app.append(
    h('div', { class: 'layout' },
      h('aside', { class: 'sidebar' },
        h('div', { class: 'me' }, h('strong', { 'data-testid': 'me' }, s.session.user.username), ' ', el.status, ' ', logout),
        h('h2', {}, 'Rooms'), el.rooms, create, join),
      h('section', { class: 'room' }, el.header, el.older, el.messages, el.typing, composer, el.error),
      h('aside', { class: 'sidebar right' }, h('h2', {}, 'Members'), el.members, h('p', { class: 'hint' }, 'Click a member to open a direct message.'))),
  );
}

function showError(message: string): void {
  el.error.textContent = message;
  setTimeout(() => el.error.textContent === message && (el.error.textContent = ''), 5000);
}

// ------------------------------------------------------------------ rooms

async function refreshRooms(): Promise<void> {
  const r = await state!.client.allRooms();
  if (!r.ok) return showError(r.error.message);
  state!.rooms = r.data;
  renderRooms();
}

function roomLabel(room: RoomSummaryDto): string {
  return room.type === 'direct' ? `@ ${room.name}` : `# ${room.name}`;
}

function renderRooms(): void {
  const s = state!;
  clear(el.rooms);
  for (const room of s.rooms) {
    const unread = room.id === s.openRoomId ? 0 : s.client.unreadCount(room.id);
    el.rooms.append(
      h('li', { class: room.id === s.openRoomId ? 'active' : '', 'data-testid': `room-${room.id}`, 'data-room-name': room.name, onclick: () => void openRoom(room.id) },
        h('span', {}, roomLabel(room)),
        unread > 0 ? h('span', { class: 'badge', 'data-testid': 'unread' }, String(unread)) : ''),
    );
  }
}

async function openRoom(roomId: string): Promise<void> {
  const s = state!;
  if (s.openRoomId) {
    s.client.stopTyping(s.openRoomId);
    s.client.unfollow(s.openRoomId);
  }
  s.openRoomId = roomId;
  s.readMarks = new Map();
  const room = s.rooms.find((r) => r.id === roomId);
  clear(el.header);
  el.header.append(h('h2', { 'data-testid': 'room-title' }, room ? roomLabel(room) : roomId), h('code', { 'data-testid': 'room-id', title: 'share this id to let others join' }, roomId));
  clear(el.messages);
  el.typing.textContent = '';
  el.input.removeAttribute('disabled');
  renderRooms();
  s.pager = s.client.history(roomId, 30);
  const first = await s.pager.older();
  if (!first.ok) return showError(first.error.message);
  for (const m of first.data) el.messages.append(messageItem(m));
  el.older.hidden = !s.pager.hasMore;
  scrollToBottom();
  // From the newest message shown on, the SDK hands over every later one once, in order.
  const last = first.data.length ? first.data[first.data.length - 1].seq : 0;
  await s.client.follow(roomId, last);
  await markRead();
  await loadMembers();
  el.input.focus();
}

async function loadOlder(): Promise<void> {
  const s = state!;
  if (!s.pager?.hasMore) return;
  const before = el.messages.scrollHeight;
  const page = await s.pager.older();
  if (!page.ok) return showError(page.error.message);
  el.messages.prepend(...page.data.map(messageItem));
  el.older.hidden = !s.pager.hasMore;
  el.messages.scrollTop = el.messages.scrollHeight - before;
}

// ------------------------------------------------------------------ messages

function messageItem(m: MessageDto): HTMLElement {
  const mine = m.senderId === state!.session.user.id;
  return h('li', { class: mine ? 'mine' : '', 'data-seq': String(m.seq), 'data-testid': 'message' },
    h('span', { class: 'meta' }, `${short(m.senderId)} · ${time(m.createdAt)}`),
    h('span', { class: 'text' }, m.deletedAt ? '(deleted)' : m.text),
    h('span', { class: 'reads' }));
}

function onMessage(m: MessageDto): void {
  const s = state!;
  if (m.roomId !== s.openRoomId || el.messages.querySelector(`[data-seq="${m.seq}"]`)) return;
  const atBottom = el.messages.scrollHeight - el.messages.scrollTop - el.messages.clientHeight < 40;
  el.messages.append(messageItem(m));
  if (atBottom || m.senderId === s.session.user.id) scrollToBottom();
  renderReadMarks();
  if (document.visibilityState === 'visible') void markRead();
}

function replaceMessage(m: MessageDto): void {
  const old = el.messages.querySelector(`[data-seq="${m.seq}"]`);
  if (m.roomId === state?.openRoomId && old) old.replaceWith(messageItem(m));
}

async function sendCurrent(): Promise<void> {
  const s = state!;
  const text = el.input.value.trim();
  if (!s.openRoomId || !text) return;
  el.input.value = '';
  s.client.stopTyping(s.openRoomId);
  const r = await s.client.send(s.openRoomId, text);
  if (!r.ok) {
    el.input.value = text;
    showError(`${r.error.code}: ${r.error.message}`);
  }
}

async function markRead(): Promise<void> {
  const s = state!;
  const roomId = s.openRoomId;
  const seq = roomId ? s.client.deliveredSeq(roomId) : null;
  if (roomId && seq) await s.client.markRead(roomId, seq);
}

function renderReadMarks(): void {
  for (const span of el.messages.querySelectorAll('.reads')) span.textContent = '';
  for (const [userId, seq] of state!.readMarks) {
    const span = el.messages.querySelector(`[data-seq="${seq}"] .reads`);
    if (span) span.textContent = `${span.textContent ? `${span.textContent}, ` : 'seen by '}${short(userId)}`;
  }
}

function scrollToBottom(): void {
  el.messages.scrollTop = el.messages.scrollHeight;
}

// ------------------------------------------------------------------ members, presence, DMs

async function loadMembers(): Promise<void> {
  const s = state!;
  const roomId = s.openRoomId;
  if (!roomId) return;
  const r = await s.client.request('room:members', { roomId, limit: 100 });
  if (!r.ok || roomId !== s.openRoomId) return;
  s.members = r.data.items;
  const others = s.members.map((m) => m.userId).filter((id) => id !== s.session.user.id);
  if (others.length) await s.client.getPresence(others);
  renderMembers();
}

function renderMembers(): void {
  const s = state!;
  clear(el.members);
  for (const m of s.members) {
    const me = m.userId === s.session.user.id;
    const online = me || (s.client.presenceOf(m.userId)?.status ?? (m.online ? 'online' : 'offline')) === 'online';
    el.members.append(
      h('li', { 'data-testid': 'member', 'data-user-id': m.userId, 'data-online': String(online), class: me ? 'me' : 'clickable', onclick: me ? undefined : () => void openDm(m.userId) },
        h('span', { class: online ? 'dot online' : 'dot' }), `${short(m.userId)} `, h('small', {}, m.role)),
    );
  }
}

async function openDm(userId: string): Promise<void> {
  const r = await state!.client.openDm(userId);
  if (!r.ok) return showError(r.error.message);
  await refreshRooms();
  await openRoom(r.data.id);
}

// ------------------------------------------------------------------ boot

const saved = sessionStorage.getItem('chat.session');
if (saved) void start(JSON.parse(saved) as Session);
else showLogin();
