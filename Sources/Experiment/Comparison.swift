import Foundation
import RunLog

/// The paper-style comparison of runs: final validation loss per dataset (mean of the last few
/// evaluations), forgetting (rise of D0 loss since the end of stage 1), adaptation (loss on the last
/// stage's dataset), their average over datasets, and the difference to a union baseline.
public struct Comparison: Sendable {
  public struct Row: Sendable {
    /// The log file.
    public var path: String
    /// The run's name, and what sets it apart from the other runs ("replay 25% · warmup 1%").
    public var name: String
    public var label: String
    public var summary: RunSummary
    /// True for a union baseline (trained from scratch on all datasets mixed).
    public var isUnion: Bool
    /// average − the union baseline's average (the union run of the same seed when there is one).
    public var deltaToUnion: Double?
    /// The log of the union baseline the run is measured against (`deltaToUnion`), if any.
    public var unionPath: String? = nil
    /// How the run ended ("completed", "stopped", "diverged", "failed"); when its log has no end
    /// yet, "waiting" after its plan (its last planned stage ended: the live screen asks whether
    /// to quit, or was killed there) or "unfinished" (still training or between stages, or killed).
    public var status: String {
      if let end = summary.endStatus { return end.rawValue }
      return summary.planEnded ? "waiting" : "unfinished"
    }
    /// Whether the run's measures are final: it completed, or it waits after a stage that ended.
    public var measuresFinal: Bool {
      summary.endStatus == .completed || (summary.endStatus == nil && summary.planEnded)
    }
    /// "name (label)", with the status in brackets when the run did not complete.
    public var title: String {
      let base = label.isEmpty ? name : "\(name) (\(label))"
      return summary.endStatus == .completed ? base : "\(base) [\(status)]"
    }
  }

  public var rows: [Row]

  /// The `evaluation.average` of the config a log's header records (what the live screen used).
  public static func configuredAveraging(_ header: RunHeader?) -> Int? {
    guard let count = header?.config?["evaluation"]?["average"]?.intValue, count >= 1 else {
      return nil
    }
    return count
  }

  /// Short names of the rows for a legend or a narrow table: what sets a run apart (its label),
  /// led by its name unless it is the name most runs share (the experiment's own, said once
  /// elsewhere; only when one name is shared by more runs than any other); a union baseline, or
  /// runs that differ in nothing, go by their name alone.
  public var shortNames: [String] {
    let commonName = Self.commonName(rows.map(\.name))
    let distinctLabels = Set(rows.map(\.label)).count
    return rows.map { row in
      if distinctLabels <= 1 || row.label.isEmpty || row.isUnion { return row.name }
      return row.name == commonName ? row.label : row.name + " · " + row.label
    }
  }

  /// The name more runs share than any other (at least two), which legends say once instead of
  /// per run; nil when there is none.
  public static func commonName(_ names: [String]) -> String? {
    var counts: [String: Int] = [:]
    for name in names { counts[name, default: 0] += 1 }
    let most = counts.values.max() ?? 0
    let shared = counts.filter { $0.value == most }
    return most >= 2 && shared.count == 1 ? shared.first?.key : nil
  }

  /// Every dataset that any run evaluated, in first-seen order.
  public var datasets: [String]
  /// Whether any run is a union baseline (without one, Δunion has no value anywhere).
  public var hasUnionBaseline: Bool { rows.contains { $0.isUnion } }
  /// The measure columns a table shows: final loss per dataset, forgetting, adaptation, avg, and
  /// Δunion when there is a union baseline to measure against.
  public var measureColumns: [String] {
    hasUnionBaseline ? allMeasureColumns : allMeasureColumns.filter { $0 != "Δunion" }
  }
  /// Every measure column, Δunion included (the CSV's, so scripts read one header for runs of two
  /// stages; runs through more domains add a forgetting column per later-forgotten dataset).
  public var allMeasureColumns: [String] {
    datasets + ["forgetting"] + forgettingColumns + ["adaptation", "avg", "Δunion"]
  }
  /// "forgetting D1", … for datasets other than D0 that some run trained on and then left
  /// (`RunSummary.forgettingByDataset`), in dataset order; empty for runs of two stages.
  public var forgettingColumns: [String] {
    let left = Set(
      rows.filter { !$0.isUnion }.flatMap { row in
        row.summary.forgettingByDataset.keys.filter { $0 != row.summary.firstDataset }
      })
    return datasets.filter(left.contains).map { Self.forgettingPrefix + $0 }
  }
  static let forgettingPrefix = "forgetting "

