// Styles the text goldens cannot show: series colours, faint raw curves, dotted overlay lines,
// the steps axis, sanitised names on screen.

import Testing

@testable import Screens
@testable import Terminal

struct StyleTests {
  static func grid(_ m: ScreenModel, _ w: Int = 120, _ h: Int = 40) -> CellGrid {
    var g = CellGrid(width: w, height: h)
    ScreenRenderer.render(model: m, into: &g)
    return g
  }

  static func brailleStyles(_ g: CellGrid) -> Set<Style> {
    Set(g.cells.filter { (0x2801...0x28FF).contains($0.scalar.value) }.map(\.style))
  }

  @Test func oneRunHasAColourPerDatasetAndFaintRawCurvesWhenSmoothed() {
    var m = Fixtures.stageTwo()
    let plain = Self.brailleStyles(Self.grid(m))
    #expect(plain.contains(Style(.series1)))
    #expect(plain.contains(Style(.series2)))
    #expect(!plain.contains(Style(.series1, .dim)))
    m.view.smoothing = true
    let smooth = Self.brailleStyles(Self.grid(m))
    #expect(smooth.contains(Style(.series1, .dim)))
    #expect(smooth.contains(Style(.series1)))
    #expect(smooth.contains(Style(.accent, .dim)))  // the planned learning rate
  }

  @Test func overlayColoursRunsAndDotsD1() {
    let g = Self.grid(Fixtures.overlay3())
    let styles = Self.brailleStyles(g)
    for role in [ColorRole.series1, .series2, .series3] { #expect(styles.contains(Style(role))) }
    // One legend row per run; the title says which line style is which dataset.
    #expect(g.render().contains("━━ ▸1 replay 0%   D0 3.04 (2.60)  D1 2.18 (2.18)"))
    #expect(g.render().contains("D0 solid, D1 dotted"))
  }

  /// Four datasets in an overlay: each has its own dash, and the title says which (D2 was drawn
  /// solid like D0, and D3 dotted like D1).
  @Test func overlayDatasetsBeyondTwoHaveTheirOwnDash() {
    var m = Fixtures.overlay3()
    for r in m.runs.indices {
      for (k, name) in ["D2 code", "D3 shakespeare"].enumerated() {
        var extra = m.runs[r].validation[k]
        extra.name = name
        extra.ys = extra.ys.map { $0 + 1 }
        m.runs[r].validation.append(extra)
      }
    }
    let g = Self.grid(m, 160, 40)
    #expect(
      g.render().contains("D0 solid, D1 dotted, D2 dashed, D3 sparse · last (min)"), "\(g.render())"
    )
  }

  @Test func markersAndModeIndicator() {
    let g = Self.grid(Fixtures.stageTwo())
    #expect(g.cells.contains { $0.scalar == "┊" && $0.style == Style(.marker) })
    #expect(g.cells.contains { $0.scalar == "l" && $0.style == Style(.live, .bold) })
  }

  @Test func stepsAxis() {
    var m = Fixtures.live()
    m.xUnit = .steps
    for k in m.runs[0].validation.indices {
      m.runs[0].validation[k].xs = m.runs[0].validation[k].xs.map { $0 / 512 }
    }
    m.runs[0].trainLoss.xs = m.runs[0].trainLoss.xs.map { $0 / 512 }
    m.runs[0].lrPast.xs = m.runs[0].lrPast.xs.map { $0 / 512 }
    m.runs[0].lrPlanned = Series(name: "planned")
    let text = Self.grid(m).render()
    #expect(text.contains(" steps│"))
    #expect(text.contains("1k"))
  }

  @Test func hostileNamesAreCleaned() {
    var m = Fixtures.stageTwo()
    m.status.runName = "evil\u{1B}]0;pwned\u{7}\u{202E}run"
    m.runs[0].validation[0].name = "D0\u{1B}[31m red"
    m.notices = ["line\u{0}with\u{9B}controls"]
    let g = Self.grid(m)
    #expect(!g.cells.contains { TextSanitizer.isUnsafe($0.scalar) && !$0.isContinuation })
    let text = g.render()
    #expect(text.contains("evil]0;pwnedrun"))
    #expect(text.contains("D0[31m red"))
  }

  @Test func helpScrollsAndStaysInRange() {
    var m = Fixtures.stageTwo()
    _ = m.handleKey(.char("?"))
    for _ in 0..<200 { _ = m.handleKey(.down) }
    #expect(m.view.helpScroll <= KeyTable.bindings.count)
    let text = Self.grid(m, 80, 24).render()
    // Scrolled to the end: the last section (the stage panel's keys; a live run has no
    // comparison to list).
    #expect(text.contains("apply typed value"), "\(text)")
    _ = m.handleKey(.escape)
    #expect(m.view.overlay == .none)
  }
}

