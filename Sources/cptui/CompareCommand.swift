import ArgumentParser
import Experiment
import Foundation
import RunLog
import Screens
import Spelling
import Terminal

/// `cptui compare`: the paper-style table for existing run logs.
struct CompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Print final losses, forgetting, adaptation and average for run logs.",
    discussion: """
      Final losses are the mean of the last evaluations of the last stage, those in its last fifth \
      (--average; by default \
      the run config's evaluation.average, which is 3 unless set; never reaching into an earlier stage, nor taking the untrained model's step-0 loss while \
      stage 1 has other evaluations; a last stage that did not end — still running, or \
      killed, stopped or failed in — gives its latest evaluation). Forgetting is the \
      rise of the first stage's dataset loss since the end of stage 1 (with more domains, "forgetting D1" … is each later-left \
      dataset's rise since the end of the last stage that trained it); adaptation is the loss on the \
      last stage's dataset; avg is the mean final loss over datasets; Δunion is avg minus that of a \
      union baseline (a run named union…, or one given with --union), of the same seed when there \
      is one; union baselines are labelled "union baseline", and without one the table has no \
      Δunion column (the CSV's delta_union is empty). A * marks each column's best (union baselines and runs that did not finish are not marked). \
      A run that has not completed is marked [waiting] (its last planned stage ended, but not the \
      run: the live screen asks whether to quit, or was killed there; its measures are final), \
      [unfinished] (no end in its log yet: still training or between stages, or killed), [stopped], \
      [diverged] or [failed]; the CSV has the same in its status column.
      """)

  @Argument(help: "Run logs, folders of logs, or globs.") var logs: [String]
  @Option(help: "A union-baseline log (also recognised by a run name starting with 'union').")
  var union: [String] = []
  @Option(
    help: "Evaluations averaged for final losses (default: the run config's evaluation.average, 3)."
  )
  var average: Int?
  @Option(
    help:
      "Sort by a column: name, a dataset name, forgetting (or 'forgetting D1' …), adaptation, avg, union."
  )
  var sort: String?
  @Option(help: "Also write the table as CSV to this file ('-' for standard output only).")
  var csv: String?

  /// What the columns mean, under a table read on a terminal (not in pipes or files).
  static let legend =
    "losses in nats per token, lower is better: the mean of each stage's last evaluations · "
    + "forgetting: D0 now minus D0 at the end of stage 1 (forgetting D1: D1 now minus D1 at the end "
    + "of the last stage that trained it) · adaptation: the last stage's dataset · "
    + "* best of each column (union baselines and unfinished runs aside) · Δunion: avg minus the "
    + "union baseline's"

  func validate() throws {
    if let average, average < 1 {
      throw ValidationError("--average must be 1 or more, got \(average)")
    }
  }

  func run() throws {
    let paths = try LogPaths.expand(logs + union)
    try OutputFile.refuseInputs(csv, option: "--csv", inputs: paths)
    let comparison: Comparison
    do {
      comparison = try Comparison.load(
        paths: paths, unionPaths: Set(try LogPaths.expand(union)), averaging: average)
    } catch {
      throw CLIError(describing: error)
    }
    // Every log left out (a foreign dataset named like a measure column): nothing to compare.
    if comparison.rows.isEmpty {
      for notice in comparison.notices { printError("cptui: \(notice)") }
      throw CLIError("no run to compare: every log given was left out (see above)")
    }
    if let sort {
      let known =
        ["name"] + comparison.datasets + ["forgetting"] + comparison.forgettingColumns
        + ["adaptation", "avg", "union"]
      let aliases = ["average", "Δunion"]
      guard known.contains(sort) || aliases.contains(sort) else {
        let close = Spelling.suggestion(for: sort, among: known).map { " (did you mean \($0)?)" }
        // A bad option value, like --average 0, though the columns are known only from the logs.
        throw CLIError.badOption(
          "--sort \(sort): not a column\(close ?? ""); one of \(known.joined(separator: ", "))",
          of: Self.self)
      }
    }
    let table = CompareReport(comparison, sortedBy: sort)
    if csv == "-" {
      print(table.csv, terminator: "")
      return
    }
    print(table.text, terminator: "")  // laid out in ASCII already under a non-UTF-8 locale
    if isatty(1) != 0 { printError(Self.legend) }
    for notice in comparison.notices { printError("cptui: \(notice)") }
    if let csv { try OutputFile.write(table.csv, to: csv) }
  }
}

/// Expands command-line log arguments: a folder gives its *.jsonl files (sorted), a glob its matches
/// (folders among them give their logs too). Files inside a folder that are not run logs (empty:
/// a run that failed before writing anything; not JSON) are skipped with a notice; a file named
/// on its own is always read, and its errors are the command's.
enum LogPaths {
  static func expand(_ arguments: [String]) throws -> [String] {
    var out: [String] = []
    func isFolder(_ path: String) -> Bool {
      var isDirectory: ObjCBool = false
      return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        && isDirectory.boolValue
    }
    func addFolder(_ folder: String) throws {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
      let logs = names.filter { $0.hasSuffix(".jsonl") }.sorted(by: Self.naturalOrder)
        .map { (folder as NSString).appendingPathComponent($0) }
      if logs.isEmpty { throw CLIError("\(folder): no .jsonl run logs in this folder") }
      for log in logs {
        if let problem = RunLogReader.problem(path: log) {
          printError("cptui: \(problem), skipped")
        } else {
          out.append(log)
        }
      }
    }
    for argument in arguments {
      if FileManager.default.fileExists(atPath: argument) {
        if isFolder(argument) { try addFolder(argument) } else { out.append(argument) }
      } else if argument.contains("*") || argument.contains("?") || argument.contains("[") {
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(argument, 0, nil, &g) == 0 else {
          throw CLIError("\(argument): nothing matches")
        }
        for i in 0..<Int(g.gl_pathc) {
          guard let p = g.gl_pathv[i] else { continue }
          let match = String(cString: p)
          if isFolder(match) { try addFolder(match) } else { out.append(match) }
        }
      } else {
        throw CLIError("\(argument): no such file or folder")
      }
    }
    if out.isEmpty && !arguments.isEmpty {
      throw CLIError("no run logs to read (every file found was skipped)")
    }
    // One file named twice (`a.jsonl ./a.jsonl`, a folder and a file in it, a link) is read once.
    var seen = Set<String>()
    return out.filter { path in
      var info = stat()
      let key =
        stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        ? "\(info.st_dev):\(info.st_ino)" : path
      return seen.insert(key).inserted
    }
  }

