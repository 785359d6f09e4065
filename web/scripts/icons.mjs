// Writes the PNG app icons (public/icons/icon-192.png, icon-512.png) drawn
// like icon.svg: a blue rounded square with three white wind strokes. No
// image library: shapes are signed distances, 4x4 supersampled, and the PNG
// is encoded with node's zlib. Run with `npm run icons` after changing the design.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const blue = [0x1d, 0x4e, 0xd8];
const strokes = [[120, 176, 320], [168, 256, 392], [120, 336, 280]]; // x0, y, x1 in a 512 box
const halfWidth = 22;

function inRoundedSquare(x, y, size, radius) {
  const cx = Math.min(Math.max(x, radius), size - radius);
  const cy = Math.min(Math.max(y, radius), size - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

function inStroke(x, y) {
  return strokes.some(([x0, sy, x1]) => {
    const cx = Math.min(Math.max(x, x0), x1);
    return (x - cx) ** 2 + (y - sy) ** 2 <= halfWidth ** 2;
  });
}

// maskable: the whole square is filled (the launcher crops it) and the strokes shrink into the safe zone.
function draw(size, maskable) {
  const n = 4;
  const rgba = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let bg = 0;
      let fg = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = ((px + (sx + 0.5) / n) * 512) / size;
          const y = ((py + (sy + 0.5) / n) * 512) / size;
          if (!(maskable || inRoundedSquare(x, y, 512, 112))) continue;
          bg++;
          const k = maskable ? 0.8 : 1;
          if (inStroke(256 + (x - 256) / k, 256 + (y - 256) / k)) fg++;
        }
      }
      const i = (py * size + px) * 4;
      const f = fg / (n * n);
      const b = bg / (n * n);
      for (let c = 0; c < 3; c++) rgba[i + c] = Math.round(b > 0 ? (blue[c] * (b - f) + 255 * f) / b : 0);
      rgba[i + 3] = Math.round(255 * b);
    }
  }
  return png(size, rgba);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const dir = new URL('../public/icons/', import.meta.url);
writeFileSync(new URL('icon-192.png', dir), draw(192, false));
writeFileSync(new URL('icon-512.png', dir), draw(512, false));
writeFileSync(new URL('icon-maskable-512.png', dir), draw(512, true));
