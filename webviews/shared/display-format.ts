// Number and time formatting for the live views with formatters created once (toLocaleString builds a new
// ICU formatter per call, too slow at 10 Hz). English grouping, so tests and screenshots read the same.
const counts = new Intl.NumberFormat('en-US');
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const clock = new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit', second: '2-digit' });

/** 1234567 → "1,234,567" */
export function formatCount(n: number): string {
  return counts.format(n);
}

/** 1234.56 → "1,234.6" */
export function formatOneDecimal(n: number): string {
  return oneDecimal.format(n);
}

/** ms since the epoch → "6:23:57 PM" */
export function formatClock(ms: number): string {
  return clock.format(ms);
}
