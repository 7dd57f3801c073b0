import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A line of a run log that was not read as an event, and why.
public struct SkippedLine: Sendable, Hashable, CustomStringConvertible {
  /// Line number, from 1.
  public var line: Int
  public var reason: String
  public init(line: Int, reason: String) {
    self.line = line
    self.reason = reason
  }
  public var description: String { "line \(line): \(reason)" }
}

/// A run log that cannot be read at all (missing, empty, not a run log).
public struct RunLogReadError: Error, CustomStringConvertible, Equatable, Sendable {
  public var path: String
  public var message: String
  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }
  /// One line, e.g. `notes.txt: not a cptui run log (line 1: not JSON: …)`.
  public var description: String { "\(path): \(message)" }
}

/// Turns the bytes of a run log into events, chunk by chunk, as they arrive.
///
/// Complete lines (ending in a newline) become events as soon as they are fed; a last line without a
/// newline waits for more bytes, or for `finish()`. Lines that are not events are skipped and
/// counted with their line numbers and reasons; objects of an unknown `type` are skipped silently
/// (counted in `unknownTypes`); empty lines are ignored; lines longer than
/// `RunLogSchema.maxLineBytes` are skipped without being held in memory.
public struct RunLogDecoder: Sendable {
  /// The first skipped lines (up to `keptSkips`), for notices.
  public private(set) var skipped: [SkippedLine] = []
  /// All skipped lines.
  public private(set) var skippedCount = 0
  /// Event types this version does not know, with how many lines each had.
  public private(set) var unknownTypes: [String: Int] = [:]
  /// Lines seen so far (complete ones, plus a last one at `finish()`).
  public private(set) var lineCount = 0
  /// Events decoded so far.
  public private(set) var eventCount = 0
  /// The first header seen.
  public private(set) var header: RunHeader?
  /// True when `finish()` found a last line without a newline that was not a whole event.
  public private(set) var tornLastLine = false
  /// Things worth telling the user that are not skipped lines (a newer schema, no header).
  public private(set) var warnings: [String] = []
  /// Bytes fed so far.
  public private(set) var byteCount = 0
  /// How many skipped lines `skipped` keeps.
  public var keptSkips = 100

  private var pending: [UInt8] = []
  private var discardingLongLine = false
  private var sawHeader = false
  /// Decodes a later part of a stream (see `continuation()`): no header or BOM expected.
  private var isContinuation = false

  public init() {}

  /// A decoder for a run of whole lines that come later in the same stream, decoded on another
  /// thread and then merged back with `absorb(_:)`.
  func continuation() -> RunLogDecoder {
    var d = RunLogDecoder()
    d.isContinuation = true
    d.sawHeader = sawHeader
    d.keptSkips = keptSkips
    return d
  }

  /// Takes over what a continuation decoder saw, as if its lines had followed this decoder's.
  /// Both must have no unfinished line pending.
  mutating func absorb(_ later: RunLogDecoder) {
    for s in later.skipped where skipped.count < keptSkips {
      skipped.append(SkippedLine(line: lineCount + s.line, reason: s.reason))
    }
    skippedCount += later.skippedCount
    for (type, n) in later.unknownTypes { unknownTypes[type, default: 0] += n }
    if !sawHeader, later.eventCount > 0, eventCount == 0 {
      warnings.append(Self.noHeaderWarning)
    }
    lineCount += later.lineCount
    eventCount += later.eventCount
    byteCount += later.byteCount
  }

  /// Feeds bytes; returns the events of the lines they complete.
  public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [RunEvent] {
    var events: [RunEvent] = []
    feed(bytes) { events.append($0) }
    return events
  }

  /// Feeds bytes; returns the events of the lines they complete.
  public mutating func feed(_ bytes: [UInt8]) -> [RunEvent] {
    bytes.withUnsafeBytes { feed($0) }
  }

