// Boxes drawn over the main screen: help (generated from the key table), the stage panel, the quit
// confirmation and the comparison table.

import Terminal

enum Overlays {
  /// A blanked, bordered box of about `width`×`height` (clipped to the grid): in the middle of
  /// `within` when it fits there whole (the stage panel over the validation chart, leaving the side
  /// column's titles readable); else across the screen just below `below` when it fits between
  /// that and the bottom of `within` (the stage panel under the learning-rate chart, whose preview
  /// of the draft stays in view); else in the middle of the screen.
  static func centeredBox(
    _ width: Int, _ height: Int, title: String, within: Rect? = nil, below: Rect? = nil,
    grid: inout CellGrid
  ) -> Rect {
    let w = min(width, grid.width - 2)
    let h = min(height, grid.height - 2)
    func draw(_ r: Rect) -> Rect {
      grid.fill(r)
      grid.box(r, title: title, style: Style(.accent), titleStyle: Style(.title, .bold))
      return r
    }
    if let area = within, area.width >= w + 2, area.height >= h + 2 {
      return draw(
        Rect(
          x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w,
          height: h))
    }
    if let area = within, let above = below, area.maxY - above.maxY >= h {
      return draw(Rect(x: (grid.width - w) / 2, y: above.maxY, width: w, height: h))
    }
    return draw(
      Rect(x: (grid.width - w) / 2, y: max(1, (grid.height - h) / 2), width: w, height: h))
  }

  static func drawHelp(_ model: ScreenModel, grid: inout CellGrid) {
    var lines: [(String, String, Bool)] = []
    // A replay shows its own keys first and leaves out what needs a trainer.
    let replay = model.status.mode == .replay
    // Only keys that do something here: no comparison keys without a comparison (a live run), no
    // "asks first while training" without a trainer.
    let hasComparison = model.comparison != nil
    var contexts: [KeyContext] =
      replay
      ? [.replay, .main, .comparison] : model.status.hasTrainer ? [.main, .stagePanel] : [.main]
    if !replay && hasComparison { contexts.append(.comparison) }
    for ctx in contexts {
      if !lines.isEmpty { lines.append(("", "", false)) }
      lines.append((ctx == .main ? "keys" : ctx.rawValue, "", true))
      var skipped =
        replay
        ? ScreenModel.trainingOnly
        : model.status.hasTrainer ? [] : ScreenModel.trainingOnly + [.pause]
      if !hasComparison { skipped.append(.comparison) }
      for l in KeyTable.helpLines(for: ctx, skipping: skipped, trainer: model.status.hasTrainer) {
        lines.append((l.keys, l.text, false))
      }
    }
    let keyW = min(16, lines.map { $0.0.terminalWidth }.max() ?? 8)
    let textW = lines.map { $0.1.terminalWidth }.max() ?? 20
    let r = centeredBox(keyW + textW + 7, lines.count + 4, title: "help", grid: &grid)
    let inner = Rect(x: r.x + 2, y: r.y + 1, width: r.width - 4, height: r.height - 3)
    guard inner.height > 0, inner.width > 4 else { return }
    let maxScroll = max(0, lines.count - inner.height)
    let scroll = min(model.view.helpScroll, maxScroll)
    for (k, line) in lines.dropFirst(scroll).prefix(inner.height).enumerated() {
      let y = inner.y + k
      if line.2 {
        grid.putTruncated(line.0, x: inner.x, y: y, width: inner.width, style: Style(.title, .bold))
      } else {
        grid.putTruncated(line.0, x: inner.x + 1, y: y, width: keyW, style: Style(.key))
        grid.putTruncated(
          line.1, x: inner.x + keyW + 3, y: y, width: inner.width - keyW - 3, style: Style(.text))
      }
    }
    let footer = maxScroll > 0 ? "↑↓ scroll · Esc closes" : "Esc closes"
    grid.putTruncated(footer, x: inner.x, y: r.maxY - 2, width: inner.width, style: Style(.muted))
  }

  static func ladder(_ values: [Double], current: Double, unit: String, format: (Double) -> String)
    -> [(String, Bool)]
  {
    var out: [(String, Bool)] = []
    var placed = false
    for v in values {
      if !placed && current < v - 1e-12 {
        out.append(("[" + format(current) + "]", true))
        placed = true
      }
      let on = abs(v - current) <= max(abs(current) * 1e-9, 1e-15)
      if on { placed = true }
      out.append((on ? "[" + format(v) + "]" : format(v), on))
    }
    if !placed { out.append(("[" + format(current) + "]", true)) }
    if !unit.isEmpty { out.append((unit, false)) }
    return out
  }

