import Foundation
import Testing

/// Output that cannot be written: a command whose standard output is lost says so and fails, a
/// full standard error never crashes a command, and an output path that is a device is written in
/// place (an atomic replace used to put a regular file where /dev/full was).
struct OutputFailureTests {
  static let log = SampleRunTests.root.appendingPathComponent(
    "sample-runs/weak-shift/weak-shift__stage2.replay=0.jsonl"
  ).path

  /// Runs cptui with standard output and standard error going to the given files.
  static func run(_ arguments: [String], stdout: String, stderr: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationReason == .exit, "\(arguments) died of a signal")
    return process.terminationStatus
  }

  static var hasDevFull: Bool {
    var info = stat()
    return stat("/dev/full", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR
  }

  @Test(.enabled(if: hasDevFull)) func lostStandardOutputFailsTheCommand() throws {
    let folder = try CLI.temporaryFolder("output-failure")
    defer { try? FileManager.default.removeItem(at: folder) }
    let errors = folder.appendingPathComponent("stderr.txt").path
    _ = FileManager.default.createFile(atPath: errors, contents: nil)
    for arguments in [
      ["compare", Self.log], ["export", Self.log, "--csv", "-"], ["--help"], ["--version"],
      ["help", "run"], ["run", "--help"],
    ] {
      #expect(try Self.run(arguments, stdout: "/dev/full", stderr: errors) == 1, "\(arguments)")
      let text = try String(contentsOfFile: errors, encoding: .utf8)
      #expect(text.contains("cannot write to standard output"), "\(arguments): \(text)")
    }
    // A full standard error: the error message is lost, the exit status is not.
    #expect(
      try Self.run(["compare", "/nonexistent.jsonl"], stdout: "/dev/null", stderr: "/dev/full") == 1
    )
  }

  @Test(.enabled(if: hasDevFull)) func aDeviceAsOutputIsWrittenInPlace() throws {
    let csv = try CLI.run(["export", Self.log, "--csv", "/dev/full"])
    #expect(csv.status == 1 && csv.stderr.contains("cannot write /dev/full"), "\(csv.stderr)")
    let table = try CLI.run(["compare", Self.log, "--csv", "/dev/full"])
    #expect(table.status == 1 && table.stderr.contains("cannot write /dev/full"), "\(table.stderr)")
    #expect(Self.hasDevFull, "/dev/full is still the device")
    let fine = try CLI.run(["export", Self.log, "--csv", "/dev/null"])
    #expect(fine.status == 0, "\(fine.stderr)")
  }
}
