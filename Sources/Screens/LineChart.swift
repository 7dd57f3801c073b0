// The line chart: braille curves with a Y axis (ticks and labels), an X axis (tokens with k/M
// suffixes, or steps), vertical stage markers with labels, and a legend. The Y range fits what is
// visible in the X window; log-y plots log10 of the values; lines break at non-finite values.

import Terminal

/// How a line is broken up. In an overlay (a colour per run) it tells the datasets apart: D0
/// solid, D1 dotted, D2 dashed, D3 sparse, then again from solid.
public enum LineDash: Int, Sendable, CaseIterable {
  case solid, dotted, dashed, sparse

  /// The dash of dataset `index` (from 0) in an overlay.
  public static func forDataset(_ index: Int) -> LineDash { allCases[index % allCases.count] }

  /// Whether the `n`-th dot along a line (from 0) is drawn: dotted 2 of every 4 dots, dashed 6 of
  /// every 9, sparse 1 of every 4.
  @inline(__always) func draws(_ n: Int) -> Bool {
    switch self {
    case .solid: true
    case .dotted: n % 4 < 2
    case .dashed: n % 9 < 6
    case .sparse: n % 4 == 0
    }
  }

  /// The legend's sample of the line (two cells).
  func sample(asciiOnly: Bool, solid: String) -> String {
    switch self {
    case .solid: solid
    case .dotted: asciiOnly ? ".." : "┅┅"
    case .dashed: asciiOnly ? "--" : "╍╍"
    case .sparse: asciiOnly ? ". " : "┉┉"
    }
  }
}

/// One line to draw.
public struct ChartLine: Sendable {
  public var xs: [Double]
  public var ys: [Double]
  public var style: Style
  /// Faint lines (raw curves under smoothed ones, planned LR) are drawn first and lose cells to
  /// normal lines.
  public var faint: Bool
  public var dash: LineDash
  /// Whether this line counts when fitting the Y range.
  public var fitsY: Bool

  public init(
    xs: [Double], ys: [Double], style: Style, faint: Bool = false, dash: LineDash = .solid,
    fitsY: Bool = true
  ) {
    self.xs = xs
    self.ys = ys
    self.style = style
    self.faint = faint
    self.dash = dash
    self.fitsY = fitsY
  }
}

/// One legend row.
public struct LegendEntry: Sendable {
  public var text: String
  public var style: Style
  public var dash: LineDash
  public var hidden: Bool

  public init(text: String, style: Style, dash: LineDash = .solid, hidden: Bool = false) {
    self.text = text
    self.style = style
    self.dash = dash
    self.hidden = hidden
  }
}

/// What to draw in one chart.
public struct ChartSpec: Sendable {
  public var lines: [ChartLine]
  public var xRange: ClosedRange<Double>
  public var logY: Bool
  public var showAxes: Bool
  public var xUnit: XUnit
  public var markers: [StageMarker]
  public var legend: [LegendEntry]
  /// Y labels formatted as scientific (for learning rates) instead of fixed.
  public var scientificY: Bool

  public init(
    lines: [ChartLine], xRange: ClosedRange<Double>, logY: Bool = false, showAxes: Bool = true,
    xUnit: XUnit = .tokens, markers: [StageMarker] = [], legend: [LegendEntry] = [],
    scientificY: Bool = false
  ) {
    self.lines = lines
    self.xRange = xRange
    self.logY = logY
    self.showAxes = showAxes
    self.xUnit = xUnit
    self.markers = markers
    self.legend = legend
    self.scientificY = scientificY
  }
}

/// A Double as an Int for cell and dot arithmetic: NaN and huge values become far off-screen
/// positions instead of trapping.
@inline(__always)
func cell(_ d: Double) -> Int {
  guard d.isFinite else { return d == .infinity ? 1 << 30 : -(1 << 30) }
  return Int(max(-1e9, min(1e9, d)))
}

