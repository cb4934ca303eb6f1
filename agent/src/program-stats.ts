// The `stats` method: run_cnt and run_time_ns of each program of a session, read with bpf_obj_get_info_by_fd;
// the kernel counts them only while a BPF_ENABLE_STATS fd is open, which the session holds (not the sysctl).
import type { ProgramStats } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { getSession } from './sessions';
import { libbpf } from './ffi/libbpf';

const PROG_INFO_SIZE = 232;
const RUN_TIME_NS_OFFSET = 192;
const RUN_CNT_OFFSET = 200;

export function programStats(params: { session: string }): { programs: ProgramStats[]; statsEnabled: boolean } {
  const session = getSession(params?.session);
  const b = libbpf();
  const programs = session.programs.map((p) => {
    const info = b.objInfo(p.fd, PROG_INFO_SIZE);
    if (typeof info === 'number') throw new AgentError(`Cannot read statistics of program ${p.name} (error ${info}).`, 'ESTATS');
    return {
      name: p.name,
      section: p.section,
      id: p.id,
      runCnt: Number(info.readBigUInt64LE(RUN_CNT_OFFSET)),
      runTimeNs: Number(info.readBigUInt64LE(RUN_TIME_NS_OFFSET)),
    };
  });
  return { programs, statsEnabled: session.statsFd !== undefined };
}
