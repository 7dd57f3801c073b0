import Foundation
import RunLog
import Tensor

/// Writes a run's events to its JSONL log: every event as it comes, forced to disk (fsync) at every
/// evaluation, checkpoint, stage boundary and run end, so a crash loses at most the steps since
/// the last evaluation and never a line already flushed.
public final class RunRecorder: @unchecked Sendable {
  public let path: String
  private let writer: RunLogWriter
  /// The first write error, if any (the run goes on; the caller decides what to do).
  public private(set) var failure: RunLogWriteError?

  /// Opens `path` for a new run (`.create`: refuses to overwrite) or to continue one (`.append`).
  public init(path: String, mode: RunLogWriter.Mode) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    if !folder.isEmpty {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }
    self.path = path
    writer = try RunLogWriter(path: path, mode: mode)
  }

  /// Appends one event (and flushes it to disk when it is a boundary event).
  public func record(_ event: RunEvent) {
    do {
      try writer.write(event)
      switch event {
      case .eval, .checkpoint, .stageStart, .stageEnd, .runEnd, .error, .resume, .header:
        try writer.flush()
      case .step, .note:
        break
      }
    } catch {
      if failure == nil { failure = error }
    }
  }

  public func close() { try? writer.close() }

  /// The header of a new run of `config`.
  public static func header(
    for config: ExperimentConfig, threads: Int, version: String, command: [String]
  ) -> RunHeader {
    RunHeader(
      runName: config.name, startTime: RunHeader.timestamp(Date()), seed: config.seed,
      cptuiVersion: version, producer: "cptui \(version)", command: command,
      machine: MachineFacts.current(threads: threads), datasets: config.datasets.map(\.name),
      config: config.resolvedJSON)
  }
}

extension MachineFacts {
  /// This machine: OpenBLAS kernel and build, engine threads, CPU model, cores, OS, host.
  public static func current(threads: Int) -> MachineFacts {
    var cpu: String?
    if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
      cpu = text.split(separator: "\n").first { $0.hasPrefix("model name") }
        .flatMap { $0.split(separator: ":", maxSplits: 1).last }
        .map { $0.trimmingCharacters(in: .whitespaces) }
    }
    return MachineFacts(
      blasKernel: BLAS.coreName, blasConfig: BLAS.buildConfig, threads: threads, cpu: cpu,
      cores: ProcessInfo.processInfo.activeProcessorCount,
      os: ProcessInfo.processInfo.operatingSystemVersionString,
      hostname: ProcessInfo.processInfo.hostName)
  }
}
