// Every screen at many sizes, including degenerate ones: drawing must never trap (a crash while
// curses is on leaves a garbled terminal), and nothing may be written outside the grid.

import Testing

@testable import Screens
@testable import Terminal

struct RobustnessTests {
  static func models() -> [ScreenModel] {
    var empty = ScreenModel()
    empty.runs = [RunSeries(name: "new", validation: [Series(name: "D0"), Series(name: "D1")])]
    var help = Fixtures.stageTwo()
    help.view.overlay = .help
    var panel = Fixtures.stageBoundary()
    panel.view.entryText = "3e-"
    panel.view.entryError = "not a number"
    var quit = Fixtures.live()
    quit.view.overlay = .quitConfirm
    var compare = Fixtures.overlay3()
    compare.view.overlay = .comparison
    compare.comparison = Fixtures.comparisonTable()
    var allNaN = Fixtures.live()
    allNaN.runs[0].validation[0].ys = allNaN.runs[0].validation[0].ys.map { _ in .nan }
    allNaN.view.logY = true
    allNaN.view.smoothing = true
    var flat = Fixtures.live()
    flat.runs[0].validation[1].ys = flat.runs[0].validation[1].ys.map { _ in 3 }
    flat.runs[0].validation[0].ys = flat.runs[0].validation[0].ys.map { _ in -1 }  // log-y: none
    flat.view.logY = true
    var zoomed = Fixtures.stageTwo()
    zoomed.view.xWindow = .fixed(lo: 999_999, hi: 1_000_001)
    return [ScreenModel(), empty, help, panel, quit, compare, allNaN, flat, zoomed]
  }

  /// The measures line shows whole measures only: at any width, each value it shows is complete
  /// (the review saw "adaptation D0 1" for 1.27, and "avg" with no value).
  @Test func theMeasuresLineNeverCutsAValue() throws {
    let model = Fixtures.stageTwo()
    let m = model.measures
    let parts = [
      "forgetting ΔD0 " + Format.signed(m.forgetting!),
      "adaptation D1 " + Format.loss(m.adaptation!), "avg " + Format.loss(m.average!),
    ]
    for width in 40...120 {
      let text = ScreenRenderer.renderText(model: model, width: width, height: 24)
      guard let line = text.split(separator: "\n").first(where: { $0.contains("forgetting") })
      else { continue }
      var shown = 0
      for part in parts where line.contains(part) { shown += 1 }
      let words = ["forgetting", "adaptation", "avg"].filter { line.contains($0) }.count
      #expect(shown == words, "width \(width): \(line)")
    }
  }

  @Test func everySizeDraws() {
    for model in Self.models() {
      for w in stride(from: 0, through: 210, by: 13) {
        for h in [0, 1, 2, 5, 9, 10, 11, 16, 24, 41, 61] {
          for ascii in [false, true] {
            var g = CellGrid(width: w, height: h, asciiOnly: ascii)
            ScreenRenderer.render(model: model, into: &g)
            #expect(g.cells.count == w * h)
          }
        }
      }
    }
  }

  @Test func singlePointAndHugeValues() {
    var m = Fixtures.live()
    m.runs[0].validation = [
      Series(name: "one", xs: [5], ys: [2]),
      Series(name: "huge", xs: [0, 1, 2], ys: [1e300, -1e300, .infinity]),
    ]
    m.runs[0].trainLoss = Series(name: "t", xs: [0, 0, 0], ys: [1, 2, 3])  // duplicate x
    m.runs[0].lrPast.xs.append(contentsOf: [1e9, 2e9])  // more x than y values
    var g = CellGrid(width: 120, height: 40)
    ScreenRenderer.render(model: m, into: &g)
    #expect(g.render().contains("validation loss"))
  }
}
