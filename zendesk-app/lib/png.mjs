// PNG encode (8-bit RGBA) and header decode, with node's zlib only. Used to make the app's icons and to check
// their size and format in the package validation.
import { deflateSync } from 'node:zlib';
import { crc32 } from './crc32.mjs';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([len, typeAndData, crc]);
}

/** Encodes `rgba` (width * height * 4 bytes, row-major) as a PNG of colour type 6 (truecolour with alpha). */
export function encodePng(width, height, rgba) {
  if (rgba.length !== width * height * 4) throw new Error('rgba buffer has the wrong size');
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const COLOUR_TYPES = { 0: 'greyscale', 2: 'truecolour', 3: 'indexed', 4: 'greyscale+alpha', 6: 'truecolour+alpha' };

/**
 * Reads a PNG's header: `{width, height, bitDepth, colourType, colourTypeName, hasAlpha}`.
 * Throws with a reason when the bytes are not a PNG or the IHDR chunk is damaged.
 */
export function readPngHeader(bytes) {
  const buf = Buffer.from(bytes);
  if (buf.length < 33 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file (bad signature)');
  const length = buf.readUInt32BE(8);
  const type = buf.toString('ascii', 12, 16);
  if (type !== 'IHDR' || length !== 13) throw new Error('PNG does not start with an IHDR chunk');
  const crc = buf.readUInt32BE(16 + length);
  if (crc !== crc32(buf.subarray(12, 16 + length))) throw new Error('PNG IHDR chunk has a bad CRC');
  const colourType = buf[25];
  let hasAlpha = colourType === 4 || colourType === 6;
  if (!hasAlpha) {
    // A tRNS chunk gives transparency to the other colour types.
    let at = 8;
    while (at + 8 <= buf.length) {
      const len = buf.readUInt32BE(at);
      const t = buf.toString('ascii', at + 4, at + 8);
      if (t === 'tRNS') hasAlpha = true;
      if (t === 'IDAT' || t === 'IEND') break;
      at += 12 + len;
    }
  }
  return {
    width: buf.readUInt32BE(16),
    height: buf.readUInt32BE(20),
    bitDepth: buf[24],
    colourType,
    colourTypeName: COLOUR_TYPES[colourType] ?? `unknown (${colourType})`,
    hasAlpha,
  };
}
