#!/usr/bin/env node
// Draws the app's icons and writes them into assets/ (they are committed; rerun after changing the design):
//   assets/logo.png        320x320, full bleed (Zendesk rounds the corners itself)
//   assets/logo-small.png  128x128, RGBA with a transparent background outside the rounded tile
//   assets/icon_nav_bar.svg  18x18 viewBox, no colours of its own (Zendesk colours nav-bar icons with CSS)
// The picture: a white invoice on a teal tile, with an amber badge carrying an arrow (data flows one way,
// Workday -> Zendesk). Shapes are rasterised with 4x4 supersampling; no image library is needed.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from '../lib/png.mjs';

const assets = join(dirname(fileURLToPath(import.meta.url)), '..', 'assets');

const TEAL = [20, 84, 92, 255];
const WHITE = [255, 255, 255, 255];
const AMBER = [240, 162, 38, 255];

// Shapes in a unit square; each is {inside(x, y) -> bool, colour}.
const rect = (x0, y0, x1, y1, colour) => ({ inside: (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1, colour });
const roundRect = (x0, y0, x1, y1, r, colour) => ({
  inside: (x, y) => {
    if (x < x0 || x > x1 || y < y0 || y > y1) return false;
    const cx = Math.min(Math.max(x, x0 + r), x1 - r);
    const cy = Math.min(Math.max(y, y0 + r), y1 - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  },
  colour,
});
const circle = (cx, cy, r, colour) => ({ inside: (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r, colour });
const triangle = (a, b, c, colour) => {
  const side = (p, q, x, y) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  return {
    inside: (x, y) => {
      const s1 = side(a, b, x, y);
      const s2 = side(b, c, x, y);
      const s3 = side(c, a, x, y);
      return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
    },
    colour,
  };
};

function glyph() {
  return [
    roundRect(0.25, 0.15, 0.67, 0.83, 0.04, WHITE), // the invoice
    rect(0.32, 0.27, 0.6, 0.31, TEAL),
    rect(0.32, 0.37, 0.6, 0.41, TEAL),
    rect(0.32, 0.47, 0.5, 0.51, TEAL),
    circle(0.68, 0.7, 0.21, WHITE), // badge ring
    circle(0.68, 0.7, 0.17, AMBER), // badge
    rect(0.575, 0.68, 0.72, 0.72, WHITE), // arrow shaft
    triangle([0.7, 0.62], [0.79, 0.7], [0.7, 0.78], WHITE), // arrow head
  ];
}

function render(size, shapes) {
  const ss = 4;
  const out = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const x = (px + (sx + 0.5) / ss) / size;
          const y = (py + (sy + 0.5) / ss) / size;
          let c = null;
          for (const s of shapes) if (s.inside(x, y)) c = s.colour;
          if (c) {
            const alpha = c[3] / 255;
            r += c[0] * alpha;
            g += c[1] * alpha;
            b += c[2] * alpha;
            a += alpha;
          }
        }
      }
      const i = (py * size + px) * 4;
      const n = ss * ss;
      if (a > 0) {
        out[i] = Math.round(r / a);
        out[i + 1] = Math.round(g / a);
        out[i + 2] = Math.round(b / a);
      }
      out[i + 3] = Math.round((a / n) * 255);
    }
  }
  return out;
}

const big = [rect(0, 0, 1, 1, TEAL), ...glyph()];
writeFileSync(join(assets, 'logo.png'), encodePng(320, 320, render(320, big)));
const small = [roundRect(0, 0, 1, 1, 0.18, TEAL), ...glyph()];
writeFileSync(join(assets, 'logo-small.png'), encodePng(128, 128, render(128, small)));

// 18x18: the invoice as an outline, two text lines, and the arrow badge. Paths only, no fill colours.
const svg = [
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 18 18" width="18" height="18" focusable="false">',
  '<path fill-rule="evenodd" d="M3 1h9a1 1 0 0 1 1 1v7.2a5 5 0 0 0-1.5-.2V2.5h-8v13h4.8a5 5 0 0 0 .7 1.5H3a1 1 0 0 1-1-1V2a1 1 0 0 1 1-1z"/>',
  '<path d="M5 5h5v1.3H5zM5 8h5v1.3H5zM5 11h2.5v1.3H5z"/>',
  '<path d="M13 10a4 4 0 1 1 0 8 4 4 0 0 1 0-8zm-2.3 3.4v1.2h2.4v1.6l2.3-2.2-2.3-2.2v1.6z"/>',
  '</svg>',
  '',
].join('\n');
writeFileSync(join(assets, 'icon_nav_bar.svg'), svg);
console.log('wrote assets/logo.png (320x320), assets/logo-small.png (128x128), assets/icon_nav_bar.svg');
