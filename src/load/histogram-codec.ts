import * as hdr from 'hdr-histogram-js';
import { newHistogram } from './result.js';

/** HDR histograms travel in run records in the standard compressed base64 form. */
export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(b64: string): hdr.Histogram {
  const h = newHistogram();
  h.add(hdr.decodeFromCompressedBase64(b64, 64, false));
  return h;
}
