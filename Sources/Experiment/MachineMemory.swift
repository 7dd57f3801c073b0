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
    guard let cgroupLimit else { return "this machine has \(Self.gib(physical))" }
    return "this process's control group allows \(Self.gib(cgroupLimit)) of the machine's "
      + Self.gib(physical)
  }

  /// Bytes as "23.5 GiB", as the memory check's messages write them.
  public static func gib(_ bytes: Double) -> String {
    String(format: "%.1f GiB", bytes / 1_073_741_824)
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
  /// is none) of the group and of every ancestor up to the hierarchy's mount (a parent's limit
  /// holds its children; inside a container the mount is the container's group, and the host's
  /// path above it is not visible). The hierarchies are found in `/proc/self/mountinfo` (a v1
  /// memory controller may share a mount with another controller; a v2 hierarchy may sit at
  /// /sys/fs/cgroup/unified); without it, the usual /sys/fs/cgroup and /sys/fs/cgroup/memory.
  static func resolve(physical: Double, read: (String) -> String?) -> MachineMemory {
    let mounts = CgroupMount.parse(read("/proc/self/mountinfo") ?? "")
    var found: [Double] = []
    for line in (read("/proc/self/cgroup") ?? "").split(separator: "\n") {
      let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
      guard fields.count == 3 else { continue }
      let group = String(fields[2])
      if fields[0] == "0" && fields[1].isEmpty {
        let v2 = mounts.filter(\.isVersion2)
        for mount in v2.isEmpty ? [CgroupMount(mountPoint: "/sys/fs/cgroup")] : v2 {
          found += mount.limits(group: group, file: "memory.max", read: read)
        }
      } else if fields[1].split(separator: ",").contains("memory") {
        let v1 = mounts.filter { !$0.isVersion2 && $0.controllers.contains("memory") }
        for mount in v1.isEmpty ? [CgroupMount(mountPoint: "/sys/fs/cgroup/memory")] : v1 {
          found += mount.limits(group: group, file: "memory.limit_in_bytes", read: read)
        }
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

/// One control-group hierarchy mounted in this process's view, from a `/proc/self/mountinfo` line.
struct CgroupMount: Equatable {
  /// The group the mount shows at its mount point ("/", or a container's own group).
  var root = "/"
  /// Where the hierarchy is mounted, e.g. /sys/fs/cgroup/memory.
  var mountPoint: String
  /// cgroup2 (one unified hierarchy) rather than v1.
  var isVersion2 = false
  /// A v1 mount's controllers ("memory", "cpu", …) from its super options.
  var controllers: Set<String> = []

  /// The cgroup and cgroup2 mounts in mountinfo's text: "id parent dev root mountpoint options
  /// [optional…] - fstype source superoptions", paths with spaces written as \040.
  /// A mount point mounted over again counts with its last (visible) mount only.
  static func parse(_ text: String) -> [CgroupMount] {
    let all = text.split(separator: "\n").compactMap { line -> CgroupMount? in
      let fields = line.split(separator: " ")
      guard let dash = fields.firstIndex(of: "-"), dash >= 6, fields.count >= dash + 4 else {
        return nil
      }
      let type = fields[dash + 1]
      guard type == "cgroup" || type == "cgroup2" else { return nil }
      let options = fields[dash + 3].split(separator: ",").map(String.init)
      return CgroupMount(
        root: unescape(fields[3]), mountPoint: unescape(fields[4]), isVersion2: type == "cgroup2",
        controllers: type == "cgroup" ? Set(options) : [])
    }
    return all.enumerated().filter { index, mount in
      !all[(index + 1)...].contains { $0.mountPoint == mount.mountPoint }
    }.map(\.element)
  }

  /// mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash) decoded.
  static func unescape(_ field: Substring) -> String {
    var bytes: [UInt8] = []
    var rest = Array(field.utf8)[...]
    while let byte = rest.popFirst() {
      if byte == UInt8(ascii: "\\"), rest.count >= 3,
        let value = UInt8(String(decoding: rest.prefix(3), as: UTF8.self), radix: 8)
      {
        bytes.append(value)
        rest = rest.dropFirst(3)
      } else {
        bytes.append(byte)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The limits in `file` of `group` (a path in /proc/self/cgroup) and its ancestors, up to the
  /// mount point, the group taken relative to the mount's root. A group outside that root (a
  /// cgroup namespace's view of a host hierarchy mounted in) reads the mount point's own file
  /// only: the same path under the mount would be another group's.
  func limits(group: String, file: String, read: (String) -> String?) -> [Double] {
    var parts = group.split(separator: "/").map(String.init)
    let rootParts = root.split(separator: "/").map(String.init)
    if parts.starts(with: rootParts) {
      parts.removeFirst(rootParts.count)
    } else {
      parts = []
    }
    var found: [Double] = []
    while true {
      let path = ([mountPoint] + parts + [file]).joined(separator: "/")
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
}
