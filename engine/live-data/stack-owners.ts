// Which process recorded each user stack of a stack-trace map, from the probe's other maps: a key or value with tgid
// (else pid) and a user stack id field, as libbpf-tools' offcputime and profile keep them. Pure.

const USER_STACK_FIELD = /^(user_?stack(_?id)?|ustack(_?id)?|u_?stack_?id)$/i;

function owner(record: unknown): { stackId: number; pid: number } | undefined {
  if (!record || typeof record !== 'object') return undefined;
  const fields = record as Record<string, unknown>;
  const stackField = Object.keys(fields).find((name) => USER_STACK_FIELD.test(name));
  const pid = typeof fields.tgid === 'number' ? fields.tgid : fields.pid;
  const stackId = stackField ? fields[stackField] : undefined;
  if (typeof stackId !== 'number' || stackId < 0 || typeof pid !== 'number' || pid <= 0) return undefined;
  return { stackId, pid };
}

/** Stack id → the process id that recorded it (the first one seen, when processes share a stack). */
export function userStackOwners(entriesByMap: Iterable<readonly { key: unknown; value: unknown }[]>): Map<number, number> {
  const owners = new Map<number, number>();
  for (const entries of entriesByMap) {
    for (const entry of entries) {
      for (const found of [owner(entry.key), owner(entry.value)]) {
        if (found && !owners.has(found.stackId)) owners.set(found.stackId, found.pid);
      }
    }
  }
  return owners;
}
