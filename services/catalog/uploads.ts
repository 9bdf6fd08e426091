/**
 * Image files: read an upload stream with a hard size cap, store it under a content-derived
 * name (the same image uploaded twice is one file; names never collide or traverse), and open a
 * stored file for serving.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { EXTENSION, ImageKind, STORED_NAME } from "./domain/image-type";

export class TooLargeError extends Error {}

/** Collect at most `max` bytes; a longer stream rejects with TooLargeError (and is drained). */
export function readLimited(stream: Readable, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      stream.removeListener("data", onData);
      stream.resume(); // drain the rest so the request can finish
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return fail(new TooLargeError(`more than ${max} bytes`));
      chunks.push(chunk);
    };
    stream.on("data", onData);
    stream.once("error", (err) => fail(err?.name === "PayloadTooLarge" || (err as { code?: number })?.code === 413 ? new TooLargeError("too large") : err));
    stream.once("end", () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
  });
}

/** Write the image under `<sha256 prefix>.<ext>` (atomically: temp file + rename). */
export async function storeImage(dir: string, buf: Buffer, kind: ImageKind): Promise<string> {
  const name = `${crypto.createHash("sha256").update(buf).digest("hex").slice(0, 32)}.${EXTENSION[kind]}`;
  await fs.promises.mkdir(dir, { recursive: true });
  const target = path.join(dir, name);
  if (!fs.existsSync(target)) {
    const tmp = path.join(dir, `.${name}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
    await fs.promises.writeFile(tmp, buf, { mode: 0o644 });
    await fs.promises.rename(tmp, target);
  }
  return name;
}

/** The stored file's path and size, or null when the name is not ours or the file is absent. */
export async function statStored(dir: string, name: string): Promise<{ file: string; size: number } | null> {
  if (!STORED_NAME.test(name)) return null;
  const file = path.join(dir, name);
  try {
    const st = await fs.promises.stat(file);
    return st.isFile() ? { file, size: st.size } : null;
  } catch {
    return null;
  }
}
