// koffi for the CLI bundles (esbuild.mjs points their `koffi` imports here): its prebuilt native module
// loaded directly, since koffi's own loader also loads https, zlib and crypto (~8 ms per run). Talks to koffi.node.
import { createRequire } from 'node:module';
import type koffiModule from 'koffi';

const requireFromHere = createRequire(__filename);

/** The prebuilt binaries the build ships (scripts/runtime-assets.mjs), by Node platform-arch. */
const PREBUILT: Readonly<Record<string, string>> = { 'linux-x64': 'linux_x64', 'linux-arm64': 'linux_arm64' };

function loadKoffi(): typeof koffiModule {
  const triplet = PREBUILT[`${process.platform}-${process.arch}`];
  if (triplet) {
    try {
      return requireFromHere(`koffi/build/koffi/${triplet}/koffi.node`) as typeof koffiModule;
    } catch {
      // musl libc or another layout: koffi's own loader knows where to look
    }
  }
  return requireFromHere('koffi') as typeof koffiModule;
}

export = loadKoffi();
