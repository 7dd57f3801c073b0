import Foundation
import Testing

/// `cptui sweep` and `cptui compare` on the tiny preset.
struct SweepCLITests {
  @Test func sweepOverReplaySharesPrintsTheTableAndSkipsDoneRuns() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-sweep-\(getpid())")
    let env = ["CPTUI_CACHE": folder.appendingPathComponent("cache").path]
    let out = folder.appendingPathComponent("logs").path
    let args = [
      "sweep", "tiny", "--grid", "stage2.replay=0,5,25", "--union", "union-tiny", "--out", out,
      "--threads", "1", "--set", "defaults.steps=60", "--quiet",
    ]
    let first = try CLI.run(args, environment: env)
    #expect(first.status == 0, "\(first.stderr)")
    // tiny's stages are 60 steps each here, union-tiny's one stage 80: said, not hidden.
    #expect(
      first.stderr.contains("the union baseline trains 10240 tokens, the runs 15360"),
      "\(first.stderr)")
    let lines = first.stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 5, "\(first.stdout)")
    #expect(
      lines[0].contains("forgetting") && lines[0].contains("adaptation")
        && lines[0].contains("Δunion"))
    #expect(
      lines[1].contains("replay 0%") && lines[2].contains("replay 5%")
        && lines[3].contains("replay 25%"))
    #expect(lines[4].hasPrefix("union-tiny"))
    // A * marks each column's lowest value among the non-union runs, Δunion included.
    let cells = lines.dropFirst().map { $0.split(separator: " ").suffix(6).map(String.init) }
    for column in 0..<6 {
      let values = cells.prefix(3).map {
        Double($0[column].replacingOccurrences(of: "*", with: ""))
      }
      let lowest = values.compactMap { $0 }.min()
      for (row, value) in values.enumerated() {
        #expect(
          cells[row][column].hasSuffix("*") == (value == lowest),
          "column \(column): \(first.stdout)")
      }
      #expect(!cells[3][column].hasSuffix("*"), "the union row is never best")
    }
    let logs = try FileManager.default.contentsOfDirectory(atPath: out).filter {
      $0.hasSuffix(".jsonl")
    }
    #expect(logs.count == 4)
    #expect(FileManager.default.fileExists(atPath: out + "/summary.csv"))

    // Run again: every run is complete, nothing is trained, the table is the same.
    var again = args
    again.removeLast()
    let second = try CLI.run(again, environment: env)
    #expect(second.status == 0)
    #expect(second.stdout == first.stdout)
    #expect(
      second.stderr.components(separatedBy: "done, skipped").count - 1 == 4, "\(second.stderr)")
    // The same sweep with another config: its logs are not taken for this one's.
    let changed = try CLI.run(
      again.map { $0 == "defaults.steps=60" ? "defaults.steps=50" : $0 }, environment: env)
    #expect(changed.status == 1, "\(changed)")
    #expect(
      changed.stderr.contains("this log was made with another config than the sweep's")
        && changed.stderr.contains("stages.1.steps 60 → 50"), "\(changed.stderr)")

    // compare on the same logs prints the same numbers (rows in file order).
    let compare = try CLI.run(["compare", out, "--csv", "-"], environment: env)
    #expect(compare.status == 0, "\(compare.stderr)")
    let csv = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8)
    #expect(Set(compare.stdout.split(separator: "\n")) == Set(csv.split(separator: "\n")))

    // A log cut before its first checkpoint cannot be resumed: the run starts over and its old
    // log is kept beside it; the table comes out the same (same config, same seed).
    let cut = out + "/tiny__stage2.replay=5.jsonl"
    let head = try String(contentsOfFile: cut, encoding: .utf8).split(separator: "\n").prefix(3)
    try (head.joined(separator: "\n") + "\n").write(toFile: cut, atomically: true, encoding: .utf8)
    let restarted = try CLI.run(again, environment: env)
    #expect(restarted.status == 0, "\(restarted.stderr)")
    #expect(restarted.stderr.contains("starting it over"), "\(restarted.stderr)")
    #expect(FileManager.default.fileExists(atPath: cut + ".abandoned"))
    #expect(restarted.stdout == first.stdout)
    // A log cut after a checkpoint is resumed from it, and says so; the table is the same.
    let logLines = try String(contentsOfFile: cut, encoding: .utf8).split(separator: "\n")
    let checkpoint = try #require(logLines.firstIndex { $0.contains(#""type":"checkpoint""#) })
    try (logLines.prefix(checkpoint + 1).joined(separator: "\n") + "\n").write(
      toFile: cut, atomically: true, encoding: .utf8)
    let resumed = try CLI.run(again, environment: env)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(
      resumed.stderr.contains(
        "tiny__stage2.replay=5.jsonl: unfinished; resuming it from its checkpoint at step "),
      "\(resumed.stderr)")
    #expect(resumed.stdout == first.stdout)
    // A file that is not a run log is never overwritten.
    let notes = out + "/tiny__stage2.replay=25.jsonl"
    try "my notes\n".write(toFile: notes, atomically: true, encoding: .utf8)
    let refused = try CLI.run(again, environment: env)
    #expect(refused.status == 1 && refused.stderr.contains("not a run log"), "\(refused.stderr)")
    #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes\n")
  }

  @Test func aSweepFileRunsItsGridWithAUnionRunPerSeed() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-sweepfile-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let env = ["CPTUI_CACHE": folder.appendingPathComponent("cache").path]
    let file = folder.appendingPathComponent("replay-tiny.yaml").path
    try """
    preset: tiny
    set: {defaults.steps: 20}
    seeds: [1, 2]
    grid:
      stage2.replay: [0, 25]
    union: {preset: union-tiny, set: {stages.1.steps: 40}}
    out: \(folder.appendingPathComponent("from-file").path)
    """.write(toFile: file, atomically: true, encoding: .utf8)
    // A --grid axis replaces the file's axis of the same key; --out replaces its out.
    let out = folder.appendingPathComponent("logs").path
    let r = try CLI.run(
      ["sweep", file, "--grid", "stage2.replay=0,5", "--out", out, "--threads", "1", "--quiet"],
      environment: env)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(!r.stderr.contains("one union baseline"), "\(r.stderr)")
    let logs = try FileManager.default.contentsOfDirectory(atPath: out).filter {
      $0.hasSuffix(".jsonl")
    }
    #expect(
      Set(logs) == [
        "tiny__seed=1__stage2.replay=0.jsonl", "tiny__seed=1__stage2.replay=5.jsonl",
        "tiny__seed=2__stage2.replay=0.jsonl", "tiny__seed=2__stage2.replay=5.jsonl",
        "union-tiny__seed=1.jsonl", "union-tiny__seed=2.jsonl",
      ], "\(logs)")
    #expect(
      !FileManager.default.fileExists(atPath: folder.appendingPathComponent("from-file").path))
    // A seed axis on the command line keeps one union run: said.
    let gridSeeds = try CLI.run(
      [
        "sweep", "tiny", "--grid", "seed=1,2", "--set", "defaults.steps=2", "--union",
        "union-tiny", "--union-set", "stages.1.steps=4", "--out",
        folder.appendingPathComponent("grid-seeds").path, "--threads", "1", "--quiet",
      ], environment: env)
    #expect(gridSeeds.status == 0, "\(gridSeeds.stderr)")
    #expect(
      gridSeeds.stderr.contains("note: one union baseline for runs of 2 seeds"),
      "\(gridSeeds.stderr)")
    // compare says it too: seed 2's run has only seed 1's union.
    let gridCompare = try CLI.run(
      ["compare", folder.appendingPathComponent("grid-seeds").path], environment: env)
    #expect(gridCompare.status == 0, "\(gridCompare.stderr)")
    #expect(
      gridCompare.stderr.contains("this union baseline has seed 1, but")
        && gridCompare.stderr.contains("tiny__seed=2.jsonl of seed 2 had none of their own"),
      "\(gridCompare.stderr)")
    // Each run is measured against the union run of its own seed.
    let csv = try CLI.run(["compare", out, "--csv", "-"], environment: env)
    #expect(csv.status == 0, "\(csv.stderr)")
    #expect(!csv.stderr.contains("this union baseline has seed"), "\(csv.stderr)")
    let rows = csv.stdout.split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    let header = try #require(rows.first)
    let avg = try #require(header.firstIndex(of: "avg"))
    let delta = try #require(header.firstIndex(of: "delta_union"))
    func row(_ text: String) -> [String]? { rows.first { $0[0].contains(text) } }
    for seed in ["1", "2"] {
      let run = try #require(row("tiny__seed=\(seed)__stage2.replay=0"), "\(csv.stdout)")
      let union = try #require(row("union-tiny__seed=\(seed)"), "\(csv.stdout)")
      let expected = try #require(Double(run[avg])) - (try #require(Double(union[avg])))
      #expect(abs(try #require(Double(run[delta])) - expected) < 1e-9, "\(csv.stdout)")
    }
  }

  /// A run that did not complete is marked in the table and in the CSV's status column, so a
  /// half-run never passes for a result.
  /// A mistyped name is neither a preset nor a sweep file: the message lists both kinds.
  @Test func anUnknownSweepNameListsPresetsAndSweepFiles() throws {
    let r = try CLI.run(["sweep", "warmup-strng"])
    #expect(r.status == 1, "\(r)")
    #expect(r.stderr.contains(#"no preset or sweep file named "warmup-strng""#), "\(r.stderr)")
    #expect(r.stderr.contains("sweep files: ") && r.stderr.contains("warmup-strong"), "\(r.stderr)")
  }

  /// A file holding two runs (a script appended a new run to an old log) is read from its last
  /// header on, as `follow` reads it, and says so; before, both runs' evaluations were blended.
  @Test func aFileOfTwoRunsIsReadAsItsLastRun() throws {
    let folder = try CLI.temporaryFolder("two-runs")
    defer { try? FileManager.default.removeItem(at: folder) }
    let first = try String(contentsOfFile: ReplayScreenTests.sample5, encoding: .utf8)
    let second = try String(contentsOfFile: ReplayScreenTests.sample, encoding: .utf8)
    let both = folder.appendingPathComponent("both.jsonl").path
    try (first + second).write(toFile: both, atomically: true, encoding: .utf8)
    let alone = try CLI.run(["compare", ReplayScreenTests.sample, "--csv", "-"])
    let joined = try CLI.run(["compare", both, "--csv", "-"])
    #expect(joined.status == 0, "\(joined.stderr)")
    func numbers(_ csv: String) -> [String] {
      csv.split(separator: "\n").last!.split(separator: ",").dropFirst(3).map(String.init)
    }
    #expect(numbers(joined.stdout) == numbers(alone.stdout), "\(joined.stdout)")
    let text = try CLI.run(["compare", both])
    #expect(text.stderr.contains("both.jsonl: holds 2 runs"), "\(text.stderr)")
    let csv = try CLI.run(["export", both, "--csv", "-"])
    let exported = try CLI.run(["export", ReplayScreenTests.sample, "--csv", "-"])
    #expect(
      csv.stdout.split(separator: "\n").count == exported.stdout.split(separator: "\n").count)
  }

  @Test func compareMarksRunsThatDidNotComplete() throws {
    let sample = ReplayScreenTests.sample
    let lines = try String(contentsOfFile: sample, encoding: .utf8).split(separator: "\n")
    #expect(lines.last?.contains("\"runEnd\"") == true)
    let folder = try CLI.temporaryFolder("compare-status")
    defer { try? FileManager.default.removeItem(at: folder) }
    func write(_ name: String, _ body: [Substring]) throws -> String {
      let path = folder.appendingPathComponent(name).path
      try (body.joined(separator: "\n") + "\n").write(
        toFile: path, atomically: true, encoding: .utf8)
      return path
    }
    let done = try write("a-done.jsonl", lines)
    // Cut before the last stage's end: training; cut before the run end only: between stages.
    let lastStageEnd = try #require(lines.lastIndex { $0.contains("\"stageEnd\"") })
    let running = try write("b-running.jsonl", Array(lines[..<lastStageEnd]))
    let waiting = try write("d-waiting.jsonl", lines.dropLast())
    // At the stage panel after stage 1 of 2: not final, so not waiting either.
    let firstStageEnd = try #require(lines.firstIndex { $0.contains("\"stageEnd\"") })
    let panel = try write("e-panel.jsonl", Array(lines[...firstStageEnd]))
    let stopped = try write(
      "c-stopped.jsonl",
      lines.dropLast() + [
        Substring(lines.last!.replacingOccurrences(of: "\"completed\"", with: "\"stopped\""))
      ])
    let text = try CLI.run(["compare", done, running, stopped, waiting])
    #expect(text.status == 0, "\(text.stderr)")
    let rows = text.stdout.split(separator: "\n").dropFirst()
    #expect(rows.count == 4)
    #expect(rows.filter { $0.contains("[unfinished]") }.count == 1, "\(text.stdout)")
    #expect(rows.filter { $0.contains("[stopped]") }.count == 1, "\(text.stdout)")
    #expect(rows.filter { $0.contains("[waiting]") }.count == 1, "\(text.stdout)")
    #expect(rows.filter { $0.contains("[") }.count == 3, "\(text.stdout)")
    // Only runs whose measures are final are marked best: the completed and the waiting one
    // (the same numbers), not the stopped copy of them nor the one still training.
    let starred = rows.filter { $0.contains("*") }
    #expect(starred.count == 2, "\(text.stdout)")
    #expect(starred.allSatisfy { !$0.contains("[stopped]") && !$0.contains("[unfinished]") })

    let csv = try CLI.run(["compare", done, running, stopped, waiting, panel, "--csv", "-"])
    let table = csv.stdout.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
    #expect(table.first?.last == "status")
    let statuses = Dictionary(
      uniqueKeysWithValues: table.dropFirst().map {
        (URL(fileURLWithPath: $0[0]).lastPathComponent, $0.last!)
      })
    #expect(
      statuses == [
        "a-done.jsonl": "completed", "b-running.jsonl": "unfinished", "c-stopped.jsonl": "stopped",
        "d-waiting.jsonl": "waiting", "e-panel.jsonl": "unfinished",
      ], "\(csv.stdout)")
  }

  /// Run names in wide characters keep the columns aligned (padding counts display columns), and
  /// long names that differ at their ends stay apart (cut in the middle).
  @Test func wideAndLongNamesKeepTheTableAligned() throws {
    let folder = try CLI.temporaryFolder("wide-names")
    defer { try? FileManager.default.removeItem(at: folder) }
    let sample = try String(contentsOfFile: ReplayScreenTests.sample, encoding: .utf8)
    let long = String(repeating: "very-long-experiment-name-", count: 4)
    var paths: [String] = []
    for (file, name) in [("a", "日本語の実験🚀"), ("b", long + "A"), ("c", long + "B")] {
      let path = folder.appendingPathComponent("\(file).jsonl").path
      try sample.replacingOccurrences(
        of: "\"runName\":\"strong-shift\"", with: "\"runName\":\"\(name)\""
      )
      .write(toFile: path, atomically: true, encoding: .utf8)
      paths.append(path)
    }
    let r = try CLI.run(["compare"] + paths)
    #expect(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n")
    // Display columns (CJK and emoji take two; every other character here takes one).
    func columns(_ line: Substring) -> Int {
      line.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x2E80 ? 2 : 1) }
    }
    #expect(Set(lines.map(columns)).count == 1, "\(r.stdout)")
    #expect(lines.contains { $0.contains("…") && $0.contains("-A (") })
    #expect(lines.contains { $0.contains("…") && $0.contains("-B (") })
  }

  /// A union baseline of another experiment gives no Δunion, and compare says why.
  @Test func aUnionOfOtherDatasetsIsNamedNotSilentlyUnused() throws {
    let weakUnion = ReplayScreenTests.samples + "/../weak-shift/union-weak-shift.jsonl"
    let r = try CLI.run(["compare", ReplayScreenTests.sample, "--union", weakUnion])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(
      r.stderr.contains(
        "union-weak-shift.jsonl: this union baseline differs in datasets from "
          + "\(ReplayScreenTests.sample)"), "\(r.stderr)")
    let own = try CLI.run(["compare", ReplayScreenTests.samples])
    #expect(own.status == 0 && !own.stderr.contains("differs in"), "\(own.stderr)")
    // A union measured on other validation windows is no baseline either (it gave Δunion −0.095
    // to a run measured on spread windows against one measured on the first windows).
    let spreadRun =
      ReplayScreenTests.samples
      + "/../replay-order/strong-shift__stage2.replay=25__stage2.replayOrder=spread.jsonl"
    let firstUnion = ReplayScreenTests.samples + "/union-strong-shift.jsonl"
    let mixed = try CLI.run(["compare", spreadRun, firstUnion])
    #expect(mixed.status == 0, "\(mixed.stderr)")
    #expect(mixed.stderr.contains("differs in validation sampling"), "\(mixed.stderr)")
    #expect(!mixed.stdout.contains("-0.095"), "\(mixed.stdout)")
    // Runs evaluated on D0 alone have no baseline in a four-domain union (−0.143 before).
    let root = ReplayScreenTests.samples + "/.."
    let noShift = try CLI.run([
      "compare", root + "/no-shift", root + "/domains/union-domain-incremental.jsonl",
    ])
    #expect(noShift.stderr.contains("differs in datasets"), "\(noShift.stderr)")
    #expect(!noShift.stdout.contains("-0.1"), "\(noShift.stdout)")
    // Two folders of one experiment: alike rows are named by folder and file; the validation
    // sampling that sets them apart is in the labels; D1 of two experiments is named as such.
    let folders = try CLI.run(["compare", root + "/strong-shift", root + "/replay-order"])
    #expect(
      folders.stdout.contains("strong-shift/union-strong-shift")
        && folders.stdout.contains("replay-order/union-strong-shift")
        && folders.stdout.contains("validation spread windows"), "\(folders.stdout)")
    // Labels too long for the name column leave out whole parts, those most rows share first:
    // no word cut in two, and the part that sets the two replay orders apart stays.
    let long = try CLI.run(
      ["compare", root + "/no-shift", root + "/replay-order"], environment: ["LC_ALL": "C.UTF-8"])
    let names = long.stdout.split(separator: "\n").dropFirst().map { String($0.prefix(80)) }
    #expect(names.count == 7, "\(long.stdout)")
    #expect(
      names.contains { $0.contains("…") }
        && names.allSatisfy {
          !$0.contains("…") || $0.contains(" · … ") || $0.contains("(… · ")
        }, "\(long.stdout)")
    #expect(
      long.stdout.contains("replay order sequential")
        && long.stdout.contains("replay order spread")
        && long.stdout.contains("infinite inverse-sqrt +anneal"), "\(long.stdout)")
    let shifts = try CLI.run(["compare", root + "/strong-shift", root + "/weak-shift"])
    #expect(shifts.stderr.contains("D1 is other data in some of these runs"), "\(shifts.stderr)")
    // The unions' mixtures differ too, but `union` is trained on, never a column.
    #expect(!shifts.stderr.contains("union is other data"), "\(shifts.stderr)")
  }

  /// --set applies to the runs only: a union left measured another way is named before training,
  /// with the --union-set that fixes it, and the table's notice says why Δunion is empty.
  @Test func aUnionMeasuredAnotherWayIsNamedBeforeTraining() throws {
    let folder = try CLI.temporaryFolder("sweep-union-sample")
    defer { try? FileManager.default.removeItem(at: folder) }
    let r = try CLI.run(
      [
        "sweep", "tiny", "--grid", "stage2.replay=0", "--union", "union-tiny", "--set",
        "evaluation.sample=spread", "--threads", "1", "--set", "defaults.steps=30", "--quiet",
        "--out", folder.path,
      ], environment: ["CPTUI_CACHE": folder.appendingPathComponent("cache").path])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("--union-set evaluation.sample=spread"), "\(r.stderr)")
    #expect(r.stderr.contains("gives them no Δunion"), "\(r.stderr)")
  }

  /// An --average larger than the evaluations in a stage's last fifth is honoured only that far,
  /// and compare says so (it was silent).
  @Test func anAverageBeyondTheLastFifthIsNamed() throws {
    let samples = ReplayScreenTests.samples
    let wide = try CLI.run(["compare", samples, "--average", "1000"])
    #expect(wide.status == 0, "\(wide.stderr)")
    #expect(
      wide.stderr.contains("--average 1000: ")
        && wide.stderr.contains("runs have fewer evaluations"),
      "\(wide.stderr)")
    let usual = try CLI.run(["compare", samples, "--average", "3"])
    #expect(usual.status == 0 && usual.stderr.isEmpty, "\(usual.stderr)")
  }

  @Test func compareRejectsMissingAndEmptyInput() throws {
    let missing = try CLI.run(["compare", "/nonexistent.jsonl"])
    #expect(missing.status != 0 && missing.stderr.contains("/nonexistent.jsonl"))
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-compare-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let empty = folder.appendingPathComponent("empty.jsonl").path
    try Data().write(to: URL(fileURLWithPath: empty))
    let r = try CLI.run(["compare", empty])
    #expect(r.status != 0)
    #expect(r.stderr.contains(empty), "\(r.stderr)")
    // In a folder, an empty log is skipped with a notice and the others are compared; a folder of
    // nothing but empty logs is still an error.
    let onlyEmpty = try CLI.run(["compare", folder.path])
    #expect(onlyEmpty.status != 0 && onlyEmpty.stderr.contains("empty"), "\(onlyEmpty.stderr)")
    try FileManager.default.copyItem(
      atPath: ReplayScreenTests.sample, toPath: folder.appendingPathComponent("good.jsonl").path)
    // Binary junk in the folder is skipped the same way, by compare, replay and export alike.
    try Data([0x00, 0xFF, 0x13, 0x37, 0x0A, 0x80, 0x81, 0x0A]).write(
      to: folder.appendingPathComponent("junk.jsonl"))
    let mixed = try CLI.run(["compare", folder.path])
    #expect(mixed.status == 0, "\(mixed.stderr)")
    #expect(
      mixed.stderr.contains("empty.jsonl: empty file, not a run log, skipped"), "\(mixed.stderr)")
    #expect(
      mixed.stderr.contains("junk.jsonl: not a cptui run log (line 1:")
        && mixed.stderr.contains(", skipped"), "\(mixed.stderr)")
    #expect(mixed.stdout.split(separator: "\n").count == 2, "\(mixed.stdout)")
    let exported = try CLI.run(["export", folder.path, "--csv", "-"])
    #expect(exported.status == 0 && exported.stderr.contains("junk.jsonl"), "\(exported)")
    // A log from a newer cptui is read as far as it is understood, with a warning.
    let newer = folder.appendingPathComponent("newer.jsonl")
    try String(contentsOfFile: ReplayScreenTests.sample, encoding: .utf8)
      .replacingOccurrences(of: "\"schemaVersion\":1,", with: "\"schemaVersion\":99,")
      .write(to: newer, atomically: true, encoding: .utf8)
    for command in ["compare", "export"] {
      let r = try CLI.run([command, newer.path] + (command == "export" ? ["--csv", "-"] : []))
      #expect(r.status == 0, "\(r.stderr)")
      #expect(
        r.stderr.contains("newer.jsonl: schema version 99 is newer than this cptui reads"),
        "\(command): \(r.stderr)")
    }
    // A glob that matches folders reads the logs in them.
    let globbed = try CLI.run(["compare", ReplayScreenTests.samples + "/../*/"])
    #expect(globbed.status == 0, "\(globbed.stderr)")
    #expect(globbed.stdout.split(separator: "\n").count > 10, "\(globbed.stdout)")
  }

  /// A run that fails before it starts training (here: a dataset folder with no text, found when
  /// the data is prepared, after the log was opened) leaves no empty log behind.
  @Test func aRunThatFailsBeforeTrainingLeavesNoLog() throws {
    let folder = try CLI.temporaryFolder("no-empty-log")
    defer { try? FileManager.default.removeItem(at: folder) }
    let log = folder.appendingPathComponent("r.jsonl").path
    let noText = folder.appendingPathComponent("no-text").path
    try FileManager.default.createDirectory(atPath: noText, withIntermediateDirectories: true)
    let r = try CLI.run(
      [
        "run", "tiny", "--quiet", "--threads", "1", "--set", "datasets.D1={files: [\(noText)/]}",
        "--out", log,
      ],
      environment: ["CPTUI_CACHE": folder.appendingPathComponent("cache").path])
    #expect(r.status != 0 && r.stderr.contains("no usable text"), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: log), "\(r.stderr)")
  }
}