  /// Feeds bytes, handing each event of a completed line to `handle`.
  public mutating func feed(_ raw: UnsafeRawBufferPointer, _ handle: (RunEvent) -> Void) {
    let bytes = raw.bindMemory(to: UInt8.self)
    byteCount += bytes.count
    var start = 0
    while start < bytes.count {
      guard let newline = Self.indexOfNewline(bytes, from: start) else {
        // An unfinished line: keep it for the next chunk, unless it is already too long.
        if discardingLongLine { return }
        if pending.count + (bytes.count - start) > RunLogSchema.maxLineBytes {
          pending.removeAll()
          discardingLongLine = true
        } else {
          pending.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        return
      }
      lineCount += 1
      if discardingLongLine {
        discardingLongLine = false
        skip("longer than \(RunLogSchema.maxLineBytes / 1024 / 1024) MiB")
      } else if pending.isEmpty && newline - start > RunLogSchema.maxLineBytes {
        // Over-long lines are skipped however the bytes arrive.
        skip("longer than \(RunLogSchema.maxLineBytes / 1024 / 1024) MiB")
      } else if pending.isEmpty {
        decodeLine(UnsafeBufferPointer(rebasing: bytes[start..<newline]), isLast: false, handle)
      } else {
        pending.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<newline]))
        let line = pending
        pending.removeAll(keepingCapacity: true)
        if line.count > RunLogSchema.maxLineBytes {
          skip("longer than \(RunLogSchema.maxLineBytes / 1024 / 1024) MiB")
        } else {
          line.withUnsafeBufferPointer { decodeLine($0, isLast: false, handle) }
        }
      }
      start = newline + 1
    }
  }

  /// The stream has ended: reads a last line that has no newline. A last line that is not a whole
  /// event is a torn write (the writer was killed mid-line): it is dropped and `tornLastLine` set.
  public mutating func finish() -> [RunEvent] {
    var events: [RunEvent] = []
    if discardingLongLine {
      discardingLongLine = false
      lineCount += 1
      skip("longer than \(RunLogSchema.maxLineBytes / 1024 / 1024) MiB (and unfinished)")
    } else if !pending.isEmpty {
      lineCount += 1
      let line = pending
      pending.removeAll()
      line.withUnsafeBufferPointer { decodeLine($0, isLast: true) { events.append($0) } }
    }
    return events
  }

  /// Whether the decoder is skipping the rest of an over-long line.
  var isDiscarding: Bool { discardingLongLine }

  /// Bytes of an unfinished last line waiting for its newline.
  public var pendingByteCount: Int { pending.count }

  /// A one-line summary of what was skipped, or nil when nothing was, e.g.
  /// `skipped 3 lines (line 4: not JSON; line 9: missing field "loss"; …)`.
  public var skippedSummary: String? {
    var parts: [String] = []
    if skippedCount > 0 {
      let first = skipped.prefix(3).map(\.description).joined(separator: "; ")
      let more = skippedCount > 3 ? "; …" : ""
      parts.append("skipped \(skippedCount) line\(skippedCount == 1 ? "" : "s") (\(first)\(more))")
    }
    let unknown = unknownTypes.values.reduce(0, +)
    if unknown > 0 {
      let names = unknownTypes.keys.sorted().prefix(3).joined(separator: ", ")
      parts.append("ignored \(unknown) event\(unknown == 1 ? "" : "s") of unknown type (\(names))")
    }
    if tornLastLine { parts.append("the last line is incomplete (torn write) and was ignored") }
    return parts.isEmpty ? nil : parts.joined(separator: "; ")
  }

  private mutating func skip(_ reason: String) {
    skippedCount += 1
    if skipped.count < keptSkips { skipped.append(SkippedLine(line: lineCount, reason: reason)) }
  }

  private mutating func decodeLine(
    _ full: UnsafeBufferPointer<UInt8>, isLast: Bool, _ handle: (RunEvent) -> Void
  ) {
    var line = full
    // A byte-order mark some editors put at the start of a file.
    if lineCount == 1, !isContinuation, line.count >= 3, line[0] == 0xEF, line[1] == 0xBB,
      line[2] == 0xBF
    {
      line = UnsafeBufferPointer(rebasing: line[3...])
    }
    // Tolerate CRLF and surrounding white space.
    while let last = line.last, last == 0x0D || last == 0x20 || last == 0x09 {
      line = UnsafeBufferPointer(rebasing: line[..<(line.count - 1)])
    }
    var first = 0
    while first < line.count, line[first] == 0x20 || line[first] == 0x09 { first += 1 }
    if first == line.count { return }  // blank line
    if first > 0 { line = UnsafeBufferPointer(rebasing: line[first...]) }

    if let step = FastStep.decode(line) {
      accept(.step(step), handle)
      return
    }
    let json: JSONValue
    do {
      json = try JSONText.parse(line)
    } catch {
      if isLast {
        tornLastLine = true
      } else {
        skip(line.first == UInt8(ascii: "{") ? "not JSON (\(error))" : "not JSON")
      }
      return
    }
    do {
      guard let event = try RunEvent(json: json) else {
        let type = json["type"]?.stringValue ?? "?"
        unknownTypes[String(type.prefix(40)), default: 0] += 1
        return
      }
      accept(event, handle)
    } catch {
      skip(error.message)
    }
  }

  static func newerSchemaWarning(_ version: Int) -> String {
    "schema version \(version) is newer than this cptui reads (\(RunLogSchema.version)); "
      + "reading what it understands"
  }

  static let noHeaderWarning = "the log does not start with a header"

  private mutating func accept(_ event: RunEvent, _ handle: (RunEvent) -> Void) {
    eventCount += 1
    if isContinuation {
      // Header and "no header" are the first decoder's business.
    } else if !sawHeader, case .header(let found) = event {
      sawHeader = true
      header = found
      if found.schemaVersion > RunLogSchema.version {
        warnings.append(Self.newerSchemaWarning(found.schemaVersion))
      }
    } else if eventCount == 1 {
      warnings.append(Self.noHeaderWarning)
    }
    handle(event)
  }

  private static func indexOfNewline(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
    guard start < bytes.count, let base = bytes.baseAddress else { return nil }
    guard let found = memchr(base + start, 0x0A, bytes.count - start) else { return nil }
    return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
  }
}

