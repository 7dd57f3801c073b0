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
      Each --grid KEY=V1,V2,… multiplies the runs (e.g. --grid stage2.replay=0,5,25 --grid seed=1,2,3). \
      Logs go to --out (default runs/sweep-NAME/), one per combination, named by its settings; a \
      combination whose log already completed is skipped, one that was interrupted is resumed from \
      its last checkpoint; a log made with another config is refused. --union CONFIG adds a union \
      baseline run (once: a --grid seed axis does not repeat it; --union-set sets its own keys). \
      The table is printed at the end and written to OUT/summary.csv. Ctrl-C (or SIGTERM) stops \
      the run in progress at its next step with a checkpoint, prints the table of the runs so far \
      and exits with 128 + the signal; the same command continues.

      CONFIG may also be a sweep file (presets/sweeps/NAME.yaml, or just NAME): its preset, set, \
      seeds, grid, union and out are the defaults that the options above extend (--set and \
      --union-set apply after the file's; a --grid axis replaces the file's axis of the same key). \
      With seeds: the union baseline runs once per seed. See docs/config.md.
      """)

  @Argument(help: "A config file, a preset name, or a sweep file (or its name).") var config: String
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
  @Option(
    help:
      "Engine threads, 1–64 (default: all cores; an interrupted run goes on with the count it had)."
  )
  var threads: Int?
  @Option(
    help: "Evaluations averaged for final losses (default: the run config's evaluation.average, 3)."
  )
  var average: Int?
  @Flag(help: "No progress lines.") var quiet = false

  typealias Axis = SweepFile.Axis

  func axes() throws -> [Axis] {
    var seen: [String: String] = [:]
    return try grid.map { item in
      guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
        throw ValidationError("--grid \(item): expected KEY=V1,V2,…")
      }
      let values = item[item.index(after: eq)...].split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard !values.isEmpty, !values.contains(where: \.isEmpty) else {
        throw ValidationError("--grid \(item): give at least one value, separated by commas")
      }
      if let twice = values.first(where: { v in values.filter { $0 == v }.count > 1 }) {
        throw ValidationError("--grid \(item): \(twice) is given twice (each value runs once)")
      }
      let key = String(item[..<eq])
      // Two axes of one key would run the same config twice under two labels.
      if let earlier = seen[SweepFile.canonicalKey(key)] {
        throw ValidationError(
          "--grid \(item): --grid \(earlier) is the same key; give its values in one --grid")
      }
      seen[SweepFile.canonicalKey(key)] = item
      return Axis(key: key, choices: values.map { ["\(key)=\($0)"] })
    }
  }

  func validate() throws {
    _ = try axes()
    try RunSupport.checkThreads(threads)
    if let average, average < 1 {
      throw ValidationError("--average must be 1 or more, got \(average)")
    }
  }

  /// The config of one grid combination. A value the config refuses is named where it was given:
  /// `--grid KEY=VALUE`, or the sweep file's line (not as a `--set` the user never typed).
  static func loadCombination(_ plan: Plan, _ combo: [String], threads: Int = 1) throws
    -> ExperimentConfig
  {
    try load(
      plan.config, overrides: plan.overrides + combo, plan: plan, combo: combo, role: "preset",
      threads: threads)
  }

  /// Loads `config` (the plan's experiment, role "preset", or its union baseline, "union") with
  /// `overrides`; errors name the sweep file's line for what the file gave (its `set`, `union.set`,
  /// `preset`, `union`), the grid for `combo`'s values, `--union-set` for the union's others.
  static func load(
    _ config: String, overrides: [String], plan: Plan, combo: [String] = [], role: String,
    threads: Int = 1
  ) throws -> ExperimentConfig {
    do {
      return try Presets.resolve(
        config, loader: RunSupport.loader(threads: threads), overrides: overrides)
    } catch var error as ConfigError {
      if let entry = error.override, combo.contains(entry) {
        let axis = plan.axes.first { $0.choices.contains { $0.contains(entry) } }
        error.overrideOrigin = axis?.place.map { "\($0): grid value" } ?? "--grid"
      } else if let entry = error.override {
        let list = role == "union" ? "union.set" : "set"
        error.overrideOrigin =
          plan.filePlaces[SweepFile.placeKey(list, entry)]
          ?? (role == "union" ? "--union-set" : nil)
      }
      throw CLIError(describing: error)
    } catch {
      // A preset the file names that does not exist: say where the file names it.
      if error is Presets.NotFound, let place = plan.filePlaces[role] {
        throw CLIError("\(place): \(error)")
      }
      throw CLIError(describing: error)
    }
  }

  /// The sweep as run: this command's options on top of a sweep file's, if CONFIG is one.
  struct Plan {
    var config: String
    var overrides: [String]
    var axes: [Axis]
    var union: String?
    var unionOverrides: [String]
    var unionPerSeed = false
    var out: String?
    /// Where a sweep file gave its overrides, `preset` and `union` (`SweepFile.places`), for
    /// what the command line did not replace.
    var filePlaces: [String: String] = [:]
  }

  func plan() throws -> Plan {
    let file: SweepFile?
    do {
      file = try SweepFile.locate(config)
    } catch {
      throw CLIError(describing: error)
    }
    guard let file else {
      // A bare name that is neither a preset nor a sweep file: say which of both there are.
      if !config.contains("/") && !config.hasSuffix(".yaml") && !config.hasSuffix(".yml"),
        !FileManager.default.fileExists(atPath: config),
        (try? Presets.url(named: config)) == nil
      {
        let sweeps = Presets.names(
          in: Presets.searchFolders().map { $0.appendingPathComponent("sweeps") })
        throw CLIError(
          "no preset or sweep file named \"\(config)\" (presets: "
            + Presets.names().joined(separator: ", ") + "; sweep files: "
            + (sweeps.isEmpty ? "none" : sweeps.joined(separator: ", ")) + ")")
      }
      return Plan(
        config: config, overrides: overrides, axes: try axes(), union: union,
        unionOverrides: unionOverrides, out: out)
    }
    var merged = file.axes
    for axis in try axes() {
      if let i = merged.firstIndex(where: {
        SweepFile.canonicalKey($0.key) == SweepFile.canonicalKey(axis.key)
      }) {
        merged[i] = axis
      } else {
        merged.append(axis)
      }
    }
    var places = file.places
    // What the command line gives is named as the command line's.
    for entry in overrides { places[SweepFile.placeKey("set", entry)] = nil }
    for entry in unionOverrides { places[SweepFile.placeKey("union.set", entry)] = nil }
    if union != nil { places["union"] = nil }
    return Plan(
      config: file.preset, overrides: file.overrides + overrides, axes: merged,
      union: union ?? file.union, unionOverrides: file.unionOverrides + unionOverrides,
      unionPerSeed: file.unionPerSeed && merged.contains { $0.key == "seed" },
      out: out ?? file.out ?? "runs/sweep-\(file.name)", filePlaces: places)
  }

  func run() throws {
    _ = StopSignals.shared  // from here on Ctrl-C stops, and never leaves a half-made file
    let threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
    let plan = try plan()
    let base = try Self.load(
      plan.config, overrides: plan.overrides, plan: plan, role: "preset", threads: threads)
    let folder = plan.out ?? "runs/sweep-\(base.name)"
    var jobs: [(name: String, config: ExperimentConfig, isUnion: Bool)] = []
    var combos: [[String]] = []
    for combo in SweepFile.combinations(plan.axes) {
      let config = try Self.loadCombination(plan, combo, threads: threads)
      let suffix = combo.map { Self.fileSafe($0) }.joined(separator: "__")
      jobs.append((suffix.isEmpty ? base.name : "\(base.name)__\(suffix)", config, false))
      combos.append(combo)
    }
    try Self.checkCombinationsDiffer(jobs.map { ($0.name, $0.config) }, combos: combos)
    if let union = plan.union {
      // One union run, or one per seed (named …__seed=N) when the sweep file has seeds:.
      let seeds = plan.unionPerSeed ? plan.axes.first { $0.key == "seed" }?.choices ?? [] : []
      for seed in seeds.isEmpty ? [[]] : seeds {
        let config = try Self.load(
          union, overrides: plan.unionOverrides + seed, plan: plan, role: "union",
          threads: threads)
        let name =
          config.name.lowercased().hasPrefix("union") ? config.name : "union-\(config.name)"
        let suffix = seed.map { Self.fileSafe($0) }.joined(separator: "__")
        jobs.append((suffix.isEmpty ? name : "\(name)__\(suffix)", config, true))
      }
    }
    // One union run for runs of several seeds (--grid seed=…): the other seeds' Δunion holds the
    // union's own seed noise. Said, with the way to a union per seed.
    if plan.union != nil, !plan.unionPerSeed,
      let seeds = plan.axes.first(where: { $0.key == "seed" }), seeds.choices.count > 1
    {
      printError(
        "cptui: note: one union baseline for runs of \(seeds.choices.count) seeds: each run is "
          + "measured against it, so Δunion holds the union's own seed noise (a sweep file's "
          + "`seeds:` runs the union once per seed)")
    }
    // Δunion compares like with like only when the union trains as many tokens as the runs.
    if let run = jobs.first(where: { !$0.isUnion })?.config,
      let union = jobs.first(where: \.isUnion)?.config,
      Comparison.unequalBudgets(run.totalTokens, union.totalTokens)
    {
      printError(
        "cptui: note: the union baseline trains \(union.totalTokens) tokens, the runs "
          + "\(run.totalTokens): Δunion compares unequal budgets (--union-set gives the union "
          + "its length, e.g. --union-set stages.1.tokens=\(run.totalTokens))")
    }
    // … and only when it is measured as they are: --set applies to the runs, not to the union.
    if let run = jobs.first(where: { !$0.isUnion })?.config,
      let union = jobs.first(where: \.isUnion)?.config,
      let mine = Comparison.measurement(run.resolvedJSON),
      let theirs = Comparison.measurement(union.resolvedJSON)
    {
      let keys = [
        "tokenizer": "tokenizer", "context": "model.context",
        "validation windows": "evaluation.windows", "validation sampling": "evaluation.sample",
      ]
      for (a, b) in zip(mine, theirs) where a.value != b.value {
        let value = a.value.map { $0.stringValue ?? JSONText.encode($0) } ?? "?"
        printError(
          "cptui: note: the union baseline differs from the runs in \(a.name), so it will give "
            + "them no Δunion; measure it as they are with --union-set "
            + "\(keys[a.name] ?? a.name)=\(value)")
      }
    }
    // Made once every run's config loaded: a sweep refused for a bad value leaves no empty folder.
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw CLIError("--out \(folder): cannot create the folder: \(FileErrorText.describe(error))")
    }
    var paths: [String] = []
    var unionPaths: Set<String> = []
    /// A stopped sweep prints the table of the runs it has so far (no summary.csv: that is the
    /// whole sweep's), then exits with 128 + the signal.
    let jobCount = jobs.count
    @Sendable func printStopped(paths: [String], unionPaths: Set<String>) {
      let logs = paths.filter { FileManager.default.fileExists(atPath: $0) }
      let done = logs.filter { [.completed, .diverged].contains(Self.logState($0).0) }.count
      if !logs.isEmpty,
        let comparison = try? Comparison.load(
          paths: logs, unionPaths: unionPaths, averaging: average),
        comparison.rows.contains(where: { $0.summary.average != nil })
      {
        print(CompareReport(comparison, sortedBy: nil).text, terminator: "")
      }
      printError(
        "cptui: sweep stopped with \(done) of \(jobCount) runs done; run the same command to "
          + "continue")
    }
    func stopped(_ signal: Int32) -> ExitCode {
      printStopped(paths: paths, unionPaths: unionPaths)
      return ExitCode(128 + signal)
    }
    for (index, job) in jobs.enumerated() {
      // A stop that came between runs (or as the last one finished) ends the sweep here.
      if let signal = StopSignals.shared.received { throw stopped(signal) }
      let path = (folder as NSString).appendingPathComponent(job.name + ".jsonl")
      paths.append(path)
      if job.isUnion { unionPaths.insert(path) }
      let (state, header) = Self.logState(path)
      if state != .missing && RunLogWriter.isBeingWritten(path: path) {
        throw CLIError(
          "\(path): another cptui process is writing this log (the same sweep still running?); "
            + "wait for it, or give this sweep another --out folder")
      }
      if state == .notALog {
        throw CLIError(
          "\(path): not a run log, and the sweep would write this combination's log there; "
            + "move it away, or give the sweep another --out folder")
      }
      if state != .missing,
        let difference = Self.configDifference(logged: header?.config, job: job.config, log: path)
      {
        // Skipping or resuming it would report another experiment under this sweep's name.
        throw CLIError(
          "\(path): this log was made with another config than the sweep's (\(difference)); "
            + "move it away, or give the sweep another --out folder")
      }
      if state == .completed || state == .diverged {
        let done = state == .completed ? "done" : "diverged (NaN loss): a result, not resumed"
        if !quiet { printError("[\(index + 1)/\(jobs.count)] \(job.name): \(done), skipped") }
        continue
      }
      if !quiet { printError("[\(index + 1)/\(jobs.count)] \(job.name)") }
      try RunSupport.checkCheckpointFolder(forLog: path)
      if state == .unresumable {
        // Nothing to resume from: the run starts over, and its old log is kept beside it (an
        // earlier one kept so too stays: .abandoned-2, -3…).
        var kept = path + ".abandoned"
        var n = 2
        while FileManager.default.fileExists(atPath: kept) {
          kept = path + ".abandoned-\(n)"
          n += 1
        }
        do {
          try FileManager.default.moveItem(atPath: path, toPath: kept)
        } catch {
          throw CLIError(
            "\(path): cannot move it aside to start over: \(FileErrorText.describe(error))")
        }
        printError(
          "cptui: \(path): unfinished with no checkpoint to resume from; starting it over (the old "
            + "log is kept as \(kept))")
      }
      let session: (ExperimentConfig, RunRecorder, String?)
      var jobThreads = threads
      var checkpointStep: Int?
      var loggedData: JSONValue?
      if state == .resumable {
        let opened = try RunCommand.openForResume(path)
        loggedData = opened.loggedData
        session = (opened.config, opened.recorder, opened.checkpoint)
        checkpointStep = opened.checkpointStep
        printError(
          "cptui: \(path): unfinished; resuming it from its checkpoint at step "
            + "\(opened.checkpointStep)")
        jobThreads = RunCommand.resumeThreads(
          given: self.threads, logged: opened.threads, log: path)
        try RunSupport.checkMemory(opened.config, threads: jobThreads, log: path)
      } else {
        let recorder: RunRecorder
        do {
          recorder = try RunRecorder(path: path, mode: .replace)
        } catch {
          throw CLIError(describing: error)
        }
        session = (job.config, recorder, nil)
      }
      defer { session.1.closeRemovingIfEmpty() }
      if let signal = StopSignals.shared.received { throw stopped(signal) }
      let (pathsSoFar, unionsSoFar) = (paths, unionPaths)
      let (status, signal) = try HeadlessRun.execute(
        config: session.0, recorder: session.1, checkpoint: session.2,
        checkpointStep: checkpointStep, loggedData: loggedData, threads: jobThreads,
        progress: ProgressLine(enabled: !quiet),
        stoppedPreparing: { printStopped(paths: pathsSoFar, unionPaths: unionsSoFar) })
      // A stop that came as the run finished (nothing left to stop in it) stops the sweep too,
      // unless that was the last run: then the sweep is done.
      if status == .stopped || (signal != nil && index < jobs.count - 1) {
        throw stopped(signal ?? SIGINT)
      }
    }
    let comparison: Comparison
    do {
      comparison = try Comparison.load(paths: paths, unionPaths: unionPaths, averaging: average)
    } catch {
      throw CLIError(describing: error)
    }
    let table = CompareReport(comparison, sortedBy: nil)
    print(table.text, terminator: "")
    if isatty(1) != 0 { printError(CompareCommand.legend) }
    for notice in comparison.notices { printError("cptui: \(notice)") }
    let csvPath = (folder as NSString).appendingPathComponent("summary.csv")
    do {
      try OutputFile.write(table.csv, to: csvPath)
      if !quiet { printError("cptui: logs and summary.csv in \(folder)") }
    } catch {
      printError("cptui: logs in \(folder); \(CLIError(describing: error).description)")
      throw ExitCode(1)
    }
  }

  /// How the config in a log's header (`logged`) differs from `job` ("stages.1.steps 30 → 40"),
  /// or nil when it is the same config (or the header has none to compare).
  static func configDifference(logged: JSONValue?, job: ExperimentConfig, log path: String)
    -> String?
  {
    guard let logged else { return nil }
    if let config = try? RunSupport.loader.parse(logged: logged, source: path),
      config == job
    {
      return nil
    }
    return firstDifference(logged, job.resolvedJSON, path: "") ?? "the resolved configs differ"
  }

  /// The first key path where two JSON values differ, with both values.
  static func firstDifference(_ a: JSONValue, _ b: JSONValue, path: String) -> String? {
    func join(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
    switch (a, b) {
    case (.object(let x), .object(let y)):
      for member in x {
        guard let other = y.first(where: { $0.key == member.key }) else {
          return "\(join(member.key)) only in the log"
        }
        if let d = firstDifference(member.value, other.value, path: join(member.key)) { return d }
      }
      if let extra = y.first(where: { m in !x.contains { $0.key == m.key } }) {
        return "\(join(extra.key)) only in the sweep"
      }
      return nil
    case (.array(let x), .array(let y)) where x.count == y.count:
      for (i, (u, v)) in zip(x, y).enumerated() {
        if let d = firstDifference(u, v, path: join(String(i + 1))) { return d }
      }
      return nil
    default:
      if let u = a.doubleValue, let v = b.doubleValue, u == v { return nil }
      if a == b { return nil }
      return "\(path) \(JSONText.encode(a)) → \(JSONText.encode(b))"
    }
  }

  /// What a sweep finds at a combination's log path: nothing (or an empty file), a finished run
  /// (completed, or diverged: a result too), an unfinished run it can resume, an unfinished one
  /// without a checkpoint (started over, the old log kept), or a file that is no run log (never
  /// overwritten).
  enum LogState { case missing, completed, diverged, resumable, unresumable, notALog }

  /// What a sweep finds at `path`, and the log's header (read once for both).
  static func logState(_ path: String) -> (LogState, RunHeader?) {
    guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
    else { return (.missing, nil) }
    if size == 0 { return (.missing, nil) }
    guard let contents = try? RunLogReader.read(path: path),
      contents.header != nil || !contents.events.isEmpty
    else { return (.notALog, nil) }
    // A file holding several runs is judged by its last one (as a resume goes on with it).
    let lastRun = contents.lastRunAsWritten
    let events = RunLogReader.applyingResumes(lastRun.events)
    let ended = events.lazy.compactMap { event -> RunEndStatus? in
      if case .runEnd(let e) = event { return e.status } else { return nil }
    }
    if ended.contains(.completed) { return (.completed, lastRun.header) }
    if ended.contains(.diverged) { return (.diverged, lastRun.header) }
    let folder = RunSupport.checkpointDirectory(forLog: path)
    let hasCheckpoint = events.contains {
      guard case .checkpoint(let c) = $0 else { return false }
      let beside = folder + "/" + URL(fileURLWithPath: c.path).lastPathComponent
      return FileManager.default.fileExists(atPath: c.path)
        || FileManager.default.fileExists(atPath: beside)
    }
    return (hasCheckpoint ? .resumable : .unresumable, lastRun.header)
  }

  /// Refuses, before anything trains, grid combinations that would share one log (values that
  /// differ only in characters a file name cannot hold: "a b" and "a/b") or train one config
  /// twice (values that read alike: 25 and 25%, 1e-2 and 0.01): the second was found only after
  /// the first had trained, or ran the same training twice under two labels.
  static func checkCombinationsDiffer(
    _ jobs: [(name: String, config: ExperimentConfig)], combos: [[String]]
  )
    throws
  {
    func label(_ i: Int) -> String { combos[i].joined(separator: " ") }
    var byName: [String: Int] = [:]
    var byConfig: [String: Int] = [:]
    for (i, job) in jobs.enumerated() {
      if let j = byName[job.name] {
        throw CLIError(
          "--grid: \(label(j)) and \(label(i)) would share one log, \(job.name).jsonl (a file "
            + "name keeps letters, digits and =.-_ only); choose values that differ in those")
      }
      byName[job.name] = i
      let resolved = JSONText.encode(job.config.resolvedJSON)
      if let j = byConfig[resolved] {
        throw CLIError(
          "--grid: \(label(j)) and \(label(i)) give the same config; each value runs once, "
            + "so give one of them")
      }
      byConfig[resolved] = i
    }
  }

  static func fileSafe(_ text: String) -> String {
    String(text.map { $0.isLetter || $0.isNumber || "=.-_".contains($0) ? $0 : "_" })
  }
}