@Suite struct OverlayPinningTests {
  /// Four-domain runs at 100 columns: the legend has room for D0 and D1 only, and marks that the
  /// rest are left out (D2 and D3 went unseen); at 200 columns all four show.
  @Test func legendMarksDatasetsLeftOut() {
    var m = Fixtures.overlay3()
    for i in m.runs.indices {
      var d2 = m.runs[i].validation[0]
      d2.name = "D2 code"
      var d3 = m.runs[i].validation[1]
      d3.name = "D3 shakespeare"
      m.runs[i].validation += [d2, d3]
      m.runs[i].name = "domains · replay \(i * 5)% · warmup 1%"
    }
    let narrow = ScreenRenderer.renderText(model: m, width: 100, height: 30)
    let rows = narrow.split(separator: "\n").filter { $0.contains("domains · replay") }
    #expect(rows.count == 3, "\(narrow)")
    #expect(
      rows.allSatisfy { $0.contains("D1 ") && !$0.contains("D3 ") && $0.contains("  … ") },
      "\(narrow)")
    let wide = ScreenRenderer.renderText(model: m, width: 200, height: 40)
    #expect(wide.contains("D3 "), "\(wide)")
  }

  /// Names too long for the legend leave out the parts most runs share, not their ends: two
  /// peak-LR runs cut at the end both read "strong-shift · cosine · replay 0% …".
  @Test func longNamesKeepWhatTellsRunsApart() {
    var m = Fixtures.overlay3()
    for (i, eta) in ["2e-3", "4e-3", "8e-3"].enumerated() {
      m.runs[i].name = "strong-shift · cosine · replay 0% · warmup 1% · ηmax \(eta)"
    }
    let text = ScreenRenderer.renderText(model: m, width: 80, height: 24)
    for eta in ["2e-3", "4e-3", "8e-3"] {
      #expect(text.contains(" · … · ηmax \(eta) "), "\(text)")
    }
  }

  /// At 80 columns a paused replay's long status keeps which run is pinned ("run 3/4"), dropping
  /// its label and dataset first; with room, the label shows too.
  @Test func aNarrowPausedReplayStillNamesThePinnedRun() {
    var m = Fixtures.overlay3()
    m.status.mode = .replay
    m.status.replaySpeed = "paused 10× 1:23/4:40"
    for i in m.runs.indices {
      m.runs[i].status = RunStatus(
        runName: "run \(i + 1)/3: warmup 1% · replay 25%", stage: 1, stageCount: 2,
        dataset: "D0 english", step: 281, totalSteps: 978, mode: .finished)
    }
    m.view.pinnedRun = 2
    let narrow = ScreenRenderer.renderText(model: m, width: 80, height: 24)
    let first = narrow.split(separator: "\n").first.map(String.init) ?? ""
    #expect(first.contains("run 3/3 · stage 1/2 · step 281/978"), "\(first)")
    #expect(first.contains("[replay paused 10× 1:23/4:40]"), "\(first)")
    // Aligned by tokens, the total time gives way so that the run's number stays.
    m.status.replaySpeed = "paused 10× 1:23/4:40 by tokens"
    let aligned = ScreenRenderer.renderText(model: m, width: 80, height: 24)
    let status = aligned.split(separator: "\n").first.map(String.init) ?? ""
    #expect(
      status.contains("run 3/3 · stage 1/2 · step 281/978")
        && status.contains("[replay paused 10× 1:23 by tokens]"), "\(status)")
    let wide = ScreenRenderer.renderText(model: m, width: 140, height: 40)
    #expect(wide.contains("run 3/3: warmup 1% · replay 25%"), "\(wide)")
  }

  /// At 40 columns one run's replay gives up its times and speed before its stage and step (it
  /// read "stage …", later "step 1240/19…").
  @Test func aNarrowReplayKeepsItsStage() {
    var m = Fixtures.stageTwo()
    m.status.mode = .replay
    m.status.replaySpeed = "10× 0:29/6:13"
    let narrow = ScreenRenderer.renderText(model: m, width: 40, height: 10)
    let status = narrow.split(separator: "\n").first.map(String.init) ?? ""
    #expect(
      status.contains("stage 2/2 · step 1240/1953") && status.contains("[replay]"), "\(status)")
    m.status.replaySpeed = "paused 10× 0:29/6:13"
    let paused = ScreenRenderer.renderText(model: m, width: 40, height: 10)
    #expect(paused.contains("step 1240/1953") && paused.contains("[paused]"), "\(paused)")
    m.status.replaySpeed = "10× 0:29/6:13"
    let wide = ScreenRenderer.renderText(model: m, width: 80, height: 24)
    #expect(wide.contains("[replay 10× 0:29/6:13]"), "\(wide)")
    #expect(wide.hasPrefix(" cptui · "), "\(wide)")
  }

  /// With a step count in the hundreds, at 40 columns the title and then the replay's elapsed
  /// time give way so that the stage and the step show whole (the step read "…").
  @Test func aNarrowStatusKeepsItsStep() {
    var m = Fixtures.stageTwo()
    m.status.stage = 1
    m.status.step = 389
    m.status.totalSteps = 978
    m.status.mode = .replay
    m.status.replaySpeed = "10× 0:29/2:58"
    func status(_ width: Int) -> String {
      let text = ScreenRenderer.renderText(model: m, width: width, height: 12)
      return text.split(separator: "\n").first.map(String.init) ?? ""
    }
    let narrow = status(40)
    #expect(narrow.hasPrefix(" stage 1/2 · step 389/978"), "\(narrow)")
    #expect(narrow.contains("[replay 10×]") && !narrow.contains("cptui"), "\(narrow)")
    // At 46 columns the elapsed time fits beside them; the title does not.
    let middle = status(46)
    #expect(
      middle.hasPrefix(" stage 1/2 · step 389/978") && middle.contains("[replay 10× 0:29]"),
      "\(middle)")
    // An overlay's run number does not fit at 40 columns even without the speed: the speed stays.
    m.status.runName = "run 1/5: strong-shift"
    let overlay = status(40)
    #expect(
      overlay.hasPrefix(" stage 1/2 · step 389/978") && overlay.contains("[replay 10×]"),
      "\(overlay)")
    // At 50 columns, dropping the elapsed time makes room for it: then it goes, not the number.
    let wider = status(50)
    #expect(
      wider.hasPrefix(" run 1/5 · stage 1/2 · step 389/978") && wider.contains("[replay 10×]"),
      "\(wider)")
    // Live at 40 columns: the title goes, the stage and step stay.
    m.status.mode = .live
    m.status.step = 12345
    m.status.totalSteps = 99999
    let live = status(40)
    #expect(live.hasPrefix(" stage 1/2 · step 12345/99999") && live.contains("[live]"), "\(live)")
  }

  @Test func pKeyPinsTheNextRunShowsItsStatusAndUnhidesIt() {
    var m = Fixtures.overlay3()
    m.status.mode = .replay
    for i in m.runs.indices {
      m.runs[i].status = RunStatus(runName: "run \(i + 1)", step: 100 * (i + 1), mode: .finished)
      m.runs[i].measures = Measures(forgetting: Double(i) / 10)
    }
    m.view.hiddenSeries = [2]
    #expect(m.handleKey(.char("p")).isEmpty)
    #expect(m.view.pinnedRun == 1 && m.view.hiddenSeries.isEmpty)
    #expect(m.shownStatus.runName == "run 2" && m.shownStatus.mode == .replay)
    #expect(m.shownMeasures.forgetting == 0.1)
    let text = ScreenRenderer.renderText(model: m, width: 120, height: 40)
    #expect(text.contains("▸2 replay 5%"))
    #expect(text.contains("run 2"))
    // Moving the pin on hides run 2 again, as the user had it.
    _ = m.handleKey(.char("p"))
    #expect(m.view.pinnedRun == 2 && m.view.hiddenSeries == [2])
    _ = m.handleKey(.char("p"))
    #expect(m.view.pinnedRun == 0)
    // Shown by the pin, then shown by its own key: it stays shown after the pin moves on.
    _ = m.handleKey(.char("p"))
    _ = m.handleKey(.char("2"))
    _ = m.handleKey(.char("2"))
    _ = m.handleKey(.char("p"))
    #expect(m.view.hiddenSeries.isEmpty, "\(m.view.hiddenSeries)")
  }

  /// x shows/hides the pinned run: the way to the runs past 9, which have no digit key.
  @Test func xHidesThePinnedRunWhateverItsNumber() {
    var m = Fixtures.overlay3()
    m.status.mode = .replay
    while m.runs.count < 12 { m.runs.append(m.runs[m.runs.count % 3]) }
    for _ in 0..<10 { _ = m.handleKey(.char("p")) }
    #expect(m.view.pinnedRun == 10)
    #expect(m.handleKey(.char("x")).isEmpty)
    #expect(m.view.hiddenSeries == [11])
    _ = m.handleKey(.char("x"))
    #expect(m.view.hiddenSeries.isEmpty)
  }

  @Test func oneRunHasNothingToPin() {
    var m = Fixtures.live()
    m.status.mode = .replay
    _ = m.handleKey(.char("p"))
    #expect(m.view.pinnedRun == 0)
  }
}
