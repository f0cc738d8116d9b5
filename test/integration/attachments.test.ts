// Attachments (extension, docs/protocol.md "Attachments"): a message carries up to 10
// attachments as metadata, with or without text, over socket and REST alike, on one node and
// across two nodes with Redis; hostile URLs, names and types are refused and store nothing;
// a text-only message keeps exactly its old shape; a delete clears them.
import { describe, expect, it } from 'vitest';
import { useChatApp } from '../helpers/chat-app';
import { eventsUntil, request, waitFor } from '../helpers/clients';
import { useNodes } from '../helpers/nodes';
import { api, cmid, createRoom, expectAckError, expectHttpError, expectMessage, history, newPerson, ok, sendMessage, type Message } from '../helpers/chat';

const IMAGE = { type: 'image', url: 'https://cdn.example.com/p/cat.jpg', mime: 'image/jpeg', size: 123456, name: 'cat.jpg', width: 800, height: 600, thumbUrl: 'https://cdn.example.com/p/cat-t.jpg' };
const VOICE = { type: 'audio', url: 'https://files.example.org/v/1.ogg?sig=abc', mime: 'audio/ogg', size: 2048, name: 'voice note.ogg', durationMs: 4200 };
const PDF = { type: 'file', url: 'https://files.example.org/d/report.pdf', mime: 'application/pdf', size: 0, name: 'report (final).pdf' };

type WithAttachments = Message & { attachments?: unknown[] };

