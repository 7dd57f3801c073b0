import Foundation

/// Result of running an external program.
struct ToolResult {
  var status: Int32
  var stdout: Data
  var stderr: String
}

/// Runs `executable` with `arguments` and collects its output (stdout and stderr are drained
/// concurrently so a chatty program cannot block).
func runTool(
  _ executable: String, _ arguments: [String], directory: URL? = nil,
  environment: [String: String]? = nil
) throws -> ToolResult {
  let process = Process()
  if executable.hasPrefix("/") {
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
  } else {
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
  }
  if let directory { process.currentDirectoryURL = directory }
  if let environment { process.environment = environment }
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = FileHandle.nullDevice
  try process.run()
  let errBox = ErrorBox()
  let group = DispatchGroup()
  group.enter()
  DispatchQueue.global().async {
    errBox.data = err.fileHandleForReading.readDataToEndOfFile()
    group.leave()
  }
  let stdout = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  process.waitUntilExit()
  return ToolResult(
    status: process.terminationStatus, stdout: stdout,
    stderr: String(decoding: errBox.data, as: UTF8.self))
}

private final class ErrorBox: @unchecked Sendable {
  var data = Data()
}

/// Whether a program is on the PATH.
func toolExists(_ name: String) -> Bool {
  let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
  for dir in path.split(separator: ":") {
    if FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { return true }
  }
  return false
}

/// Regular files (not symlinks) under `root`, recursively, sorted by relative path (byte order), so
/// extraction order is the same on every machine. `skipHidden` leaves out names starting with `.`
/// (files and folders).
func regularFiles(under root: URL, recursive: Bool = true, skipHidden: Bool = false) -> [URL] {
  let fm = FileManager.default
  var out: [String] = []
  func walk(_ rel: String) {
    let dir = rel.isEmpty ? root.path : root.path + "/" + rel
    guard let names = try? fm.contentsOfDirectory(atPath: dir) else { return }
    for name in names {
      if skipHidden && name.hasPrefix(".") { continue }
      let r = rel.isEmpty ? name : rel + "/" + name
      let full = root.path + "/" + r
      guard let attrs = try? fm.attributesOfItem(atPath: full),
        let type = attrs[.type] as? FileAttributeType
      else { continue }
      if type == .typeRegular {
        out.append(r)
      } else if type == .typeDirectory && recursive {
        walk(r)
      }
    }
  }
  walk("")
  out.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
  return out.map { root.appendingPathComponent($0) }
}

/// Bytes → text policy for source files: valid UTF-8 is kept; a file with NUL bytes in its first
/// 8 KiB is binary (skipped); other invalid UTF-8 is decoded with U+FFFD replacement.
enum TextDecoding {
  /// The text, or nil when the file looks binary or is empty.
  static func text(of data: Data) -> String? {
    if data.isEmpty { return nil }
    if data.prefix(8192).contains(0) { return nil }
    return String(decoding: data, as: UTF8.self)
  }
}
