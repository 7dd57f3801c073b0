import Model
import Testing

@testable import Experiment

/// The memory check's budget: the machine's memory, or a control group's smaller limit (inside a
/// container the machine's memory is the host's).
struct MachineMemoryTests {
  let gib = 1_073_741_824.0

  func resolve(_ files: [String: String], physical: Double = 24 * 1_073_741_824.0)
    -> MachineMemory
  {
    MachineMemory.resolve(physical: physical, read: { files[$0] })
  }

  @Test func noControlGroupIsTheMachine() {
    let m = resolve([:])
    #expect(m == MachineMemory(physical: 24 * gib))
    #expect(m.phrase == "this machine has 24.0 GiB")
  }

  /// cgroup v2: the group's memory.max; "max" is no limit; a group path that is not mounted
  /// inside the container falls back to the root's file (the container's own group).
  @Test func cgroupV2() {
    let inGroup = resolve([
      "/proc/self/cgroup": "0::/user.slice/run-1.scope\n",
      "/sys/fs/cgroup/user.slice/run-1.scope/memory.max": "4294967296\n",
    ])
    #expect(inGroup == MachineMemory(physical: 24 * gib, cgroupLimit: 4 * gib))
    #expect(
      inGroup.phrase == "this process's control group allows 4.0 GiB of the machine's 24.0 GiB")
    let unlimited = resolve([
      "/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/memory.max": "max\n",
    ])
    #expect(unlimited == MachineMemory(physical: 24 * gib))
    let container = resolve([
      "/proc/self/cgroup": "0::/docker/abc\n", "/sys/fs/cgroup/memory.max": "2147483648",
    ])
    #expect(container.bytes == 2 * gib && container.cgroupLimit == 2 * gib)
    // A parent's limit holds a child whose own file says "max" (a systemd slice, a job's step):
    // the tightest along the path counts.
    let nested = resolve([
      "/proc/self/cgroup": "0::/job/step\n", "/sys/fs/cgroup/job/step/memory.max": "max",
      "/sys/fs/cgroup/job/memory.max": "3221225472", "/sys/fs/cgroup/memory.max": "8589934592",
    ])
    #expect(nested.cgroupLimit == 3 * gib)
  }

  /// cgroup v1 (this machine's kind): memory.limit_in_bytes, where "none" is a number near 2⁶³;
  /// a limit above the machine's memory changes nothing.
  @Test func cgroupV1() {
    let lines = "9:name=systemd:/\n4:memory:/process_api/1e12\n1:cpu,cpuacct:/\n0::/\n"
    let none = resolve([
      "/proc/self/cgroup": lines,
      "/sys/fs/cgroup/memory/process_api/1e12/memory.limit_in_bytes": "9223372036854771712\n",
    ])
    #expect(none == MachineMemory(physical: 24 * gib))
    let limited = resolve([
      "/proc/self/cgroup": lines,
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "8589934592\n",
    ])
    #expect(limited == MachineMemory(physical: 24 * gib, cgroupLimit: 8 * gib))
    let above = resolve([
      "/proc/self/cgroup": "4:memory:/\n",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "\(64 * 1_073_741_824)",
    ])
    #expect(above == MachineMemory(physical: 24 * gib))
  }

  /// The hierarchies come from /proc/self/mountinfo: a memory controller mounted with another
  /// one, a v2 hierarchy at /sys/fs/cgroup/unified, a container's group mounted as its root, a
  /// mount point with a space.
  @Test func mountsComeFromMountinfo() {
    let coMounted = resolve([
      "/proc/self/mountinfo":
        "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
        + "35 31 0:32 / /sys/fs/cgroup/cpu,memory rw,relatime shared:9 - cgroup cgroup rw,cpu,memory\n",
      "/proc/self/cgroup": "4:cpu,memory:/batch/job7\n",
      "/sys/fs/cgroup/cpu,memory/batch/memory.limit_in_bytes": "3221225472\n",
    ])
    #expect(coMounted.cgroupLimit == 3 * gib)
    let unified = resolve([
      "/proc/self/mountinfo":
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
      "/proc/self/cgroup": "0::/user.slice\n",
      "/sys/fs/cgroup/unified/user.slice/memory.max": "2147483648",
      "/sys/fs/cgroup/user.slice/memory.max": "1073741824",
    ])
    #expect(unified.cgroupLimit == 2 * gib)
    // The container's group is the mount's root: its file is the mount point's own, and a
    // same-named directory under the mount point is not mistaken for it.
    let container = resolve([
      "/proc/self/mountinfo":
        "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n",
      "/proc/self/cgroup": "4:memory:/docker/abc\n",
      "/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824",
      "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "536870912",
    ])
    #expect(container.cgroupLimit == 1 * gib)
    let spaced = resolve([
      "/proc/self/mountinfo": "41 31 0:38 / /mnt/my\\040cgroups rw - cgroup2 none rw\n",
      "/proc/self/cgroup": "0::/\n", "/mnt/my cgroups/memory.max": "4294967296",
    ])
    #expect(spaced.cgroupLimit == 4 * gib)
    // A cgroup namespace with the host's hierarchy mounted in: the group path is not under the
    // mount's root, so the same path under the mount point is another group's, not read; a
    // mount point mounted over counts with its visible (last) mount only.
    let namespaced = resolve([
      "/proc/self/mountinfo": "30 29 0:26 /../.. /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
      "/proc/self/cgroup": "0::/system.slice/x.service\n",
      "/sys/fs/cgroup/system.slice/x.service/memory.max": "1073741824",
      "/sys/fs/cgroup/memory.max": "3221225472",
    ])
    #expect(namespaced.cgroupLimit == 3 * gib)
    let covered = resolve([
      "/proc/self/mountinfo": "30 29 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
        + "31 29 0:27 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
      "/proc/self/cgroup": "0::/docker/abc\n",
      "/sys/fs/cgroup/memory.max": "2147483648",
      "/sys/fs/cgroup/docker/abc/memory.max": "536870912",
    ])
    #expect(covered.cgroupLimit == 2 * gib)
    #expect(CgroupMount.unescape("a\\134b\\0") == "a\\b\\0")
  }

  /// Garbage in the files is no limit, never a crash.
  @Test func unreadableFilesAreNoLimit() {
    let m = resolve([
      "/proc/self/cgroup": "nonsense\n::\n4:memory\n0::/x\n",
      "/sys/fs/cgroup/x/memory.max": "-5",
    ])
    #expect(m == MachineMemory(physical: 24 * gib))
  }

  /// The memory check's message says which limit it is held to.
  @Test func theShortfallNamesTheContainer() {
    let model = ModelConfig(layers: 2, heads: 2, width: 16, context: 32, vocab: 300)
    let small = MachineMemory(physical: 1e12, cgroupLimit: 1000)
    let text = ConfigLoader.memoryShortfall(model: model, batch: 4, threads: 1, memory: small)
    #expect(
      text?.contains(
        "; this process's control group allows 0.0 GiB of the machine's 931.3 GiB (make the")
        == true, "\(text ?? "")")
    #expect(
      ConfigLoader.memoryShortfall(
        model: model, batch: 4, threads: 1,
        memory: MachineMemory(physical: 1e12))
        == nil)
  }
}