  /// Whether a dataset name is one of the table's other column names (`avg`, `forgetting`,
  /// `forgetting D1`, `Δunion`, …), which the config loader refuses as dataset names.
  static func isMeasureName(_ name: String) -> Bool {
    ConfigLoader.measureNames.contains(name) || name == "Δunion" || name.hasPrefix(forgettingPrefix)
  }

  /// The value of a measure column (`allMeasureColumns`) for a row; nil where it has none.
  public func value(_ row: Row, column: String) -> Double? {
    if datasets.contains(column) { return row.summary.finalLosses[column] }
    switch column {
    case "forgetting": return row.summary.forgetting
    case "adaptation": return row.summary.adaptation
    case "avg": return row.summary.average
    case "Δunion": return row.deltaToUnion
    default:
      guard column.hasPrefix(Self.forgettingPrefix) else { return nil }
      return row.summary.forgettingByDataset[String(column.dropFirst(Self.forgettingPrefix.count))]
    }
  }

  /// Whether a column's values are changes (printed with a sign): forgetting and Δunion.
  public static func isSigned(column: String) -> Bool {
    column == "Δunion" || column == "forgetting" || column.hasPrefix(forgettingPrefix)
  }
  /// What a union baseline's label says (its stage settings would not compare with the others').
  public static let unionLabel = "union baseline"
  /// Reading problems and caveats about the comparison, one line each ("path: …"): skipped
  /// lines, NaN losses, a dataset name meaning other data, a union that is no baseline.
  public var notices: [String]

  /// Reads and compares logs. A run counts as a union baseline when its name starts with `union`
  /// or when `unionPaths` names it. `averaging` (evaluations per final loss) overrides each run's
  /// own `evaluation.average`; nil takes the run's (else 3).
  public static func load(
    paths: [String], unionPaths: Set<String> = [], averaging: Int? = nil
  ) throws(RunLogReadError) -> Comparison {
    var runs: [(String, [RunEvent], RunHeader?)] = []
    var notices: [String] = []
    for path in paths {
      // Summaries need every event but steps; of those, the first after each other event (so
      // the stages and the steps after a resume are still seen). A multi-GB log stays small.
      var afterOther = true
      let contents = try RunLogReader.read(path: path) { event in
        guard case .step = event else {
          afterOther = true
          return true
        }
        defer { afterOther = false }
        return afterOther
      }
      notices += contents.notices.map { "\(path): \($0)" }
      let run = contents.lastRun
      notices += run.notices.map { "\(path): \($0)" }
      runs.append((path, run.events, run.header))
    }
    return Comparison(runs: runs, unionPaths: unionPaths, averaging: averaging, notices: notices)
  }

