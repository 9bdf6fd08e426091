import { checkUpload, sniffImage } from "../../services/catalog/domain/image-type";

const PNG_1x1 = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d8a5f20000000049454e44ae426082",
  "hex",
);
const JPEG = Buffer.from("ffd8ffe000104a46494600010100000100010000ffd9", "hex");
const WEBP = Buffer.concat([Buffer.from("RIFF"), Buffer.from([0x1a, 0, 0, 0]), Buffer.from("WEBPVP8L"), Buffer.alloc(14)]);

describe("upload content checks", () => {
  it("recognises PNG, JPEG and WebP by their bytes", () => {
    expect(sniffImage(PNG_1x1)).toBe("png");
    expect(sniffImage(JPEG)).toBe("jpeg");
    expect(sniffImage(WEBP)).toBe("webp");
    expect(sniffImage(Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>"))).toBeNull();
    expect(sniffImage(Buffer.from("GIF89a......"))).toBeNull();
    expect(sniffImage(PNG_1x1.subarray(0, 8))).toBeNull(); // signature alone is not an image
  });

  it("refuses a lying extension or declared type", () => {
    expect(checkUpload(PNG_1x1, "photo.png", "image/png")).toEqual({ ok: true, kind: "png" });
    expect(checkUpload(JPEG, "photo.JPG", "image/jpeg")).toEqual({ ok: true, kind: "jpeg" });
    expect(checkUpload(JPEG, "photo", "application/octet-stream")).toEqual({ ok: true, kind: "jpeg" });
    expect(checkUpload(Buffer.from("<html></html>"), "evil.png", "image/png").ok).toBe(false);
    expect(checkUpload(JPEG, "photo.png", "image/png").ok).toBe(false);
    expect(checkUpload(PNG_1x1, "photo.php", "image/png").ok).toBe(false);
    expect(checkUpload(PNG_1x1, "photo.png", "text/html").ok).toBe(false);
  });
});
