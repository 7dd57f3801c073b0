import Foundation
import RunLog
import TestSupport
import Testing

@testable import Experiment

struct ChartExportTests {
  static func events(name: String, nanAt: Int? = nil, stages: Int = 2) -> [RunEvent] {
    var events: [RunEvent] = [
      .header(RunHeader(runName: name, startTime: "2026-11-26T00:00:00Z", datasets: ["D0", "D1"]))
    ]
    var step = 0
    for stage in 1...stages {
      events.append(
        .stageStart(
          StageStartEvent(
            stage: stage, name: stage == 1 ? "english" : "german", dataset: "D\(stage - 1)",
            steps: 100, tokens: 204_800, startStep: step, startTokens: step * 2048,
            schedule: "cosine", warmupFraction: 0.01, lrMax: 4e-3, lrMin: 4e-4,
            replayPercent: stage == 1 ? 0 : 25)))
      for _ in 0..<10 {
        step += 10
        let d0 = 2 + 3 / Double(step) + (stage == 2 ? 0.2 : 0)
        let d1 = stage == 2 ? 2.5 - Double(step) / 1000 : 6.0 + 1e-7 * Double(step)
        events.append(
          .eval(
            EvalEvent(
              stage: stage, step: step, tokens: step * 2048,
              losses: [DatasetLoss("D0", step == nanAt ? .nan : d0), DatasetLoss("D1", d1)],
              time: Double(step) * 0.1)))
      }
    }
    return events
  }

  @Test func svgIsWellFormedWithOnePathPerSeries() throws {
    let runs = [
      ExportRun(path: "a.jsonl", events: Self.events(name: "a")),
      ExportRun(path: "b.jsonl", events: Self.events(name: "b", nanAt: 100)),
      ExportRun(path: "c.jsonl", events: Self.events(name: "c", stages: 1)),
    ]
    for theme in SVGChart.Theme.allCases {
      for logY in [false, true] {
        var chart = SVGChart(runs: runs)
        chart.theme = theme
        chart.logY = logY
        let svg = chart.svg()
        let doc = try #require(SVGInspector.inspect(svg), "\(svg.prefix(400))")
        #expect(doc.root == "svg")
        #expect(doc.paths.count == 6)
        #expect(chart.series.count == 6)
        #expect(doc.paths.allSatisfy { $0.hasPrefix("M") })
        // The NaN of run b's D0 splits its path into two subpaths.
        #expect(doc.paths[2].filter { $0 == "M" }.count == 2, "\(doc.paths[2])")
        #expect(doc.paths[0].filter { $0 == "M" }.count == 1)
        let text = doc.texts.joined(separator: " ")
        #expect(text.contains("stage 2: german"))
        #expect(text.contains("tokens"))
        #expect(text.contains("last") && text.contains("min"))
      }
    }
  }

  @Test func coloursArePerRunAndDatasetsHaveLineStyles() {
    let runs = [
      ExportRun(path: "a.jsonl", events: Self.events(name: "a")),
      ExportRun(path: "b.jsonl", events: Self.events(name: "b")),
    ]
    let svg = SVGChart(runs: runs).svg()
    let pathLines = svg.split(separator: "\n").filter { $0.hasPrefix("<path") }
    #expect(pathLines.count == 4)
    let a = SVGChart.colour(run: 0, theme: .light)
    let b = SVGChart.colour(run: 1, theme: .light)
    #expect(a != b)
    #expect(pathLines[0].contains(a) && pathLines[1].contains(a))
    #expect(pathLines[2].contains(b) && pathLines[3].contains(b))
    #expect(!pathLines[0].contains("stroke-dasharray") && pathLines[1].contains("stroke-dasharray"))
    // Four domains: D0…D3 each drawn differently (D2 and D3 were both dotted).
    let styles = (0..<6).map { SVGChart.dash($0) }
    #expect(styles[0] == nil && Set(styles.compactMap { $0 }).count == 5, "\(styles)")
  }