  /// Compares runs given as events (`path` is only a name here), each already through
  /// `RunLogReader.applyingResumes` (abandoned steps would count as trained); `averaging` as in
  /// `load`.
  public init(
    runs: [(path: String, events: [RunEvent], header: RunHeader?)], unionPaths: Set<String> = [],
    averaging: Int? = nil, notices: [String] = []
  ) {
    var rows: [Row] = []
    var datasets: [String] = []
    var notices = notices
    // A log from another writer may name a dataset like a measure column (cptui's configs refuse
    // such names): its losses would fill, or hide, that column for every run. It is left out.
    let runs = runs.filter { run in
      var names = Set(run.header?.datasets ?? [])
      for case .eval(let e) in run.events { for loss in e.losses { names.insert(loss.dataset) } }
      guard let clash = names.sorted().first(where: Self.isMeasureName) else { return true }
      notices.append(
        "\(run.path): left out: its dataset \"\(clash)\" has the name of a measure column "
          + "(rename it in the log's header and evaluations to compare it)")
      return false
    }
    for run in runs {
      let count =
        averaging ?? Self.configuredAveraging(run.header) ?? ConfigDefaults.evaluationAverage
      let summary = RunSummary(events: run.events, averaging: count)
      for (dataset, count) in summary.nonFiniteEvaluations.sorted(by: { $0.key < $1.key }) {
        let none = summary.finalLosses[dataset] == nil
        notices.append(
          "\(run.path): \(dataset) was NaN or infinite in \(count) evaluation\(count == 1 ? "" : "s"); "
            + (none
              ? "it has no final loss, so no average either" : "final losses use the finite ones"))
      }
      for d in summary.datasets where !datasets.contains(d) { datasets.append(d) }
      let name =
        summary.runName.isEmpty ? URL(fileURLWithPath: run.path).lastPathComponent : summary.runName
      rows.append(
        Row(
          path: run.path, name: name, label: "", summary: summary,
          isUnion: Self.isUnion(path: run.path, runName: summary.runName, unionPaths: unionPaths),
          deltaToUnion: nil))
    }
    // An --average beyond what a stage's last fifth holds is honoured only that far: said.
    if let averaging {
      let short = rows.filter {
        $0.measuresFinal && $0.summary.finalEvaluationsUsed < averaging
      }
      if let most = short.map(\.summary.finalEvaluationsUsed).max() {
        notices.append(
          "--average \(averaging): \(short.count) of \(rows.count) runs have fewer evaluations in "
            + "their last stage's last fifth (at most \(most)); their final losses average those")
      }
    }
    let labels = Self.labels(runs.map(\.events), isUnion: rows.map(\.isUnion))
    for i in rows.indices { rows[i].label = labels[i] }
    let names = Self.distinctNames(
      names: rows.map(\.name), labels: rows.map(\.label), paths: rows.map(\.path))
    for i in rows.indices { rows[i].name = names[i] }
    // A dataset name that means other data in some runs (D1 of the strong and the weak shift):
    // its column mixes experiments.
    var meanings: [String: Set<String>] = [:]
    for (run, definition) in zip(runs, runs.map { $0.header?.config?["datasets"] }) {
      guard let definition else { continue }
      for name in run.header?.datasets ?? [] where definition[name] != nil {
        meanings[name, default: []].insert(JSONText.encode(definition[name]!))
      }
    }
    // Only datasets that are columns: a union's mixture (`union`) is trained on, never evaluated.
    let columns = Set(rows.flatMap(\.summary.datasets))
    for name in meanings.keys.sorted() where meanings[name]!.count > 1 && columns.contains(name) {
      notices.append(
        "\(name) is other data in some of these runs (\(meanings[name]!.count) definitions): its "
          + "column compares different experiments")
    }
    // Each run is measured against a union baseline of its own experiment: one that defines the
    // run's datasets the same way (logs of several experiments can be compared at once), of the
    // same seed when there is one (a sweep with seeds: runs the union per seed). Logs without a
    // config in their header fall back to the seed alone, then to the first union baseline.
    let seeds = runs.map { $0.header?.seed }
    let definitions = runs.map { $0.header?.config?["datasets"] }
    let measurements = runs.map { Self.measurement($0.header?.config) }
    let unions = rows.indices.filter { rows[$0].isUnion }
    /// Why `union` is no baseline for `run` (nil: it is one): other datasets, or losses measured
    /// another way (tokenizer, context, validation windows), which no difference of averages
    /// survives.
    func mismatch(_ union: Int, _ run: Int) -> String? {
      // The same datasets evaluated (a D0-only run has no baseline in a four-domain union)…
      if Set(rows[run].summary.datasets) != Set(rows[union].summary.datasets) { return "datasets" }
      // … defined the same way.
      if let mine = definitions[run], let theirs = definitions[union],
        !rows[run].summary.datasets.allSatisfy({ mine[$0] != nil && mine[$0] == theirs[$0] })
      {
        return "datasets"
      }
      guard let mine = measurements[run], let theirs = measurements[union] else { return nil }
      return zip(mine, theirs).first { $0.0.value != $0.1.value }?.0.name
    }
    var unmatched: [String] = []
    var reasons = Set<String>()
    /// Per union baseline: the runs it measures that trained another number of tokens.
    var unequalBudgets: [Int: [Int]] = [:]
    /// Per union baseline: the runs of another seed measured against it (none of their own).
    var otherSeeds: [Int: [Int]] = [:]
    for i in rows.indices where !rows[i].isUnion {
      let candidates = unions.filter { mismatch($0, i) == nil }
      if candidates.isEmpty && !unions.isEmpty {
        unmatched.append(rows[i].path)
        for u in unions { mismatch(u, i).map { _ = reasons.insert($0) } }
      }
      let sameSeed = candidates.first { seeds[$0] != nil && seeds[$0] == seeds[i] }
      guard let u = sameSeed ?? candidates.first else { continue }
      rows[i].unionPath = rows[u].path
      if let own = seeds[i], let other = seeds[u], own != other {
        otherSeeds[u, default: []].append(i)
      }
      guard let base = rows[u].summary.average else { continue }
      rows[i].deltaToUnion = rows[i].summary.average.map { $0 - base }
      // Compute-equivalent, as the paper's union is: the same tokens within 1 % (a step or two
      // of rounding). Runs that have not ended yet are not judged.
      if rows[i].measuresFinal, rows[u].measuresFinal,
        Self.unequalBudgets(rows[i].summary.trainedTokens, rows[u].summary.trainedTokens)
      {
        unequalBudgets[u, default: []].append(i)
      }
    }
    for (u, runs) in unequalBudgets.sorted(by: { $0.key < $1.key }) {
      let budgets = Set(runs.map { rows[$0].summary.trainedTokens }).sorted()
      let subject =
        runs.count == 1
        ? "\(rows[runs[0]].path) trained" : "\(runs.count) runs measured against it trained"
      notices.append(
        "\(rows[u].path): this union baseline trained \(rows[u].summary.trainedTokens) tokens, but "
          + "\(subject) \(budgets.map(String.init).joined(separator: ", ")): their Δunion compares "
          + "unequal budgets (the union should train as many tokens as the runs)")
    }
    // A run of seed 2 measured against seed 1's union: its Δunion holds the union's seed noise.
    for (u, runs) in otherSeeds.sorted(by: { $0.key < $1.key }) {
      let runSeeds = Set(runs.compactMap { seeds[$0] }).sorted().map(String.init)
      let subject =
        runs.count == 1 ? rows[runs[0]].path : "\(runs.count) runs"
      notices.append(
        "\(rows[u].path): this union baseline has seed \(seeds[u].map(String.init) ?? "?"), but "
          + "\(subject) of seed \(runSeeds.joined(separator: ", ")) had none of their own: their "
          + "Δunion holds the union's own seed noise (a union per seed: a sweep file's `seeds:`)")
    }
    // A union baseline that defines other datasets than every run is no baseline for them: say so
    // rather than leave Δunion empty without a word.
    if !unmatched.isEmpty {
      // Every union, also one other runs do use: it is no baseline for these.
      for u in unions {
        let how = reasons.sorted().joined(separator: ", ")
        notices.append(
          "\(rows[u].path): this union baseline differs in \(how) from "
            + "\(unmatched.count == 1 ? unmatched[0] : "\(unmatched.count) runs"), so it gives them "
            + "no Δunion (a baseline must train on the runs' own datasets and be measured as they "
            + "are)")
      }
    }
    self.rows = rows
    self.datasets = datasets
    self.notices = notices
  }

