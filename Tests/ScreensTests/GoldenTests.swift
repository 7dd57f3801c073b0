// Golden tests: screen models rendered into the in-memory grid and compared with text files in
// Golden/. Run with CPTUI_UPDATE_GOLDEN=1 to rewrite the files, then look at them.

import Foundation
import Screens
import Terminal
import Testing

enum Golden {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Golden")

  static func check(
    _ name: String, _ model: ScreenModel, _ width: Int, _ height: Int, asciiOnly: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let text =
      ScreenRenderer.renderText(
        model: model, width: width, height: height, asciiOnly: asciiOnly) + "\n"
    let url = directory.appendingPathComponent("\(name)-\(width)x\(height).txt")
    if ProcessInfo.processInfo.environment["CPTUI_UPDATE_GOLDEN"] == "1" {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try text.write(to: url, atomically: true, encoding: .utf8)
      return
    }
    let expected = try? String(contentsOf: url, encoding: .utf8)
    #expect(
      expected == text,
      "golden \(url.lastPathComponent) differs; rerun with CPTUI_UPDATE_GOLDEN=1 and inspect\n\(text)",
      sourceLocation: sourceLocation)
  }
}

struct GoldenTests {
  static let sizes = [(0, 0), (20, 5), (80, 24), (120, 40), (200, 60)]

  @Test(arguments: sizes)
  func liveStageOne(size: (Int, Int)) throws {
    try Golden.check("live", Fixtures.live(), size.0, size.1)
  }

  @Test(arguments: sizes)
  func stageTwo(size: (Int, Int)) throws {
    try Golden.check("stage2", Fixtures.stageTwo(), size.0, size.1)
  }

  @Test(arguments: [(80, 24), (120, 40)])
  func stageBoundaryWithPanel(size: (Int, Int)) throws {
    try Golden.check("boundary-panel", Fixtures.stageBoundary(), size.0, size.1)
  }

  /// Where the panel is wider than the validation chart (80 columns), it sits below the
  /// learning-rate chart, whose preview of the draft stays whole in view.
  @Test func theStagePanelLeavesTheLearningRateChartInView() throws {
    let m = Fixtures.stageBoundary()
    for (width, height) in [(80, 24), (90, 30)] {
      let layout = ScreenLayout(width: width, height: height)
      let lr = try #require(layout.learningRate)
      let lines = ScreenRenderer.renderText(model: m, width: width, height: height)
        .split(separator: "\n", omittingEmptySubsequences: false).map { Array(String($0)) }
      #expect(String(lines[lr.y][lr.x...]).contains("learning rate"), "\(width)×\(height)")
      let bottom = String(lines[lr.maxY - 1][lr.x...])
      #expect(bottom.hasPrefix("└") && bottom.hasSuffix("┘") && !bottom.contains("┐"), "\(bottom)")
      #expect(lines.contains { String($0).contains("stage 2: next stage settings") })
    }
  }

  /// On a short terminal the panel's fields scroll: the focused one is always drawn, and arrows
  /// say that more lie above or below.
  @Test func stagePanelScrollsToTheFocusedFieldOnShortTerminals() throws {
    var m = Fixtures.stageBoundary()
    for (width, height) in [(40, 10), (40, 12), (80, 14)] {
      for field in StageField.allCases {
        m.view.stageField = field
        let text = ScreenRenderer.renderText(model: m, width: width, height: height)
        let focusedLine = text.split(separator: "\n").first { $0.contains("▸ " + field.title) }
        #expect(focusedLine != nil, "\(field) hidden at \(width)×\(height):\n\(text)")
      }
    }
    m.view.stageField = .length
    try Golden.check("panel-scrolled", m, 40, 12)
  }

  @Test func stagePanelWithTypedValueAndError() throws {
    var m = Fixtures.stageBoundary()
    m.view.stageField = .lrMax
    for c in "4e-3" { _ = m.handleKey(.char(c)) }
    try Golden.check("panel-typing", m, 80, 24)
    _ = m.handleKey(.enter)
    _ = m.handleKey(.down)
    _ = m.handleKey(.down)
    _ = m.handleKey(.down)
    for c in "150" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    try Golden.check("panel-error", m, 80, 24)
  }

