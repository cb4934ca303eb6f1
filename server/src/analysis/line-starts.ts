// Where a text's lines start, and which line an offset lies on (binary search over those starts): how ProbeFile,
// the plain syntax tree and ProbeDocument's tree edits turn offsets into positions. Pure; talks to nothing.

/** The offsets just after each line break in text[from, to): the line starts other than 0. */
export function lineBreaksAfter(text: string, from = 0, to = text.length): number[] {
  const starts: number[] = [];
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Every line start of the text, the first 0. */
export function lineStartsOf(text: string): number[] {
  return [0, ...lineBreaksAfter(text)];
}

/** The 0-based line holding `offset`, given the text's line starts (ascending, the first 0). */
export function lineIndexAt(lineStarts: readonly number[], offset: number): number {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (lineStarts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return low;
}
