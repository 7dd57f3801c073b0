import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a run log could not be written.
public struct RunLogWriteError: Error, CustomStringConvertible, Equatable, Sendable {
  public var path: String
  public var message: String
  public var description: String { "\(path): \(message)" }

  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }
}

/// Appends events to a run log, one JSON object per line.
///
/// Every `write` hands its line to the operating system at once (unless `bufferBytes` asks for
/// batching), so a process killed with `kill -9` loses nothing it wrote; `flush()` also forces the
/// file to disk (fsync) — the trainer calls it at every evaluation. Lines are only ever appended; a
/// line is written with one `write(2)` call, so a crash can at worst leave a torn last line, which
/// readers ignore and which `Mode.append` cuts off before it adds new lines. A failed write (a full
/// disk) leaves no partial line and keeps its lines for the next call to retry.
public final class RunLogWriter: Sendable {
  public enum Mode: Sendable {
    /// Create a new log; fail if the file exists.
    case create
    /// Create a new log, replacing any file of that name.
    case replace
    /// Continue an existing log (create it if missing). A torn last line is cut off first.
    case append
    /// Lock an existing log to continue it, changing nothing yet (a resume checks the log before
    /// it touches it): `finishTornTail()` then readies it for appending, as `append` does at once.
    case appendAfterChecks
  }

  private struct State {
    var descriptor: Int32
    var pending: [UInt8] = []
    var removedTornBytes = 0
  }

  public let path: String
  /// Bytes of pending lines kept in memory before they are written (0: write each line at once).
  public let bufferBytes: Int
  /// Bytes of a torn last line that `Mode.append` (or `finishTornTail`) removed (0 when the log
  /// ended cleanly).
  public var removedTornBytes: Int { state.withLock { $0.removedTornBytes } }
  private let state: Mutex<State>