describe('attachments: one node', () => {
  const t = useChatApp();

  it('a message carries attachments with text or without; members get them, history and REST agree', async () => {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id] });
    const got = waitFor<WithAttachments>(b.socket, 'message:new', (m) => m.roomId === room.id && m.seq === 1);
    const withText = await ok<WithAttachments>(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'look', attachments: [IMAGE, VOICE] });
    expectMessage(withText, { text: 'look', roomId: room.id, attachments: [IMAGE, VOICE] } as never);
    expect(await got).toEqual(withText);

    const only = await ok<WithAttachments>(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), attachments: [PDF] });
    expectMessage(only, { text: '', roomId: room.id, seq: 2, attachments: [PDF] } as never);

    const rest = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: b.token, body: { clientMsgId: cmid(), attachments: [IMAGE] } });
    expect(rest.status).toBe(201);
    expectMessage(rest.body, { text: '', seq: 3, senderId: b.id, attachments: [IMAGE] } as never);

    const page = await history(b.socket, room.id);
    expect(page.items).toEqual([withText, only, rest.body]);
    expect((await api(t.url, 'GET', `/api/v1/rooms/${room.id}/messages`, { token: a.token })).body.items).toEqual(page.items);
  });

  it('a text-only message has no attachments field, and attachments: [] with text is a text-only message', async () => {
    const a = await newPerson(t.url);
    const room = await createRoom(a.socket, { type: 'private' });
    const plain = await sendMessage(a.socket, room.id, 'plain');
    expectMessage(plain, { text: 'plain' });
    expect(plain).not.toHaveProperty('attachments');
    const empty = await ok(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'empty list', attachments: [] });
    expect(empty).not.toHaveProperty('attachments');
    for (const m of (await history(a.socket, room.id)).items) expect(m).not.toHaveProperty('attachments');
  });

  it('a message with neither text nor attachments is refused, on both transports', async () => {
    const a = await newPerson(t.url);
    const room = await createRoom(a.socket, { type: 'private' });
    expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid() }), 'VALIDATION_FAILED');
    expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), attachments: [] }), 'VALIDATION_FAILED');
    expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: '', attachments: [PDF] }), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), attachments: [] } }), 'VALIDATION_FAILED');
    expect((await history(a.socket, room.id)).items).toEqual([]);
  });

  it('at most 10 attachments', async () => {
    const a = await newPerson(t.url);
    const room = await createRoom(a.socket, { type: 'private' });
    const ten = Array.from({ length: 10 }, (_, i) => ({ ...PDF, name: `f${i}.pdf` }));
    expect((await ok<WithAttachments>(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), attachments: ten })).attachments).toHaveLength(10);
    const err = expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), attachments: [...ten, PDF] }), 'VALIDATION_FAILED');
    expect(JSON.stringify(err.details)).toContain('/attachments');
    expect((await history(a.socket, room.id)).items).toHaveLength(1);
  });

  it('hostile URLs, names, types and shapes are refused with the field named; nothing is stored', async () => {
    const a = await newPerson(t.url);
    const room = await createRoom(a.socket, { type: 'private' });
    const bad: Array<[string, Record<string, unknown>]> = [
      ['/attachments/0/url', { url: 'http://cdn.example.com/a.jpg' }],
      ['/attachments/0/url', { url: 'javascript:alert(1)//https://x.example.com' }],
      ['/attachments/0/url', { url: 'data:image/png;base64,AAAA' }],
      ['/attachments/0/url', { url: 'HTTPS://cdn.example.com/a.jpg' }],
      ['/attachments/0/url', { url: 'https://user:pw@cdn.example.com/a.jpg' }],
      ['/attachments/0/url', { url: 'https://127.0.0.1/a.jpg' }],
      ['/attachments/0/url', { url: 'https://2130706433/a.jpg' }],
      ['/attachments/0/url', { url: 'https://[::1]/a.jpg' }],
      ['/attachments/0/url', { url: 'https://localhost/a.jpg' }],
      ['/attachments/0/url', { url: 'https://metadata.internal/a.jpg' }],
      ['/attachments/0/url', { url: 'https://cdn.example.com\\@evil.example/a.jpg' }],
      ['/attachments/0/url', { url: 'https://cdn.example.com/a b.jpg' }],
      ['/attachments/0/url', { url: 'https://cdn.example.com/a\u0000.jpg' }],
      ['/attachments/0/url', { url: `https://cdn.example.com/${'a'.repeat(2048)}` }],
      ['/attachments/0/thumbUrl', { thumbUrl: 'http://cdn.example.com/t.jpg' }],
      ['/attachments/0/name', { name: 'cat\u202Egpj.exe' }],
      ['/attachments/0/name', { name: '../../etc/passwd' }],
      ['/attachments/0/name', { name: 'a\nb.jpg' }],
      ['/attachments/0/name', { name: '' }],
      ['/attachments/0/name', { name: 'x'.repeat(256) }],
      ['/attachments/0/mime', { mime: 'video/mp4' }],
      ['/attachments/0/mime', { mime: 'image/svg+xml' }],
      ['/attachments/0/mime', { mime: 'image/jpeg; charset=x' }],
      ['/attachments/0/type', { type: 'sticker' }],
      ['/attachments/0/size', { size: -1 }],
      ['/attachments/0/size', { size: '12' }],
      ['/attachments/0/size', { size: 1.5 }],
      ['/attachments/0/width', { width: 0 }],
      ['/attachments/0/durationMs', { durationMs: 1000 }],
      ['/attachments/0', { extra: true }],
    ];
    for (const [path, patch] of bad) {
      const body = { roomId: room.id, clientMsgId: cmid(), attachments: [{ ...IMAGE, ...patch }] };
      const err = expectAckError(await request(a.socket, 'message:send', body), 'VALIDATION_FAILED');
      expect(JSON.stringify(err.details), JSON.stringify(patch)).toContain(path);
    }
    // width on audio; a missing required field
    expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), attachments: [{ ...VOICE, width: 10 }] }), 'VALIDATION_FAILED');
    const { url: _url, ...noUrl } = PDF;
    expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), attachments: [noUrl] }), 'VALIDATION_FAILED');
    expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), attachments: PDF }), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), attachments: [{ ...PDF, url: 'https://10.0.0.1/x' }] } }), 'VALIDATION_FAILED');
    expect((await history(a.socket, room.id)).items).toEqual([]);
    expect((await ok(a.socket, 'room:list', {})).items.find((r: { id: string }) => r.id === room.id).lastSeq).toBe(0);
  });

  it('a retry with the same clientMsgId returns the stored message and broadcasts nothing new', async () => {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id] });
    const stream = eventsUntil<WithAttachments>(b.socket, 'message:new');
    const payload = { roomId: room.id, clientMsgId: cmid(), attachments: [IMAGE] };
    const first = await ok(a.socket, 'message:send', payload);
    expect(await ok(a.socket, 'message:send', payload)).toEqual(first);
    const rest = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: payload.clientMsgId, attachments: [IMAGE] } });
    expect(rest.body).toEqual(first);
    await sendMessage(a.socket, room.id, 'marker');
    expect(await stream.before((m) => m.text === 'marker')).toEqual([first]);
  });

  it('only members send attachments; a delete clears them; an edit keeps them', async () => {
    const [a, b, stranger] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id] });
    expectAckError(await request(stranger.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), attachments: [PDF] }), 'FORBIDDEN');
    expectHttpError(await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: stranger.token, body: { clientMsgId: cmid(), attachments: [PDF] } }), 'FORBIDDEN');
    const m = await ok<WithAttachments>(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), attachments: [PDF, IMAGE] });
    const edited = await ok<WithAttachments>(a.socket, 'message:edit', { messageId: m.id, text: 'caption added' });
    expect(edited.attachments).toEqual([PDF, IMAGE]);
    expect(edited.text).toBe('caption added');
    const updated = waitFor<WithAttachments>(b.socket, 'message:updated', (u) => u.id === m.id && u.deletedAt !== null);
    await ok(a.socket, 'message:delete', { messageId: m.id });
    const deleted = await updated;
    expect(deleted).not.toHaveProperty('attachments');
    expect(deleted.text).toBe('');
    const [stored] = (await history(b.socket, room.id)).items;
    expect(stored).toEqual(deleted);
  });
});

describe('attachments: two nodes with Redis', () => {
  const nodes = useNodes(2);

  it('a message with attachments sent on one node reaches members on the other, by socket and REST', async () => {
    const [a, b] = await Promise.all([newPerson(nodes[0].url), newPerson(nodes[1].url)]);
    const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id] });
    const got = waitFor<WithAttachments>(b.socket, 'message:new', (m) => m.roomId === room.id && m.seq === 1);
    const sent = await ok<WithAttachments>(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), attachments: [IMAGE, PDF] });
    expect(await got).toEqual(sent);
    const back = waitFor<WithAttachments>(a.socket, 'message:new', (m) => m.roomId === room.id && m.seq === 2);
    const rest = await api(nodes[1].url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: b.token, body: { clientMsgId: cmid(), text: 'and this', attachments: [VOICE] } });
    expect(rest.status).toBe(201);
    expect(await back).toEqual(rest.body);
    expect((await history(a.socket, room.id)).items).toEqual([sent, rest.body]);
  });
});
