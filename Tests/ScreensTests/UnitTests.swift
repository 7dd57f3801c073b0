// Unit tests of the pieces under the screen: braille bits, downsampling, smoothing, number
// formatting, text sanitising, the cell grid, key dispatch, themes.

import Foundation
import Testing

@testable import Screens
@testable import Terminal

struct BrailleTests {
  @Test(arguments: [
    (0, 0, 0x01), (0, 1, 0x02), (0, 2, 0x04), (1, 0, 0x08), (1, 1, 0x10), (1, 2, 0x20),
    (0, 3, 0x40), (1, 3, 0x80),
  ])
  func bitMapping(dot: (Int, Int, Int)) {
    #expect(BrailleCanvas.bit(dx: dot.0, dy: dot.1) == UInt8(dot.2))
  }

  @Test func characters() {
    #expect(BrailleCanvas.character(0) == "\u{2800}")
    #expect(BrailleCanvas.character(0xFF) == "⣿")
    var c = BrailleCanvas(columns: 2, rows: 1)
    c.set(0, 0, line: 0, lineLayer: 1)
    c.set(3, 3, line: 0, lineLayer: 1)
    #expect(c.bits == [0x01, 0x80])
    // A higher layer wipes the cell; a lower one cannot draw over it.
    c.set(2, 0, line: 1, lineLayer: 2)
    c.set(3, 1, line: 0, lineLayer: 1)
    #expect(c.bits[1] == 0x01)
    #expect(c.owner[1] == 1)
  }

  @Test func linesAreClippedAndConnected() {
    var c = BrailleCanvas(columns: 4, rows: 2)
    c.line(-100, 3, 100, 3, line: 0, lineLayer: 1)
    // Row 3 of the top cell row in every column: both dots.
    #expect(c.bits[0..<4].allSatisfy { $0 == 0xC0 })
    #expect(c.bits[4..<8].allSatisfy { $0 == 0 })
    var d = BrailleCanvas(columns: 1, rows: 1)
    d.line(0, 0, 0, 3, line: 0, lineLayer: 1)
    #expect(d.bits[0] == 0x47)
  }

  /// Dashes run on along a polyline: a line of one-dot segments is broken up as one long line
  /// (each segment restarting its pattern drew every short segment whole, dashed as solid).
  @Test(arguments: [
    (LineDash.solid, 32), (LineDash.dotted, 16), (LineDash.dashed, 23), (LineDash.sparse, 8),
  ])
  func dashPatternsRunOnAcrossSegments(dash: LineDash, dots: Int) {
    var whole = BrailleCanvas(columns: 16, rows: 1)
    whole.line(0, 0, 31, 0, line: 0, lineLayer: 1, dash: dash)
    var pieces = BrailleCanvas(columns: 16, rows: 1)
    var phase = 0
    for x in 0..<31 {
      phase = pieces.line(
        Double(x), 0, Double(x + 1), 0, line: 0, lineLayer: 1, dash: dash, phase: phase)
    }
    #expect(pieces.bits == whole.bits)
    #expect(whole.bits.map { $0.nonzeroBitCount }.reduce(0, +) == dots)
    // Datasets of an overlay take the dashes in turn, then again from solid.
    #expect(
      (0..<6).map(LineDash.forDataset) == [.solid, .dotted, .dashed, .sparse, .solid, .dotted])
  }

  @Test func asciiFallbackCharacters() {
    #expect(BrailleCanvas.asciiCharacter(0x01) == "'")
    #expect(BrailleCanvas.asciiCharacter(0x40) == ".")
    #expect(BrailleCanvas.asciiCharacter(0x02) == "-")
    #expect(BrailleCanvas.asciiCharacter(0x47) == "|")
  }
}

struct DownsampleTests {
  @Test func keepsExtremesInOrder() {
    let n = 10_000
    let xs = (0..<n).map(Double.init)
    var ys = xs.map { sin($0 / 300) }
    ys[1234] = 50
    ys[7777] = -50
    let d = Downsample.minMax(xs: xs, ys: ys, range: 0...Double(n - 1), buckets: 100)
    #expect(d.xs.count <= 4 * 101 + 2)
    #expect(d.ys.max() == 50)
    #expect(d.ys.min() == -50)
    #expect(d.xs == d.xs.sorted())
    #expect(d.xs.first == 0)
    #expect(d.xs.last == Double(n - 1))
  }

