import Corpus
import Foundation
import RunLog
import Synchronization
import Tensor

/// Writes a run's events to its JSONL log: every event as it comes, forced to disk (fsync) at every
/// evaluation, checkpoint, stage boundary and run end, so a crash loses at most the steps since
/// the last evaluation and never a line already flushed.
///
/// A failed write (a full disk) leaves the log without a partial line; the lines not written are
/// kept and retried with the next event, so a run paused until space is freed loses nothing.
public final class RunRecorder: Sendable {
  public let path: String
  private let writer: RunLogWriter
  private let state = Mutex<(failure: RunLogWriteError?, lastCheckpoint: CheckpointEvent?)>(
    (nil, nil))

  /// The error of the last write when it failed: lines are missing from the log until a later
  /// write succeeds (nil again). The caller decides what to do (pause, stop).
  public var failure: RunLogWriteError? { state.withLock { $0.failure } }

  /// Whether opening the log to continue it cut off a torn last line (a write the run was
  /// killed in the middle of).
  public var cutTornLastLine: Bool { writer.removedTornBytes > 0 }

  /// Readies a log opened with `.appendAfterChecks` for the resumed run's events (cuts a torn
  /// last line off).
  public func finishTornTail() throws { try writer.finishTornTail() }

  /// The last checkpoint whose event reached the log (what `run --resume` would continue from).
  public var lastLoggedCheckpoint: CheckpointEvent? { state.withLock { $0.lastCheckpoint } }

  /// Opens `path` for a new run (`.create`: refuses to overwrite) or to continue one (`.append`).
  public init(path: String, mode: RunLogWriter.Mode) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    if !folder.isEmpty {
      do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      } catch {
        throw RunLogWriteError(
          path: path,
          message: "cannot create its folder \(folder): \(FileErrorText.describe(error))")
      }
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
      state.withLock {
        $0.failure = nil
        if case .checkpoint(let c) = event { $0.lastCheckpoint = c }
      }
    } catch {
      state.withLock { $0.failure = error }
    }
  }

  public func close() { try? writer.close() }

  /// Closes the log and removes it when it is empty: a run that failed before its header was
  /// written (data that cannot be prepared, a model that cannot be built) leaves no 0-byte log
  /// behind to trip up `compare` or `replay` on its folder.
  public func closeRemovingIfEmpty() {
    close()
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
    if size == 0 { try? FileManager.default.removeItem(atPath: path) }
  }

  /// The header of a new run of `config`.
  public static func header(
    for config: ExperimentConfig, threads: Int, version: String, command: [String],
    data: JSONValue? = nil
  ) -> RunHeader {
    RunHeader(
      runName: config.name, startTime: RunHeader.timestamp(Date()), seed: config.seed,
      cptuiVersion: version, producer: "cptui \(version)", command: command,
      machine: MachineFacts.current(threads: threads), datasets: config.datasets.map(\.name),
      config: config.resolvedJSON, data: data)
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

/// One short phrase for a file-system error from Foundation ("a file is in the way", "permission
/// denied", …) instead of its NSError dump; the caller names the path.
public enum FileErrorText {
  public static func describe(_ error: any Error) -> String {
    let ns = error as NSError
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if ns.domain == NSCocoaErrorDomain {
      switch CocoaError.Code(rawValue: ns.code) {
      case .fileWriteFileExists: return "a file is in the way (a folder is needed there)"
      case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
      case .fileWriteOutOfSpace: return "no space left on the device"
      case .fileWriteVolumeReadOnly: return "read-only file system"
      case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
      case .fileWriteUnknown:
        // Making a folder under a file (CPTUI_CACHE naming a file) fails without a reason.
        let path =
          ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        if let path, let reason = fileWhereFolderIsNeeded(path) { return reason }
      default: break
      }
    }
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError,
      underlying.domain == NSPOSIXErrorDomain
    {
      return String(cString: strerror(Int32(underlying.code)))
    }
    return ns.localizedDescription
  }

  /// "PATH: phrase" for a file-system error, naming the data cache's environment variable when
  /// the path lies in the cache.
  public static func sentence(
    _ error: any Error, cache: CorpusCache = .fromEnvironment()
  ) -> String {
    let ns = error as NSError
    let path =
      ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    guard let path else { return describe(error) }
    let root = cache.root.standardizedFileURL.path
    let inCache = path == root || path.hasPrefix(root + "/")
    return "\(path): \(describe(error))"
      + (inCache ? " (the data cache; CPTUI_CACHE chooses another folder)" : "")
  }

  /// "F is a file, where a folder is needed" when the nearest existing entry on the way up from
  /// `path` (itself included) is a file; nil when it is a folder or nothing exists.
  public static func fileWhereFolderIsNeeded(_ path: String) -> String? {
    var url = URL(fileURLWithPath: path)
    while url.path != "/" {
      var isFolder: ObjCBool = false
      if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) {
        return isFolder.boolValue ? nil : "\(url.path) is a file, where a folder is needed"
      }
      url = url.deletingLastPathComponent()
    }
    return nil
  }

  /// Why `path` cannot be written as a file, when that is plain before trying: it is a folder.
  public static func folderInTheWay(_ path: String) -> String? {
    var isFolder: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
      && isFolder.boolValue
      ? "it is a folder" : nil
  }
}