/// A whole run log, read as far as it is valid.
public struct RunLogContents: Sendable {
  /// Every event in file order (the header included).
  public var events: [RunEvent]
  public var header: RunHeader?
  /// The first skipped lines with reasons (up to 100).
  public var skipped: [SkippedLine]
  public var skippedCount: Int
  public var unknownTypes: [String: Int]
  public var tornLastLine: Bool
  public var lineCount: Int
  public var warnings: [String]
  /// One line about what was skipped, or nil when the log was clean.
  public var skippedSummary: String?

  /// What a reader should tell the user about this log: the decoder's warnings (no header, a
  /// newer schema), then what was skipped.
  public var notices: [String] { warnings + (skippedSummary.map { [$0] } ?? []) }

  /// The run a reader measures: the events from the log's last header on (a file holding several
  /// runs, as when a script appended a new run to an old log, is read as `follow` reads it: each
  /// header starts over), resumes applied, events out of order dropped; its header; and what to
  /// tell the user about it besides `notices`.
  public var lastRun: (events: [RunEvent], header: RunHeader?, notices: [String]) {
    var out: [String] = []
    let (events, lastHeader, runs) = lastRunAsWritten
    if runs > 1 {
      out.append("holds \(runs) runs (a header line starts each); only the last one is read")
    }
    let ordered = RunLogReader.inOrder(RunLogReader.applyingResumes(events))
    if let notice = ordered.notice { out.append(notice) }
    return (ordered.events, lastHeader, out)
  }

  /// The events from the log's last header on, as written (no resumes applied), that header, and
  /// how many runs (headers) the file holds.
  public var lastRunAsWritten: (events: [RunEvent], header: RunHeader?, runs: Int) {
    let headers = events.indices.filter { if case .header = events[$0] { true } else { false } }
    guard headers.count > 1, let last = headers.last, case .header(let h) = events[last] else {
      return (events, header, headers.count)
    }
    return (Array(events[last...]), h, headers.count)
  }
}

/// Reads run logs from files.
public enum RunLogReader {
  /// Reads a whole log. Throws a one-line error for a missing, empty or non-log file; otherwise
  /// returns what could be read, with notes on what could not.
  public static func read(path: String) throws(RunLogReadError) -> RunLogContents {
    try read(path: path, keeping: nil)
  }