  @Test func smallSeriesUnchangedWithNeighbours() {
    let xs: [Double] = [0, 1, 2, 3, 4, 5]
    let ys: [Double] = [5, 4, 3, 2, 1, 0]
    let d = Downsample.minMax(xs: xs, ys: ys, range: 2...3, buckets: 10)
    #expect(d.xs == [1, 2, 3, 4])
  }

  @Test func nanSurvivesDownsampling() {
    let xs = (0..<1000).map(Double.init)
    var ys = xs.map { $0 / 1000 }
    ys[500] = .nan
    let d = Downsample.minMax(xs: xs, ys: ys, range: 0...999, buckets: 20)
    #expect(d.ys.contains { $0.isNaN })
    #expect(d.xs.count < 200)
  }

  @Test func emptyAndOutside() {
    #expect(Downsample.minMax(xs: [], ys: [], range: 0...1, buckets: 10).xs.isEmpty)
    let d = Downsample.minMax(xs: [0, 1], ys: [1, 2], range: 5...6, buckets: 10)
    #expect(d.xs == [1])  // the neighbour on the left, so a line could reach the window
  }
}

struct SmoothingTests {
  @Test func debiasedEMA() {
    let s = Smoothing.ema([1, 1, 1], weight: 0.9)
    for v in s { #expect(abs(v - 1) < 1e-12) }  // debiasing: a constant stays constant
    let t = Smoothing.ema([0, 10], weight: 0.5)
    // last = 0; then 5 → /(1-0.25) = 6.666…
    #expect(t[0] == 0)
    #expect(abs(t[1] - 10.0 * 0.5 / 0.75) < 1e-12)
    #expect(Smoothing.ema([3, 4], weight: 0) == [3, 4])
  }

  @Test func nanStaysAndDoesNotPoison() {
    let s = Smoothing.ema([1, .nan, 1], weight: 0.6)
    #expect(s[1].isNaN)
    #expect(abs(s[2] - 1) < 1e-12)
  }
}

struct MiddleTruncationTests {
  @Test func longNamesKeepTheirEndsAndWideCharactersCountTwice() {
    let a = "very-long-experiment-name-very-long-experiment-name-A"
    let b = "very-long-experiment-name-very-long-experiment-name-B"
    #expect(a.middleTruncated(toWidth: 20) != b.middleTruncated(toWidth: 20))
    #expect(a.middleTruncated(toWidth: 20).terminalWidth == 20)
    #expect(a.middleTruncated(toWidth: 20).hasSuffix("-A"))
    #expect("short".middleTruncated(toWidth: 20) == "short")
    #expect("🚀".terminalWidth == 2 && "🦀".terminalWidth == 2 && "🫠".terminalWidth == 2)
    let wide = "日本語のとても長い実験名前🚀🚀"
    #expect(wide.middleTruncated(toWidth: 11).terminalWidth <= 11)
    #expect(wide.middleTruncated(toWidth: 11).contains("…"))
  }
}

struct PartedLineTests {
  @Test func aLongLineLeavesOutTheMostSharedPartsWhole() {
    let lines = [
      PartedLine(
        head: "strong-shift (", parts: ["cosine", "replay 25%", "replay order sequential"],
        tail: ")"),
      PartedLine(
        head: "strong-shift (", parts: ["cosine", "replay 25%", "replay order spread"], tail: ")"),
      PartedLine(head: "strong-shift (", parts: ["cosine", "replay 0%"], tail: ") [stopped]"),
    ]
    // Wide enough: as they are.
    #expect(
      PartedLine.fitted(lines, toWidth: 80)
        == [
          "strong-shift (cosine · replay 25% · replay order sequential)",
          "strong-shift (cosine · replay 25% · replay order spread)",
          "strong-shift (cosine · replay 0%) [stopped]",
        ])
    // `cosine` (all three) goes before `replay 25%` (two); what sets a line apart stays.
    let fitted = PartedLine.fitted(lines, toWidth: 56)
    #expect(
      fitted == [
        "strong-shift (… · replay 25% · replay order sequential)",
        "strong-shift (cosine · replay 25% · replay order spread)",
        "strong-shift (cosine · replay 0%) [stopped]",
      ])
    let narrower = PartedLine.fitted(lines, toWidth: 42)
    #expect(narrower[0] == "strong-shift (… · replay order sequential)")
    #expect(narrower[1] == "strong-shift (… · replay order spread)")
    // Neighbouring parts left out show one ellipsis; a line still too long is cut in the middle.
    let three = PartedLine(head: "r (", parts: ["a1", "b1", "c1", "unique"], tail: ")")
    let other = PartedLine(head: "s (", parts: ["a1", "b1", "c1"], tail: ")")
    #expect(PartedLine.fitted([three, other], toWidth: 14)[0] == "r (… · unique)")
    #expect(PartedLine.fitted([three, other], toWidth: 10)[0].terminalWidth == 10)
    // A part is kept, though most shared, when the line would otherwise read as another: without
    // `bbbb` the first line is `aaaa · x`, all in the second line, so `aaaa` goes instead.
    let told = PartedLine.fitted(
      [
        PartedLine(head: "", parts: ["aaaa", "bbbb", "x"], tail: ""),
        PartedLine(head: "", parts: ["aaaa", "x", "cc"], tail: ""),
        PartedLine(head: "", parts: ["bbbb", "y"], tail: ""),
        PartedLine(head: "", parts: ["bbbb", "z"], tail: ""),
      ], toWidth: 12)
    #expect(told == ["… · bbbb · x", "… · x · cc", "bbbb · y", "bbbb · z"])
  }
}

