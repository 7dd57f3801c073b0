import Foundation

/// Text renderings of a config's planned learning rate, for `cptui schedule` (pure functions).
public enum ScheduleText {
  /// One row per stage: dataset, length, schedule, warmup, ηmax, ηmin, replay, optimizer state.
  public static func stageTable(_ config: ExperimentConfig) -> [String] {
    var rows: [[String]] = [
      [
        "stage", "dataset", "steps", "tokens", "schedule", "warmup", "lrMax", "lrMin", "replay",
        "optimizer",
      ]
    ]
    let tokens = compactCounts(config.stages.map { $0.steps * config.tokensPerStep })
    for (index, stage) in config.stages.enumerated() {
      var label = "\(index + 1)"
      if let name = stage.name { label += " \(name)" }
      let replay =
        stage.replayPercent > 0
        ? "\(short(stage.replayPercent))% of \(stage.replayFrom.joined(separator: "+"))" : "0"
      rows.append([
        label, stage.dataset, "\(stage.steps)", tokens[index],
        stage.schedule.summary, formatPercent(stage.warmupFraction), short(stage.lrMax),
        short(stage.lrMin), replay, stage.optimizerState.rawValue,
      ])
    }
    return align(rows)
  }

  /// The LR at a few evenly spaced steps and at every stage's first and last step.
  public static func pointTable(_ config: ExperimentConfig, rows: Int = 16) -> [String] {
    let plan = config.schedulePlan
    guard plan.totalSteps > 0 else { return [] }
    var steps = Set<Int>()
    let count = max(rows, 2)
    for index in 0..<count {
      steps.insert(Int((Double(index) / Double(count - 1) * Double(plan.totalSteps - 1)).rounded()))
    }
    for (index, start) in plan.stageStarts.enumerated() {
      steps.insert(start)
      steps.insert(start + max(plan.stages[index].steps - 1, 0))
      let warmup = Int(plan.stages[index].warmupSteps.rounded(.up))
      if warmup > 0, warmup < plan.stages[index].steps { steps.insert(start + warmup) }
    }
    var table: [[String]] = [["step", "stage", "stage step", "tokens", "lr"]]
    let sorted = steps.sorted()
    let tokens = compactCounts(sorted.map { $0 * config.tokensPerStep })
    for (row, step) in sorted.enumerated() {
      let stage = plan.stageIndex(globalStep: step)
      table.append([
        "\(step)", "\(stage + 1)", "\(step - plan.stageStarts[stage])", tokens[row],
        String(format: "%.6g", plan.lr(globalStep: step)),
      ])
    }
    return align(table)
  }

