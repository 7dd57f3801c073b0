import ArgumentParser
import Experiment
import Foundation
import RunLog

/// `cptui sweep`: every combination of a grid of config overrides, one log each, then the table.
struct SweepCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sweep",
    abstract: "Run a grid of config overrides and print the comparison table.",
    discussion: """
      Each --grid KEY=V1,V2,… multiplies the runs (e.g. --grid stage2.replay=0,5,25 --grid seed=1,2,3).
      Logs go to --out (default runs/sweep-NAME/), one per combination, named by its settings; a
      combination whose log already completed is skipped, one that was interrupted is resumed from
      its last checkpoint. --union CONFIG adds a union baseline run. The table is printed at the end
      and written to OUT/summary.csv.
      """)

  @Argument(help: "A config file or a preset name.") var config: String
  @Option(help: "A grid axis, KEY=V1,V2,… (repeatable).") var grid: [String] = []
  @Option(
    name: .customLong("set"), parsing: .singleValue,
    help: ArgumentHelp("Override a key in every run.", valueName: "key=value"))
  var overrides: [String] = []
  @Option(help: "A union-baseline config or preset to run once alongside.") var union: String?
  @Option(
    name: .customLong("union-set"), parsing: .singleValue,
    help: ArgumentHelp("Override a key of the union run only.", valueName: "key=value"))
  var unionOverrides: [String] = []
  @Option(help: "Folder for the logs (default: runs/sweep-NAME).") var out: String?
  @Option(help: "Engine threads (default: all cores).") var threads: Int?
  @Option(help: "Evaluations averaged for final losses.") var average = 3
  @Flag(help: "No progress lines.") var quiet = false

  struct Axis {
    var key: String
    var values: [String]
  }

  func axes() throws -> [Axis] {
    try grid.map { item in
      guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
        throw ValidationError("--grid \(item): expected KEY=V1,V2,…")
      }
      let values = item[item.index(after: eq)...].split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard !values.isEmpty, !values.contains(where: \.isEmpty) else {
        throw ValidationError("--grid \(item): give at least one value, separated by commas")
      }
      return Axis(key: String(item[..<eq]), values: values)
    }
  }

  func validate() throws {
    _ = try axes()
    if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
  }

  /// Every combination as a list of `key=value` overrides, first axis slowest.
  static func combinations(_ axes: [Axis]) -> [[String]] {
    axes.reduce([[]]) { partial, axis in
      partial.flatMap { prefix in axis.values.map { prefix + ["\(axis.key)=\($0)"] } }
    }
  }

  func run() throws {
    let threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
    let base = try RunSupport.loadConfig(config, overrides: overrides)
    let folder = out ?? "runs/sweep-\(base.name)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var jobs: [(name: String, config: ExperimentConfig)] = []
    for combo in Self.combinations(try axes()) {
      let config = try RunSupport.loadConfig(self.config, overrides: overrides + combo)
      let suffix = combo.map { Self.fileSafe($0) }.joined(separator: "__")
      jobs.append((suffix.isEmpty ? base.name : "\(base.name)__\(suffix)", config))
    }
    if let union {
      let config = try RunSupport.loadConfig(union, overrides: unionOverrides)
      jobs.append(
        (config.name.lowercased().hasPrefix("union") ? config.name : "union-\(config.name)", config)
      )
    }
    var paths: [String] = []
    var unionPaths: Set<String> = []
    for (index, job) in jobs.enumerated() {
      let path = (folder as NSString).appendingPathComponent(job.name + ".jsonl")
      paths.append(path)
      if union != nil && index == jobs.count - 1 { unionPaths.insert(path) }
      let state = Self.logState(path)
      if state == .completed {
        if !quiet { printError("[\(index + 1)/\(jobs.count)] \(job.name): done, skipped") }
        continue
      }
      if !quiet { printError("[\(index + 1)/\(jobs.count)] \(job.name)") }
      let session: (ExperimentConfig, RunRecorder, String?)
      if state == .resumable {
        session = try RunCommand.openForResume(path)
      } else {
        let recorder: RunRecorder
        do {
          recorder = try RunRecorder(path: path, mode: .replace)
        } catch {
          throw CLIError("\(error)")
        }
        session = (job.config, recorder, nil)
      }
      defer { session.1.close() }
      let status = try HeadlessRun.execute(
        config: session.0, recorder: session.1, checkpoint: session.2, threads: threads,
        progress: ProgressLine(enabled: !quiet))
      if status == .stopped { throw CLIError("sweep stopped; run the same command to continue") }
    }
    let comparison: Comparison
    do {
      comparison = try Comparison.load(paths: paths, unionPaths: unionPaths, averaging: average)
    } catch {
      throw CLIError("\(error)")
    }
    let table = ComparisonTable(comparison, sortedBy: nil)
    print(table.text, terminator: "")
    let csvPath = (folder as NSString).appendingPathComponent("summary.csv")
    try? table.csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
    if !quiet { printError("cptui: logs and summary.csv in \(folder)") }
  }

  enum LogState { case missing, completed, resumable, broken }

  static func logState(_ path: String) -> LogState {
    guard FileManager.default.fileExists(atPath: path) else { return .missing }
    guard let contents = try? RunLogReader.read(path: path) else { return .broken }
    let events = RunLogReader.applyingResumes(contents.events)
    if events.contains(where: {
      if case .runEnd(let e) = $0 { return e.status == .completed } else { return false }
    }) {
      return .completed
    }
    let folder = RunSupport.checkpointDirectory(forLog: path)
    let hasCheckpoint = events.contains {
      guard case .checkpoint(let c) = $0 else { return false }
      let beside = folder + "/" + URL(fileURLWithPath: c.path).lastPathComponent
      return FileManager.default.fileExists(atPath: c.path)
        || FileManager.default.fileExists(atPath: beside)
    }
    return hasCheckpoint ? .resumable : .broken
  }

  static func fileSafe(_ text: String) -> String {
    String(text.map { $0.isLetter || $0.isNumber || "=.-_".contains($0) ? $0 : "_" })
  }
}