/// A grid value the config refuses is named where it was given: `--grid`, or the sweep file's line.
struct SweepGridErrorTests {
  @Test func gridErrorsNameWhereTheValueWasGiven() throws {
    let folder = try CLI.temporaryFolder("grid-errors")
    defer { try? FileManager.default.removeItem(at: folder) }
    let typo = folder.appendingPathComponent("typo.yaml").path
    try "preset: tiny\ngrid:\n  stage2.replya: [0, 5]\n".write(
      toFile: typo, atomically: true, encoding: .utf8)
    let empty = folder.appendingPathComponent("empty.yaml").path
    try "preset: tiny\ngrid:\n  stage2.replay: []\n".write(
      toFile: empty, atomically: true, encoding: .utf8)
    // The file's own overrides, preset and union are named by their lines too (they read as a
    // `--set` nobody typed, or named no file at all).
    func file(_ name: String, _ text: String) throws -> String {
      let path = folder.appendingPathComponent(name).path
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }
    let set = try file(
      "set.yaml", "preset: tiny\nset: {stages.2.replay: 500}\ngrid:\n  seed: [1]\n")
    let preset = try file("preset.yaml", "preset: nosuch\ngrid:\n  seed: [1]\n")
    let union = try file("union.yaml", "preset: tiny\nunion: nosuch\ngrid:\n  seed: [1]\n")
    // The same override in `set` and `union.set`: each list's error names its own line.
    let both = try file(
      "both.yaml",
      "preset: tiny\nset: {stages.3.replay: 5}\nunion: {preset: union-tiny, set: {stages.3.replay: 5}}"
        + "\ngrid:\n  seed: [1]\n")
    let out = folder.appendingPathComponent("out").path
    let cases: [([String], String)] = [
      (["sweep", both, "--out", out], "\(both):2:24: set stages.3.replay=5: "),
      (
        [
          "sweep", "tiny", "--grid", "seed=1", "--union", "union-tiny", "--union-set",
          "stages.2.replay=5", "--out", out,
        ],
        "--union-set stages.2.replay=5: "
      ),
      (
        ["sweep", "tiny", "--grid", "stage2.replay=0,150", "--out", out],
        "--grid stage2.replay=150: "
      ),
      (["sweep", set, "--out", out], "\(set):2:24: set stages.2.replay=500: stages.2.replay: "),
      (["sweep", preset, "--out", out], "\(preset):1:9: preset: no preset named \"nosuch\""),
      (["sweep", union, "--out", out], "\(union):2:8: union: no preset named \"nosuch\""),
      (["sweep", typo, "--out", out], "\(typo):3:18: grid value stage2.replya=0: "),
      (["sweep", empty, "--out", out], "\(empty):3:18: stage2.replay: needs at least one value"),
      (["sweep", "tiny", "--grid", "stage2.replay=0,0", "--out", out], "0 is given twice"),
      (
        [
          "sweep", "tiny", "--grid", "stage2.replay=0,5", "--grid", "stages.2.replay=1", "--out",
          out,
        ],
        "--grid stages.2.replay=1: --grid stage2.replay=0,5 is the same key"
      ),
      // Values that read alike train one config twice; names a file cannot tell apart share a
      // log (found only after the first had trained).
      (
        ["sweep", "tiny", "--grid", "stage2.replay=25,25%", "--out", out],
        "--grid: stage2.replay=25 and stage2.replay=25% give the same config"
      ),
      (
        ["sweep", "tiny", "--grid", "stage2.lrMax=1e-2,0.01", "--out", out],
        "--grid: stage2.lrMax=1e-2 and stage2.lrMax=0.01 give the same config"
      ),
      (
        ["sweep", "tiny", "--grid", "stage2.name=a b,a/b", "--out", out],
        "--grid: stage2.name=a b and stage2.name=a/b would share one log, tiny__stage2.name=a_b.jsonl"
      ),
    ]
    for (arguments, expected) in cases {
      let r = try CLI.run(arguments)
      #expect(r.status != 0, "\(arguments)")
      let first = r.stderr.split(separator: "\n").first ?? ""
      #expect(first.contains(expected) && !first.contains("--set"), "\(arguments): \(r.stderr)")
      // Refused before anything was made: no empty --out folder left behind.
      #expect(!FileManager.default.fileExists(atPath: out), "\(arguments)")
    }
  }
}

