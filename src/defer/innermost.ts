// The innermost of a set of source ranges that holds an offset: functions around a reference, V8's
// coverage ranges around a write. Asked once per reference of a file, a scan of every range made
// `coldstart pack --lazy` of sass (one 5.8 MB file) take 12 s; ranges that nest are searched by halves.

/**
 * For ranges given as [start, end, ...] (end excluded), a function from an offset to the index of
 * the smallest range holding it (of equal ones, the last given), or -1. Ranges that do not nest
 * are scanned whole.
 */
export function innermostOf(ranges: readonly (readonly number[])[]): (offset: number) => number {
  const startOf = ranges.map((range) => range[0] ?? 0);
  const endOf = ranges.map((range) => range[1] ?? 0);
  const order = startOf.map((_, i) => i).sort((a, b) => startOf[a]! - startOf[b]! || endOf[b]! - endOf[a]! || a - b);
  const starts = order.map((i) => startOf[i]!);
  const ends = order.map((i) => endOf[i]!);
  const parent = new Int32Array(order.length).fill(-1);
  const open: number[] = [];
  let nested = true;
  for (let k = 0; k < order.length; k++) {
    while (open.length > 0 && ends[open[open.length - 1]!]! <= starts[k]!) open.pop();
    const outer = open[open.length - 1];
    if (outer !== undefined) {
      if (ends[k]! > ends[outer]!) nested = false;
      parent[k] = outer;
    }
    open.push(k);
  }
  if (!nested) {
    return (offset) => {
      let best = -1;
      for (let i = 0; i < ranges.length; i++) {
        if (offset < startOf[i]! || offset >= endOf[i]!) continue;
        if (best === -1 || endOf[i]! - startOf[i]! <= endOf[best]! - startOf[best]!) best = i;
      }
      return best;
    };
  }
  return (offset) => {
    // The last range to start at or before the offset; the innermost holding it is it or an outer one.
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (starts[mid]! <= offset) low = mid + 1;
      else high = mid;
    }
    for (let k = low - 1; k !== -1; k = parent[k]!) if (offset < ends[k]!) return order[k]!;
    return -1;
  };
}