public enum LineChart {
  /// Draws `spec` into `rect` of `grid`.
  public static func draw(_ spec: ChartSpec, in rect: Rect, grid: inout CellGrid) {
    let r = rect.intersection(grid.bounds)
    guard r.width >= 4, r.height >= 2 else { return }
    let g = grid.glyphs
    let lo = spec.xRange.lowerBound
    let hi = spec.xRange.upperBound

    // Axes take a label column on the left and two rows at the bottom when there is room.
    let axes = spec.showAxes && r.width >= 16 && r.height >= 5
    let axisRows = axes ? 2 : 0
    let plotRows = r.height - axisRows

    // Reduce every line to what the dot columns can show (estimate the width generously first).
    let roughDots = max(2, r.width * 2)
    var reduced: [(xs: [Double], ys: [Double])] = []
    reduced.reserveCapacity(spec.lines.count)
    for line in spec.lines {
      var d = Downsample.minMax(xs: line.xs, ys: line.ys, range: spec.xRange, buckets: roughDots)
      // Values beyond ±1e12 are junk for a chart (and would overflow its arithmetic).
      for i in d.ys.indices where !(abs(d.ys[i]) <= 1e12) { d.ys[i] = .nan }
      if spec.logY {
        for i in d.ys.indices { d.ys[i] = d.ys[i] > 0 ? Format.log10(d.ys[i]) : .nan }
      }
      reduced.append(d)
    }

    // Fit Y to the visible points of the lines that count.
    var ylo = Double.infinity
    var yhi = -Double.infinity
    for (k, line) in spec.lines.enumerated() where line.fitsY {
      let d = reduced[k]
      for i in d.xs.indices where d.xs[i] >= lo && d.xs[i] <= hi && d.ys[i].isFinite {
        ylo = min(ylo, d.ys[i])
        yhi = max(yhi, d.ys[i])
      }
    }
    // No point to fit: an empty frame, without made-up tick labels.
    let hasPoints = ylo <= yhi
    if !hasPoints {
      (ylo, yhi) = spec.logY ? (-1, 1) : (0, 1)
    }
    if yhi - ylo < 1e-12 {
      let pad = max(abs(yhi) * 0.05, 1e-6)
      ylo -= pad
      yhi += pad
    } else {
      let pad = (yhi - ylo) * 0.04
      ylo -= pad
      yhi += pad
    }

    // Y ticks, the label column and the curves for a Y range; run again with headroom when the
    // legend would hide points wherever it goes.
    struct Plot {
      var ticks: [Double]
      var labels: [String]
      var labelWidth: Int
      var px: Int
      var pw: Int
      var canvas: BrailleCanvas
      var xScale: Double
    }
    func plot(ylo: Double, yhi: Double) -> Plot? {
      let tickPairs =
        axes && hasPoints
        ? yTicks(lo: ylo, hi: yhi, logY: spec.logY, rows: plotRows, scientific: spec.scientificY)
        : []
      let labels = tickPairs.map(\.label)
      let labelWidth = axes ? max(3, labels.map { $0.terminalWidth }.max() ?? 3) : 0
      let px = r.x + (axes ? labelWidth + 1 : 0)
      let pw = r.maxX - px
      guard pw >= 2, plotRows >= 1 else { return nil }
      var canvas = BrailleCanvas(columns: pw, rows: plotRows)
      let dotW = Double(canvas.dotWidth - 1)
      let dotH = Double(canvas.dotHeight - 1)
      let xScale = dotW / max(hi - lo, 1e-300)
      let yScale = dotH / (yhi - ylo)

      // Faint lines first, then normal ones.
      for pass in 0..<2 {
        for (k, line) in spec.lines.enumerated() where line.faint == (pass == 0) {
          let d = reduced[k]
          let layer: UInt8 = line.faint ? 1 : 2
          var prevX = Double.nan
          var prevY = Double.nan
          var phase = 0
          for i in d.xs.indices {
            let y = d.ys[i]
            guard y.isFinite else {
              prevX = .nan
              phase = 0
              continue
            }
            let dx = (d.xs[i] - lo) * xScale
            let dy = (yhi - y) * yScale
            if prevX.isNaN {
              if dx >= 0, dx <= dotW {
                canvas.set(
                  cell(dx.rounded()), cell(dy.rounded()), line: Int16(k), lineLayer: layer)
              }
            } else {
              phase = canvas.line(
                prevX, prevY, dx, dy, line: Int16(k), lineLayer: layer, dash: line.dash,
                phase: phase)
            }
            prevX = dx
            prevY = dy
          }
        }
      }
      return Plot(
        ticks: tickPairs.map(\.position), labels: labels, labelWidth: labelWidth, px: px, pw: pw,
        canvas: canvas, xScale: xScale)
    }
    guard var p = plot(ylo: ylo, yhi: yhi) else { return }

    // The legend goes in the top rows (under the marker labels) or the bottom ones, whichever
    // hides no point; when both would, the top rows are kept free of curves by raising the top
    // of the Y range, unless the legend is over a third of the plot tall (then the side that
    // hides fewer points).
    let legendRows = min(spec.legend.count, plotRows - 1)
    var legendTop = r.y + 1
    if legendRows > 0, let width = legendWidth(spec.legend, grid: grid, pw: p.pw, rows: legendRows)
    {
      func hidden(_ canvas: BrailleCanvas, rows: Range<Int>) -> Int {
        var count = 0
        for row in rows {
          for col in max(0, canvas.columns - width)..<canvas.columns
          where canvas.bits[row * canvas.columns + col] != 0 {
            count += 1
          }
        }
        return count
      }
      let top = hidden(p.canvas, rows: 1..<(1 + legendRows))
      let bottom = hidden(p.canvas, rows: (plotRows - legendRows)..<plotRows)
      if top > 0 && bottom == 0 {
        legendTop = r.y + plotRows - legendRows
      } else if top > 0 && legendRows * 3 <= plotRows {
        let free = Double(legendRows + 1) / Double(plotRows)
        yhi = ylo + (yhi - ylo) / (1 - free)
        if let raised = plot(ylo: ylo, yhi: yhi) { p = raised }
      } else if top > bottom {
        legendTop = r.y + plotRows - legendRows
      }
    }
    let (ticks, labels, labelWidth, px, pw, canvas, xScale) = (
      p.ticks, p.labels, p.labelWidth, p.px, p.pw, p.canvas, p.xScale
    )

    // Stage markers under the curves: a dotted column in empty cells.
    var markerColumns: [(col: Int, label: String)] = []
    for m in spec.markers where m.x > lo && m.x <= hi {
      let col = cell(((m.x - lo) * xScale).rounded()) / 2
      markerColumns.append((col, m.label))
    }

    // Copy the canvas into the grid.
    let ascii = grid.asciiOnly
    for row in 0..<plotRows {
      for col in 0..<pw {
        let i = row * pw + col
        let b = canvas.bits[i]
        guard b != 0 else { continue }
        let line = spec.lines[Int(canvas.owner[i])]
        let style = line.faint ? line.style.adding(.dim) : line.style
        let ch = ascii ? BrailleCanvas.asciiCharacter(b) : BrailleCanvas.character(b)
        grid.set(px + col, r.y + row, ch, style)
      }
    }
    for (col, _) in markerColumns {
      for row in 0..<plotRows where canvas.bits[row * pw + col] == 0 {
        grid.set(px + col, r.y + row, g.dottedVertical, Style(.marker))
      }
    }
    // Marker labels in the top row, each up to the next marker. The last one goes left of its
    // marker when it does not fit on the right and the left has more room (a stage that just
    // started sits at the live edge).
    // Where the label drawn last ends: a label put left of its marker never covers it.
    var drawnEnd = px - 1
    for (k, m) in markerColumns.enumerated() {
      let start = px + m.col + 1
      let end = k + 1 < markerColumns.count ? px + markerColumns[k + 1].col - 1 : r.maxX
      let labelWidth = m.label.terminalWidth
      if k + 1 == markerColumns.count, labelWidth > end - start {
        let leftStart = max(k > 0 ? px + markerColumns[k - 1].col + 1 : px, drawnEnd + 1)
        let leftEnd = px + m.col
        if leftEnd - leftStart > end - start, leftEnd - leftStart >= 4 {
          let width = min(labelWidth, leftEnd - leftStart)
          grid.putTruncated(
            m.label, x: leftEnd - width, y: r.y, width: width, style: Style(.marker))
          continue
        }
      }
      if end - start >= 4 {
        grid.putTruncated(m.label, x: start, y: r.y, width: end - start, style: Style(.marker))
        drawnEnd = start + min(labelWidth, end - start)
      }
    }

    if axes {
      drawAxes(
        spec: spec, grid: &grid, r: r, px: px, pw: pw, plotRows: plotRows, ticks: ticks,
        labels: labels, labelWidth: labelWidth, ylo: ylo, yhi: yhi, xScale: xScale, g: g,
        xLabels: hasPoints || spec.lines.contains { !$0.xs.isEmpty })
    }
    drawLegend(
      spec.legend, grid: &grid, px: px, pw: pw, top: legendTop, maxRows: legendRows)
  }

