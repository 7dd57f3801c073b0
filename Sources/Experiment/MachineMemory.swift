import Foundation

/// The memory a training run may use, in bytes: the machine's, or less when the process runs in a
/// control group with a memory limit (a container: `ProcessInfo.physicalMemory` reports the host's
/// memory there, and a run sized by it would be killed mid-way instead of refused up front).
public struct MachineMemory: Sendable, Equatable {
  /// Bytes the run may use.
  public var bytes: Double
  /// True when a control group's limit, not the machine's memory, sets `bytes`.
  public var isLimitedByCgroup: Bool

  /// "this machine has 23.5 GiB" or "this container may use 4.0 GiB".
  public var phrase: String {
    let gib = String(format: "%.1f GiB", bytes / 1_073_741_824)
    return isLimitedByCgroup ? "this container may use \(gib)" : "this machine has \(gib)"
  }

  /// This process's: the smaller of the machine's memory and its control group's limit.
  public static var current: MachineMemory {
    resolve(
      physical: Double(ProcessInfo.processInfo.physicalMemory),
      read: { try? String(contentsOfFile: $0, encoding: .utf8) })
  }

  /// The smaller of `physical` and the memory limit of the control group that
  /// `/proc/self/cgroup` names, read through `read` (a path to the file's text, nil when absent):
  /// cgroup v2's `memory.max` ("max" is none) or v1's `memory.limit_in_bytes` (a huge number is
  /// none), in the process's own group, else at the hierarchy's root (inside a container the root
  /// is the container's group).
  static func resolve(physical: Double, read: (String) -> String?) -> MachineMemory {
    var limits: [Double] = []
    /// The limit in the first of `paths` that exists (nil when its text is "max" or not a number).
    func limit(_ paths: String...) -> Double? {
      for path in paths {
        guard let text = read(path) else { continue }
        let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return value > 0 ? value : nil
      }
      return nil
    }
    for line in (read("/proc/self/cgroup") ?? "").split(separator: "\n") {
      let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
      guard fields.count == 3 else { continue }
      let group = fields[2] == "/" ? "" : String(fields[2])
      if fields[0] == "0" && fields[1].isEmpty {
        let root = "/sys/fs/cgroup"
        limits += [limit("\(root)\(group)/memory.max", "\(root)/memory.max")].compactMap { $0 }
      } else if fields[1].split(separator: ",").contains("memory") {
        let root = "/sys/fs/cgroup/memory"
        let file = "memory.limit_in_bytes"
        limits += [limit("\(root)\(group)/\(file)", "\(root)/\(file)")].compactMap { $0 }
      }
    }
    // v1 writes "no limit" as a number near 2⁶³.
    let tightest = limits.filter { $0 < 1e18 }.min()
    if let tightest, physical <= 0 || tightest < physical {
      return MachineMemory(bytes: tightest, isLimitedByCgroup: true)
    }
    return MachineMemory(bytes: physical, isLimitedByCgroup: false)
  }
}
