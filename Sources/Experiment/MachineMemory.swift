import Foundation

/// The memory a training run may use, in bytes: the machine's, or less when the process runs in a
/// control group with a memory limit (a container: `ProcessInfo.physicalMemory` reports the host's
/// memory there, and a run sized by it would be killed mid-way instead of refused up front).
public struct MachineMemory: Sendable, Equatable {
  /// The machine's memory.
  public var physical: Double
  /// The tightest memory limit of the process's control group and its ancestors, when one is
  /// below the machine's memory.
  public var cgroupLimit: Double?

  public init(physical: Double, cgroupLimit: Double? = nil) {
    self.physical = physical
    self.cgroupLimit = cgroupLimit
  }

  /// Bytes the run may use.
  public var bytes: Double { cgroupLimit ?? physical }

  /// "this machine has 23.5 GiB", or "this process's control group allows 4.0 GiB of the
  /// machine's 23.5 GiB".
  public var phrase: String {
    let gib = { (bytes: Double) in String(format: "%.1f GiB", bytes / 1_073_741_824) }
    guard let cgroupLimit else { return "this machine has \(gib(physical))" }
    return "this process's control group allows \(gib(cgroupLimit)) of the machine's "
      + gib(physical)
  }

  /// This process's: the machine's memory and its control group's limit.
  public static var current: MachineMemory {
    resolve(
      physical: Double(ProcessInfo.processInfo.physicalMemory),
      read: { try? String(contentsOfFile: $0, encoding: .utf8) })
  }

  /// `physical` and the tightest memory limit along the control-group path that
  /// `/proc/self/cgroup` names, read through `read` (a path to the file's text, nil when absent):
  /// cgroup v2's `memory.max` ("max" is none) or v1's `memory.limit_in_bytes` (a number near 2⁶³
  /// is none) of the group and of every ancestor up to the hierarchy's root (a parent's limit
  /// holds its children; inside a container the root is the container's group, and the host's
  /// path is not mounted). Assumes the usual mounts, /sys/fs/cgroup and /sys/fs/cgroup/memory.
  static func resolve(physical: Double, read: (String) -> String?) -> MachineMemory {
    /// The limits in `file` of `group` and its ancestors, under `root`.
    func limits(root: String, group: Substring, file: String) -> [Double] {
      var parts = group.split(separator: "/").map(String.init)
      var found: [Double] = []
      while true {
        let path = ([root] + parts + [file]).joined(separator: "/")
        if let text = read(path),
          let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), value > 0
        {
          found.append(value)
        }
        if parts.isEmpty { break }
        parts.removeLast()
      }
      return found
    }
    var found: [Double] = []
    for line in (read("/proc/self/cgroup") ?? "").split(separator: "\n") {
      let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
      guard fields.count == 3 else { continue }
      if fields[0] == "0" && fields[1].isEmpty {
        found += limits(root: "/sys/fs/cgroup", group: fields[2], file: "memory.max")
      } else if fields[1].split(separator: ",").contains("memory") {
        found += limits(
          root: "/sys/fs/cgroup/memory", group: fields[2], file: "memory.limit_in_bytes")
      }
    }
    // v1 writes "no limit" as a number near 2⁶³; a limit above the machine's memory changes nothing.
    let tightest = found.filter { $0 < 1e18 }.min()
    guard let tightest, physical <= 0 || tightest < physical else {
      return MachineMemory(physical: physical)
    }
    return MachineMemory(physical: physical, cgroupLimit: tightest)
  }
}