  private static func drawAxes(
    spec: ChartSpec, grid: inout CellGrid, r: Rect, px: Int, pw: Int, plotRows: Int,
    ticks: [Double], labels: [String], labelWidth: Int, ylo: Double, yhi: Double,
    xScale: Double, g: Glyphs, xLabels: Bool
  ) {
    let axisX = px - 1
    let axis = Style(.axis)
    let label = Style(.label)
    for row in 0..<plotRows { grid.set(axisX, r.y + row, g.vertical, axis) }
    var usedRows = Set<Int>()
    for (t, text) in zip(ticks, labels) {
      let row = cell(((yhi - t) / (yhi - ylo) * Double(plotRows * 4 - 1) / 4).rounded(.down))
      guard row >= 0, row < plotRows, !usedRows.contains(row) else { continue }
      usedRows.insert(row)
      grid.set(axisX, r.y + row, g.tickLeft, axis)
      let w = text.terminalWidth
      grid.put(text, x: axisX - w, y: r.y + row, style: label)
    }
    // X axis line with ticks, tick labels beneath, the unit at the right end.
    let ay = r.y + plotRows
    grid.set(axisX, ay, g.axisCorner, axis)
    for col in 0..<pw { grid.set(px + col, ay, g.horizontal, axis) }
    let lo = spec.xRange.lowerBound
    let hi = spec.xRange.upperBound
    let unit = spec.xUnit.rawValue
    let unitStart = px + pw - unit.count
    grid.put(" " + unit, x: unitStart - 1, y: ay, style: label)
    var nextFree = r.x
    // Without any data the x range is a placeholder: no ticks to label.
    for t in xLabels ? xTicks(lo: lo, hi: hi, columns: pw) : [] {
      let col = cell(((t - lo) * xScale).rounded()) / 2
      guard col >= 0, col < pw else { continue }
      if px + col < unitStart - 1 { grid.set(px + col, ay, g.tickDown, axis) }
      let text = Format.count(t, decimals: 2)
      let start = max(r.x, min(px + col - text.count / 2, r.maxX - text.count))
      if start >= nextFree {
        grid.put(text, x: start, y: ay + 1, style: label)
        nextFree = start + text.count + 2
      }
    }
  }