  /// The stage panel: over `chart` (the validation chart) when it fits there, else below
  /// `learningRate` (the chart that previews the draft) when it fits there.
  static func drawStagePanel(
    _ model: ScreenModel, over chart: Rect? = nil, below learningRate: Rect? = nil,
    grid: inout CellGrid
  ) {
    let s = model.nextStage
    let v = model.view
    let title = "stage \(model.status.stage + 1): next stage settings"
    let r = centeredBox(62, 15, title: title, within: chart, below: learningRate, grid: &grid)
    let inner = Rect(x: r.x + 2, y: r.y + 1, width: r.width - 4, height: r.height - 2)
    guard inner.height >= 3, inner.width >= 20 else { return }
    let (left, right) = grid.asciiOnly ? ("<", ">") : ("◂", "▸")
    // The fields' rows: below a blank line when there is room, above the error and hint lines.
    // When not every field fits, the rows scroll to keep the focused field in view, and arrows
    // at the right edge say that more fields lie above or below.
    let fields = StageField.allCases
    let top = inner.y + (inner.height >= fields.count + 4 ? 1 : 0)
    let rows = max(0, inner.maxY - 3 - top)
    let focusIndex = fields.firstIndex(of: v.stageField) ?? 0
    let first = rows >= fields.count ? 0 : min(max(0, focusIndex - rows / 2), fields.count - rows)
    let scrolls = rows < fields.count
    let (up, down) = grid.asciiOnly ? ("^", "v") : ("↑", "↓")
    for k in 0..<min(rows, fields.count) {
      let y = top + k
      let field = fields[first + k]
      let focused = field == v.stageField
      grid.put(focused ? right : " ", x: inner.x, y: y, style: Style(.accent, .bold))
      grid.put(field.title, x: inner.x + 2, y: y, style: Style(focused ? .title : .label))
      var x = inner.x + 13
      let maxX = scrolls ? inner.maxX - 2 : inner.maxX
      if scrolls && k == 0 && first > 0 {
        grid.put(up, x: inner.maxX - 1, y: y, style: Style(.accent, .bold))
      }
      if scrolls && k == rows - 1 && first + rows < fields.count {
        grid.put(down, x: inner.maxX - 1, y: y, style: Style(.accent, .bold))
      }
      if focused && !v.entryText.isEmpty {
        let text = TextSanitizer.clean(v.entryText, maxLength: 20) + "_"
        grid.put(text, x: x, y: y, style: Style(.selection), maxWidth: maxX - x)
        continue
      }
      let items: [(String, Bool)]
      if s.lockReason(field) != nil {
        // Fixed by the infinite schedule this stage continues: the value, not a choice.
        let value: String
        switch field {
        case .warmup: value = "0%"
        case .lrMax: value = Format.scientific(s.lrMax, significant: 3)
        case .lrMin: value = Format.scientific(s.lrMin, significant: 3)
        default: value = Format.count(s.lengthTokens) + " tokens"
        }
        let first = s.infiniteSpan?.firstStage ?? 1
        var text = value + "  (as stage \(first): infinite)"
        if field == .length, model.status.mode != .waiting, model.status.mode != .finished {
          // Enter ends the running stage now: the span keeps its length, so this stage also
          // trains the steps that stage leaves (StageConfig.endEarly).
          text = value + " + stage \(model.status.stage)'s rest  (infinite)"
        }
        grid.put(text, x: x, y: y, style: Style(.muted), maxWidth: maxX - x)
        continue
      }
      switch field {
      case .dataset:
        items = [(left + " " + TextSanitizer.clean(s.dataset, maxLength: 30) + " " + right, true)]
      case .schedule:
        items = [(left + " " + TextSanitizer.clean(s.schedule, maxLength: 30) + " " + right, true)]
      case .warmup:
        items = ladder(StageSteps.warmupPercent, current: s.warmupPercent, unit: "%") {
          Format.trimmed($0)
        }
      case .replay:
        items =
          ladder(StageSteps.replayPercent, current: s.replayPercent, unit: "%") {
            Format.trimmed($0)
          }
          + (s.replayPercent > 0 && !s.replaySource.isEmpty
            ? [("of " + TextSanitizer.clean(s.replaySource, maxLength: 30), false)] : [])
      case .replayOrder:
        // As the ladders: the choice in brackets.
        items = [
          (s.replaySpread ? "in order" : "[in order]", !s.replaySpread),
          (s.replaySpread ? "[spread]" : "spread", s.replaySpread),
          (s.replaySpread ? "over all the data" : "from the data's start", false),
        ]
      case .lrMax:
        items = [(left + " " + Format.scientific(s.lrMax, significant: 3) + " " + right, true)]
      case .lrMin:
        items = [(left + " " + Format.scientific(s.lrMin, significant: 3) + " " + right, true)]
      case .length:
        // A stage is whole updates: their count says what a typed length becomes.
        items =
          [(left + " " + Format.count(s.lengthTokens) + " tokens " + right, true)]
          + (s.lengthSteps.map { [("\($0) step" + ($0 == 1 ? "" : "s"), false)] } ?? [])
      }
      // A ladder shows whole values only ("…" for the rest: a cut "50" would read "5"), starting
      // late enough that the chosen value is on screen.
      let chosen = items.lastIndex { $0.1 } ?? 0
      var start = 0
      func width(_ range: ClosedRange<Int>) -> Int {
        items[range].reduce(0) { $0 + $1.0.terminalWidth + 1 } + (range.lowerBound > 0 ? 2 : 0)
      }
      while start < chosen && width(start...chosen) > maxX - x { start += 1 }
      if start > 0 {
        x +=
          grid.put(grid.glyphs.ellipsis, x: x, y: y, style: Style(.muted), maxWidth: maxX - x) + 1
      }
      for (index, (text, on)) in items.enumerated().dropFirst(start) {
        if index > start && text.terminalWidth > maxX - x {
          grid.put(grid.glyphs.ellipsis, x: x, y: y, style: Style(.muted), maxWidth: maxX - x)
          break
        }
        let style = on ? Style(focused ? .selection : .text, on ? .bold : []) : Style(.muted)
        x += grid.put(text, x: x, y: y, style: style, maxWidth: maxX - x) + 1
      }
    }
    // The last refusal or note, else a standing warning for an η max that stays above the ladder
    // while other fields are edited (the note of the edit that set it is gone by then).
    if let e = v.entryError ?? ScreenModel.etaMaxWarning(s.lrMax) {
      grid.putTruncated(
        TextSanitizer.clean(e), x: inner.x, y: inner.maxY - 3, width: inner.width,
        style: Style(.error))
    }
    let hint1 = "↑↓ field   ←→ change   type a value (3e-4, 25, 2M)"
    let hint2 =
      v.entryText.isEmpty
      ? (model.status.mode == .waiting
        ? "Enter starts stage \(model.status.stage + 1)   Esc undoes edits"
        : "Enter ends stage \(model.status.stage) now, starts stage \(model.status.stage + 1)   Esc undoes edits")
      : "Enter applies the value   Esc clears it"
    grid.putTruncated(
      hint1, x: inner.x, y: inner.maxY - 2, width: inner.width, style: Style(.muted))
    grid.putTruncated(hint2, x: inner.x, y: inner.maxY - 1, width: inner.width, style: Style(.key))
  }