  /// How a run's losses are measured, from its logged config: tokenizer, context and validation
  /// windows (nil without a config: nothing to compare).
  public static func measurement(_ config: JSONValue?) -> [(name: String, value: JSONValue?)]? {
    guard let config else { return nil }
    let evaluation = config["evaluation"]
    return [
      ("tokenizer", config["tokenizer"]), ("context", config["model"]?["context"]),
      ("validation windows", evaluation?["windows"]),
      ("validation sampling", evaluation?["sample"] ?? .string("first")),
    ]
  }

  /// Labels as `compare` shows them: the continual runs told apart by their settings
  /// (`distinguishingLabels` among them alone), a union baseline labelled as one (its single
  /// stage's settings would make every other label say "stages 2").
  public static func labels(_ runs: [[RunEvent]], isUnion: [Bool]) -> [String] {
    let continual = runs.indices.filter { !isUnion[$0] }
    var out = runs.indices.map { isUnion[$0] ? unionLabel : "" }
    for (i, label) in zip(continual, distinguishingLabels(continual.map { runs[$0] })) {
      out[i] = label
    }
    return out
  }

  /// Whether a run named `name` (its header's run name, else its file name) is a union baseline.
  public static func isUnionName(_ name: String) -> Bool { name.lowercased().hasPrefix("union") }

