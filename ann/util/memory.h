// How much memory this process may still take before it fails or is killed: the smallest of
// what the machine has available (/proc/meminfo's MemAvailable), what the process's control
// groups leave (cgroup v1 memory.limit_in_bytes or v2 memory.max, over the group and its
// ancestors, less their working set) and what the address-space limit (`ulimit -v`) leaves;
// plus what the process's own heap holds freed for reuse (ann::KeepFreedMemory keeps it).
#ifndef ANN_UTIL_MEMORY_H_
#define ANN_UTIL_MEMORY_H_

#include <cstdint>
#include <string>

namespace ann {

struct MemoryHeadroom {
  double bytes = 0;   // what may still be allocated (infinity when nothing limits it)
  std::string limit;  // what binds: "MemAvailable", "the cgroup limit of <dir>", "ulimit -v"
};

// The headroom of this process now.
MemoryHeadroom AvailableMemory();

// The parts, for tests and for AvailableMemory (a missing or unreadable file gives infinity).
// `meminfo`: the text of /proc/meminfo.
double MemAvailableBytes(const std::string& meminfo);
// What the memory control groups of `proc_cgroup` (the text of /proc/self/cgroup) leave, with
// their hierarchies mounted as `mountinfo` (the text of /proc/self/mountinfo) says; sets
// `where` to the binding group's folder.
double CgroupHeadroomBytes(const std::string& proc_cgroup, const std::string& mountinfo,
                           std::string* where);

// What the process is working on now, as the last memory check named it (an image's path, a
// size flag): an allocation that fails all the same is reported against it (RunGuarded).
void SetMemorySubject(const std::string& subject);
std::string MemorySubject();

}  // namespace ann

#endif  // ANN_UTIL_MEMORY_H_