  /// Past the eight palette colours, runs still get colours of their own (a sweep of 3 seeds × 5
  /// settings is 15 runs), on both themes; the first eight are the palette's.
  @Test func manyRunsKeepDistinctColours() {
    for theme in [SVGChart.Theme.light, .dark] {
      let colours = (0..<40).map { SVGChart.colour(run: $0, theme: theme) }
      #expect(Set(colours).count == colours.count, "\(colours)")
      #expect(colours.allSatisfy { $0.wholeMatch(of: /#[0-9a-f]{6}/) != nil }, "\(colours)")
      #expect(colours[0] == (theme == .light ? "#1f77b4" : "#6cb6ff"))
    }
    #expect(SVGChart.hexFromHSL(hue: 0, saturation: 1, lightness: 0.5) == "#ff0000")
    #expect(SVGChart.hexFromHSL(hue: 120, saturation: 1, lightness: 0.5) == "#00ff00")
    #expect(SVGChart.hexFromHSL(hue: 240, saturation: 1, lightness: 0.25) == "#000080")
  }

  @Test func aMillionPointsStaySmallAndKeepTheirExtremes() throws {
    let n = 1_000_000
    var xs = [Double](repeating: 0, count: n)
    var ys = [Double](repeating: 0, count: n)
    for i in 0..<n {
      xs[i] = Double(i) * 2048
      ys[i] = 3 + sin(Double(i) / 5000)
    }
    ys[654_321] = 9  // a spike must survive
    ys[500_000] = .nan  // and a gap
    var chart = SVGChart(
      series: [SVGChart.Series(name: "big", run: 0, datasetIndex: 0, xs: xs, ys: ys)], markers: [])
    chart.width = 800
    let svg = chart.svg()
    #expect(svg.utf8.count < 200_000, "\(svg.utf8.count) bytes")
    let doc = try #require(SVGInspector.inspect(svg))
    #expect(doc.paths.count == 1)
    #expect(doc.paths[0].filter { $0 == "M" }.count == 2)
    // The spike is the highest point: the smallest y coordinate in the path is the plot's top area.
    let ysInPath = doc.paths[0].split(whereSeparator: { $0 == "M" || $0 == "L" || $0 == " " })
      .compactMap { $0.split(separator: ",").last.flatMap { Double($0) } }
    let top = try #require(ysInPath.min())
    #expect(top < 60, "spike lost: top y \(top)")
  }

  /// Stage markers of several runs at one position share one label; the plot keeps its height
  /// however long the legend is (the picture grows instead).
  @Test func sharedMarkersAndAPlotThatKeepsItsHeight() throws {
    func series(_ k: Int) -> SVGChart.Series {
      SVGChart.Series(name: "run \(k)", run: k, datasetIndex: 0, xs: [0, 1], ys: [3, 2])
    }
    let markers = [
      SVGChart.Marker(x: 1e6, label: "stage 2: german"),
      SVGChart.Marker(x: 1e6, label: "stage 2: code"),
      SVGChart.Marker(x: 2e6, label: "stage 3: shakespeare"),
    ]
    #expect(
      SVGChart.mergedMarkers(markers).map(\.label) == ["stage 2", "stage 3: shakespeare"])
    func frameHeight(_ count: Int) throws -> String {
      let svg = SVGChart(series: (0..<count).map(series), markers: markers).svg()
      let frame = try #require(
        svg.range(of: #"class="frame"[^>]*height="[0-9.]+""#, options: .regularExpression))
      return String(svg[frame].split(separator: "height=").last ?? "")
    }
    #expect(try frameHeight(2) == frameHeight(40))
  }

  /// Runs of one experiment: the legend names them by what differs, the shared name goes to the
  /// chart (`commonName`, which export puts in the default title).
  @Test func aSharedRunNameIsSaidOnce() {
    var runs = [
      ExportRun(path: "a.jsonl", events: Self.events(name: "shift")),
      ExportRun(path: "b.jsonl", events: Self.events(name: "shift")),
    ]
    runs[0].label = "replay 0%"
    runs[1].label = "replay 25%"
    let chart = SVGChart(runs: runs)
    #expect(chart.commonName == "shift")
    #expect(chart.series.map(\.name).first == "replay 0% · D0", "\(chart.series.map(\.name))")
    #expect(SVGChart(runs: [runs[0]]).commonName == nil)
  }