  /// Whether a run is a union baseline: given with `--union`, or named so (its header's run name,
  /// else its file's name, starts with "union").
  public static func isUnion(path: String, runName: String?, unionPaths: Set<String> = []) -> Bool {
    let name =
      runName.flatMap { $0.isEmpty ? nil : $0 } ?? URL(fileURLWithPath: path).lastPathComponent
    return unionPaths.contains(path) || isUnionName(name)
  }

  /// Run indices as compare, replay and export list runs: continual runs in the order given, union
  /// baselines, the yardstick, last.
  public static func unionsLast(_ isUnion: [Bool]) -> [Int] {
    isUnion.indices.filter { !isUnion[$0] } + isUnion.indices.filter { isUnion[$0] }
  }

  /// Whether a run and its union baseline train budgets too far apart for Δunion to compare like
  /// with like: more than 1 % (a step or two of rounding tokens to steps is the same budget).
  public static func unequalBudgets(_ run: Int, _ union: Int) -> Bool {
    Double(abs(run - union)) > 0.01 * Double(max(run, union))
  }

  /// Run names that tell runs apart: runs that read the same (name and label: two seeds of one
  /// sweep) are named by their file instead, and by folder and file when the file names are alike
  /// too (the same sweep in two folders).
  public static func distinctNames(names: [String], labels: [String], paths: [String]) -> [String] {
    var names = names
    let keys = zip(names, labels).map { $0 + "|" + $1 }
    var renamed: [Int] = []
    for i in names.indices where keys.filter({ $0 == keys[i] }).count > 1 {
      names[i] = URL(fileURLWithPath: paths[i]).deletingPathExtension().lastPathComponent
      renamed.append(i)
    }
    let fileKeys = zip(names, labels).map { $0 + "|" + $1 }
    for i in renamed where fileKeys.filter({ $0 == fileKeys[i] }).count > 1 {
      let url = URL(fileURLWithPath: paths[i])
      names[i] = url.deletingLastPathComponent().lastPathComponent + "/" + names[i]
    }
    return names
  }

