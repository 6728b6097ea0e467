/**
 * Web streams over a socket: a `ReadableStream<Uint8Array>` and a
 * `WritableStream<Uint8Array>` with the socket's flow control carried
 * through (the readable pauses the socket when its queue is full; the
 * writable waits for 'drain' when the socket's buffer is).
 */
import { ReadableStream, WritableStream, ByteLengthQueuingStrategy } from 'node:stream/web';
import type { Duplex } from 'node:stream';

/** The two halves of a socket as web streams. */
export interface WebStreamPair {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/**
 * Wraps a duplex (a tcpts socket) as web streams. Reading: chunks go into
 * the readable's queue until it holds the socket's readable high-water mark,
 * then the socket is paused until the reader pulls again. Writing: each
 * chunk is written to the socket; the promise of `write()` resolves at once
 * while the socket accepts more, or on 'drain'. `close()` ends the socket
 * (FIN) and resolves on 'finish'; cancelling the readable or aborting the
 * writable destroys the socket.
 */
export function socketToWeb(socket: Duplex): WebStreamPair {
  let readableDone = false;
  let writableError: Error | null = null;
  let drainWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;

  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        socket.pause();
        socket.on('data', (chunk: Buffer) => {
          if (readableDone) return;
          // A view over the same bytes: the socket gave this chunk away.
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) socket.pause();
        });
        socket.once('end', () => {
          if (readableDone) return;
          readableDone = true;
          controller.close();
        });
        socket.once('error', (error: Error) => {
          if (readableDone) return;
          readableDone = true;
          controller.error(error);
        });
        socket.once('close', () => {
          if (readableDone) return;
          readableDone = true;
          controller.error(prematureClose());
        });
      },
      pull() {
        socket.resume();
      },
      cancel() {
        readableDone = true;
        socket.destroy();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: socket.readableHighWaterMark }),
  );

  const failWrites = (error: Error): void => {
    if (writableError === null) writableError = error;
    const waiter = drainWaiter;
    drainWaiter = null;
    if (waiter !== null) waiter.reject(error);
  };
  socket.on('error', failWrites);
  socket.once('close', () => failWrites(prematureClose()));
  socket.on('drain', () => {
    const waiter = drainWaiter;
    drainWaiter = null;
    if (waiter !== null) waiter.resolve();
  });

  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      if (writableError !== null) return Promise.reject(writableError);
      if (socket.write(chunk)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        drainWaiter = { resolve, reject };
      });
    },
    close() {
      if (writableError !== null) return Promise.reject(writableError);
      return new Promise<void>((resolve, reject) => {
        socket.end(() => resolve());
        socket.once('error', reject);
      });
    },
    abort(reason: unknown) {
      socket.destroy(reason instanceof Error ? reason : undefined);
    },
  });

  return { readable, writable };
}
