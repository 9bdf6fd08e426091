/**
 * What an uploaded file really is, from its bytes. The file name and the client's Content-Type
 * are claims; only the signature decides, and a name whose extension claims a different image
 * type than the bytes is refused as a lie.
 */

export type ImageKind = "png" | "jpeg" | "webp";

export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

export const MIME: Record<ImageKind, string> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };
export const EXTENSION: Record<ImageKind, string> = { png: "png", jpeg: "jpg", webp: "webp" };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The image kind the bytes are, or null. Checks the signature and the first structural chunk. */
export function sniffImage(buf: Buffer): ImageKind | null {
  // PNG: signature, then the IHDR chunk (length 13) first
  if (buf.length >= 24 && buf.subarray(0, 8).equals(PNG_SIGNATURE) && buf.readUInt32BE(8) === 13 && buf.toString("latin1", 12, 16) === "IHDR") {
    return "png";
  }
  // JPEG: SOI marker followed by another marker
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff && buf[3] >= 0xc0) return "jpeg";
  // WebP: RIFF container of form WEBP with a VP8 / VP8L / VP8X chunk
  if (
    buf.length >= 16 &&
    buf.toString("latin1", 0, 4) === "RIFF" &&
    buf.toString("latin1", 8, 12) === "WEBP" &&
    /^VP8[ LX]$/.test(buf.toString("latin1", 12, 16))
  ) {
    return "webp";
  }
  return null;
}

const EXT_KIND: Record<string, ImageKind> = { png: "png", jpg: "jpeg", jpeg: "jpeg", jpe: "jpeg", jfif: "jpeg", webp: "webp" };
const MIME_KIND: Record<string, ImageKind> = { "image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/pjpeg": "jpeg", "image/webp": "webp" };

export type UploadVerdict = { ok: true; kind: ImageKind } | { ok: false; reason: string };

/**
 * Accept only when the bytes are PNG/JPEG/WebP and neither the file name's extension nor the
 * declared type claims something else.
 */
export function checkUpload(buf: Buffer, filename?: string, declaredType?: string): UploadVerdict {
  const kind = sniffImage(buf);
  if (!kind) return { ok: false, reason: "the file content is not a PNG, JPEG or WebP image" };
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename ?? "")?.[1]?.toLowerCase();
  if (ext !== undefined && EXT_KIND[ext] !== kind) {
    return { ok: false, reason: `the file name says .${ext} but the content is ${kind.toUpperCase()}` };
  }
  const declared = (declaredType ?? "").split(";")[0].trim().toLowerCase();
  if (declared && declared !== "application/octet-stream" && MIME_KIND[declared] !== kind) {
    return { ok: false, reason: `the declared type ${declared} does not match the ${kind.toUpperCase()} content` };
  }
  return { ok: true, kind };
}

/** Names we hand out: 32 hex characters of the content hash and the kind's extension. */
export const STORED_NAME = /^[a-f0-9]{32}\.(png|jpg|webp)$/;

export function mimeOfStoredName(name: string): string {
  const ext = name.slice(name.lastIndexOf(".") + 1);
  return ext === "png" ? MIME.png : ext === "webp" ? MIME.webp : MIME.jpeg;
}