  /// Legend names too long for their column are cut in the middle and never reach the values.
  @Test func longLegendNamesStayOutOfTheValues() {
    let long = String(repeating: "very-long-experiment-name-", count: 6)
    var chart = SVGChart(
      series: ["A", "B"].enumerated().map { k, end in
        SVGChart.Series(name: long + end, run: k, datasetIndex: 0, xs: [0, 1], ys: [3, 2])
      }, markers: [])
    chart.width = 600
    let svg = chart.svg()
    let names = svg.split(separator: "\n").filter {
      $0.hasPrefix("<text x=") && $0.contains("very-long")
    }
    #expect(names.count == 2 && names[0] != names[1], "\(names)")
    #expect(names.allSatisfy { $0.contains("…") })
    guard let valuesX = svg.range(of: #"<tspan x="[0-9.]+""#, options: .regularExpression) else {
      Issue.record("no values")
      return
    }
    let x = Double(svg[valuesX].dropFirst(10).dropLast()) ?? 0
    let nameChars = names[0].split(separator: ">")[1].split(separator: "<")[0].count
    #expect(64 + 36 + Double(nameChars) * 7.2 <= x, "the name ends before the values start")
  }

  @Test func reduceKeepsOrderAndBreaks() {
    let xs = (0..<100).map(Double.init)
    var ys = xs.map { sin($0) }
    ys[50] = .nan
    let out = SVGChart.reduce(xs: xs, ys: ys) { Int($0 / 10) }
    #expect(out.count <= 10 * 4 + 1)
    #expect(out.filter { $0.1.isNaN }.count == 1)
    #expect(zip(out, out.dropFirst()).allSatisfy { $0.0 <= $1.0 })
    #expect(out.contains { $0.1 == ys.filter { $0.isFinite }.max() })
    #expect(out.contains { $0.1 == ys.filter { $0.isFinite }.min() })
  }

