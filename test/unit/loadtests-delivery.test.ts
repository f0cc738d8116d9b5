import { describe, expect, it } from 'vitest';
import { DeliveryTracker } from '../../loadtests/lib/delivery';

const all = () => true;

describe('DeliveryTracker', () => {
  it('expects each message once on every joined member but the sender', () => {
    const t = new DeliveryTracker();
    t.recordSend('m1', 0, 0, 4, all, 100);
    t.recordAck('m1', 'ok');
    expect(t.outstanding()).toBe(3);
    expect(t.recordReceipt('m1', 0, 1, 110)).toEqual({ kind: 'delivery', latencyMs: 10, room: 0, sender: 0 });
    expect(t.recordReceipt('m1', 0, 2, 125)).toMatchObject({ kind: 'delivery', latencyMs: 25 });
    expect(t.recordReceipt('m1', 0, 0, 105)).toEqual({ kind: 'echo' });
    expect(t.outstanding()).toBe(1);
    expect(t.counts()).toMatchObject({ messages: 1, stored: 1, expected: 3, delivered: 2, lost: 1, duplicates: 0, echoes: 1 });
  });

  it('counts the same (socket, message) twice as a duplicate, not a delivery', () => {
    const t = new DeliveryTracker();
    t.recordSend('m1', 0, 0, 3, all, 0);
    t.recordAck('m1', 'ok');
    t.recordReceipt('m1', 0, 1, 1);
    expect(t.recordReceipt('m1', 0, 1, 2)).toEqual({ kind: 'duplicate' });
    t.recordReceipt('m1', 0, 0, 1);
    expect(t.recordReceipt('m1', 0, 0, 2)).toEqual({ kind: 'duplicate' });
    expect(t.counts()).toMatchObject({ delivered: 1, duplicates: 2, lost: 1, echoes: 1 });
  });

  it('expects nothing on members not joined at send time', () => {
    const t = new DeliveryTracker();
    t.recordSend('m1', 0, 0, 3, (slot) => slot !== 2, 0);
    t.recordAck('m1', 'ok');
    expect(t.recordReceipt('m1', 0, 2, 1)).toEqual({ kind: 'unexpected' });
    t.recordReceipt('m1', 0, 1, 1);
    expect(t.counts()).toMatchObject({ expected: 1, delivered: 1, lost: 0, unexpected: 1 });
  });

  it('does not expect refused messages, but does expect timed-out ones that someone received', () => {
    const t = new DeliveryTracker();
    t.recordSend('refused', 0, 0, 3, all, 0);
    t.recordAck('refused', 'RATE_LIMITED');
    t.recordSend('timedout', 0, 0, 3, all, 0);
    t.recordReceipt('timedout', 0, 1, 5);
    t.recordAck('timedout', 'timeout');
    t.recordSend('never-acked', 0, 0, 3, all, 0);
    expect(t.outstanding()).toBe(0);
    expect(t.counts()).toMatchObject({ messages: 3, stored: 1, unresolved: 1, expected: 2, delivered: 1, lost: 1 });
  });

  it('flags receipts in another room and unknown ids', () => {
    const t = new DeliveryTracker();
    t.recordSend('m1', 0, 0, 2, all, 0);
    expect(t.recordReceipt('m1', 1, 0, 1)).toEqual({ kind: 'misrouted' });
    expect(t.recordReceipt('nope', 0, 1, 1)).toEqual({ kind: 'unknown' });
    expect(t.counts()).toMatchObject({ misrouted: 1, unknown: 1, delivered: 0 });
  });

  it('keeps outstanding right when deliveries arrive before the ack', () => {
    const t = new DeliveryTracker();
    t.recordSend('m1', 0, 0, 3, all, 0);
    t.recordReceipt('m1', 0, 1, 1);
    t.recordReceipt('m1', 0, 2, 1);
    t.recordAck('m1', 'ok');
    expect(t.outstanding()).toBe(0);
  });
});