struct FormatTests {
  @Test func naturalOrderReadsNumbersAsNumbers() {
    let names = [
      "replay 50%", "replay 5%", "replay 25%", "replay 0%", "run", "replay",
    ]
    #expect(
      names.sorted(by: Format.naturalLess)
        == ["replay", "replay 0%", "replay 5%", "replay 25%", "replay 50%", "run"])
    #expect(!Format.naturalLess("a", "a") && Format.naturalLess("a", "ab"))
    // Decimals read as numbers; a dot before letters is text.
    let files = [
      "w__warmup=2_.jsonl", "w__warmup=0.5_.jsonl", "w__warmup=0_.jsonl", "w__warmup=1_.jsonl",
    ]
    #expect(
      files.sorted(by: Format.naturalLess) == [
        "w__warmup=0_.jsonl", "w__warmup=0.5_.jsonl", "w__warmup=1_.jsonl", "w__warmup=2_.jsonl",
      ])
    #expect(
      Format.naturalLess("x9.jsonl", "x10.jsonl") && Format.naturalLess("ηmax 2e-3", "ηmax 4e-3"))
  }

  @Test func numbers() {
    #expect(Format.loss(2.914) == "2.91")
    #expect(Format.loss(12.34) == "12.3")
    #expect(Format.loss(0.1234) == "0.123")
    #expect(Format.signed(0.27) == "+0.27")
    #expect(Format.signed(-1.1) == "−1.10")
    #expect(Format.scientific(3e-4) == "3e-4")
    #expect(Format.scientific(1.5e-3) == "1.5e-3")
    #expect(Format.scientific(0.00099999) == "1e-3")
    // Stage settings keep three digits, so 2.25e-4 is not shown as 2.3e-4 (what compare's labels
    // and the legend say, too).
    #expect(Format.scientific(2.25e-4, significant: 3) == "2.25e-4")
    #expect(Format.scientific(4e-3, significant: 3) == "4e-3")
    #expect(Format.scientific(3.5e-4, significant: 3) == "3.5e-4")
    #expect(Format.scientific(9.996e-4, significant: 3) == "1e-3")
    #expect(Format.percent(0.5) == "0.5%")
    #expect(Format.percent(25) == "25%")
    #expect(Format.count(250_000) == "250k")
    #expect(Format.count(1_500_000) == "1.5M")
    #expect(Format.count(950) == "950")
    #expect(Format.count(11_800) == "11.8k")
    #expect(Format.duration(62) == "1:02")
    #expect(Format.duration(3723) == "1:02:03")
  }

  /// Stage markers name what the stage trains at: constant-min never reaches ηmax, so its label
  /// gives ηmin (it read "ηmax 1e-2" while the rate stayed at 1e-3).
  @Test func stageMarkerLabels() {
    var settings = StageSettings(
      warmupPercent: 1, lrMax: 4e-3, lrMin: 4e-4, schedules: ["cosine"], replayPercent: 25)
    #expect(
      StageMarker.label(stage: 2, settings: settings) == "stage 2: warmup 1% · ηmax 4e-3 · r25%")
    settings.schedules = ["constant-min"]
    settings.warmupPercent = 0
    #expect(StageMarker.label(stage: 2, settings: settings) == "stage 2: ηmin 4e-4 · r25%")
    settings.warmupPercent = 1
    #expect(
      StageMarker.label(stage: 3, settings: settings) == "stage 3: warmup 1% · ηmin 4e-4 · r25%")
    // A stage continuing an infinite span never goes back to ηmax (it read "ηmax 4e-3").
    settings.schedules = ["infinite"]
    #expect(
      StageMarker.label(stage: 2, settings: settings, continuesInfinite: true)
        == "stage 2: infinite continues · r25%")
  }

  @Test func ticks() {
    #expect(LineChart.linearTicks(lo: 2.3, hi: 5.6, target: 4) == [3, 4, 5])
    #expect(LineChart.linearTicks(lo: 2.3, hi: 5.6, target: 7) == [2.5, 3, 3.5, 4, 4.5, 5, 5.5])
    #expect(LineChart.label(2.5, step: 0.5) == "2.5")
    #expect(LineChart.label(2.25, step: 0.25) == "2.25")
    #expect(LineChart.label(3, step: 1) == "3")
    // Tokens and steps are counts: whole-number x ticks only.
    #expect(LineChart.xTicks(lo: 0, hi: 1, columns: 60) == [0, 1])
    #expect(LineChart.xTicks(lo: 0, hi: 3, columns: 60) == [0, 1, 2, 3])
    #expect(
      LineChart.xTicks(lo: 0, hi: 300_000, columns: 60) == [
        0, 50_000, 100_000, 150_000, 200_000, 250_000, 300_000,
      ])
  }

  /// A legend that would hide points at the top and at the bottom gets rows of its own: the Y
  /// range is raised so that no curve passes under it (it sits in plot rows 1 and 2).
  @Test func legendHidesNoPoint() {
    let legend = [
      LegendEntry(text: String(repeating: "a", count: 60), style: Style(.series1)),
      LegendEntry(text: String(repeating: "b", count: 60), style: Style(.series2)),
    ]
    let line = ChartLine(xs: [0, 50, 100], ys: [10, 10, 1], style: Style(.series1))
    var grid = CellGrid(width: 60, height: 16)
    LineChart.draw(
      ChartSpec(lines: [line], xRange: 0...100, legend: legend),
      in: Rect(x: 0, y: 0, width: 60, height: 16), grid: &grid)
    let rows = grid.render().split(separator: "\n", omittingEmptySubsequences: false)
    func dots(_ row: Substring) -> Int {
      row.unicodeScalars.filter { (0x2801...0x28FF).contains($0.value) }.count
    }
    #expect(rows[1].contains("aaa") && rows[2].contains("bbb"), "\(rows.joined(separator: "\n"))")
    #expect(dots(rows[1]) + dots(rows[2]) == 0, "\(rows.joined(separator: "\n"))")
    #expect(rows.map(dots).reduce(0, +) > 20, "the curve is drawn below the legend")
  }

  /// The last stage's label, put left of its marker for want of room on the right, never covers
  /// the label before it (the review saw stage 2's label vanish under stage 3's).
  @Test func aLabelPutLeftKeepsThePreviousOne() {
    let line = ChartLine(xs: [0, 100], ys: [1, 2], style: Style(.series1))
    let markers = [
      StageMarker(x: 40, label: "stage 2: warmup 5%"),
      StageMarker(x: 95, label: "stage 3: warmup 1% · replay 25%"),
    ]
    var grid = CellGrid(width: 80, height: 12)
    LineChart.draw(
      ChartSpec(lines: [line], xRange: 0...100, markers: markers),
      in: Rect(x: 0, y: 0, width: 80, height: 12), grid: &grid)
    let top = grid.render().split(separator: "\n")[0]
    #expect(top.contains("stage 2: warmup 5%"), "\(top)")
    #expect(top.contains("stage 3"), "\(top)")
  }

  /// More legend entries than plot rows: the last row says how many are left out.
  @Test func anOverfullLegendSaysHowManyItLeavesOut() {
    let legend = (1...30).map { LegendEntry(text: "run \($0)", style: Style(.series1)) }
    let line = ChartLine(xs: [0, 100], ys: [1, 2], style: Style(.series1))
    var grid = CellGrid(width: 60, height: 12)
    LineChart.draw(
      ChartSpec(lines: [line], xRange: 0...100, legend: legend),
      in: Rect(x: 0, y: 0, width: 60, height: 12), grid: &grid)
    let text = grid.render()
    let lines = text.split(separator: "\n")
    let listed = (1...30).filter { n in lines.contains { $0.hasSuffix("run \(n)") } }
    #expect(text.contains("+\(30 - listed.count) more"), "\(text)")
    #expect(!listed.isEmpty && listed.count < 30)
  }

  /// The measures line names the datasets it measures: the first stage's and the last stage's.
  @Test func measuresNameTheirDatasets() {
    var grid = CellGrid(width: 80, height: 1)
    ScreenRenderer.drawMeasures(
      Measures(forgetting: 0.3, adaptation: 2.84, firstDataset: "prose", adaptationDataset: "D3"),
      in: Rect(x: 0, y: 0, width: 80, height: 1), grid: &grid)
    let text = grid.render()
    #expect(
      text.contains("forgetting Δprose +0.30") && text.contains("adaptation D3 2.84"), "\(text)")
  }

  /// Runs through more domains show each later-left dataset's forgetting after D0's, when the
  /// whole line fits; on a narrow line adaptation and avg keep their place instead.
  @Test func measuresShowLaterDatasetsForgettingWhenTheLineFits() {
    var m = Measures(forgetting: 1.74, adaptation: 2.79, average: 5.06, adaptationDataset: "D3")
    m.laterForgetting = [
      DatasetChange(dataset: "D1", change: 3.67), DatasetChange(dataset: "D2", change: -0.1),
    ]
    var wide = CellGrid(width: 100, height: 1)
    ScreenRenderer.drawMeasures(m, in: Rect(x: 0, y: 0, width: 100, height: 1), grid: &wide)
    let text = wide.render()
    #expect(
      text.contains("forgetting ΔD0 +1.74   ΔD1 +3.67   ΔD2 −0.10   adaptation D3 2.79"), "\(text)")
    var narrow = CellGrid(width: 64, height: 1)
    ScreenRenderer.drawMeasures(m, in: Rect(x: 0, y: 0, width: 64, height: 1), grid: &narrow)
    let short = narrow.render()
    #expect(!short.contains("ΔD1") && short.contains("avg 5.06"), "\(short)")
  }

  /// A chart with no point to fit draws its frame without invented tick labels.
  @Test func emptyChartHasNoYLabels() {
    var grid = CellGrid(width: 60, height: 16)
    LineChart.draw(
      ChartSpec(lines: [], xRange: 0...1, logY: false, xUnit: .tokens, markers: [], legend: []),
      in: Rect(x: 0, y: 0, width: 60, height: 16), grid: &grid)
    let text = grid.render()
    #expect(!text.contains("0.0") && !text.contains("1.0"), "\(text)")
    #expect(!text.contains("0 0"), "\(text)")
    #expect(text.contains("tokens"))
  }
}

