// Entry point of the agent that runs on a target (`node agent.js`, as root or through sudo -n): the method
// table of its JSON-lines RPC (protocol/agent-rpc.ts). Each capability adds one line here.
import { fetchVmlinuxBtf } from './btf-fetch';
import { hello } from './hello';
import { readMap } from './map-read';
import { serve, type MethodTable } from './rpc-server';
import { verifyObject } from './verify';

// stdout carries the protocol only; anything logged goes to stderr.
console.log = console.error;

const methods: MethodTable = {
  hello: () => hello(),
  verify: (params) => verifyObject(params),
  btf: () => fetchVmlinuxBtf(),
  readMap: (params) => readMap(params),
};

serve(methods);
