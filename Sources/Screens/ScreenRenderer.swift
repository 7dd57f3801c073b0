// Turns a screen model into cells: the status line, the validation-loss chart, the learning-rate
// and train-loss panels, the next-stage settings, the measures line, the key hints, and whatever
// overlay is open.

import Terminal

public enum ScreenRenderer {
  /// Draws the whole screen for `model` into `grid` (all of it; the grid is cleared first).
  public static func render(model: ScreenModel, into grid: inout CellGrid) {
    grid.clear()
    guard grid.width > 0, grid.height > 0 else { return }
    let layout = ScreenLayout(
      width: grid.width, height: grid.height, hasNotice: !model.notices.isEmpty,
      hasSettings: model.status.hasTrainer)
    if layout.tooSmall {
      drawTooSmall(model: model, grid: &grid)
      return
    }
    drawStatus(model, in: layout.status, grid: &grid)
    let xRange = model.view.visibleRange(extent: model.xExtent)
    drawValidation(model, xRange: xRange, in: layout.mainChart, grid: &grid)
    if let r = layout.learningRate { drawLearningRate(model, xRange: xRange, in: r, grid: &grid) }
    if let r = layout.trainLoss { drawTrainLoss(model, xRange: xRange, in: r, grid: &grid) }
    if let r = layout.settings { drawSettings(model.nextStage, in: r, grid: &grid) }
    if let r = layout.notice {
      let text = model.notices.map { $0.sanitizedForScreen }.joined(separator: " · ")
      grid.putTruncated("  " + text, x: r.x, y: r.y, width: r.width, style: Style(.warning))
    }
    drawMeasures(model.shownMeasures, in: layout.measures, grid: &grid)
    if let message = model.keyMessage {
      grid.putTruncated(
        "  " + message.sanitizedForScreen, x: layout.hints.x, y: layout.hints.y,
        width: layout.hints.width, style: Style(.warning))
    } else if model.view.overlay == .none {
      drawHints(
        KeyTable.hints(
          replay: model.status.mode == .replay, trainer: model.status.hasTrainer,
          mode: model.status.mode, comparison: model.comparison != nil,
          severalRuns: model.runs.count > 1, stopping: model.status.stopping),
        in: layout.hints, grid: &grid)
    } else if let context = KeyTable.contexts(for: model).first {
      drawHints(
        KeyTable.overlayHints(context, trainer: model.status.hasTrainer), in: layout.hints,
        grid: &grid)
    }
    switch model.view.overlay {
    case .none: break
    case .help: Overlays.drawHelp(model, grid: &grid)
    case .stagePanel:
      Overlays.drawStagePanel(
        model, over: layout.mainChart, below: layout.learningRate, grid: &grid)
    case .quitConfirm: Overlays.drawQuitConfirm(model, grid: &grid)
    case .comparison: Overlays.drawComparison(model, grid: &grid)
    }
  }

  /// A rendered screen as text (what golden tests compare).
  public static func renderText(
    model: ScreenModel, width: Int, height: Int, asciiOnly: Bool = false
  )
    -> String
  {
    var grid = CellGrid(width: width, height: height, asciiOnly: asciiOnly)
    render(model: model, into: &grid)
    return grid.render()
  }

  // MARK: - too small

  static func drawTooSmall(model: ScreenModel, grid: inout CellGrid) {
    let need = "\(ScreenLayout.minimumWidth)×\(ScreenLayout.minimumHeight) needed"
    let have = "now \(grid.width)×\(grid.height)"
    var lines: [(String, Style)] = [
      ("terminal too small", Style(.warning, .bold)), (need, Style(.text)), (have, Style(.text)),
    ]
    if model.view.overlay == .quitConfirm {
      lines.append(("quit? y/n", Style(.key, .bold)))
    } else {
      lines.append(("q quits", Style(.muted)))
    }
    let shown = lines.prefix(grid.height)
    let top = max(0, (grid.height - shown.count) / 2)
    for (k, (text, style)) in shown.enumerated() {
      let t = grid.asciiOnly ? CellGrid.asciiVersion(of: text) : text
      let w = t.terminalWidth
      let x = max(0, (grid.width - w) / 2)
      grid.putTruncated(t, x: x, y: top + k, width: grid.width - x, style: style)
    }
  }