  public init(path: String, mode: Mode = .create, bufferBytes: Int = 0) throws(RunLogWriteError) {
    self.path = path
    self.bufferBytes = max(0, min(bufferBytes, 1 << 24))
    // `replace` truncates only once the log is locked: never under another writer's feet.
    var flags = O_WRONLY | O_CREAT | O_CLOEXEC
    switch mode {
    case .create: flags |= O_EXCL
    case .replace: break
    case .append, .appendAfterChecks: flags = O_RDWR | O_CREAT | O_CLOEXEC
    }
    var info = stat()
    if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
      throw RunLogWriteError(path: path, message: "is a folder; give a file name for the run log")
    }
    let descriptor = open(path, flags, 0o644)
    if descriptor < 0 {
      let code = errno
      let reason =
        code == EEXIST && mode == .create
        ? "exists already (a new run never overwrites a log)" : String(cString: strerror(code))
      throw RunLogWriteError(path: path, message: "cannot open for writing: \(reason)")
    }
    // One writer per log (an advisory lock, held until the file is closed): a second `run
    // --resume` of the same log, or one while the run still trains, would interleave lines.
    if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
      let code = errno
      systemClose(descriptor)
      let reason =
        code == EWOULDBLOCK
        ? "another cptui process is writing this log (wait for it to end, or stop it)"
        : String(cString: strerror(code))
      throw RunLogWriteError(path: path, message: "cannot open for writing: \(reason)")
    }
    if mode == .replace && ftruncate(descriptor, 0) != 0 {
      let reason = String(cString: strerror(errno))
      systemClose(descriptor)
      throw RunLogWriteError(path: path, message: "cannot open for writing: \(reason)")
    }
    var removed = 0
    if mode == .appendAfterChecks { lseek(descriptor, 0, SEEK_END) }
    if mode == .append {
      do throws(RunLogWriteError) {
        removed = try Self.cutTornTail(descriptor: descriptor, path: path)
      } catch {
        systemClose(descriptor)
        throw error
      }
    }
    state = Mutex(State(descriptor: descriptor, removedTornBytes: removed))
  }

  /// Readies a log opened with `appendAfterChecks` for appending: a torn last line is cut off,
  /// a last line that is whole but lacks its newline gets one.
  public func finishTornTail() throws(RunLogWriteError) {
    let (descriptor, done) = state.withLock { ($0.descriptor, $0.removedTornBytes) }
    guard done == 0 else { return }
    let removed = try Self.cutTornTail(descriptor: descriptor, path: path)
    state.withLock { $0.removedTornBytes = removed }
  }

  /// Whether another process holds the writer's lock on `path` (a run still writing it).
  public static func isBeingWritten(path: String) -> Bool {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return false }
    defer { systemClose(descriptor) }
    if flock(descriptor, LOCK_EX | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
    _ = flock(descriptor, LOCK_UN)
    return false
  }

  deinit {
    state.withLock { state in
      if state.descriptor >= 0 {
        _ = Self.writeWhole(state.pending, to: state.descriptor)
        systemClose(state.descriptor)
        state.descriptor = -1
      }
    }
  }

  /// Appends one event as one line.
  public func write(_ event: RunEvent) throws(RunLogWriteError) {
    try write(line: event.jsonLine)
  }

  /// Appends several events.
  public func write(_ events: [RunEvent]) throws(RunLogWriteError) {
    for event in events { try write(event) }
  }

  /// Appends a line of JSON text as it is (it must not contain a newline).
  public func write(line: String) throws(RunLogWriteError) {
    precondition(!line.utf8.contains(UInt8(ascii: "\n")), "a run-log line holds no newline")
    let result: String? = state.withLock { state in
      guard state.descriptor >= 0 else { return "the log is closed" }
      state.pending.append(contentsOf: line.utf8)
      state.pending.append(UInt8(ascii: "\n"))
      if state.pending.count > bufferBytes {
        if let failure = Self.writeWhole(state.pending, to: state.descriptor) { return failure }
        state.pending.removeAll(keepingCapacity: true)
      }
      return nil
    }
    if let result { throw RunLogWriteError(path: path, message: result) }
  }

  /// Writes pending lines and forces the file to disk.
  public func flush() throws(RunLogWriteError) {
    let result: String? = state.withLock { state in
      guard state.descriptor >= 0 else { return "the log is closed" }
      if let failure = Self.writeWhole(state.pending, to: state.descriptor) { return failure }
      state.pending.removeAll(keepingCapacity: true)
      if fsync(state.descriptor) != 0 {
        return "fsync failed: \(String(cString: strerror(errno)))"
      }
      return nil
    }
    if let result { throw RunLogWriteError(path: path, message: result) }
  }

  /// Flushes and closes the file. Further writes fail.
  public func close() throws(RunLogWriteError) {
    try flush()
    state.withLock { state in
      if state.descriptor >= 0 {
        systemClose(state.descriptor)
        state.descriptor = -1
      }
    }
  }

  /// Writes whole lines or nothing: when the write fails part way (a full disk), the bytes that
  /// made it are cut off again so the log never holds a partial line, and the lines stay pending
  /// for the next `write` or `flush` to retry. Returns an error text or nil.
  private static func writeWhole(_ bytes: [UInt8], to descriptor: Int32) -> String? {
    let start = lseek(descriptor, 0, SEEK_CUR)
    guard let failure = writeAll(bytes, to: descriptor) else { return nil }
    if start >= 0 {
      _ = ftruncate(descriptor, start)
      _ = lseek(descriptor, start, SEEK_SET)
    }
    return failure
  }

  /// Writes every byte, retrying short writes and interruptions; returns an error text or nil.
  private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> String? {
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { buffer in
        systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
      }
      if written < 0 {
        if errno == EINTR { continue }
        return "write failed: \(String(cString: strerror(errno)))"
      }
      offset += written
    }
    return nil
  }

  /// Makes the file end with a newline: a last line without one is kept (and finished) when it is
  /// a whole JSON value, cut off otherwise. Returns how many bytes it removed.
  private static func cutTornTail(descriptor: Int32, path: String) throws(RunLogWriteError) -> Int {
    let size = Int(lseek(descriptor, 0, SEEK_END))
    guard size > 0 else { return 0 }
    var keep = 0
    var end = size
    var chunk = [UInt8](repeating: 0, count: 4096)
    search: while end > 0 {
      let start = max(0, end - chunk.count)
      let count = end - start
      let got = chunk.withUnsafeMutableBytes {
        pread(descriptor, $0.baseAddress!, count, off_t(start))
      }
      if got != count {
        throw RunLogWriteError(path: path, message: "cannot read the end of the log")
      }
      if let newline = chunk[0..<count].lastIndex(of: UInt8(ascii: "\n")) {
        keep = start + newline + 1
        break search
      }
      end = start
    }
    if keep == size { return 0 }
    let fragmentLength = size - keep
    if fragmentLength <= RunLogSchema.maxLineBytes {
      var fragment = [UInt8](repeating: 0, count: fragmentLength)
      let got = fragment.withUnsafeMutableBytes {
        pread(descriptor, $0.baseAddress!, fragmentLength, off_t(keep))
      }
      let whole =
        got == fragmentLength
        && fragment.withUnsafeBufferPointer { (try? JSONText.parse($0)) != nil }
      if whole {
        lseek(descriptor, 0, SEEK_END)
        if let failure = writeAll([UInt8(ascii: "\n")], to: descriptor) {
          throw RunLogWriteError(path: path, message: failure)
        }
        return 0
      }
    }
    if ftruncate(descriptor, off_t(keep)) != 0 {
      throw RunLogWriteError(path: path, message: "cannot cut off the torn last line")
    }
    lseek(descriptor, 0, SEEK_END)
    return fragmentLength
  }
}

/// `close(2)` (the name is taken inside the writer by its own `close()`).
func systemClose(_ descriptor: Int32) {
  _ = close(descriptor)
}

/// `write(2)`.
func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(descriptor, bytes, count)
}

/// `read(2)`.
func systemRead(_ descriptor: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Int {
  read(descriptor, bytes, count)
}

/// `poll(2)` on one descriptor for input, without waiting.
func systemReadable(_ descriptor: Int32) -> Bool {
  var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
  return poll(&request, 1, 0) > 0
}