  /// Reads a whole log, keeping only the events `keep` accepts (memory stays in proportion to
  /// them, whatever the file's size: a 5 GB log streams through a 4 MB buffer).
  public static func read(path: String, keeping keep: ((RunEvent) -> Bool)?)
    throws(RunLogReadError) -> RunLogContents
  {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw RunLogReadError(path: path, message: "no such file")
    }
    if isDirectory.boolValue { throw RunLogReadError(path: path, message: "is a folder") }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw RunLogReadError(path: path, message: String(cString: strerror(errno)))
    }
    defer { close(descriptor) }
    var decoder = RunLogDecoder()
    var events: [RunEvent] = []
    var info = stat()
    if keep == nil, fstat(descriptor, &info) == 0 {
      // About 150 bytes per line: grow the array a few times at most.
      events.reserveCapacity(min(Int(info.st_size) / 150 + 16, 1 << 24))
    }
    let chunkSize = 1 << 22
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let got = systemRead(descriptor, buffer.baseAddress!, chunkSize)
      if got < 0 {
        if errno == EINTR { continue }
        throw RunLogReadError(path: path, message: String(cString: strerror(errno)))
      }
      if got == 0 { break }
      let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<got])
      if !decodeInTwo(chunk, decoder: &decoder, events: &events, keeping: keep) {
        decoder.feed(chunk) { if keep?($0) ?? true { events.append($0) } }
      }
      if decoder.eventCount == 0, decoder.skippedCount >= 20 { break }
    }
    events.append(contentsOf: decoder.finish().filter { keep?($0) ?? true })
    return try contents(of: decoder, events: events, path: path)
  }

  /// Decodes a large chunk on two threads: the line left unfinished by the last chunk first, then
  /// the bytes up to a newline near the middle with `decoder`, the whole lines after it with a
  /// continuation decoder, the rest (an unfinished line) with `decoder` again. Returns false,
  /// doing nothing, when the chunk is small or has too few newlines to split at.
  static func decodeInTwo(
    _ whole: UnsafeRawBufferPointer, decoder: inout RunLogDecoder, events: inout [RunEvent],
    keeping keep: ((RunEvent) -> Bool)? = nil
  ) -> Bool {
    guard whole.count >= 1 << 20, let wholeBase = whole.baseAddress,
      let firstNewline = memchr(wholeBase, 0x0A, whole.count)
    else { return false }
    var chunk = whole
    if decoder.pendingByteCount > 0 || decoder.isDiscarding {
      let n = wholeBase.distance(to: UnsafeRawPointer(firstNewline)) + 1
      decoder.feed(UnsafeRawBufferPointer(rebasing: whole[0..<n])) {
        if keep?($0) ?? true { events.append($0) }
      }
      chunk = UnsafeRawBufferPointer(rebasing: whole[n...])
    }
    guard chunk.count >= 1 << 19, let base = chunk.baseAddress else {
      decoder.feed(chunk) { if keep?($0) ?? true { events.append($0) } }
      return true
    }
    let bytes = base.assumingMemoryBound(to: UInt8.self)
    let half = chunk.count / 2
    var last = chunk.count - 1
    while last >= 0 && bytes[last] != 0x0A { last -= 1 }
    guard let mid = memchr(bytes + half, 0x0A, chunk.count - half),
      bytes.distance(to: mid.assumingMemoryBound(to: UInt8.self)) < last
    else {
      decoder.feed(chunk) { if keep?($0) ?? true { events.append($0) } }
      return true
    }
    let split = bytes.distance(to: mid.assumingMemoryBound(to: UInt8.self)) + 1
    let end = last + 1
    var later = decoder.continuation()
    let first = UnsafeRawBufferPointer(rebasing: chunk[0..<split])
    let second = UnsafeRawBufferPointer(rebasing: chunk[split..<end])
    let parts = UnsafeMutablePointer<[RunEvent]>.allocate(capacity: 2)
    parts.initialize(repeating: [], count: 2)
    // About 150 bytes per line: no regrowing while decoding.
    parts[0].reserveCapacity(split / 150 + 16)
    parts[1].reserveCapacity((end - split) / 150 + 16)
    defer { parts.deinitialize(count: 2).deallocate() }
    withUnsafeMutablePointer(to: &decoder) { main in
      withUnsafeMutablePointer(to: &later) { other in
        nonisolated(unsafe) let (main, other, parts) = (main, other, parts)
        nonisolated(unsafe) let (first, second) = (first, second)
        // `keep` is a pure filter (it may run on both threads at once).
        nonisolated(unsafe) let keep = keep
        DispatchQueue.concurrentPerform(iterations: 2) { i in
          if i == 0 {
            main.pointee.feed(first) { if keep?($0) ?? true { parts[0].append($0) } }
          } else {
            other.pointee.feed(second) { if keep?($0) ?? true { parts[1].append($0) } }
          }
        }
      }
    }
    decoder.absorb(later)
    events.append(contentsOf: parts[0])
    events.append(contentsOf: parts[1])
    if end < chunk.count {
      decoder.feed(UnsafeRawBufferPointer(rebasing: chunk[end...])) {
        if keep?($0) ?? true { events.append($0) }
      }
    }
    return true
  }

  /// Why the file at `path` is not a run log, judged from its first megabyte (a header line is
  /// far shorter), or nil when it reads as one. A cheap check for logs found in a folder.
  public static func problem(path: String) -> RunLogReadError? {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      return RunLogReadError(path: path, message: "cannot be opened")
    }
    defer { try? handle.close() }
    let prefix = (try? handle.read(upToCount: 1 << 20)) ?? Data()
    do {
      _ = try read(bytes: [UInt8](prefix), path: path)
      return nil
    } catch {
      return error
    }
  }

  /// Reads a whole log held in memory (`path` only names it in errors).
  public static func read(bytes: [UInt8], path: String = "log") throws(RunLogReadError)
    -> RunLogContents
  {
    var decoder = RunLogDecoder()
    var events = decoder.feed(bytes)
    events.append(contentsOf: decoder.finish())
    return try contents(of: decoder, events: events, path: path)
  }

  private static func contents(of decoder: RunLogDecoder, events: [RunEvent], path: String)
    throws(RunLogReadError) -> RunLogContents
  {
    if decoder.byteCount == 0 || (decoder.lineCount == 0 && !decoder.tornLastLine) {
      throw RunLogReadError(path: path, message: "empty file, not a run log")
    }
    if events.isEmpty {
      if let first = decoder.skipped.first {
        throw RunLogReadError(path: path, message: "not a cptui run log (\(first))")
      }
      if !decoder.unknownTypes.isEmpty {
        let names = decoder.unknownTypes.keys.sorted().prefix(3).joined(separator: ", ")
        throw RunLogReadError(
          path: path, message: "not a cptui run log (only unknown event types: \(names))")
      }
      if decoder.tornLastLine {
        throw RunLogReadError(path: path, message: "not a cptui run log (one unfinished line)")
      }
      throw RunLogReadError(path: path, message: "no events, not a run log")
    }
    return RunLogContents(
      events: events, header: decoder.header, skipped: decoder.skipped,
      skippedCount: decoder.skippedCount, unknownTypes: decoder.unknownTypes,
      tornLastLine: decoder.tornLastLine, lineCount: decoder.lineCount,
      warnings: decoder.warnings, skippedSummary: decoder.skippedSummary)
  }

  /// Drops step and evaluation events that go back in time (a step not after the last step kept,
  /// an evaluation before the last one kept: repeated or out-of-order lines, e.g. from two
  /// writers or a concatenated file) so that every curve's x only grows. Returns what is kept
  /// and, when something was dropped, a notice such as
  /// "ignored 3 events out of order or repeated (step 40, step 41, eval 40)".
  public static func inOrder(_ events: [RunEvent]) -> (events: [RunEvent], notice: String?) {
    guard !isInOrder(events) else { return (events, nil) }
    var order = EventOrder()
    let kept = events.filter { order.admit($0) }
    return (kept, order.notice)
  }

  /// Whether `inOrder` would keep every event (checked without copying).
  static func isInOrder(_ events: [RunEvent]) -> Bool {
    var order = EventOrder()
    for event in events where !order.admit(event) { return false }
    return true
  }

  /// Drops the events a `resume` supersedes: those logged before it with a step greater than the
  /// step the run resumed from (the abandoned attempt's tail), and stage starts at that step (the
  /// resumed run starts such a stage again). Events without a step are kept.
  ///
  /// Also dropped: the evaluation a stop made at the resume step when no schedule asked for it
  /// (the step is neither a multiple of the header config's `evaluation.every` nor a stage's end).
  /// An uninterrupted run has no such evaluation, and the final losses average the last few, so
  /// keeping it would make a run's numbers depend on whether it was interrupted.
  public static func applyingResumes(_ events: [RunEvent]) -> [RunEvent] {
    guard events.contains(where: { if case .resume = $0 { return true } else { return false } })
    else { return events }
    var evaluationEvery: Int?
    var kept: [RunEvent] = []
    kept.reserveCapacity(events.count)
    // A resume from a checkpoint of before 27 Nov (no saved time) restarted the clock at 0: its
    // events' times go on from the last kept one instead, so that time never runs backwards.
    // Such a resume has no time (logged before 27 Nov) or one near 0 (logged since).
    var offset = 0.0
    var pendingOffset: Double?
    for var event in events {
      if let pending = pendingOffset, let time = event.time {
        offset = time < pending - 1 ? pending : 0
        pendingOffset = nil
      }
      if offset > 0 { event = event.shiftingTime(by: offset) }
      if case .header(let header) = event, evaluationEvery == nil {
        evaluationEvery = header.config?["evaluation"]?["every"]?.intValue
      }
      if case .resume(let resume) = event {
        let stageEndsAtResume =
          resume.stageEnded
          ?? kept.contains {
            if case .stageEnd(let end) = $0 { return end.step == resume.step } else { return false }
          }
        let scheduled =
          stageEndsAtResume || resume.step == 0
          || evaluationEvery.map { $0 > 0 && resume.step % $0 == 0 } ?? true
        kept.removeAll { earlier in
          if case .header = earlier { return false }
          // The run did not end there after all: it goes on from the resume.
          if case .runEnd = earlier { return true }
          if case .stageEnd(let end) = earlier, end.reason == .stopped { return true }
          // A checkpoint inside its stage: the resumed run ends that stage itself (an end
          // logged after a periodic checkpoint at the stage's last step is redone).
          if case .stageEnd(let end) = earlier, end.step == resume.step,
            resume.stageEnded == false
          {
            return true
          }
          // A stage that starts exactly at the resume step is begun again by the resumed run.
          if case .stageStart(let start) = earlier { return start.startStep >= resume.step }
          if case .eval(let eval) = earlier, eval.step == resume.step { return !scheduled }
          guard let step = earlier.step else { return false }
          return step > resume.step
        }
        offset = 0
        pendingOffset = kept.last(where: { $0.time != nil })?.time
        // A second of slack: a carried-on clock starts at the checkpoint's saved time, a few
        // milliseconds before its logged event.
        if let pending = pendingOffset, let time = resume.time {
          offset = time < pending - 1 ? pending : 0
          pendingOffset = nil
          if offset > 0 { event = event.shiftingTime(by: offset) }
        }
      }
      kept.append(event)
    }
    return kept
  }
}