struct SanitizerTests {
  @Test func stripsControlsAndBidi() {
    let evil = "run\u{1B}[2J\u{7}na\u{202E}me\u{2066}\u{200F}\u{9B}x\ty\n"
    #expect(TextSanitizer.clean(evil) == "run[2Jnamex y ")
  }

  @Test func invalidUTF8AndLength() {
    let bytes: [UInt8] = [0x61, 0xFF, 0x62, 0xC3]
    #expect(TextSanitizer.clean(bytes: bytes) == "a?b?")
    let long = String(repeating: "x", count: 500)
    let cut = TextSanitizer.clean(long, maxLength: 10)
    #expect(cut.count == 10)
    #expect(cut.hasSuffix("…"))
  }

  @Test func gridNeverStoresControlCharacters() {
    var g = CellGrid(width: 10, height: 1)
    g.put("a\u{1B}b\u{0}c", x: 0, y: 0)
    #expect(g.row(0).hasPrefix("abc "))
  }
}

struct CellGridTests {
  @Test func wideCharactersAndClipping() {
    var g = CellGrid(width: 5, height: 1)
    let n = g.put("漢字ab", x: 0, y: 0)
    #expect(n == 5)
    #expect(g.render() == "漢字a")
    g.set(1, 0, "x", .plain)  // overwrite the right half of 漢
    #expect(g.render() == " x字a")
    var h = CellGrid(width: 3, height: 1)
    h.put("a漢字", x: 0, y: 0)  // 字 would cross the edge
    #expect(h.render() == "a漢")
  }

