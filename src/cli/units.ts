// Sizes as the commands print them.

/** `2.3 MB`, or `741 kB` under a megabyte. */
export function megabytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`;
}