/// Reads a log that another process is still writing (`cptui follow`): each `poll()` returns the
/// events of the lines completed since the last one. Works on a growing file and on a pipe
/// (standard input); never blocks.
public final class RunLogFollower {
  public let path: String
  public private(set) var decoder = RunLogDecoder()
  /// True once a pipe has been closed by its writer (a file never ends: it may grow).
  public private(set) var endOfStream = false
  /// True when the file shrank (it was replaced or truncated); reading restarted from its start.
  public private(set) var restarted = false
  private var descriptor: Int32
  private let ownsDescriptor: Bool
  private let isRegularFile: Bool
  private var offset = 0
  private var buffer = [UInt8](repeating: 0, count: 1 << 16)

  /// Follows a file (it may still be empty).
  public init(path: String) throws(RunLogReadError) {
    self.path = path
    descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw RunLogReadError(path: path, message: String(cString: strerror(errno)))
    }
    ownsDescriptor = true
    var info = stat()
    fstat(descriptor, &info)
    isRegularFile = (info.st_mode & S_IFMT) == S_IFREG
    if (info.st_mode & S_IFMT) == S_IFDIR {
      close(descriptor)
      throw RunLogReadError(path: path, message: "is a folder")
    }
  }

  /// Follows an open descriptor, e.g. 0 for standard input (not closed by the follower).
  public init(fileDescriptor: Int32, name: String = "-") {
    path = name
    descriptor = fileDescriptor
    ownsDescriptor = false
    var info = stat()
    fstat(fileDescriptor, &info)
    isRegularFile = (info.st_mode & S_IFMT) == S_IFREG
  }

  deinit {
    if ownsDescriptor { close(descriptor) }
  }

  /// Reads whatever has arrived and returns the events of newly completed lines.
  public func poll() throws(RunLogReadError) -> [RunEvent] {
    var events: [RunEvent] = []
    if isRegularFile {
      var info = stat()
      if fstat(descriptor, &info) == 0, Int(info.st_size) < offset {
        lseek(descriptor, 0, SEEK_SET)
        offset = 0
        decoder = RunLogDecoder()
        restarted = true
      }
    }
    while !endOfStream {
      if !isRegularFile {
        if !systemReadable(descriptor) { break }
      }
      let got = buffer.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress!, $0.count) }
      if got < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN { break }
        throw RunLogReadError(path: path, message: String(cString: strerror(errno)))
      }
      if got == 0 {
        if !isRegularFile {
          endOfStream = true
          events.append(contentsOf: decoder.finish())
        }
        break
      }
      offset += got
      buffer.withUnsafeBytes { raw in
        decoder.feed(UnsafeRawBufferPointer(rebasing: raw[0..<got])) { events.append($0) }
      }
    }
    return events
  }

  /// Treats what is left as the end of the log (a last line without a newline is read if whole).
  public func finish() -> [RunEvent] {
    decoder.finish()
  }
}
