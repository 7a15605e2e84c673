/**
 * Files from the page: a Blob or text handed to the browser's download (an <a download> click).
 * Figures rasterize themselves (src/plots/embed.ts: Vega's canvas renderer).
 */

/** Saves a Blob under `name` through the browser's download. */
export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later: Chromium reads the blob after the click returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Saves text (JSON, CSV, SVG) under `name`. */
export function downloadText(name: string, text: string, mime: string): void {
  downloadBlob(name, new Blob([text], { type: mime }));
}