  /// The whole curve as a plot `width`×`height` characters (braille dots, 2×4 per character, or
  /// `*` when `unicode` is false), y from 0 to the largest LR, stage starts marked on the x axis.
  public static func plot(
    curve: [Double], stageStarts: [Int], width: Int = 72, height: Int = 12, unicode: Bool = true
  ) -> [String] {
    let width = max(width, 8)
    let height = max(height, 2)
    guard !curve.isEmpty else { return [] }
    let top = curve.filter(\.isFinite).max() ?? 0
    let yMax = top > 0 ? top : 1
    let dotsX = unicode ? 2 : 1
    let dotsY = unicode ? 4 : 1
    let columns = width * dotsX
    let rows = height * dotsY
    var grid = [[Bool]](repeating: [Bool](repeating: false, count: columns), count: rows)
    func row(_ value: Double) -> Int {
      let fraction = min(max(value / yMax, 0), 1)
      return rows - 1 - Int((fraction * Double(rows - 1)).rounded())
    }
    var previous: Int?
    for column in 0..<columns {
      let from = column * curve.count / columns
      let to = max(from + 1, (column + 1) * curve.count / columns)
      let slice = curve[from..<min(to, curve.count)].filter(\.isFinite)
      guard let low = slice.min(), let high = slice.max() else {
        previous = nil
        continue
      }
      var top = row(high)
      var bottom = row(low)
      if let previous {
        top = min(top, previous)
        bottom = max(bottom, previous)
      }
      // Join to the previous column only where the curve is continuous (not at a stage restart).
      let restart = stageStarts.contains { $0 > 0 && $0 >= from && $0 < to }
      if restart {
        top = row(high)
        bottom = row(low)
      }
      for y in top...bottom { grid[y][column] = true }
      previous = row(
        curve[min(to, curve.count) - 1].isFinite ? curve[min(to, curve.count) - 1] : low)
    }
    var lines: [String] = []
    let labelWidth = max(axisLabel(yMax).count, axisLabel(yMax / 2).count, 1)
    for cellRow in 0..<height {
      var text = ""
      for cellColumn in 0..<width {
        if unicode {
          var bits = 0
          let dots = [
            (0, 0, 1), (0, 1, 2), (0, 2, 4), (1, 0, 8), (1, 1, 16), (1, 2, 32), (0, 3, 64),
            (1, 3, 128),
          ]
          for (dx, dy, bit) in dots where grid[cellRow * 4 + dy][cellColumn * 2 + dx] {
            bits |= bit
          }
          text.unicodeScalars.append(Unicode.Scalar(0x2800 + bits)!)
        } else {
          text += grid[cellRow][cellColumn] ? "*" : " "
        }
      }
      var label = ""
      if cellRow == 0 { label = axisLabel(yMax) }
      if cellRow == height / 2 { label = axisLabel(yMax / 2) }
      if cellRow == height - 1 { label = "0" }
      let pad = String(repeating: " ", count: labelWidth - label.count)
      lines.append(pad + label + (unicode ? " ┤" : " |") + text)
    }
    // X axis with stage markers.
    var axis = [Character](repeating: unicode ? "─" : "-", count: width)
    var markerLabels = [Character](repeating: " ", count: width + 12)
    for (index, start) in stageStarts.enumerated() where start > 0 && start < curve.count {
      let column = min(width - 1, start * width / curve.count)
      axis[column] = unicode ? "┴" : "+"
      for (offset, character) in "stage \(index + 1)".enumerated()
      where column + offset < markerLabels.count {
        markerLabels[column + offset] = character
      }
    }
    let pad = String(repeating: " ", count: labelWidth)
    lines.append(pad + (unicode ? " └" : " +") + String(axis) + " steps")
    let end = "\(curve.count)"
    var labelRow = markerLabels
    let endStart = max(0, width - end.count)
    for (offset, character) in end.enumerated() { labelRow[endStart + offset] = character }
    labelRow[0] = "0"
    lines.append(pad + "  " + String(labelRow))
    return lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
  }

  static func axisLabel(_ value: Double) -> String {
    String(format: "%.3g", value)
  }

  /// 1234 → 1234, 204800 → 204.8k, 2000000 → 2M.
  public static func compactCount(_ value: Int) -> String {
    let number = Double(value)
    if abs(number) >= 1e6 { return short((number / 1e5).rounded() / 10) + "M" }
    if abs(number) >= 1e4 { return short((number / 1e2).rounded() / 10) + "k" }
    return "\(value)"
  }

  /// A table column of counts in one unit, chosen by its largest value: as they are below 100 000,
  /// then in k below 10 million, then in M; three significant digits, no exponent:
  /// [0, 20480, 2002944] → 0, 20.5k, 2003k (not `9472` beside `10.1k` as `compactCount` gives them
  /// one by one).
  public static func compactCounts(_ values: [Int]) -> [String] {
    let largest = Double(values.map { abs($0) }.max() ?? 0)
    let (scale, unit) = largest >= 1e7 ? (1e6, "M") : largest >= 1e5 ? (1e3, "k") : (1, "")
    guard scale > 1 else { return values.map { "\($0)" } }
    return values.map { value in
      let scaled = Double(value) / scale
      let size = abs(scaled)
      // Three significant digits from 1 up; below 1 (a first step in a long run) two.
      let digits =
        size >= 100
        ? 0 : size >= 10 ? 1 : size >= 1 || size == 0 ? 2 : 1 - Int(log10(size).rounded(.down))
      var text = String(format: "%.\(digits)f", scaled)
      if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
      }
      return value == 0 ? "0" : text + unit
    }
  }

  static func align(_ rows: [[String]]) -> [String] {
    guard let first = rows.first else { return [] }
    var widths = [Int](repeating: 0, count: first.count)
    for row in rows {
      for (index, cell) in row.enumerated() where index < widths.count {
        widths[index] = max(widths[index], cell.count)
      }
    }
    return rows.map { row in
      row.enumerated().map { index, cell in
        cell + String(repeating: " ", count: widths[index] - cell.count)
      }.joined(separator: "  ").replacingOccurrences(
        of: "\\s+$", with: "", options: .regularExpression)
    }
  }
}