  /// For each run, the last-stage settings in which the runs differ ("replay 25% · ηmax 4e-3"),
  /// or the schedule and replay of the last stage when all agree.
  static func distinguishingLabels(_ runs: [[RunEvent]]) -> [String] {
    let lastStarts: [StageStartEvent?] = runs.map { events in
      let logged = events.compactMap {
        if case .stageStart(let s) = $0 { return s } else { return nil }
      }
      // The stages as logged, then those the header plans beyond them (a run that ended or stands
      // before its last planned stage is labelled by that stage).
      let known = logged + plannedStagesAfter(events, started: logged.last)
      guard var last = known.last else { return nil }
      // A stage continuing an infinite span has no warmup of its own (logged 0): the span's
      // first stage warmed up, and the label says so ("infinite … · warmup 0%" misread the run).
      if let first = known.infiniteSpanStart(of: last.stage), first < last.stage,
        let start = known.last(where: { $0.stage == first })
      {
        last.warmupFraction = start.warmupFraction
      }
      return last
    }
    typealias Field = (name: String, value: (StageStartEvent) -> String)
    let fields: [Field] = [
      ("", { Self.scheduleText($0) }),
      ("replay", { percentText($0.replayPercent) }),
      ("warmup", { formatPercent($0.warmupFraction) }),
      ("ηmax", { Self.rate($0.lrMax) }),
      ("ηmin", { Self.rate($0.lrMin) }),
      ("stages", { "\($0.stage)" }),
      ("opt", { $0.optimizerState.rawValue }),
      // Only where something is replayed (empty: left out of that run's label).
      ("replay order", { $0.replayPercent > 0 ? $0.replayOrder ?? "sequential" : "" }),
    ]
    let differing = fields.filter { field in
      Set(lastStarts.compactMap { $0.map(field.value) }.filter { !$0.isEmpty }).count > 1
    }
    let shown = differing.isEmpty ? [fields[0], fields[1]] : differing
    // How the losses were measured, when the runs differ in it (first or spread windows).
    let sampling = runs.map { events in
      events.lazy.compactMap { event -> String? in
        guard case .header(let h) = event else { return nil }
        return h.config?["evaluation"]?["sample"]?.stringValue ?? "first"
      }.first ?? "first"
    }
    let showSampling = Set(sampling).count > 1
    return zip(lastStarts, sampling).map { start, sample in
      guard let start else { return "" }
      var parts = shown.compactMap { field -> String? in
        let value = field.value(start)
        if value.isEmpty { return nil }
        return field.name.isEmpty ? value : "\(field.name) \(value)"
      }
      if showSampling { parts.append("validation \(sample) windows") }
      return parts.joined(separator: " · ")
    }
  }

  /// The stages a run's header plans after the last one it started (`started`), as their
  /// stage-start events would read: a sweep's run stopped in stage 1 read "replay 0% · stages 1"
  /// next to its finished siblings' "replay 25%". Empty for a run that completed, or without a
  /// plan.
  static func plannedStagesAfter(_ events: [RunEvent], started: StageStartEvent?)
    -> [StageStartEvent]
  {
    var header: RunHeader?
    for event in events {
      switch event {
      case .header(let found): header = header ?? found
      case .runEnd(let end) where end.status == .completed: return []
      default: continue
      }
    }
    guard let logged = header?.config,
      let config = try? ConfigLoader().parse(logged: logged, source: "run log header")
    else { return [] }
    let startedCount = started?.stage ?? 0
    guard config.stages.count > startedCount else { return [] }
    return (startedCount..<config.stages.count).map { config.stageStartEvent(index: $0) }
  }

  /// The schedule with the parameters that tell two of one kind apart (`Schedule.summary`:
  /// `infinite inverse-sqrt +anneal`, `wsd 1-sqrt 20%`); an unknown kind as logged.
  static func scheduleText(_ start: StageStartEvent) -> String {
    Schedule(logged: start.schedule, parameters: start.scheduleParameters)?.summary
      ?? start.schedule
  }

  /// A learning rate as the stage panel and the presets write it: "2e-3", "1e-5", "3.5e-4".
  /// A learning rate as the screen writes it: `1e-1`, `3e-4` (not `0.1`); 0 as `0`.
  static func rate(_ value: Double) -> String {
    guard value.isFinite, value != 0, abs(value) < 1 else { return short(value) }
    return exponential(value)
  }

  static func short(_ value: Double) -> String {
    guard value.isFinite, value != 0, abs(value) < 0.1 || abs(value) >= 1e4 else {
      return String(format: "%g", value)
    }
    return exponential(value)
  }

  /// `value` (finite, not 0) as mantissa and exponent: `4e-3`, `2.5e4`.
  static func exponential(_ value: Double) -> String {
    var exponent = Int(log10(abs(value)).rounded(.down))
    var mantissa = String(format: "%g", value / pow(10, Double(exponent)))
    if mantissa == "10" || mantissa == "-10" {  // 9.9999999e-4 read as 10e-4
      exponent += 1
      mantissa = mantissa.hasPrefix("-") ? "-1" : "1"
    }
    return "\(mantissa)e\(exponent)"
  }

}