/// A mistyped command is named as such, not read as a config for the live screen.
struct CommandTypoTests {
  @Test(arguments: [
    ("runn", "run"), ("compar", "compare"), ("replya", "replay"), ("RUN", "run"),
    ("sweeep", "sweep"),
  ])
  func aMistypedCommandIsSuggested(typed: String, meant: String) throws {
    let r = try CLI.run([typed, "tiny"])
    #expect(r.status == 64)
    #expect(
      r.stderr.contains("unknown command '\(typed)' (did you mean '\(meant)'?)"), "\(r.stderr)")
  }
}

/// Output paths that cannot be written and option values that make no sense: one line naming the
/// path or option and what is wrong with it (no Foundation error dump), a non-zero exit.
struct OutputPathErrorTests {
  @Test func unwritableOutputsAndBadOptionsSayWhatIsWrong() throws {
    let base = try CLI.temporaryFolder("out-errors")
    let folder = base.appendingPathComponent("dir").path
    let file = base.appendingPathComponent("file").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try Data().write(to: URL(fileURLWithPath: file))
    defer { try? FileManager.default.removeItem(at: base) }
    let samples = ReplayScreenTests.samples
    let env = ["CPTUI_CACHE": base.appendingPathComponent("cache").path]
    let cases: [([String], String)] = [
      (["run", "tiny", "--quiet", "--out", file + "/x.jsonl"], "a file is in the way"),
      (["run", "tiny", "--quiet", "--out", folder], "is a folder"),
      (["sweep", "tiny", "--grid", "stage2.replay=0", "--out", file], "a file is in the way"),
      (["compare", samples, "--csv", folder], "cannot write \(folder): it is a folder"),
      (["export", samples, "--svg", folder], "cannot write \(folder): it is a folder"),
      (["compare", samples, "--sort", "bogus"], "--sort bogus: not a column"),
      (["compare", samples, "--average", "0"], "--average must be 1 or more"),
      // A negative number is a value, not an option ("Missing value for '--average'" before).
      (["compare", samples, "--average", "-1"], "--average must be 1 or more, got -1"),
      (["run", "tiny", "--threads", "-2"], "--threads must be positive, got -2"),
      (
        ["eval", "--checkpoint", "x", "--tokens", "y", "--batch", "0"], "--batch must be 1 to 4096"
      ),
      // Sizes past any use are refused before they overflow or run for hours.
      (
        ["eval", "--checkpoint", "x", "--tokens", "y", "--batch", "9223372036854775807"],
        "--batch must be 1 to 4096"
      ),
      (["schedule", "tiny", "--rows", "0"], "--rows must be 2 to 100000"),
      (["schedule", "tiny", "--width", "5"], "--width must be 20 to 1000"),
      (["schedule", "tiny", "--height", "9223372036854775807"], "--height must be 4 to 500"),
      (["bench", "--warmup", "-1"], "--warmup must be 0 to 1000000, got -1"),
      (["bench", "--batch", "9223372036854775807"], "--batch must be 1 to 4096"),
    ]
    // A config error is exit status 1 for every command that reads configs.
    for command in ["run", "schedule", "sweep"] {
      let r = try CLI.run([command, "tiny", "--set", "stages.1.dataset=nope"], environment: env)
      #expect(r.status == 1 && r.stderr.contains("unknown dataset"), "\(command): \(r.stderr)")
      // A misspelled built-in dataset too (schedule took it before).
      let typo = try CLI.run(
        [command, "tiny", "--set", "datasets.D1=synthetc-de"], environment: env)
      #expect(
        typo.status == 1 && typo.stderr.contains("did you mean \"synthetic-de\""),
        "\(command): \(typo.stderr)")
    }
    for (arguments, expected) in cases {
      let r = try CLI.run(arguments, environment: env)
      #expect(r.status != 0, "\(arguments)")
      #expect(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
      #expect(!r.stderr.contains("NSCocoaErrorDomain"), "\(arguments): \(r.stderr)")
    }
  }

  /// Messages name what the user wrote: the override that made a model too big, own text by its
  /// path (not its cache name), a file of blank lines as no text, a cache path under a file.
  @Test func messagesNameWhatTheUserWrote() throws {
    let base = try CLI.temporaryFolder("messages")
    defer { try? FileManager.default.removeItem(at: base) }
    let cache = base.appendingPathComponent("cache").path
    let blank = base.appendingPathComponent("blank.txt").path
    let short = base.appendingPathComponent("short.txt").path
    try "\n\n   \n".write(toFile: blank, atomically: true, encoding: .utf8)
    try "just a short line\n".write(toFile: short, atomically: true, encoding: .utf8)
    let file = base.appendingPathComponent("file").path
    try "x".write(toFile: file, atomically: true, encoding: .utf8)
    let cases: [([String], [String: String], String)] = [
      (
        ["schedule", "tiny", "--set", "batchSize=1000000000"], [:],
        "--set batchSize=1000000000: batchSize:"
      ),
      (
        ["schedule", "tiny", "--set", "model.layers=100000"], [:],
        "--set model.layers=100000: model.layers: this model has about 1."
      ),
      (["data", "info", blank], ["CPTUI_CACHE": cache], "no usable text in \(blank)"),
      (
        [
          "run", "tiny", "--quiet", "--set", "datasets.D1=\(short)", "--out",
          base.path + "/s.jsonl",
        ],
        ["CPTUI_CACHE": cache], "dataset D1 (\(short)) is too small"
      ),
      (
        ["data", "prepare", "synthetic"], ["CPTUI_CACHE": file],
        "\(file) is a file, where a folder is needed"
      ),
    ]
    for (arguments, environment, expected) in cases {
      let r = try CLI.run(arguments, environment: environment)
      #expect(r.status == 1, "\(arguments): \(r.stderr)")
      #expect(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
    }
  }

  /// `schedule` draws a plan of billions of steps from a sample of it (it held every step's rate:
  /// 4.5 GB and growing for 1G steps a stage).
  @Test func aBillionStepPlanIsPlottedFromASample() throws {
    let r = try CLI.run(["schedule", "tiny", "--set", "defaults.steps=1G"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("2000000000 steps"), "\(r.stdout)")
  }
}