  @Test func truncationAndAscii() {
    var g = CellGrid(width: 8, height: 1)
    g.putTruncated("validation", x: 0, y: 0, width: 6)
    #expect(g.render() == "valid…")
    var a = CellGrid(width: 20, height: 1, asciiOnly: true)
    a.put("η max · ΔD0 −1", x: 0, y: 0)
    #expect(a.render() == "eta max | dD0 -1")
  }

  @Test func zeroSizedGrid() {
    var g = CellGrid(width: 0, height: 0)
    g.put("x", x: 0, y: 0)
    g.box(Rect(x: 0, y: 0, width: 5, height: 5))
    #expect(g.render() == "")
  }

  @Test func keyDecoding() {
    #expect(Key.fromCharacter(13) == .enter)
    #expect(Key.fromCharacter(27) == .escape)
    #expect(Key.fromCharacter(127) == .backspace)
    #expect(Key.fromCharacter(0x71) == .char("q"))
    #expect(Key.fromCharacter(0x3B7) == .char("η"))
    #expect(CursesTerminal.decodeKeyCode(0o632) == .resize)
    #expect(CursesTerminal.decodeKeyCode(0o404) == .left)
    #expect(CursesTerminal.decodeKeyCode(0o523) == .pageUp)
  }

  @Test func colourDownsampling() {
    #expect(TermColor.index(196).basic == .index(1))
    #expect(TermColor.index(46).basic == .index(2))
    #expect(TermColor.index(12).basic == .index(4))
    #expect(TermColor.index(255).basic == .index(7))
    #expect(TermColor.index(232).basic == .index(0))
    #expect(TermColor.terminalDefault.basic == .terminalDefault)
  }
}

