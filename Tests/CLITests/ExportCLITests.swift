import Foundation
import TestSupport
import Testing

/// `cptui export` on real logs, bad input, and logs written by the Python helper.
struct ExportCLITests {
  static let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
    "cptui-export-\(getpid())")
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// A file in a folder of its own per test (tests run in parallel).
  static func path(_ name: String, in sub: String) throws -> String {
    let dir = folder.appendingPathComponent(sub)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
  }

  /// An output file that is one of the logs read (by its name, through its folder, or through a
  /// link) is refused, and the log is left as it was (a review had `compare a.jsonl --csv
  /// a.jsonl` replace the log by its table, exit 0).
  @Test func anOutputThatIsAnInputLogIsRefused() throws {
    let log = try Self.path("a.jsonl", in: "self-overwrite")
    let sample = Self.repository.appendingPathComponent(
      "sample-runs/strong-shift/strong-shift__stage2.replay=25.jsonl"
    ).path
    try FileManager.default.copyItem(atPath: sample, toPath: log)
    let link = try Self.path("link.jsonl", in: "self-overwrite-link")
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: log)
    let before = try Data(contentsOf: URL(fileURLWithPath: log))
    let folder = URL(fileURLWithPath: log).deletingLastPathComponent().path
    for arguments in [
      ["compare", log, "--csv", log], ["compare", folder, "--csv", link],
      ["export", log, "--csv", log], ["export", log, "--svg", link],
    ] {
      let r = try CLI.run(arguments)
      #expect(r.status == 1, "\(arguments): \(r.stderr)")
      #expect(r.stderr.contains("one of the logs read; refusing to overwrite it"), "\(r.stderr)")
      #expect(try Data(contentsOf: URL(fileURLWithPath: log)) == before, "\(arguments)")
    }
    // One output named twice: refused before anything is written (the SVG replaced the CSV).
    let out = folder + "/ev.csv"
    let twice = try CLI.run(["export", log, "--csv", out, "--svg", folder + "/./ev.csv"])
    #expect(twice.status == 64 && twice.stderr.contains("are the same file"), "\(twice.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
    // One log named twice (`a.jsonl` and `./a.jsonl`, a link to it) is one row.
    let rows = try CLI.run(["compare", log, folder + "/./a.jsonl", link])
    #expect(rows.status == 0, "\(rows.stderr)")
    #expect(rows.stdout.split(separator: "\n").count == 2, "\(rows.stdout)")
  }

  /// Elements named `path` in an SVG document, or nil when it is not well-formed XML.
  static func svgPaths(_ svg: String) -> Int? {
    guard let doc = SVGInspector.inspect(svg), doc.root == "svg" else { return nil }
    return doc.paths.count
  }

  /// Evaluations of a log as (step, dataset → loss). Numbers are read from the line's own text with
  /// `Double(_:)` (exact), not with JSONSerialization (which rounds the last digit on Linux).
  static func evaluations(_ path: String) throws -> [(step: Int, losses: [String: Double])] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var out: [(Int, [String: Double])] = []
    let member = try Regex(#""([^"]+)":("NaN"|[-0-9.eE+]+)"#)
    for line in text.split(separator: "\n") where line.contains(#""type":"eval""#) {
      guard let open = line.range(of: #""losses":{"#),
        let close = line[open.upperBound...].firstIndex(of: "}"),
        let stepText = line.firstMatch(of: try Regex(#""step":([0-9]+)"#))?.output[1].substring,
        let step = Int(stepText)
      else { continue }
      var values: [String: Double] = [:]
      for match in line[open.upperBound..<close].matches(of: member) {
        guard let key = match.output[1].substring, let value = match.output[2].substring else {
          continue
        }
        values[String(key)] = value == #""NaN""# ? .nan : Double(value)
      }
      out.append((step, values))
    }
    return out
  }

  @Test func exportsARealRunAsCSVAndSVG() throws {
    let log = try Self.path("tiny.jsonl", in: "real")
    try? FileManager.default.removeItem(atPath: log)
    let env = ["CPTUI_CACHE": try Self.path("cache", in: "cache")]
    let run = try CLI.run(
      ["run", "tiny", "--out", log, "--threads", "1", "--set", "defaults.steps=40", "--quiet"],
      environment: env)
    try #require(run.status == 0, "\(run.stderr)")

    let csvPath = try Self.path("tiny.csv", in: "out")
    // A folder that is not there yet is made, as `run --out` makes its own.
    let svgFolder = try Self.path("new-\(UUID().uuidString.prefix(8))", in: "out")
    let svgPath = svgFolder + "/charts/tiny.svg"
    defer { try? FileManager.default.removeItem(atPath: svgFolder) }
    let through = try CLI.run(["export", log, "--csv", log + "/x.csv"])
    #expect(
      through.status == 1 && through.stderr.contains("\(log) is a file, where a folder is needed"),
      "\(through.stderr)")
    let r = try CLI.run(["export", log, "--csv", csvPath, "--svg", svgPath, "--title", "tiny"])
    #expect(r.status == 0, "\(r.stderr)")

    let evals = try Self.evaluations(log)
    let rows = parseCSV(try String(contentsOfFile: csvPath, encoding: .utf8))
    let header = try #require(rows.first)
    #expect(Array(header.prefix(7)) == ["run", "label", "path", "stage", "step", "tokens", "time"])
    let datasets = Array(header.dropFirst(7))
    #expect(datasets.count == 2)
    #expect(rows.count == evals.count + 1)
    for (row, e) in zip(rows.dropFirst(), evals) {
      #expect(Int(row[4]) == e.step)
      for (i, d) in datasets.enumerated() {
        let value = try #require(Double(row[7 + i]))
        let expected = try #require(e.losses[d])
        #expect(value == expected || (value.isNaN && expected.isNaN), "\(row) vs \(e)")
      }
    }

    let svg = try String(contentsOfFile: svgPath, encoding: .utf8)
    #expect(Self.svgPaths(svg) == datasets.count)
    #expect(svg.contains(">tiny</text>"))

    // Standard output, a folder, a glob: the same runs.
    let viaStdout = try CLI.run([
      "export", Self.folder.appendingPathComponent("real").path, "--csv", "-",
    ])
    #expect(viaStdout.status == 0)
    #expect(parseCSV(viaStdout.stdout).count == rows.count)
    let viaGlob = try CLI.run(
      [
        "export", Self.folder.path + "/real/tiny*.jsonl", "--svg", "-", "--log-y", "--theme",
        "dark",
      ])
    #expect(viaGlob.status == 0)
    #expect(Self.svgPaths(viaGlob.stdout) == datasets.count)
  }

  @Test func badInputGivesOneLineNamingTheFile() throws {
    let empty = try Self.path("empty.jsonl", in: "bad")
    _ = FileManager.default.createFile(atPath: empty, contents: Data())
    let notes = try Self.path("notes.txt", in: "bad")
    try "hello\nworld\n".write(toFile: notes, atomically: true, encoding: .utf8)
    let missing = try Self.path("missing.jsonl", in: "bad")
    let out = try Self.path("never.csv", in: "bad")
    for path in [empty, notes, missing] {
      let r = try CLI.run(["export", path, "--csv", out])
      #expect(r.status != 0)
      let lines = r.stderr.split(separator: "\n")
      #expect(lines.count == 1, "\(r.stderr)")
      #expect(r.stderr.contains(path), "\(r.stderr)")
      #expect(!FileManager.default.fileExists(atPath: out))
    }
    let noOutput = try CLI.run(["export", notes])
    #expect(noOutput.status != 0)
    let badTheme = try CLI.run(["export", notes, "--svg", out, "--theme", "pink"])
    #expect(badTheme.status != 0)
  }

  /// Training that raises inside `with RunLog(...)` still ends the log: failed (with the
  /// exception), or stopped for Ctrl-C, so compare and follow do not wait for it.
  @Test func pythonHelperEndsTheLogWhenTrainingRaises() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { return }
    let integrations = Self.repository.appendingPathComponent("integrations").path
    for (exception, status) in [
      ("RuntimeError('out of memory')", "failed"), ("KeyboardInterrupt()", "stopped"),
    ] {
      let log = try Self.path("raises-\(status).jsonl", in: "python")
      try? FileManager.default.removeItem(atPath: log)
      let python = Process()
      python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
      python.arguments = [
        "-c",
        """
        import sys; sys.path.insert(0, '\(integrations)')
        from cptui_log import RunLog
        with RunLog('\(log)', run_name='crashy', datasets=['D0'], config={'name': 'crashy'}) as log:
            log.stage_start(1, dataset='D0', steps=10, lr_max=1e-3, lr_min=1e-4)
            log.eval(stage=1, step=5, tokens=50, losses={'D0': 3.0})
            raise \(exception)
        """,
      ]
      python.standardError = FileHandle.nullDevice
      try python.run()
      python.waitUntilExit()
      #expect(python.terminationStatus != 0, "the exception still ends the script")
      let last = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last ?? ""
      #expect(last.contains("\"runEnd\"") && last.contains("\"\(status)\""), "\(last)")
      let compare = try CLI.run(["compare", log])
      #expect(compare.stdout.contains("[\(status)]"), "\(compare.stdout)")
    }
  }

  /// The Python helper's log: cptui reads it (compare, export), its odd run name is escaped, and the
  /// lines satisfy docs/runlog.schema.json when jsonschema is installed.
  @Test func pythonHelperWritesLogsCptuiReads() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { return }
    let log = try Self.path("python.jsonl", in: "python")
    try? FileManager.default.removeItem(atPath: log)
    let script = Self.repository.appendingPathComponent("integrations/example_write.py").path
    let python = Process()
    python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    python.arguments = [script, log, "--nan"]
    try python.run()
    python.waitUntilExit()
    try #require(python.terminationStatus == 0)

    let compare = try CLI.run(["compare", log])
    #expect(compare.status == 0, "\(compare.stderr)")
    #expect(compare.stdout.contains("python <helper> & co"), "\(compare.stdout)")
    // The helper logs one NaN evaluation on purpose (--nan): compare says so, and nothing else.
    #expect(
      compare.stderr == "cptui: \(log): german was NaN or infinite in 1 evaluation; "
        + "final losses use the finite ones\n", "\(compare.stderr)")

    let csv = try CLI.run(["export", log, "--csv", "-"])
    #expect(csv.status == 0)
    let rows = parseCSV(csv.stdout)
    #expect(rows.count == 1 + 11)
    #expect(rows[0].suffix(2) == ["english", "german"])
    #expect(rows.contains { $0.last == "NaN" })
    let evals = try Self.evaluations(log)
    for (row, e) in zip(rows.dropFirst(), evals) {
      let value = try #require(Double(row[7]))
      #expect(value == e.losses["english"])
    }

    let svg = try CLI.run(["export", log, "--svg", "-"])
    #expect(svg.status == 0)
    #expect(Self.svgPaths(svg.stdout) == 2)
    #expect(svg.stdout.contains("python &lt;helper&gt; &amp; co"))

    let check = Process()
    check.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    check.arguments = ["-c", "import jsonschema"]
    check.standardError = FileHandle.nullDevice
    try check.run()
    check.waitUntilExit()
    guard check.terminationStatus == 0 else { return }
    let validate = Process()
    validate.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    validate.arguments = [
      Self.repository.appendingPathComponent("integrations/validate_log.py").path, log,
    ]
    validate.standardOutput = FileHandle.nullDevice
    try validate.run()
    validate.waitUntilExit()
    #expect(validate.terminationStatus == 0)
  }
}