  /// Runs that read the same (two seeds of one sweep) are named by their file, as `compare`
  /// names them: the CSV's run column and the SVG legend told them apart by colour alone.
  @Test func runsThatReadTheSameAreNamedByTheirFile() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-export-names-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var paths: [String] = []
    for seed in [1, 2] {
      let path = folder.appendingPathComponent("sweep__seed=\(seed).jsonl").path
      let writer = try RunLogWriter(path: path)
      for event in Self.events(name: "sweep") { try writer.write(event) }
      try writer.close()
      paths.append(path)
    }
    let (runs, _) = try ExportRun.load(paths: paths)
    #expect(runs.map(\.name) == ["sweep__seed=1", "sweep__seed=2"])
    let legend = try #require(SVGInspector.inspect(SVGChart(runs: runs).svg())).texts.joined()
    #expect(legend.contains("sweep__seed=1") && legend.contains("sweep__seed=2"), "\(legend)")
  }

  /// Union baselines come last, as compare and replay list them, whatever the order given (the
  /// shipped weak-shift folder sorts union-weak-shift.jsonl first).
  @Test func unionBaselinesComeLast() throws {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("sample-runs/weak-shift")
    let paths = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".jsonl") }.sorted()
      .map { folder.appendingPathComponent($0).path }
    #expect(paths.first?.hasSuffix("union-weak-shift.jsonl") == true, "\(paths)")
    let (runs, _) = try ExportRun.load(paths: paths)
    #expect(runs.count == paths.count)
    #expect(runs.last?.path.hasSuffix("union-weak-shift.jsonl") == true)
    #expect(runs.dropLast().allSatisfy { !$0.path.contains("union") }, "\(runs.map(\.path))")
  }

  @Test func logTextIsEscapedInSVGAndCSV() throws {
    let nasty = "evil\u{1}\u{1b}[31m <b>&amp; \"q\", 'x'\nnext\u{7f}"
    var events = Self.events(name: nasty)
    events.append(.note(NoteEvent(text: "ignored")))
    let runs = [ExportRun(path: "dir/we,ird \"name\".jsonl", events: events)]
    var chart = SVGChart(runs: runs)
    chart.title = "title <&>\u{0}"
    let svg = chart.svg()
    let doc = try #require(SVGInspector.inspect(svg), "\(svg)")
    #expect(!svg.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    #expect(svg.contains("&lt;b&gt;&amp;amp;"))
    #expect(doc.texts.joined().contains("<b>&amp;"))
    #expect(doc.texts.joined().contains("title <&>"))

    let csv = EvaluationCSV.csv(runs)
    #expect(!csv.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    let rows = parseCSV(csv)
    #expect(rows.count == 21)
    #expect(rows.allSatisfy { $0.count == rows[0].count })
    #expect(rows[1][0] == "evil[31m <b>&amp; \"q\", 'x' next")
    #expect(rows[1][2] == "dir/we,ird \"name\".jsonl")
  }

  /// Text a spreadsheet would run as a formula is kept as text; negative numbers stay numbers.
  @Test(arguments: ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)"])
  func formulaLikeNamesStayText(name: String) {
    #expect(ExportText.csvField(name).hasPrefix("'") || ExportText.csvField(name).hasPrefix("\"'"))
    let rows = parseCSV(
      EvaluationCSV.csv([ExportRun(path: "r.jsonl", events: Self.events(name: name))]))
    #expect(rows[1][0] == "'" + name)
    #expect(ExportText.csvField("replay 5%") == "replay 5%")
    #expect(ExportText.number(-0.25) == "-0.25")
  }

  @Test func csvRoundTripsEveryValue() throws {
    let events = Self.events(name: "r", nanAt: 30)
    let runs = [ExportRun(path: "r.jsonl", events: events, label: "replay 25%")]
    let rows = parseCSV(EvaluationCSV.csv(runs))
    #expect(rows[0] == ["run", "label", "path", "stage", "step", "tokens", "time", "D0", "D1"])
    let evals = events.compactMap { if case .eval(let e) = $0 { e } else { nil } }
    #expect(rows.count == evals.count + 1)
    for (row, e) in zip(rows.dropFirst(), evals) {
      #expect(row[0] == "r" && row[1] == "replay 25%" && row[2] == "r.jsonl")
      #expect(Int(row[3]) == e.stage && Int(row[4]) == e.step && Int(row[5]) == e.tokens)
      #expect(Double(row[6]) == e.time)
      for (column, dataset) in [(7, "D0"), (8, "D1")] {
        let expected = try #require(e.loss(dataset))
        let value = try #require(Double(row[column]), "\(row)")
        #expect(value == expected || (value.isNaN && expected.isNaN))
      }
    }
    #expect(rows[3][7] == "NaN")
  }

  @Test func missingDatasetsAreEmptyCells() {
    var a = Self.events(name: "a")
    a.append(
      .eval(EvalEvent(stage: 2, step: 999, tokens: 999, losses: [DatasetLoss("D2", 1.5)])))
    let rows = parseCSV(EvaluationCSV.csv([ExportRun(path: "a", events: a)]))
    #expect(rows[0].last == "D2")
    #expect(rows[1].last == "")
    #expect(rows.last! == ["a", "", "a", "2", "999", "999", "", "", "", "1.5"])
  }

  @Test(arguments: [
    (0.0, "0"), (500.0, "500"), (1500.0, "1.5k"), (250_000.0, "250k"), (2_000_000.0, "2M"),
    (1_250_000_000.0, "1.25G"), (1_234_567.0, "1.23M"),
  ])
  func tokenLabels(value: Double, text: String) {
    #expect(ExportText.tokens(value) == text)
  }

  @Test func ticksAreNiceAndCoverTheRange() {
    let t = SVGChart.niceTicks(0, 4_100_000, count: 6)
    #expect(t.first == 0)
    #expect(t.count >= 4 && t.count <= 10)
    #expect(t.allSatisfy { $0 <= 4_100_000 })
    let l = SVGChart.logTicks(1.9, 6.5)
    #expect(l == [2, 5])
    let narrow = SVGChart.logTicks(2.1, 2.4)
    #expect(narrow.count >= 2)
  }

  @Test func emptyAndDegenerateRunsStillDraw() throws {
    let header: [RunEvent] = [
      .header(RunHeader(runName: "empty", startTime: "x", datasets: ["D0"]))
    ]
    let single: [RunEvent] =
      header + [.eval(EvalEvent(stage: 1, step: 0, tokens: 0, losses: [DatasetLoss("D0", 5)]))]
    let allNaN: [RunEvent] =
      header + [
        .eval(EvalEvent(stage: 1, step: 0, tokens: 0, losses: [DatasetLoss("D0", .nan)])),
        .eval(EvalEvent(stage: 1, step: 1, tokens: 10, losses: [DatasetLoss("D0", .nan)])),
      ]
    for events in [header, single, allNaN] {
      for logY in [false, true] {
        var chart = SVGChart(runs: [ExportRun(path: "e", events: events)])
        chart.logY = logY
        let svg = chart.svg()
        let doc = try #require(SVGInspector.inspect(svg), "\(svg)")
        #expect(doc.paths.count == chart.series.count)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
      }
    }
  }
}