  /// Columns the legend box takes at the right of a plot `pw` columns wide (text, sample line
  /// and the blank cells around them), or nil when there is no legend or no room for one.
  static func legendWidth(_ legend: [LegendEntry], grid: CellGrid, pw: Int, rows: Int = .max)
    -> Int?
  {
    guard !legend.isEmpty, pw >= 12 else { return nil }
    let sample = grid.glyphs.legendLine
    let maxText = pw - 4 - sample.count
    let widest = max(
      legend.map {
        (grid.asciiOnly ? CellGrid.asciiVersion(of: $0.text) : $0.text).terminalWidth
      }.max() ?? 0,
      legend.count > rows ? Self.moreText(legend.count - rows + 1).count : 0)
    let width = min(maxText, widest)
    return width > 2 ? width + sample.count + 3 : nil
  }

  /// The legend's last row when `n` entries do not fit.
  static func moreText(_ n: Int) -> String { "+\(n) more" }

  private static func drawLegend(
    _ legend: [LegendEntry], grid: inout CellGrid, px: Int, pw: Int, top: Int, maxRows: Int
  ) {
    guard maxRows >= 1, let boxWidth = legendWidth(legend, grid: grid, pw: pw, rows: maxRows)
    else { return }
    let g = grid.glyphs
    let sample = g.legendLine
    let texts = legend.map { grid.asciiOnly ? CellGrid.asciiVersion(of: $0.text) : $0.text }
    let width = boxWidth - sample.count - 3
    let x0 = px + pw - width - sample.count - 2
    // More entries than rows: the last row says how many are not shown.
    let shown = legend.count > maxRows && maxRows >= 2 ? maxRows - 1 : maxRows
    for (k, e) in legend.prefix(shown).enumerated() {
      let y = top + k
      grid.fill(Rect(x: x0 - 1, y: y, width: width + sample.count + 3, height: 1))
      let s = e.hidden ? Style(.muted) : e.style
      grid.put(e.dash.sample(asciiOnly: grid.asciiOnly, solid: sample), x: x0, y: y, style: s)
      grid.putTruncated(
        texts[k], x: x0 + sample.count + 1, y: y, width: width,
        style: e.hidden ? Style(.muted) : Style(.text))
    }
    if shown < legend.count && shown < maxRows {
      let y = top + shown
      grid.fill(Rect(x: x0 - 1, y: y, width: width + sample.count + 3, height: 1))
      grid.putTruncated(
        Self.moreText(legend.count - shown), x: x0 + sample.count + 1, y: y,
        width: width, style: Style(.muted))
    }
  }

