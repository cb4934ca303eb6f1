// Resolves one host through an OpenSSH client config the way `ssh -G HOST` does: Include (globs, nested), Host patterns
// (`*`, `?`, `!`), Match (all, host, originalhost, user, localuser, exec, final, canonical, negated), first value wins, %-tokens.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** Directives that collect every value instead of keeping the first. */
const REPEATABLE = new Set(['identityfile', 'certificatefile', 'localforward', 'remoteforward', 'dynamicforward', 'sendenv', 'setenv']);

export interface ResolvedSshConfig {
  /** Lower-cased directive → values, as `ssh -G` prints them (only what the config set, plus hostname, user and port). */
  options: Map<string, string[]>;
  /** Where each directive came from (file:line), for messages. */
  origin: Map<string, string>;
}

export class SshConfigError extends Error {}

/** Splits a config line into words as OpenSSH does: the keyword ends at whitespace or one `=`; values may be quoted. */
export function configWords(line: string): string[] {
  const m = /^\s*([^\s=#][^\s=]*)(?:\s*=\s*|\s+|$)(.*)$/.exec(line);
  if (!m) return [];
  const words = [m[1]];
  const rest = m[2];
  let i = 0;
  while (i < rest.length) {
    while (i < rest.length && /\s/.test(rest[i])) i++;
    if (i >= rest.length || rest[i] === '#') break;
    let word = '';
    let quote = '';
    for (; i < rest.length; i++) {
      const c = rest[i];
      if (quote) {
        if (c === quote) quote = '';
        else word += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (/\s/.test(c)) break;
      else word += c;
    }
    if (quote) throw new SshConfigError(`unterminated quote in "${line.trim()}"`);
    words.push(word);
  }
  return words;
}

/** One OpenSSH pattern (`*`, `?`), case-insensitive. */
function patternMatches(pattern: string, text: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(text);
}

/** A comma-separated pattern list: true when some pattern matches and no negated one does. */
export function patternListMatches(list: string, text: string): boolean {
  let matched = false;
  for (const pattern of list.split(',')) {
    if (pattern.startsWith('!')) {
      if (patternMatches(pattern.slice(1), text)) return false;
    } else if (patternMatches(pattern, text)) matched = true;
  }
  return matched;
}

/** Expands a glob in an Include path (wildcards in any component), sorted as glob(3) does. */
function expandGlob(path: string): string[] {
  const parts = path.split('/');
  let found = [parts[0] === '' ? '/' : parts[0]];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    const next: string[] = [];
    for (const base of found) {
      if (!/[*?[]/.test(part)) next.push(join(base, part));
      else if (existsSync(base)) {
        const names = readdirSync(base).filter((n) => !n.startsWith('.') && patternMatches(part, n)).sort();
        next.push(...names.map((n) => join(base, n)));
      }
    }
    found = next;
  }
  return found.filter((p) => existsSync(p));
}

interface Context {
  hostArg: string;
  localUser: string;
  finalPass: boolean;
  wantFinal: boolean;
  options: Map<string, string[]>;
  origin: Map<string, string>;
}

function tokens(ctx: Context, extra: Record<string, string> = {}): Record<string, string> {
  const host = ctx.options.get('hostname')?.[0]?.replace(/%h/g, ctx.hostArg) ?? ctx.hostArg;
  return {
    '%': '%',
    h: host,
    n: ctx.hostArg,
    p: ctx.options.get('port')?.[0] ?? '22',
    r: ctx.options.get('user')?.[0] ?? ctx.localUser,
    u: ctx.localUser,
    d: homedir(),
    l: hostname().split('.')[0],
    L: hostname().split('.')[0],
    ...extra,
  };
}

/** The tokens a ProxyCommand may use, from a resolved config. */
export function proxyCommandTokens(options: Map<string, string[]>, hostArg: string): Record<string, string> {
  return { '%': '%', h: options.get('hostname')?.[0] ?? hostArg, p: options.get('port')?.[0] ?? '22', r: options.get('user')?.[0] ?? '', n: hostArg };
}

/** Replaces %h, %p, %r, %n, %u, %d, %l, %% (the tokens OpenSSH offers for the directive at hand). */
export function expandTokens(text: string, values: Record<string, string>, where: string): string {
  return text.replace(/%(.)/g, (_all, t: string) => {
    if (values[t] === undefined) throw new SshConfigError(`${where}: unknown token %${t} in "${text}"`);
    return values[t];
  });
}

function matchLine(args: string[], ctx: Context, where: string): boolean {
  let all = true;
  for (let i = 0; i < args.length; i++) {
    const negate = args[i].startsWith('!');
    const criterion = (negate ? args[i].slice(1) : args[i]).toLowerCase();
    let result: boolean;
    if (criterion === 'all') result = true;
    else if (criterion === 'canonical' || criterion === 'final') {
      if (criterion === 'final') ctx.wantFinal = true;
      result = ctx.finalPass;
    } else {
      const value = args[++i];
      if (value === undefined) throw new SshConfigError(`${where}: Match ${criterion} needs an argument`);
      const t = tokens(ctx);
      switch (criterion) {
        case 'host':
          result = patternListMatches(value, t.h);
          break;
        case 'originalhost':
          result = patternListMatches(value, ctx.hostArg);
          break;
        case 'user':
          result = patternListMatches(value, t.r);
          break;
        case 'localuser':
          result = patternListMatches(value, ctx.localUser);
          break;
        case 'exec': {
          const command = expandTokens(value, t, where);
          result = spawnSync(process.env.SHELL || '/bin/sh', ['-c', command], { stdio: 'ignore', timeout: 10_000 }).status === 0;
          break;
        }
        default:
          throw new SshConfigError(`${where}: Match ${criterion} is not supported by eBPF Studio (supported: all, host, originalhost, user, localuser, exec, final, canonical)`);
      }
    }
    if (negate) result = !result;
    // OpenSSH evaluates every criterion (so `exec` runs only while the line still matches).
    if (!result) {
      all = false;
      break;
    }
  }
  return all;
}

function setOption(ctx: Context, key: string, values: string[], where: string): void {
  if (key === 'port') {
    const port = Number(values[0]);
    if (!/^\d+$/.test(values[0] ?? '') || port < 1 || port > 65535) throw new SshConfigError(`${where}: bad Port "${values[0] ?? ''}" (expected a number from 1 to 65535)`);
  }
  // ProxyJump and ProxyCommand compete: whichever comes first wins.
  if ((key === 'proxyjump' && ctx.options.has('proxycommand')) || (key === 'proxycommand' && ctx.options.has('proxyjump'))) return;
  if (REPEATABLE.has(key)) {
    ctx.options.set(key, [...(ctx.options.get(key) ?? []), ...values]);
    if (!ctx.origin.has(key)) ctx.origin.set(key, where);
  } else if (!ctx.options.has(key)) {
    ctx.options.set(key, values);
    ctx.origin.set(key, where);
  }
}

function readConfig(path: string, ctx: Context, active: boolean, depth: number): void {
  if (depth > 16) throw new SshConfigError(`${path}: Include nested more than 16 deep (a loop?)`);
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  let on = active;
  lines.forEach((line, index) => {
    const where = `${path} line ${index + 1}`;
    let words: string[];
    try {
      words = configWords(line);
    } catch (err) {
      throw new SshConfigError(`${where}: ${(err as Error).message}`);
    }
    if (words.length === 0) return;
    const key = words[0].toLowerCase();
    // ProxyCommand is the rest of the line, verbatim (it is run by the shell).
    const args = key === 'proxycommand' ? [/^\s*[^\s=]+(?:\s*=\s*|\s+)(.*)$/.exec(line)?.[1].trim() ?? ''] : words.slice(1);
    if (key === 'host') {
      const name = ctx.finalPass ? tokens(ctx).h : ctx.hostArg;
      on = active && args.some((a) => !a.startsWith('!') && patternMatches(a, name)) && !args.some((a) => a.startsWith('!') && patternMatches(a.slice(1), name));
    } else if (key === 'match') {
      on = active && matchLine(args, ctx, where);
    } else if (key === 'include') {
      for (const pattern of args) {
        const expanded = pattern.startsWith('~/') ? join(homedir(), pattern.slice(2)) : isAbsolute(pattern) ? pattern : join(homedir(), '.ssh', pattern);
        // Lines of an included file apply only where the Include line does (its own Host/Match lines included).
        for (const file of expandGlob(expanded)) readConfig(file, ctx, on, depth + 1);
      }
    } else if (on) {
      setOption(ctx, key, args, where);
    }
  });
}

/**
 * What `ssh -G host` resolves from this config (hostname, user and port always present; other keys only when set; IdentityFile
 * expanded, ProxyCommand left for the caller to expand with proxyCommandTokens, as ssh -G prints it).
 */
export function resolveSshConfig(hostArg: string, configPath: string | undefined, given: { user?: string; port?: number } = {}): ResolvedSshConfig {
  const ctx: Context = { hostArg, localUser: userInfo().username, finalPass: false, wantFinal: false, options: new Map(), origin: new Map() };
  if (given.user) setOption(ctx, 'user', [given.user], 'the target');
  if (given.port) setOption(ctx, 'port', [String(given.port)], 'the target');
  const path = configPath ?? join(homedir(), '.ssh', 'config');
  if (existsSync(path)) {
    readConfig(path, ctx, true, 0);
    if (ctx.wantFinal) {
      ctx.finalPass = true;
      readConfig(path, ctx, true, 0);
    }
  }
  const t = tokens(ctx);
  ctx.options.set('hostname', [t.h]);
  ctx.options.set('user', [t.r]);
  ctx.options.set('port', [t.p]);
  const ids = ctx.options.get('identityfile');
  if (ids) ctx.options.set('identityfile', ids.map((f) => expandTokens(f.startsWith('~/') ? join(homedir(), f.slice(2)) : f, t, ctx.origin.get('identityfile') ?? path)));
  return { options: ctx.options, origin: ctx.origin };
}

/** The Host aliases written in a config and the files it includes (patterns left out): names to offer the user. */
export function configuredAliases(configPath: string | undefined, depth = 0): string[] {
  const path = configPath ?? join(homedir(), '.ssh', 'config');
  if (!existsSync(path) || depth > 16) return [];
  const aliases: string[] = [];
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    let words: string[];
    try {
      words = configWords(line);
    } catch {
      continue;
    }
    const key = words[0]?.toLowerCase();
    if (key === 'host') aliases.push(...words.slice(1).filter((v) => !/[*?!]/.test(v)));
    if (key === 'include') {
      for (const pattern of words.slice(1)) {
        const expanded = pattern.startsWith('~/') ? join(homedir(), pattern.slice(2)) : isAbsolute(pattern) ? pattern : join(homedir(), '.ssh', pattern);
        for (const file of expandGlob(expanded)) aliases.push(...configuredAliases(file, depth + 1));
      }
    }
  }
  return aliases;
}