  /// Numbers inside names compare as numbers: replay=5 before replay=25, warmup=0 before 0.5.
  static func naturalOrder(_ a: String, _ b: String) -> Bool { Format.naturalLess(a, b) }
}

/// The comparison as aligned text and as CSV.
struct CompareReport {
  let comparison: Comparison
  let rows: [Comparison.Row]

  init(_ comparison: Comparison, sortedBy column: String?) {
    self.comparison = comparison
    // Unsorted, the runs keep their order (the logs' natural order), and union baselines, the
    // yardstick, come last.
    var rows = Comparison.unionsLast(comparison.rows.map(\.isUnion)).map { comparison.rows[$0] }
    if let column {
      rows.sort { a, b in
        switch column {
        case "name": return LogPaths.naturalOrder(a.name + " " + a.label, b.name + " " + b.label)
        default:
          return (Self.value(comparison, a, column) ?? .infinity)
            < (Self.value(comparison, b, column) ?? .infinity)
        }
      }
    }
    self.rows = rows
  }

  /// A column's value for a row; `--sort`'s aliases "average" and "union" included.
  static func value(_ comparison: Comparison, _ row: Comparison.Row, _ column: String) -> Double? {
    let aliases = ["average": "avg", "union": "Δunion"]
    let key = comparison.datasets.contains(column) ? column : aliases[column] ?? column
    return comparison.value(row, column: key)
  }

  func value(_ row: Comparison.Row, _ column: String) -> Double? {
    Self.value(comparison, row, column)
  }

  /// The text table's columns (Δunion only when there is a union baseline).
  var columns: [String] { comparison.measureColumns }
  /// The CSV's columns: always every one, so scripts read the same header.
  var csvColumns: [String] { comparison.allMeasureColumns }

  var text: String {
    // Names come from log files: made safe for the terminal (no escapes, bidi or long lines), and
    // in ASCII before they are padded when the locale is not UTF-8.
    // Padded by display width (CJK and emoji take two columns). A long name leaves out whole parts
    // of its label, those most rows share first, unless that makes two different names read the
    // same: then it is cut in the middle.
    func local(_ text: String) -> String { localText(TextSanitizer.clean(text, maxLength: 1000)) }
    let lines = rows.map { row in
      let status = row.summary.endStatus == .completed ? "" : " [\(row.status)]"
      return row.label.isEmpty
        ? PartedLine(head: local(row.name), parts: [], tail: status)
        : PartedLine(
          head: local(row.name) + " (", parts: row.label.components(separatedBy: " · ").map(local),
          tail: ")" + status)
    }
    let names = PartedLine.fitted(
      lines, toWidth: 80, separator: localText(" · "), ellipsis: localText("…"))
    let nameWidth = max(names.map(\.terminalWidth).max() ?? 0, 3)
    func padded(_ name: String) -> String {
      name + String(repeating: " ", count: max(0, nameWidth - name.terminalWidth))
    }
    var best: [String: Double] = [:]
    for column in columns {
      // Union baselines and runs whose measures are not final (stopped mid-way) are no candidates.
      best[column] =
        rows.filter { !$0.isUnion && $0.measuresFinal }.compactMap { value($0, column) }.min()
    }
    let headers = columns.map { localText(TextSanitizer.clean($0, maxLength: 40)) }
    // Ten wide, or the header's width ("forgetting D1"), so cells stay under their header.
    let widths = headers.map { max(10, $0.count) }
    var out = padded("run")
    for (header, width) in zip(headers, widths) { out += "  " + Self.pad(header, width) }
    out += "\n"
    for (row, name) in zip(rows, names) {
      out += padded(name)
      for (column, width) in zip(columns, widths) {
        var cell = localText("–")
        if let v = value(row, column) {
          cell =
            Comparison.isSigned(column: column)
            ? String(format: "%+.3f", v) : String(format: "%.3f", v)
          if !row.isUnion, row.measuresFinal, let b = best[column], v == b, rows.count > 1 {
            cell += "*"
          }
        }
        out += "  " + Self.pad(cell, width)
      }
      out += "\n"
    }
    return out
  }

  var csv: String {
    var out =
      (["path", "run", "label"] + csvColumns.map { $0 == "Δunion" ? "delta_union" : $0 }
      + ["status"])
      .map(ExportText.csvField).joined(separator: ",") + "\n"
    for row in rows {
      let cells = csvColumns.map { value(row, $0).map { String($0) } ?? "" }
      let text = [row.path, row.name, row.label].map(ExportText.csvField)
      out += (text + cells + [row.status]).joined(separator: ",") + "\n"
    }
    return out
  }

  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
  }
}
