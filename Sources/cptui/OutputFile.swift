import Experiment
import Foundation

/// Writes a command's output file (CSV, SVG, tables): standard output for "-", a device or pipe
/// (`/dev/stdout`, `/dev/full`, a FIFO) written in place, a regular file replaced atomically — an
/// atomic replace of a device would put a regular file where the device was — in its folder,
/// made when missing. Every failed write is an error naming the output.
enum OutputFile {
  /// Refuses an output file that is one of the files the command reads (the same file, by
  /// device and inode, under any name): writing it would replace a run log by a table.
  static func refuseInputs(_ output: String?, option: String, inputs: [String]) throws {
    guard let output, output != "-" else { return }
    var target = stat()
    guard stat(output, &target) == 0, (target.st_mode & S_IFMT) == S_IFREG else { return }
    for input in inputs {
      var info = stat()
      if stat(input, &info) == 0 && info.st_dev == target.st_dev && info.st_ino == target.st_ino {
        throw CLIError(
          "\(option) \(output): that is \(input == output ? "" : "\(input), ")one of the logs "
            + "read; refusing to overwrite it (choose another output file)")
      }
    }
  }

  /// Whether two output paths name one file: the same path once made absolute and standardized
  /// (`./a.csv`, `a.csv`), or, when both are files, the same device and inode (a link).
  static func samePlace(_ a: String, _ b: String) -> Bool {
    guard a != "-", b != "-" else { return false }
    func absolute(_ path: String) -> String {
      URL(fileURLWithPath: path).standardizedFileURL.path
    }
    if absolute(a) == absolute(b) { return true }
    var first = stat()
    var second = stat()
    return stat(a, &first) == 0 && stat(b, &second) == 0 && (first.st_mode & S_IFMT) == S_IFREG
      && first.st_dev == second.st_dev && first.st_ino == second.st_ino
  }

  static func write(_ text: String, to path: String) throws {
    if path == "-" {
      CStreams.writeStandardOutput(text)
      try checkStandardOutput()
      return
    }
    var info = stat()
    if stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG
      && (info.st_mode & S_IFMT) != S_IFDIR
    {
      try writeInPlace(text, to: path)
      return
    }
    do {
      // Missing folders are made, as `run --out` makes them (export refused them).
      let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
      if !FileManager.default.fileExists(atPath: folder.path) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      }
      try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      let reason =
        FileErrorText.folderInTheWay(path)
        ?? FileErrorText.fileWhereFolderIsNeeded(
          URL(fileURLWithPath: path).deletingLastPathComponent().path)
        ?? FileErrorText.describe(error)
      throw CLIError("cannot write \(path): \(reason)")
    }
  }

  /// Flushes standard output and throws when anything written to it was lost (a full disk behind
  /// a redirect, `> /dev/full`, a closed pipe).
  static func checkStandardOutput() throws {
    if let reason = CStreams.flushStandardOutput() {
      throw CLIError("cannot write to standard output: \(reason)")
    }
  }

  /// Writes to standard error, ignoring failures: a full disk behind `2>`, or a terminal that
  /// hung up, must not stop a run (FileHandle's `write` traps on any error).
  static func writeStandardError(_ text: String) {
    CStreams.writeStandardError(text)
  }

  private static func writeInPlace(_ text: String, to path: String) throws {
    let descriptor = open(path, O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
      let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else {
        throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
      }
      bytes = bytes.dropFirst(written)
    }
  }
}