  static func drawQuitConfirm(_ model: ScreenModel, grid: inout CellGrid) {
    let r = centeredBox(48, 6, title: "quit", grid: &grid)
    let inner = r.inset(by: 1)
    guard inner.height >= 2 else { return }
    // Between stages nothing is being trained: quitting ends the run where it stands.
    let status = model.status
    let (line1, line2) =
      status.mode != .waiting
      ? ("Stop training and quit?", "The run log and a checkpoint are saved.")
      : status.stage >= status.stageCount
        ? ("Every planned stage is done. Quit?", "The run is complete; its log is saved.")
        : ("Quit between stages?", "The log is saved; the stage \(status.stage + 1) draft is not.")
    let line3 = "[y q Enter] quit   [n Esc] keep going"
    grid.putTruncated(
      line1, x: inner.x + 1, y: inner.y, width: inner.width - 2, style: Style(.title, .bold))
    if inner.height >= 3 {
      grid.putTruncated(
        line2, x: inner.x + 1, y: inner.y + 1, width: inner.width - 2, style: Style(.text))
    }
    grid.putTruncated(
      line3, x: inner.x + 1, y: inner.maxY - 1, width: inner.width - 2, style: Style(.key))
  }

  /// `text` in lines of at most `width` columns, broken at spaces (a longer word is left whole,
  /// to be cut where it is drawn).
  static func wrapped(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ").map(String.init) {
      if line.isEmpty {
        line = word
      } else if line.terminalWidth + 1 + word.terminalWidth <= width {
        line += " " + word
      } else {
        lines.append(line)
        line = word
      }
    }
    if !line.isEmpty { lines.append(line) }
    return lines
  }

  /// Run names for a narrow table: each " · " part that more than half of the runs (baselines
  /// aside) share is left out of the names that have it, and returned once as `common`. Nil when
  /// no part is that common, or leaving them out would leave a name empty or two names alike.
  static func compactNames(_ names: [String], baseline: [Bool]) -> (
    names: [String], common: [String]
  )? {
    let runs = names.indices.filter { !(baseline.indices.contains($0) && baseline[$0]) }
    guard runs.count >= 3 else { return nil }
    let parts = names.map { $0.components(separatedBy: " · ") }
    var counts: [String: Int] = [:]
    for i in runs { for part in Set(parts[i]) { counts[part, default: 0] += 1 } }
    var common: [String] = []
    for i in runs {
      for part in parts[i] where 2 * counts[part, default: 0] > runs.count && !common.contains(part)
      {
        common.append(part)
      }
    }
    guard !common.isEmpty else { return nil }
    var out = names
    for i in runs {
      let kept = parts[i].filter { !common.contains($0) }
      guard !kept.isEmpty else { return nil }
      out[i] = kept.joined(separator: " · ")
    }
    guard Set(runs.map { out[$0] }).count == runs.count else { return nil }
    return (out, common)
  }

  static func drawComparison(_ model: ScreenModel, grid: inout CellGrid) {
    guard let table = model.comparison, !table.columns.isEmpty else {
      let r = centeredBox(52, 5, title: "comparison", grid: &grid)
      grid.putTruncated(
        "no comparison yet: it needs finished runs", x: r.x + 2, y: r.y + 2, width: r.width - 4,
        style: Style(.muted))
      return
    }
    var cols = table.columns.map { TextSanitizer.clean($0, maxLength: 30) }
    let sortCol = min(model.view.sortColumn, cols.count - 1)
    // Rows in sort order; a row without a number in the sort column goes last.
    let order = table.rows.indices.sorted { i, j in
      let (a, b) = (table.rows[i], table.rows[j])
      let x = sortCol < a.count ? a[sortCol] : ComparisonCell("")
      let y = sortCol < b.count ? b[sortCol] : ComparisonCell("")
      if (x.value == nil) != (y.value == nil) && (x.value != nil || y.value != nil) && sortCol > 0 {
        return x.value != nil
      }
      let less: Bool
      if let xv = x.value, let yv = y.value {
        less = xv < yv
      } else {
        less = Format.naturalLess(x.text, y.text)
      }
      let greater: Bool
      if let xv = x.value, let yv = y.value {
        greater = xv > yv
      } else {
        greater = Format.naturalLess(y.text, x.text)
      }
      return model.view.sortDescending ? greater : less
    }
    var rows = order.map { table.rows[$0] }
    let candidates = order.filter { table.isCandidate($0) }.map { table.rows[$0] }
    // Best (lowest) per numeric column, baselines and unfinished runs excluded.
    var best: [Double?] = []
    for c in cols.indices {
      let vals = candidates.compactMap { c < $0.count ? $0[c].value : nil }.filter { $0.isFinite }
      best.append(vals.min())
    }
    // Cell text: names up to 80 columns, numbers with a "*" where best (as `cptui compare`).
    func text(_ cell: ComparisonCell, column c: Int, row k: Int) -> String {
      let t = TextSanitizer.clean(cell.text, maxLength: c == 0 ? 80 : 30)
      let isBest =
        cell.value != nil && cell.value == best[c] && rows.count > 1
        && table.isCandidate(order[k])
      // A space where others have the "*", so decimal points line up.
      return isBest ? t + "*" : (cell.value != nil ? t + " " : t)
    }
    func columnWidths(_ names: [String]) -> [Int] {
      // The sorted column's heading carries " ▲": every heading keeps room for it, so the table
      // does not shift sideways when the sort moves to another column.
      var widths = names.map { $0.terminalWidth + 2 }
      for (k, row) in rows.enumerated() {
        for (c, cell) in row.enumerated() where c < widths.count {
          widths[c] = max(widths[c], text(cell, column: c, row: k).terminalWidth)
        }
      }
      return widths
    }
    // Too wide for the screen: the gaps narrow, then the long headings shorten, and only then do
    // the run names give way (cut run names soon read alike).
    var gap = 2
    var widths = columnWidths(cols)
    func spare() -> Int { (grid.width - 4) - (widths.reduce(0, +) + gap * (cols.count - 1) + 2) }
    if spare() < 0 { gap = 1 }
    if spare() < 0 {
      let short = ["forgetting": "forget", "adaptation": "adapt"]
      cols = cols.map { short[$0] ?? $0 }
      widths = columnWidths(cols)
    }
    // Still too wide: the parts of the run names most runs share ("cosine", "warmup 1%") are said
    // once under the table rather than in every row, so the parts that set runs apart stay.
    var commonNote: [String] = []
    if spare() < 0,
      let compact = Self.compactNames(
        rows.map { $0.first?.text ?? "" }, baseline: order.map { table.isBaseline($0) })
    {
      for k in rows.indices where !rows[k].isEmpty { rows[k][0].text = compact.names[k] }
      commonNote = [
        "runs are " + compact.common.joined(separator: " · ") + " unless named otherwise"
      ]
      widths = columnWidths(cols)
    }
    if spare() < 0, !widths.isEmpty { widths[0] = max(12, widths[0] + spare()) }
    let total = widths.reduce(0, +) + gap * (cols.count - 1) + 2
    let notes = commonNote + table.notes.prefix(3 - commonNote.count)
    // Notes are wrapped to the table's width (a caveat cut at "its column com…" said nothing),
    // at most three lines each.
    // The box's inner width, as centeredBox narrows it on a small screen.
    let noteWidth = min(total + 2, grid.width - 2) - 4
    let ellipsis = grid.glyphs.ellipsis
    let noteGroups: [[(text: String, common: Bool)]] = notes.enumerated().map { k, note in
      let lines = Self.wrapped(TextSanitizer.clean(note, maxLength: 1000), width: noteWidth)
      // A fourth line and more are said with "…" at the end of the third.
      let kept = lines.count > 3 ? Array(lines.prefix(2)) + [lines[2] + " " + ellipsis] : lines
      return kept.map { (text: $0, common: k < commonNote.count) }
    }
    let r = centeredBox(
      total + 2, rows.count + 6 + noteGroups.reduce(0) { $0 + $1.count },
      title: "comparison", grid: &grid)
    let inner = Rect(x: r.x + 2, y: r.y + 1, width: r.width - 4, height: r.height - 2)
    var x = inner.x
    let arrow =
      model.view.sortDescending ? (grid.asciiOnly ? "v" : "▼") : (grid.asciiOnly ? "^" : "▲")
    for (c, name) in cols.enumerated() {
      let text = name + (c == sortCol ? " " + arrow : "")
      grid.put(
        text, x: x, y: inner.y, style: Style(.title, c == sortCol ? .underline : []),
        maxWidth: inner.maxX - x)
      x += widths[c] + gap
    }
    for (k, row) in rows.enumerated() {
      let y = inner.y + 1 + k
      guard y < inner.maxY - 1 else { break }
      x = inner.x
      for (c, cell) in row.enumerated() where c < widths.count {
        // A run name that does not fit is cut in the middle: names often differ at their ends.
        let shown =
          c == 0
          ? text(cell, column: c, row: k).middleTruncated(
            toWidth: widths[0], ellipsis: grid.glyphs.ellipsis)
          : text(cell, column: c, row: k)
        let isBest = shown.hasSuffix("*") && cell.value != nil
        let w = min(shown.terminalWidth, widths[c])
        // Numbers (and the "–" of a missing one) right-aligned, names left-aligned.
        let start = c > 0 ? x + widths[c] - w : x
        grid.putTruncated(
          shown, x: start, y: y, width: min(widths[c], inner.maxX - start),
          style: isBest ? Style(.good, .bold) : Style(.text))
        x += widths[c] + gap
      }
    }
    // Notes between the rows and the hint: the name parts left out, why a Δunion is empty, and
    // the like (cut to the box).
    // One blank line above them and one below, before the hint. On a short screen whole notes
    // go from the end (a note's tail alone said nothing; the names' key comes first).
    let room = max(0, inner.maxY - 2 - (inner.y + rows.count + 1))
    var noteLines: [(text: String, common: Bool)] = []
    for group in noteGroups where noteLines.count + group.count <= room { noteLines += group }
    for (k, line) in noteLines.enumerated() {
      let y = inner.maxY - 2 - noteLines.count + k
      grid.putTruncated(
        line.text, x: inner.x, y: y, width: inner.width,
        style: Style(line.common ? .muted : .warning))
    }
    grid.putTruncated(
      "←→ sort column · r reverses · v/Esc closes", x: inner.x, y: inner.maxY - 1,
      width: inner.width,
      style: Style(.muted))
  }
}