struct ExtremeNumberTests {
  @Test(arguments: [
    0, -0.0, .leastNonzeroMagnitude, 1e-300, 1e300, -1e300, .infinity, -.infinity, .nan, 9.3e18,
    1e15,
    Double.greatestFiniteMagnitude,
  ])
  func formattingNeverTraps(v: Double) {
    _ = Format.loss(v)
    _ = Format.signed(v)
    _ = Format.scientific(v)
    _ = Format.count(v)
    _ = Format.percent(v)
    _ = Format.duration(v)
  }
}

/// The comparison table's narrow names: parts most runs share are said once.
struct CompactNameTests {
  @Test func partsMostRunsShareAreSaidOnce() throws {
    let names = [
      "constant-min · replay 0% · warmup 0%", "cosine · replay 0% · warmup 1%",
      "cosine · replay 5% · warmup 1%", "cosine · replay 25% · warmup 1%", "union-strong-shift",
    ]
    let compact = try #require(
      Overlays.compactNames(names, baseline: [false, false, false, false, true]))
    #expect(compact.common == ["cosine", "warmup 1%"])
    #expect(
      compact.names == [
        "constant-min · replay 0% · warmup 0%", "replay 0%", "replay 5%", "replay 25%",
        "union-strong-shift",
      ])
    // Nothing most runs share, or a name that would be left empty: the names stay whole.
    #expect(Overlays.compactNames(["a · x", "b · y", "c · z"], baseline: []) == nil)
    #expect(Overlays.compactNames(["a · x", "a · y", "a"], baseline: []) == nil)
  }
}
