// After a test run sudo started for a user (SUDO_UID/SUDO_GID): hands back to that user what the run created as root in
// the user's own folders (their cache, and the checkout when it is theirs). Used by run-tests.mjs.
import { lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function chownRootOwned(path, uid, gid, skip = new Set()) {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (stat.uid === 0) lchownSync(path, uid, gid);
  if (!stat.isDirectory()) return;
  for (const name of readdirSync(path)) if (!skip.has(name)) chownRootOwned(join(path, name), uid, gid);
}

function ownedBy(path, uid) {
  try {
    return lstatSync(path).uid === uid;
  } catch {
    return false;
  }
}

/**
 * Gives the sudo user back the root-owned files in their cache folder (~/.cache or XDG_CACHE_HOME: the tests' tools
 * write there under the user's HOME, which sudo keeps) and in `checkout` when it is theirs. A HOME that is not the
 * user's (sudo set to /root) is never touched.
 */
export function returnFilesToSudoUser(checkout) {
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID);
  const home = process.env.HOME;
  if (process.getuid?.() !== 0 || !Number.isInteger(uid) || uid === 0 || !Number.isInteger(gid) || !home) return;
  const cacheHome = process.env.XDG_CACHE_HOME || join(home, '.cache');
  if (ownedBy(home, uid) && (cacheHome === join(home, '.cache') || ownedBy(cacheHome, uid))) chownRootOwned(cacheHome, uid, gid);
  if (ownedBy(checkout, uid)) chownRootOwned(checkout, uid, gid, new Set(['.git', 'node_modules']));
}
