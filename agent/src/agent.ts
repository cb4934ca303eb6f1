// Entry point of the agent that runs on a target (`node agent.js`, as root or through sudo -n): the method
// table of its JSON-lines RPC (protocol/agent-rpc.ts). Each capability adds one line here.
import { attachPoints } from './attach-points';
import { fetchVmlinuxBtf } from './btf-fetch';
import { streamEvents, stopEvents } from './event-stream';
import { featureProbe } from './feature-probe';
import { hello } from './hello';
import { loadSession } from './load-session';
import { objectBtf } from './object-btf';
import { readMap } from './map-read';
import { programStats } from './program-stats';
import { serve, type MethodTable } from './rpc-server';
import { detachSession, listSessions, removeAllPins, sessionMapFd } from './sessions';
import { stackSymbols } from './stack-symbols';
import { verifyObject } from './verify';

// stdout carries the protocol only; anything logged goes to stderr.
console.log = console.error;

const methods: MethodTable = {
  hello: () => hello(),
  verify: (params) => verifyObject(params),
  btf: () => fetchVmlinuxBtf(),
  readMap: (params) => readMap(params, sessionMapFd),
  objectBtf: (params) => objectBtf(params),
  load: (params) => loadSession(params),
  detach: (params) => detachSession(params),
  sessions: () => listSessions(),
  stats: (params) => programStats(params),
  streamEvents: (params, context) => streamEvents(params, context),
  stopEvents: (params) => stopEvents(params),
  featureProbe: () => featureProbe(),
  attachPoints: (params) => attachPoints(params),
  stackSymbols: (params) => stackSymbols(params),
};

serve(methods, removeAllPins);