  // MARK: - status line

  static func drawStatus(_ model: ScreenModel, in r: Rect, grid: inout CellGrid) {
    let s = model.shownStatus
    let dot = " " + grid.glyphs.bullet + " "
    let mode =
      s.mode == .finished
      ? TextSanitizer.clean(s.endedAs ?? s.mode.rawValue, maxLength: 12)
      : s.mode.rawValue + (s.mode == .replay ? (s.replaySpeed.map { " " + $0 } ?? "") : "")
    var modeText = "[" + mode + "]"
    let modeRole: ColorRole =
      switch s.mode {
      case .live: .live
      case .paused, .waiting: .paused
      case .replay: .replay
      case .stalled: .stalled
      case .finished: .muted
      }
    var right = r.maxX - modeText.count - 1
    var x = r.x + 1
    // Parts give way when the line is short (the rate, the ETA, the dataset, the run name); the
    // stage and the step stay longest (a cut step count reads as a wrong one).
    let name = s.runName.isEmpty ? nil : TextSanitizer.clean(s.runName, maxLength: 64)
    // Before anything of the run is known (no stages), there is no stage or step to show.
    let known = s.stageCount > 0
    let stage = known ? "stage \(s.stage)/\(s.stageCount)" : nil
    let dataset = s.dataset.isEmpty ? nil : TextSanitizer.clean(s.dataset, maxLength: 30)
    let step =
      !known ? nil : s.totalSteps > 0 ? "step \(s.step)/\(s.totalSteps)" : "step \(s.step)"
    // A rate and an ETA only while training goes on (or plays back): paused, waiting, stalled or
    // finished, they would be stale.
    let training = s.mode == .live || s.mode == .replay
    let rate = training ? s.tokensPerSecond.map { Format.count($0) + " tok/s" } : nil
    let eta = training ? s.etaSeconds.map { "ETA " + Format.duration($0) } : nil
    // An overlay's "run 3/4: warmup 1%" gives way to "run 3/4" before it goes: which run the
    // numbers are is worth more than its dataset.
    let shortName = name.flatMap { n in
      n.firstMatch(of: /^run \d+\/\d+(?=: )/).map { String($0.output) }
    }
    var keep = (name: true, dataset: true, rate: true, eta: true)
    var shownName = name
    func line() -> String {
      let parts =
        [
          keep.name ? shownName : nil,
          stage.map { $0 + (keep.dataset ? dataset.map { "  " + $0 } ?? "" : "") },
          step,
        ]
        + [keep.rate ? rate : nil, keep.eta ? eta : nil]
      let shown = parts.compactMap { $0 }
      return shown.isEmpty ? "" : dot + shown.joined(separator: dot)
    }
    // The run's number, stage and step are what the line is for. When they do not fit, first a
    // replay's total time ("/6:13") gives way (at 80 columns, paused and aligned by tokens,
    // "run 1/9" went; at 40 columns one run's status read "stage …"), then the "cptui" title,
    // then the replay's elapsed time and last its speed (at 40 columns the step read "…").
    let least = dot + ([shortName] + [stage, step]).compactMap { $0 }.joined(separator: dot)
    // Without the title and its bullet: the stage and step with the run's number, and alone.
    let whole = String(least.dropFirst(dot.count))
    let core = [stage, step].compactMap { $0 }.joined(separator: dot)
    let title = "cptui"
    var showsTitle = true
    func roomLeft(mode: String? = nil) -> Int {
      let right = mode.map { r.maxX - $0.count - 1 } ?? right
      return max(0, right - x - 1 - (showsTitle ? title.count : 0))
    }
    func setMode(_ text: String) {
      modeText = text
      right = r.maxX - modeText.count - 1
    }
    if s.mode == .replay, least.terminalWidth > roomLeft() {
      setMode(modeText.replacing(/\/[0-9:\-]+/, with: ""))
    }
    if least.terminalWidth > roomLeft() { showsTitle = false }
    if s.mode == .replay {
      // The elapsed time, then the speed, go while the line lacks room, if that makes room for
      // the run's number or the stage and step do not fit at all; not for a run's number that
      // would not fit even so (an overlay at 40 columns kept "[replay 10×]" that way).
      let paused = s.replaySpeed?.hasPrefix("paused") == true
      let shorter = [
        modeText.replacing(/\ [0-9]+:[0-9:]+(?=\]| by)/, with: ""),
        paused ? "[paused]" : "[replay]",
      ]
      for (index, mode) in shorter.enumerated() where whole.terminalWidth > roomLeft() {
        let coreFits = core.terminalWidth <= roomLeft()
        let wholeFits = shorter[index...].contains { whole.terminalWidth <= roomLeft(mode: $0) }
        guard !coreFits || wholeFits else { break }
        setMode(mode)
      }
    }
    // Without the title, the line does not open with a bullet.
    let lead = showsTitle ? 0 : dot.count
    let room = roomLeft() + lead
    if showsTitle {
      x += grid.put(title, x: x, y: r.y, style: Style(.title, .bold), maxWidth: right - x)
    }
    for drop in [\.rate, \.eta, \.dataset, \.name]
      as [WritableKeyPath<(name: Bool, dataset: Bool, rate: Bool, eta: Bool), Bool>]
    where line().terminalWidth > room {
      if drop == \.name, let shortName, shownName != shortName {
        shownName = shortName
        if line().terminalWidth <= room { break }
      }
      keep[keyPath: drop] = false
    }
    let text = String(line().dropFirst(lead))
    grid.putTruncated(text, x: x, y: r.y, width: max(0, right - x - 1), style: Style(.text))
    grid.put(modeText, x: right, y: r.y, style: Style(modeRole, .bold))
  }

  // MARK: - charts

  /// The style and dash of dataset `d` of run `r`. One run: a colour per dataset, solid lines.
  /// An overlay: a colour per run, datasets told apart by dash (`LineDash.forDataset`).
  static func seriesStyle(run r: Int, dataset d: Int, runCount: Int) -> (Style, LineDash) {
    if runCount <= 1 { return (Style(ColorRole.seriesRoles[d % 8]), .solid) }
    return (Style(ColorRole.seriesRoles[r % 8]), LineDash.forDataset(d))
  }

  static func isHidden(_ model: ScreenModel, run r: Int, dataset d: Int) -> Bool {
    model.view.hiddenSeries.contains(model.runs.count > 1 ? r + 1 : d + 1)
  }

  /// Adds a series to a chart: smoothed with the raw curve faint underneath, or raw.
  static func addLines(
    _ s: Series, style: Style, dash: LineDash, smoothing: Bool, weight: Double,
    to lines: inout [ChartLine]
  ) {
    if smoothing {
      lines.append(ChartLine(xs: s.xs, ys: s.ys, style: style, faint: true, dash: dash))
      let sm = Smoothing.ema(s.ys, weight: weight)
      lines.append(ChartLine(xs: s.xs, ys: sm, style: style, dash: dash))
    } else {
      lines.append(ChartLine(xs: s.xs, ys: s.ys, style: style, dash: dash))
    }
  }

  static func drawValidation(
    _ model: ScreenModel, xRange: ClosedRange<Double>, in r: Rect, grid: inout CellGrid
  ) {
    var title = "validation loss"
    if model.view.smoothing { title += " · smoothed " + Format.trimmed(model.view.smoothingWeight) }
    if model.view.logY { title += " · log-y" }
    if model.runs.count > 1, let first = model.runs.first, first.validation.count > 1 {
      // Each dataset's dash (`seriesStyle`): "D0 solid, D1 dotted, D2 dashed, D3 sparse".
      let names = first.validation.map {
        $0.name.split(separator: " ").first.map(String.init) ?? $0.name
      }
      let kinds = LineDash.allCases.compactMap { dash -> String? in
        let named = names.indices.filter { LineDash.forDataset($0) == dash }.map { names[$0] }
        return named.isEmpty ? nil : named.joined(separator: " ") + " \(dash)"
      }
      title += " · " + kinds.joined(separator: ", ") + " · last (min)"
    } else if model.runs.count == 1 {
      // The legend's numbers: the latest evaluation, and the lowest so far.
      title += " · latest (min)"
    }
    switch model.view.xWindow {
    case .all: break
    case .follow: title += " · following"
    case .fixed: title += " · panned (f follows)"
    }
    grid.box(r, title: title)
    let inner = Rect(x: r.x + 1, y: r.y + 1, width: r.width - 2, height: r.height - 2)
    var lines: [ChartLine] = []
    var legend: [LegendEntry] = []
    let n = model.runs.count
    var rows:
      [(name: String, last: String, min: String, style: Style, dash: LineDash, hidden: Bool)] =
        []
    for ri in drawOrder(model) {
      let run = model.runs[ri]
      for (di, s) in run.validation.enumerated() where !isHidden(model, run: ri, dataset: di) {
        let (style, dash) = seriesStyle(run: ri, dataset: di, runCount: n)
        addLines(
          s, style: style, dash: dash, smoothing: model.view.smoothing,
          weight: model.view.smoothingWeight, to: &lines)
      }
    }
    if n > 1 {
      legend = overlayLegend(model, asciiOnly: grid.asciiOnly, width: inner.width - 12)
    } else {
      for run in model.runs {
        for (di, s) in run.validation.enumerated() {
          let (style, dash) = seriesStyle(run: 0, dataset: di, runCount: n)
          var name = TextSanitizer.clean(s.name, maxLength: 32)
          if run.validation.count > 1 { name = "\(di + 1) " + name }
          rows.append(
            (
              name, s.lastFinite.map(Format.loss) ?? "–",
              s.minFinite.map { "(min " + Format.loss($0) + ")" } ?? "",
              style, dash, isHidden(model, run: 0, dataset: di)
            ))
        }
      }
    }
    let nameW = rows.map { $0.name.terminalWidth }.max() ?? 0
    let lastW = rows.map { $0.last.count }.max() ?? 0
    for row in rows {
      let pad = String(repeating: " ", count: nameW - row.name.terminalWidth)
      let lastPad = String(repeating: " ", count: lastW - row.last.count)
      let text =
        row.hidden
        ? row.name + pad + "  (hidden)"
        : row.name + pad + "  " + lastPad + row.last + " " + row.min
      legend.append(
        LegendEntry(text: text, style: row.style, dash: row.dash, hidden: row.hidden))
    }
    let markers = chartMarkers(model)
    let spec = ChartSpec(
      lines: lines, xRange: xRange, logY: model.view.logY, xUnit: model.xUnit, markers: markers,
      legend: legend)
    LineChart.draw(spec, in: inner, grid: &grid)
    if model.runs.allSatisfy({ $0.validation.allSatisfy(\.isEmpty) }) {
      let msg = "waiting for the first evaluation…"
      let x = inner.x + max(0, (inner.width - msg.count) / 2)
      grid.putTruncated(
        msg, x: x, y: inner.y + inner.height / 2, width: inner.width, style: Style(.muted))
    }
  }

  /// The legend of an overlay: a row per run in its colour, "▸" at the pinned run, then the last
  /// (and lowest) loss per dataset: "▸2 replay 25%  D0 3.23 (3.11)  D1 2.93 (2.93)". Datasets are
  /// told apart by line style (the title says which).
  /// `width` is the room for the text. The names tell the runs apart, so they keep room first:
  /// when the values would squeeze them below 24 columns, the lowest losses go, then the values
  /// of later datasets, then all values.
  static func overlayLegend(_ model: ScreenModel, asciiOnly: Bool, width: Int) -> [LegendEntry] {
    let pinned = model.pinnedRun
    func values(lows: Bool, datasets: Int) -> [String] {
      model.runs.enumerated().map { ri, run in
        if isHidden(model, run: ri, dataset: 0) { return "  (hidden)" }
        var text = ""
        for s in run.validation.prefix(datasets) {
          let short = s.name.split(separator: " ").first.map(String.init) ?? s.name
          let last = s.lastFinite.map(Format.loss) ?? "–"
          let low = lows ? (s.minFinite.map { " (" + Format.loss($0) + ")" } ?? "") : ""
          text += "  " + TextSanitizer.clean(short, maxLength: 12) + " " + last + low
        }
        // Datasets left out for room (D2, D3 of a four-domain run) are marked, not dropped unseen.
        if datasets > 0 && run.validation.count > datasets {
          text += "  " + (asciiOnly ? "..." : "…")
        }
        return text
      }
    }
    let longestName = model.runs.map { TextSanitizer.clean($0.name).terminalWidth }.max() ?? 0
    let wanted = min(longestName, 24) + 3
    let datasetCount = model.runs.map(\.validation.count).max() ?? 0
    let levels = [(true, datasetCount), (false, datasetCount), (false, 2), (false, 0)]
    var chosen = values(lows: false, datasets: 0)
    for (lows, count) in levels {
      let candidate = values(lows: lows, datasets: count)
      if width - (candidate.map(\.terminalWidth).max() ?? 0) - 3 >= wanted {
        chosen = candidate
        break
      }
    }
    let values = chosen
    let valuesW = values.map(\.terminalWidth).max() ?? 0
    let room = max(8, min(48, width - valuesW - 3))
    // A name too long leaves out whole parts, those most runs share first, so the setting that
    // tells runs apart stays (cut at its end, two peak-LR runs read the same); cut in the middle
    // when that would make two names alike.
    let full = model.runs.map { TextSanitizer.clean($0.name, maxLength: 1000) }
    let fitted = PartedLine.fitted(
      full.map { PartedLine(head: "", parts: $0.components(separatedBy: " · "), tail: "") },
      toWidth: room, ellipsis: asciiOnly ? "..." : "…")
    let names = model.runs.indices.map { ri in
      (ri == pinned ? (asciiOnly ? ">" : "▸") : " ") + "\(ri + 1) " + fitted[ri]
    }
    let nameW = names.map(\.terminalWidth).max() ?? 0
    var out: [LegendEntry] = []
    for (ri, _) in model.runs.enumerated() {
      let style = Style(ColorRole.seriesRoles[ri % 8])
      let pad = String(repeating: " ", count: nameW - names[ri].terminalWidth)
      let hidden = isHidden(model, run: ri, dataset: 0)
      out.append(LegendEntry(text: names[ri] + pad + values[ri], style: style, hidden: hidden))
    }
    return out
  }

  /// Run indices in drawing order: the pinned run last, so it is on top.
  static func drawOrder(_ model: ScreenModel) -> [Int] {
    let p = model.pinnedRun
    return model.runs.indices.filter { $0 != p } + (model.runs.isEmpty ? [] : [p])
  }

  /// The stage markers to draw: the pinned run's; in an overlay, labels that differ between runs
  /// are cut to "stage N" (the legend names each run's settings).
  static func chartMarkers(_ model: ScreenModel) -> [StageMarker] {
    guard !model.runs.isEmpty else { return [] }
    let first = model.runs[model.pinnedRun]
    return first.stageMarkers.map { m in
      var label = TextSanitizer.clean(m.label, maxLength: 80)
      let same = model.runs.allSatisfy { run in
        run.stageMarkers.contains { $0.x == m.x && $0.label == m.label }
      }
      if !same, let colon = label.firstIndex(of: ":") { label = String(label[..<colon]) }
      return StageMarker(x: m.x, label: label)
    }
  }

  /// The value a small panel's title shows: the last step's (finite) value where the run has it,
  /// else the series' last finite point.
  static func titleValue(latest: Double?, _ series: Series) -> Double? {
    if let latest, latest.isFinite { return latest }
    return series.lastFinite
  }

  static func drawLearningRate(
    _ model: ScreenModel, xRange: ClosedRange<Double>, in r: Rect, grid: inout CellGrid
  ) {
    let pinned = model.runs.isEmpty ? nil : model.runs[model.pinnedRun]
    let current = pinned.flatMap { titleValue(latest: $0.latestLearningRate, $0.lrPast) }
    grid.box(r, title: "learning rate" + (current.map { "  " + Format.scientific($0) } ?? ""))
    var lines: [ChartLine] = []
    let n = model.runs.count
    for ri in drawOrder(model) where !(n > 1 && isHidden(model, run: ri, dataset: 0)) {
      let run = model.runs[ri]
      let style = n > 1 ? Style(ColorRole.seriesRoles[ri % 8]) : Style(.accent)
      lines.append(ChartLine(xs: run.lrPlanned.xs, ys: run.lrPlanned.ys, style: style, faint: true))
      lines.append(ChartLine(xs: run.lrPast.xs, ys: run.lrPast.ys, style: style))
    }
    let markers = chartMarkers(model).map { StageMarker(x: $0.x, label: "") }
    // The planned schedule may reach past the data; show it when following the whole run.
    var range = xRange
    if case .all = model.view.xWindow,
      let hi = model.runs.compactMap({ $0.lrPlanned.xs.last }).max(),
      hi > range.upperBound
    {
      range = range.lowerBound...hi
    }
    let spec = ChartSpec(
      lines: lines, xRange: range, showAxes: false, xUnit: model.xUnit, markers: markers,
      scientificY: true)
    LineChart.draw(spec, in: r.inset(by: 1), grid: &grid)
  }

  static func drawTrainLoss(
    _ model: ScreenModel, xRange: ClosedRange<Double>, in r: Rect, grid: inout CellGrid
  ) {
    let pinned = model.runs.isEmpty ? nil : model.runs[model.pinnedRun]
    let current = pinned.flatMap { titleValue(latest: $0.latestTrainLoss, $0.trainLoss) }
    grid.box(r, title: "train loss" + (current.map { "  " + Format.loss($0) } ?? ""))
    var lines: [ChartLine] = []
    let n = model.runs.count
    for ri in drawOrder(model) where !(n > 1 && isHidden(model, run: ri, dataset: 0)) {
      let run = model.runs[ri]
      let style = n > 1 ? Style(ColorRole.seriesRoles[ri % 8]) : Style(.series1)
      addLines(
        run.trainLoss, style: style, dash: .solid, smoothing: model.view.smoothing,
        weight: model.view.smoothingWeight, to: &lines)
    }
    let markers = chartMarkers(model).map { StageMarker(x: $0.x, label: "") }
    let spec = ChartSpec(
      lines: lines, xRange: xRange, logY: model.view.logY, showAxes: false, xUnit: model.xUnit,
      markers: markers)
    LineChart.draw(spec, in: r.inset(by: 1), grid: &grid)
  }

  // MARK: - panels and lines

  static func drawSettings(_ s: StageSettings, in r: Rect, grid: inout CellGrid) {
    grid.box(r, title: "next stage")
    // A stage continuing an infinite schedule keeps its span's warmup, ηmax, ηmin and length:
    // those rows say "fixed" where the others show their keys (or nothing: panel-only fields).
    func keys(_ field: StageField, _ keys: String) -> String {
      s.lockReason(field) == nil ? keys : "fixed"
    }
    let rows: [(String, String, String)] = [
      ("dataset", TextSanitizer.clean(s.dataset, maxLength: 40), "[n]"),
      ("warmup", Format.percent(s.warmupPercent), keys(.warmup, "[w/W]")),
      ("replay", Format.percent(s.replayPercent), "[r/R]"),
      ("η max", Format.scientific(s.lrMax, significant: 3), keys(.lrMax, "[e/E]")),
      ("η min", Format.scientific(s.lrMin, significant: 3), keys(.lrMin, "")),
      ("schedule", TextSanitizer.clean(s.schedule, maxLength: 20), ""),
      ("length", Format.count(s.lengthTokens) + " tokens", keys(.length, "")),
    ]
    let inner = r.inset(by: 1)
    for (k, row) in rows.prefix(inner.height).enumerated() {
      let y = inner.y + k
      grid.put(row.0, x: inner.x + 1, y: y, style: Style(.label), maxWidth: 9)
      let keyW = row.2.count
      grid.putTruncated(
        row.1, x: inner.x + 10, y: y, width: inner.width - 11 - keyW - 1, style: Style(.text))
      grid.put(row.2, x: inner.maxX - keyW - 1, y: y, style: Style(.key))
    }
  }

  static func drawMeasures(_ m: Measures, in r: Rect, grid: inout CellGrid) {
    var x = r.x + 2
    var full = false
    let first = TextSanitizer.clean(m.firstDataset, maxLength: 16)
    let last = TextSanitizer.clean(m.adaptationDataset, maxLength: 16)
    // Later datasets' forgetting (four domains) only when the whole line still fits: adaptation
    // and avg matter more.
    var later = m.laterForgetting.map {
      (label: "Δ" + TextSanitizer.clean($0.dataset, maxLength: 16), value: $0.change)
    }
    if !later.isEmpty {
      var width = 0
      if let f = m.forgetting {
        width += ("forgetting Δ" + first).terminalWidth + 4 + Format.signed(f).count
      }
      width += later.reduce(0) { $0 + $1.label.terminalWidth + 4 + Format.signed($1.value).count }
      if let a = m.adaptation {
        width += ("adaptation " + last).terminalWidth + 4 + Format.loss(a).count
      }
      if let v = m.average { width += 7 + Format.loss(v).count }
      if let u = m.unionBaseline { width += 18 + Format.loss(u).count }
      if r.x + 2 + width - 3 > r.maxX { later = [] }  // no gap after the last part
    }
    // Whole measures only: a part that does not fit ends the line (a value cut to "1" for 1.27
    // would read as a number).
    func part(_ label: String, _ value: String, _ role: ColorRole) {
      guard !full, x + label.terminalWidth + 1 + value.terminalWidth <= r.maxX else {
        full = true
        return
      }
      x += grid.put(label + " ", x: x, y: r.y, style: Style(.muted), maxWidth: r.maxX - x)
      x += grid.put(value, x: x, y: r.y, style: Style(role, .bold), maxWidth: r.maxX - x)
      x += 3
    }
    if let f = m.forgetting { part("forgetting Δ" + first, Format.signed(f), f > 0 ? .bad : .good) }
    for change in later {
      part(change.label, Format.signed(change.value), change.value > 0 ? .bad : .good)
    }
    if let a = m.adaptation { part("adaptation " + last, Format.loss(a), .text) }
    if let v = m.average {
      part("avg", Format.loss(v), .text)
      if let u = m.unionBaseline {
        x -= 2
        part("(union baseline", Format.loss(u) + ")", .text)
      }
    } else if let u = m.unionBaseline {
      part("union baseline", Format.loss(u), .text)
    }
  }

  static func drawHints(
    _ hints: [(keys: String, text: String)], in r: Rect, grid: inout CellGrid
  ) {
    var items = hints
    func width(_ list: [(keys: String, text: String)]) -> Int {
      list.reduce(2) { $0 + $1.keys.terminalWidth + 1 + $1.text.terminalWidth + 2 }
    }
    // Drop hints from the middle (help and quit stay) until they fit.
    while width(items) > r.width && items.count > 2 { items.remove(at: items.count - 3) }
    var x = r.x + 2
    for item in items {
      x += grid.put(item.keys, x: x, y: r.y, style: Style(.key), maxWidth: r.maxX - x)
      // Cut with an ellipsis on a narrow screen ("[q] quit (asks first whi" read as whole).
      x += grid.putTruncated(" " + item.text, x: x, y: r.y, width: r.maxX - x, style: Style(.muted))
      x += 2
    }
  }
}