  @Test(arguments: [(80, 24), (120, 40)])
  func smoothingOn(size: (Int, Int)) throws {
    var m = Fixtures.stageTwo()
    m.view.smoothing = true
    try Golden.check("smoothing", m, size.0, size.1)
  }

  @Test(arguments: [(80, 24), (120, 40)])
  func logYOn(size: (Int, Int)) throws {
    var m = Fixtures.stageTwo()
    m.view.logY = true
    try Golden.check("logy", m, size.0, size.1)
  }

  @Test(arguments: [(80, 24), (120, 40)])
  func nanInSeries(size: (Int, Int)) throws {
    try Golden.check("nan", Fixtures.withNaN(), size.0, size.1)
  }

  @Test(arguments: [(80, 24), (120, 40)])
  func helpOverlay(size: (Int, Int)) throws {
    var m = Fixtures.stageTwo()
    m.view.overlay = .help
    try Golden.check("help", m, size.0, size.1)
  }

  @Test(arguments: [(20, 5), (30, 8), (39, 24)])
  func tooSmall(size: (Int, Int)) throws {
    try Golden.check("toosmall", Fixtures.live(), size.0, size.1)
  }

  @Test(arguments: [(80, 24), (120, 40), (200, 60)])
  func overlayOfThreeRuns(size: (Int, Int)) throws {
    try Golden.check("overlay3", Fixtures.overlay3(), size.0, size.1)
  }

  @Test func overlayWithHiddenRunAndComparison() throws {
    var m = Fixtures.overlay3()
    m.view.hiddenSeries = [2]
    try Golden.check("overlay3-hidden", m, 120, 40)
    m.comparison = Fixtures.comparisonTable()
    m.view.overlay = .comparison
    m.view.sortColumn = 3
    try Golden.check("comparison", m, 120, 40)
    // A caveat longer than the table is wrapped, not cut ("its column com…" at every width).
    m.comparison?.notes = [
      "D1 is other data in some of these runs (2 definitions): its column compares different "
        + "experiments"
    ]
    for width in [80, 200] {
      let screen = ScreenRenderer.renderText(model: m, width: width, height: 30)
      #expect(screen.contains("its column"), "\(screen)")
      #expect(screen.contains("experiments"), "\(screen)")
      #expect(!screen.contains("com…"), "\(screen)")
    }
  }

  @Test func zoomedAndPanned() throws {
    var m = Fixtures.stageTwo()
    _ = m.handleKey(.char("+"))
    _ = m.handleKey(.left)
    try Golden.check("panned", m, 120, 40)
  }

  @Test func quitConfirm() throws {
    var m = Fixtures.stageTwo()
    _ = m.handleKey(.char("q"))
    try Golden.check("quit", m, 80, 24)
  }

  /// Paused by the user: no stale rate or ETA, and space is offered as "resume".
  @Test func pausedByTheUser() throws {
    var m = Fixtures.stageTwo()
    m.status.mode = .paused
    try Golden.check("paused", m, 80, 24)
  }

  /// Quitting between stages stops no training: the dialog says what ending there means, and
  /// that the run is complete once every planned stage has run.
  @Test func quitBetweenStages() throws {
    var m = Fixtures.stageBoundary()
    m.view.overlay = .none
    _ = m.handleKey(.char("q"))
    #expect(m.view.overlay == .quitConfirm)
    try Golden.check("quit-between-stages", m, 80, 24)
    m.status.stage = m.status.stageCount
    let text = ScreenRenderer.renderText(model: m, width: 80, height: 24)
    #expect(text.contains("Every planned stage is done. Quit?"), "\(text)")
    #expect(!text.contains("Stop training"))
  }

  @Test(arguments: [(80, 24), (120, 40)])
  func asciiFallback(size: (Int, Int)) throws {
    try Golden.check("ascii", Fixtures.stageTwo(), size.0, size.1, asciiOnly: true)
  }
}