  /// Y ticks between lo and hi (in plotted space: log10 values when logY) with their labels.
  static func yTicks(lo: Double, hi: Double, logY: Bool, rows: Int, scientific: Bool)
    -> [(position: Double, label: String)]
  {
    let target = max(2, min(8, rows / 2))
    if logY && hi - lo > 1.2 {
      // Whole decades (and 2×, 5× when there are few) of a wide range.
      var out: [Double] = []
      let factors: [Double] = hi - lo > 3 ? [1] : [1, 2, 5]
      var e = cell(lo.rounded(.down))
      while Double(e) <= hi {
        for f in factors {
          let v = Format.log10(f * Format.pow10(e))
          if v >= lo && v <= hi { out.append(v) }
        }
        e += 1
      }
      return thin(out, to: target).map { t in
        let v = Format.exp10(t)
        return (t, scientific || v < 0.01 || v >= 1e5 ? Format.scientific(v) : Format.trimmed(v))
      }
    }
    let (vlo, vhi) = logY ? (Format.exp10(lo), Format.exp10(hi)) : (lo, hi)
    let values = linearTicks(lo: vlo, hi: vhi, target: target).filter { !logY || $0 > 0 }
    let step = values.count > 1 ? values[1] - values[0] : abs(values.first ?? 1)
    return values.map { v in
      (logY ? Format.log10(v) : v, scientific ? Format.scientific(v) : label(v, step: step))
    }
  }

  /// A tick label with as many decimals as the step needs (step 0.5 → "2.5", 0.25 → "2.25").
  static func label(_ v: Double, step: Double) -> String {
    var d = 0
    while d < 6 {
      let scaled = step * Format.pow10(d)
      if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { break }
      d += 1
    }
    return Format.fixed(v, d)
  }

  private static func thin(_ v: [Double], to n: Int) -> [Double] {
    guard v.count > n else { return v }
    let step = (v.count + n - 1) / n
    return stride(from: 0, to: v.count, by: step).map { v[$0] }
  }

  /// "Nice" ticks (1, 2, 2.5, 5 × 10^k steps) covering [lo, hi].
  static func linearTicks(lo: Double, hi: Double, target: Int) -> [Double] {
    guard hi > lo, (hi - lo).isFinite, target > 0 else { return [] }
    let raw = (hi - lo) / Double(target)
    let mag = Format.pow10(Int(Format.log10(raw).rounded(.down)))
    var step = mag
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] where raw <= m * mag {
      step = m * mag
      break
    }
    var out: [Double] = []
    var t = (lo / step).rounded(.up) * step
    while t <= hi + step * 1e-9 {
      out.append(abs(t) < step * 1e-9 ? 0 : t)
      t += step
    }
    return out
  }

  /// X tick values for a plot `columns` wide: about one per 10 columns. Tokens and steps are
  /// counts, so ticks are whole numbers (a range 0…1 gets 0 and 1, not 0 0 0 1 1 1).
  static func xTicks(lo: Double, hi: Double, columns: Int) -> [Double] {
    let ticks = linearTicks(lo: lo, hi: hi, target: max(1, columns / 10))
    guard ticks.count >= 2, ticks[1] - ticks[0] < 1 else { return ticks }
    return linearTicks(lo: lo, hi: hi, target: max(1, Int(hi.rounded(.down) - lo.rounded(.up))))
      .filter { $0 == $0.rounded() }
  }

}
