import { Transform, type TransformCallback } from "node:stream";

/** The method frame of basic.consume (class 60, method 20) and basic.ack (class 60, method 80). */
const BASIC = 60;
const CONSUME = 20;
const ACK = 80;
const FRAME_END = 0xce;
const PROTOCOL_HEADER_BYTES = 8;

/**
 * Watches the client→broker side of AMQP 0-9-1 connections made through a TcpProxy (`tap.stream` is its
 * `clientToServer`), for connections that publish nothing (frames are passed whole, so anything added lands
 * between two frames, never inside a message's content frames):
 * - `consumes` counts the basic.consume frames seen, `consumeChannel` is the channel of the last one;
 * - `onConsume`, if set, runs when one arrives, before it is passed on (e.g. to cut the connection right then);
 * - `rejectOnBroker()` sends, on the last consume's channel, a basic.ack of a delivery tag the broker never gave:
 *   the broker closes that channel (406 PRECONDITION_FAILED, as for a double ack or an ack after its consumer
 *   timeout), and only that channel; the connection stays up.
 */
export class AmqpClientTap {
  consumes = 0;
  consumeChannel: number | undefined;
  onConsume: (() => void) | undefined;
  #latest: Transform | undefined;

  /** The stream factory for TcpProxy's `clientToServer`. */
  readonly stream = (): Transform => {
    let pending = Buffer.alloc(0);
    let headerLeft = PROTOCOL_HEADER_BYTES;
    const tap = new Transform({
      transform: (chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) => {
        pending = Buffer.concat([pending, chunk]);
        if (headerLeft > 0) {
          const header = pending.subarray(0, Math.min(headerLeft, pending.length));
          headerLeft -= header.length;
          pending = pending.subarray(header.length);
          tap.push(header);
        }
        while (pending.length >= 7) {
          const end = 8 + pending.readUInt32BE(3);
          if (pending.length < end) break;
          const frame = pending.subarray(0, end);
          pending = pending.subarray(end);
          if (frame[0] === 1 && frame.readUInt16BE(7) === BASIC && frame.readUInt16BE(9) === CONSUME) {
            this.consumes++;
            this.consumeChannel = frame.readUInt16BE(1);
            this.onConsume?.();
          }
          tap.push(frame);
        }
        done();
      },
    });
    this.#latest = tap;
    return tap;
  };

  rejectOnBroker(): void {
    const channel = this.consumeChannel;
    const tap = this.#latest;
    if (channel === undefined || tap === undefined) throw new Error("no basic.consume seen yet");
    const frame = Buffer.alloc(8 + 13);
    frame.writeUInt8(1, 0);
    frame.writeUInt16BE(channel, 1);
    frame.writeUInt32BE(13, 3);
    frame.writeUInt16BE(BASIC, 7);
    frame.writeUInt16BE(ACK, 9);
    frame.writeBigUInt64BE(2n ** 40n, 11);
    frame.writeUInt8(0, 19);
    frame.writeUInt8(FRAME_END, 20);
    tap.push(frame);
  }
}
