// Quotes values for POSIX sh, for the commands eBPF Studio runs on hosts over SSH exec channels and through sudo.

/** Single-quotes a value for POSIX sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
