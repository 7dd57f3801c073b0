import Foundation
import RunLog

// Export of run logs for papers and reports: the evaluations as CSV (one row per evaluation) and
// the validation-loss chart as a standalone SVG picture. Text from logs is data: it is stripped of
// control characters and escaped for the target format. See docs/export.md.

/// One run's evaluations and stage starts, as read from its log.
public struct ExportRun: Sendable {
  /// The log file.
  public var path: String
  /// The run's name (the file name when the header has none).
  public var name: String
  /// What sets the run apart from the others ("replay 25% · warmup 1%"), may be empty.
  public var label: String
  /// Dataset names in the header's order, then in order of first evaluation.
  public var datasets: [String]
  public var evals: [EvalEvent]
  public var stages: [StageStartEvent]

  public init(
    path: String, name: String, label: String = "", datasets: [String], evals: [EvalEvent],
    stages: [StageStartEvent]
  ) {
    self.path = path
    self.name = name
    self.label = label
    self.datasets = datasets
    self.evals = evals
    self.stages = stages
  }

  /// Builds a run from its events (resumes applied here).
  public init(path: String, events: [RunEvent], label: String = "") {
    let events = RunLogReader.applyingResumes(events)
    var name = ""
    var datasets: [String] = []
    var evals: [EvalEvent] = []
    var stages: [StageStartEvent] = []
    for event in events {
      switch event {
      case .header(let header):
        name = header.runName
        for d in header.datasets where !datasets.contains(d) { datasets.append(d) }
      case .eval(let e):
        evals.append(e)
      case .stageStart(let s):
        stages.append(s)
      default:
        break
      }
    }
    for e in evals {
      for l in e.losses where !datasets.contains(l.dataset) { datasets.append(l.dataset) }
    }
    // Keep only datasets that were evaluated at least once.
    let evaluated = Set(evals.flatMap { $0.losses.map(\.dataset) })
    datasets = datasets.filter { evaluated.contains($0) }
    if name.isEmpty { name = URL(fileURLWithPath: path).lastPathComponent }
    self.init(
      path: path, name: name, label: label, datasets: datasets, evals: evals, stages: stages)
  }

  /// Reads logs and labels each run by its distinguishing settings (runs that still read the same
  /// are named by their file, as `compare` names them). Throws the first file's
  /// one-line read error; `notices` collects skipped-line summaries.
  public static func load(paths: [String]) throws(RunLogReadError) -> (
    runs: [ExportRun], notices: [String]
  ) {
    var eventLists: [[RunEvent]] = []
    var notices: [String] = []
    for path in paths {
      let contents = try RunLogReader.read(path: path)
      let run = contents.lastRun
      notices += (contents.notices + run.notices).map { "\(path): \($0)" }
      eventLists.append(run.events)
    }
    var runs = zip(paths, eventLists).map { ExportRun(path: $0.0, events: $0.1) }
    // Union baselines last, as compare and replay list them (so a run keeps its colour).
    let order = Comparison.unionsLast(runs.map { Comparison.isUnionName($0.name) })
    runs = order.map { runs[$0] }
    eventLists = order.map { eventLists[$0] }
    let labels = Comparison.labels(
      eventLists, isUnion: runs.map { Comparison.isUnionName($0.name) })
    let names = Comparison.distinctNames(
      names: runs.map(\.name), labels: labels, paths: runs.map(\.path))
    for i in runs.indices { (runs[i].label, runs[i].name) = (labels[i], names[i]) }
    return (runs, notices)
  }
}

// MARK: - Text hygiene

/// Escaping of log text for exported files.
public enum ExportText {
  /// Drops C0 and C1 control characters and DEL (a tab, newline or carriage return becomes a space).
  public static func strippingControls(_ s: String) -> String {
    var out = String.UnicodeScalarView()
    for scalar in s.unicodeScalars {
      switch scalar.value {
      case 0x09, 0x0A, 0x0D: out.append(" ")
      case 0x00...0x1F, 0x7F...0x9F, 0xFFFE, 0xFFFF: continue
      default: out.append(scalar)
      }
    }
    return String(out)
  }

  /// Text for XML character data and attribute values: controls stripped, markup escaped.
  public static func xml(_ s: String) -> String {
    var out = ""
    for ch in strippingControls(s) {
      switch ch {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      default: out.append(ch)
      }
    }
    return out
  }

  /// One CSV text field (RFC 4180): controls stripped, quoted when it holds a comma, quote or space
  /// at either end. Text that a spreadsheet would run as a formula (starting with =, +, -, @) gets a
  /// leading apostrophe, so a run name from a log can never become a formula. Numbers do not go
  /// through here.
  public static func csvField(_ s: String) -> String {
    var clean = strippingControls(s)
    if let first = clean.first, "=+-@".contains(first) { clean = "'" + clean }
    let needsQuotes =
      clean.contains(",") || clean.contains("\"") || clean.hasPrefix(" ") || clean.hasSuffix(" ")
    return needsQuotes ? "\"" + clean.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : clean
  }

  /// A number as CSV/SVG text: Swift's shortest round-trip spelling, `NaN`, `Infinity`, `-Infinity`.
  public static func number(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v.isInfinite { return v > 0 ? "Infinity" : "-Infinity" }
    return "\(v)"
  }

  /// Tokens with a k/M/G suffix: 0, 500, 1.5k, 250k, 2M, 1.25G.
  public static func tokens(_ v: Double) -> String {
    let a = abs(v)
    func trim(_ x: Double) -> String {
      var s = String(format: "%.2f", x)
      while s.hasSuffix("0") { s.removeLast() }
      if s.hasSuffix(".") { s.removeLast() }
      return s
    }
    if a >= 1e9 { return trim(v / 1e9) + "G" }
    if a >= 1e6 { return trim(v / 1e6) + "M" }
    if a >= 1e3 { return trim(v / 1e3) + "k" }
    return trim(v)
  }
}

// MARK: - CSV

/// One row per evaluation of every run.
///
/// Columns: `run`, `label`, `path`, `stage`, `step`, `tokens`, `time`, then one column per dataset
/// (every dataset any run evaluated, in first-seen order). A dataset an evaluation did not cover is an
/// empty cell; a NaN loss is `NaN`. Numbers use the shortest spelling that reads back to the same value.
public enum EvaluationCSV {
  public static func header(datasets: [String]) -> [String] {
    ["run", "label", "path", "stage", "step", "tokens", "time"] + datasets
  }

  public static func csv(_ runs: [ExportRun]) -> String {
    var datasets: [String] = []
    for run in runs { for d in run.datasets where !datasets.contains(d) { datasets.append(d) } }
    var out = header(datasets: datasets).map(ExportText.csvField).joined(separator: ",") + "\n"
    for run in runs {
      let prefix = [run.name, run.label, run.path].map(ExportText.csvField)
      for e in run.evals {
        var cells = prefix
        cells += ["\(e.stage)", "\(e.step)", "\(e.tokens)", e.time.map(ExportText.number) ?? ""]
        for d in datasets { cells.append(e.loss(d).map(ExportText.number) ?? "") }
        out += cells.joined(separator: ",") + "\n"
      }
    }
    return out
  }
}

// MARK: - SVG chart

/// The validation-loss chart as a standalone SVG document: one `<path>` per (run, dataset) series,
/// a stable colour per run (the order runs are given in), the first dataset solid, the others
/// each with its own dash pattern (`dash`); stage starts as labelled vertical dashed lines; a legend with last
/// and minimum values. A NaN (or, on a log axis, a value ≤ 0) splits a path into subpaths. Series
/// are reduced per pixel column to their first, lowest, highest and last points, so a million
/// points make a file of a few hundred kB at most.
public struct SVGChart: Sendable {
  public enum Theme: String, Sendable, CaseIterable {
    case light, dark
  }

  public struct Series: Sendable {
    public var name: String
    public var run: Int
    public var datasetIndex: Int
    public var xs: [Double]
    public var ys: [Double]
    public init(name: String, run: Int, datasetIndex: Int, xs: [Double], ys: [Double]) {
      self.name = name
      self.run = run
      self.datasetIndex = datasetIndex
      self.xs = xs
      self.ys = ys
    }
  }

  public struct Marker: Sendable, Hashable {
    public var x: Double
    public var label: String
    public init(x: Double, label: String) {
      self.x = x
      self.label = label
    }
  }

  public var series: [Series]
  public var markers: [Marker]
  public var width = 960
  public var height = 540
  public var title = "validation loss"
  /// The run name most runs share, which their legend names leave out (nil when none is).
  public var commonName: String? = nil
  public var logY = false
  public var theme = Theme.light

  public init(series: [Series], markers: [Marker]) {
    self.series = series
    self.markers = markers
  }

  /// Markers by position, in order: where several runs' stages start at one x, one label ("stage
  /// 2" when they are all stage 2, else the labels joined).
  static func mergedMarkers(_ markers: [Marker]) -> [(x: Double, label: String)] {
    var order: [Double] = []
    var labels: [Double: [String]] = [:]
    for m in markers where m.x.isFinite {
      if labels[m.x] == nil { order.append(m.x) }
      if labels[m.x]?.contains(m.label) != true { labels[m.x, default: []].append(m.label) }
    }
    return order.sorted().map { x in
      let all = labels[x] ?? []
      guard all.count > 1 else { return (x, all.first ?? "") }
      let stages = Set(all.map { $0.split(separator: ":").first.map(String.init) ?? $0 })
      return (x, stages.count == 1 ? stages.first! : all.joined(separator: " / "))
    }
  }

  /// One series per (run, dataset), stage markers where later stages start.
  public init(runs: [ExportRun]) {
    var series: [Series] = []
    var markers: [Marker] = []
    let many = runs.count > 1
    // As the replay legend: the name most runs share is said once (in the title), not per run.
    let commonName = Comparison.commonName(runs.map(\.name))
    for (r, run) in runs.enumerated() {
      let runName =
        run.label.isEmpty || !many
        ? run.name : run.name == commonName ? run.label : "\(run.name) (\(run.label))"
      for (d, dataset) in run.datasets.enumerated() {
        var xs: [Double] = []
        var ys: [Double] = []
        xs.reserveCapacity(run.evals.count)
        ys.reserveCapacity(run.evals.count)
        for e in run.evals {
          guard let loss = e.loss(dataset) else { continue }
          xs.append(Double(e.tokens))
          ys.append(loss)
        }
        series.append(
          Series(name: "\(runName) · \(dataset)", run: r, datasetIndex: d, xs: xs, ys: ys))
      }
      for stage in run.stages where stage.stage > 1 {
        let label = "stage \(stage.stage): \(stage.name ?? stage.dataset)"
        let marker = Marker(x: Double(stage.startTokens), label: label)
        if !markers.contains(marker) { markers.append(marker) }
      }
    }
    self.init(series: series, markers: markers)
    self.commonName = many ? commonName : nil
  }

  /// Colours per run (light, dark): distinct hues that read on white and on near-black.
  static let palette: [(String, String)] = [
    ("#1f77b4", "#6cb6ff"), ("#d62728", "#ff7b72"), ("#2ca02c", "#7ee787"),
    ("#9467bd", "#d2a8ff"), ("#ff7f0e", "#ffa657"), ("#17becf", "#56d4dd"),
    ("#8c564b", "#e3b341"), ("#e377c2", "#ff9bce"),
  ]

  /// The colour of run `run` (0-based): the palette's for the first eight, then hues a golden
  /// angle apart (137.5°), so every run of a large overlay has a colour of its own.
  public static func colour(run: Int, theme: Theme) -> String {
    if run < palette.count {
      let pair = palette[run]
      return theme == .light ? pair.0 : pair.1
    }
    let hue = (Double(run - palette.count) * 137.507_764 + 15).truncatingRemainder(dividingBy: 360)
    return hexFromHSL(hue: hue, saturation: 0.65, lightness: theme == .light ? 0.38 : 0.70)
  }

  /// `#rrggbb` of a colour given by hue (degrees), saturation and lightness (0…1).
  static func hexFromHSL(hue: Double, saturation s: Double, lightness l: Double) -> String {
    let chroma = (1 - abs(2 * l - 1)) * s
    let h = hue / 60
    let x = chroma * (1 - abs(h.truncatingRemainder(dividingBy: 2) - 1))
    let (r, g, b): (Double, Double, Double)
    switch Int(h) {
    case 0: (r, g, b) = (chroma, x, 0)
    case 1: (r, g, b) = (x, chroma, 0)
    case 2: (r, g, b) = (0, chroma, x)
    case 3: (r, g, b) = (0, x, chroma)
    case 4: (r, g, b) = (x, 0, chroma)
    default: (r, g, b) = (chroma, 0, x)
    }
    let m = l - chroma / 2
    func byte(_ v: Double) -> Int { min(max(Int(((v + m) * 255).rounded()), 0), 255) }
    return String(format: "#%02x%02x%02x", byte(r), byte(g), byte(b))
  }

  /// The SVG dash pattern of dataset `datasetIndex`: D0 solid (nil), D1 dashed, D2 dotted, D3
  /// dash-dot, D4 long dashes, D5 dash-dot-dot; later ones repeat D1…D5.
  static func dash(_ datasetIndex: Int) -> String? {
    let patterns = ["7 4", "2 3", "7 3 2 3", "14 4", "7 3 2 3 2 3"]
    return datasetIndex <= 0 ? nil : patterns[(datasetIndex - 1) % patterns.count]
  }

  // MARK: Scales

  /// 1-2-5 ticks covering [lo, hi], about `count` of them.
  static func niceTicks(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
    guard lo.isFinite, hi.isFinite, hi > lo else { return lo.isFinite ? [lo] : [] }
    let raw = (hi - lo) / Double(max(count, 1))
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    var ticks: [Double] = []
    var t = ceil(lo / step - 1e-9) * step
    while t <= hi + step * 1e-9, ticks.count < 100 {
      ticks.append(abs(t) < step * 1e-9 ? 0 : t)
      t += step
    }
    return ticks
  }

  /// Ticks for a log axis: 1, 2, 5 × 10^k inside the range (only 1 × 10^k when that is plenty).
  static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
    guard lo > 0, hi > lo else { return niceTicks(lo, hi, count: 5) }
    var ticks: [Double] = []
    for k in Int(floor(log10(lo)))...Int(ceil(log10(hi))) {
      for m in [1.0, 2, 5] {
        let v = m * pow(10, Double(k))
        if v >= lo * (1 - 1e-9), v <= hi * (1 + 1e-9) { ticks.append(v) }
      }
    }
    if ticks.count > 12 { ticks = ticks.filter { abs(log10($0) - log10($0).rounded()) < 1e-9 } }
    if ticks.count < 2 {
      // A narrow range: plain nice numbers, placed on the log scale.
      ticks = niceTicks(lo, hi, count: 5).filter { $0 > 0 }
    }
    return ticks
  }

  static func label(_ v: Double) -> String {
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e4 || a < 1e-3 { return String(format: "%.0e", v) }
    var s = String(format: "%.3f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
  }

  static func fmt(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
  }

  // MARK: Downsampling

  /// Reduces points to at most four per pixel column (first, lowest, highest, last, in order),
  /// keeping every break (a non-finite y) as a single NaN point. Input in x order per segment.
  static func reduce(xs: [Double], ys: [Double], columnOf: (Double) -> Int) -> [(Double, Double)] {
    var out: [(Double, Double)] = []
    let n = min(xs.count, ys.count)
    out.reserveCapacity(min(n, 4096))
    var bucket = Int.min
    var first = -1
    var low = -1
    var high = -1
    var last = -1
    func closeBucket() {
      guard first >= 0 else { return }
      var picks = [first, low, high, last]
      picks.sort()
      var previous = -1
      for i in picks where i != previous {
        out.append((xs[i], ys[i]))
        previous = i
      }
      first = -1
    }
    for i in 0..<n {
      let y = ys[i]
      if !y.isFinite || !xs[i].isFinite {
        closeBucket()
        if let lastOut = out.last, !lastOut.1.isNaN { out.append((xs[i], .nan)) }
        bucket = Int.min
        continue
      }
      let c = columnOf(xs[i])
      if c != bucket || first < 0 {
        closeBucket()
        bucket = c
        first = i
        low = i
        high = i
        last = i
      } else {
        if y < ys[low] { low = i }
        if y > ys[high] { high = i }
        last = i
      }
    }
    closeBucket()
    return out
  }

  // MARK: Rendering

  /// The SVG document.
  public func svg() -> String {
    let dark = theme == .dark
    let background = dark ? "#0d1117" : "#ffffff"
    let foreground = dark ? "#c9d1d9" : "#24292f"
    let grid = dark ? "#30363d" : "#e5e7eb"
    let axis = dark ? "#8b949e" : "#57606a"

    // Values that can be drawn (finite, and positive on a log axis).
    func drawable(_ y: Double) -> Bool { y.isFinite && (!logY || y > 0) }
    var xMin = Double.infinity
    var xMax = -Double.infinity
    var yMin = Double.infinity
    var yMax = -Double.infinity
    for s in series {
      for (x, y) in zip(s.xs, s.ys) where x.isFinite && drawable(y) {
        xMin = min(xMin, x)
        xMax = max(xMax, x)
        yMin = min(yMin, y)
        yMax = max(yMax, y)
      }
    }
    for m in markers where m.x.isFinite {
      if xMin.isFinite { xMin = min(xMin, m.x) }
      xMax = max(xMax, m.x)
    }
    if !xMin.isFinite || !xMax.isFinite {
      xMin = 0
      xMax = 1
    }
    if xMax <= xMin { xMax = xMin + 1 }
    if !yMin.isFinite {
      yMin = logY ? 1 : 0
      yMax = logY ? 10 : 1
    }
    if yMax <= yMin {
      let pad = max(abs(yMin) * 0.05, 0.05)
      yMin = logY ? yMin / 1.1 : yMin - pad
      yMax = logY ? yMax * 1.1 : yMax + pad
    } else if !logY {
      let pad = (yMax - yMin) * 0.04
      yMin -= pad
      yMax += pad
    } else {
      let pad = pow(yMax / yMin, 0.04)
      yMin /= pad
      yMax *= pad
    }

    // Layout: title on top, plot, tick labels and axis name below it, legend under that.
    let fontSize = 12.0
    let legendLine = 17.0
    let w = Double(max(width, 200))
    let left = 64.0
    let right = 24.0
    let top = title.isEmpty ? 20.0 : 40.0
    let axisBand = 44.0
    let legendHeight = Double(series.count) * legendLine + (series.isEmpty ? 0 : 10)
    // The plot keeps the height it has with a two-line legend; a longer legend makes the image
    // taller instead of the plot flatter.
    let plotHeight = max(
      Double(height) - top - axisBand - min(legendHeight, 2 * legendLine + 10), 120)
    let h = top + plotHeight + axisBand + legendHeight
    let plotWidth = w - left - right

    let yTicks = logY ? Self.logTicks(yMin, yMax) : Self.niceTicks(yMin, yMax, count: 6)
    let xTicks = Self.niceTicks(xMin, xMax, count: max(Int(plotWidth / 110), 2))

    func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
    func py(_ y: Double) -> Double {
      let f = logY ? (log(y) - log(yMin)) / (log(yMax) - log(yMin)) : (y - yMin) / (yMax - yMin)
      return top + (1 - f) * plotHeight
    }

    var out = """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.fmt(w))" height="\(Self.fmt(h))" \
      viewBox="0 0 \(Self.fmt(w)) \(Self.fmt(h))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" \
      font-size="\(Self.fmt(fontSize))">

      """
    out += "<title>\(ExportText.xml(title.isEmpty ? "validation loss" : title))</title>\n"
    out += "<rect width=\"100%\" height=\"100%\" fill=\"\(background)\"/>\n"
    if !title.isEmpty {
      out +=
        "<text x=\"\(Self.fmt(left))\" y=\"24\" font-size=\"15\" font-weight=\"bold\" "
        + "fill=\"\(foreground)\">\(ExportText.xml(title))</text>\n"
    }

    // Grid and ticks.
    out += "<g class=\"grid\" stroke=\"\(grid)\" stroke-width=\"1\">\n"
    for t in yTicks where t >= yMin && t <= yMax {
      let y = Self.fmt(py(t))
      out +=
        "<line x1=\"\(Self.fmt(left))\" y1=\"\(y)\" x2=\"\(Self.fmt(left + plotWidth))\" y2=\"\(y)\"/>\n"
    }
    for t in xTicks where t >= xMin && t <= xMax {
      let x = Self.fmt(px(t))
      out +=
        "<line x1=\"\(x)\" y1=\"\(Self.fmt(top))\" x2=\"\(x)\" y2=\"\(Self.fmt(top + plotHeight))\"/>\n"
    }
    out += "</g>\n"
    out += "<g class=\"axes\" fill=\"\(axis)\" stroke=\"none\">\n"
    for t in yTicks where t >= yMin && t <= yMax {
      out +=
        "<text x=\"\(Self.fmt(left - 6))\" y=\"\(Self.fmt(py(t) + 4))\" text-anchor=\"end\">"
        + "\(Self.label(t))</text>\n"
    }
    for t in xTicks where t >= xMin && t <= xMax {
      out +=
        "<text x=\"\(Self.fmt(px(t)))\" y=\"\(Self.fmt(top + plotHeight + 16))\" "
        + "text-anchor=\"middle\">\(ExportText.tokens(t))</text>\n"
    }
    out +=
      "<text x=\"\(Self.fmt(left + plotWidth))\" y=\"\(Self.fmt(top + plotHeight + 34))\" "
      + "text-anchor=\"end\">tokens</text>\n"
    out +=
      "<text transform=\"translate(16 \(Self.fmt(top + plotHeight / 2))) rotate(-90)\" "
      + "text-anchor=\"middle\">\(logY ? "loss (log scale)" : "loss")</text>\n"
    out += "</g>\n"
    out +=
      "<rect class=\"frame\" x=\"\(Self.fmt(left))\" y=\"\(Self.fmt(top))\" "
      + "width=\"\(Self.fmt(plotWidth))\" height=\"\(Self.fmt(plotHeight))\" fill=\"none\" "
      + "stroke=\"\(axis)\" stroke-width=\"1\"/>\n"

    // Stage markers: one line per position; runs whose stages start there share one label, and a
    // label that would run into the previous one goes a row lower.
    out += "<g class=\"stages\" fill=\"\(axis)\">\n"
    var labelEnds: [Double] = []  // per row: where its last label ends
    for (x0, label) in Self.mergedMarkers(markers) where x0 >= xMin && x0 <= xMax {
      let x = Self.fmt(px(x0))
      out +=
        "<line x1=\"\(x)\" y1=\"\(Self.fmt(top))\" x2=\"\(x)\" y2=\"\(Self.fmt(top + plotHeight))\" "
        + "stroke=\"\(axis)\" stroke-width=\"1\" stroke-dasharray=\"4 4\"/>\n"
      let start = px(x0) + 4
      let row = labelEnds.firstIndex { $0 < start } ?? labelEnds.count
      let end = start + Double(label.count) * fontSize * 0.6
      if row < labelEnds.count { labelEnds[row] = end } else { labelEnds.append(end) }
      out +=
        "<text x=\"\(Self.fmt(start))\" y=\"\(Self.fmt(top + 14 + Double(row) * 14))\">"
        + "\(ExportText.xml(label))</text>\n"
    }
    out += "</g>\n"

    // Series: one path each.
    out +=
      "<g class=\"series\" fill=\"none\" stroke-width=\"1.6\" stroke-linejoin=\"round\" "
      + "stroke-linecap=\"round\">\n"
    let columns = max(Int(plotWidth.rounded()), 1)
    for s in series {
      let ys = logY ? s.ys.map { $0 > 0 ? $0 : .nan } : s.ys
      let points = Self.reduce(xs: s.xs, ys: ys) { x in
        min(max(Int((x - xMin) / (xMax - xMin) * Double(columns)), 0), columns)
      }
      var d = ""
      d.reserveCapacity(points.count * 14)
      var penDown = false
      for (x, y) in points {
        guard y.isFinite else {
          penDown = false
          continue
        }
        d += (penDown ? "L" : (d.isEmpty ? "M" : " M")) + Self.fmt(px(x)) + "," + Self.fmt(py(y))
        penDown = true
      }
      let colour = Self.colour(run: s.run, theme: theme)
      var attributes = "stroke=\"\(colour)\""
      if let dash = Self.dash(s.datasetIndex) { attributes += " stroke-dasharray=\"\(dash)\"" }
      out +=
        "<path \(attributes) d=\"\(d)\"><title>\(ExportText.xml(s.name))</title></path>\n"
    }
    out += "</g>\n"

    // Legend: swatch, name, then last and minimum value in aligned columns (the name column is as
    // wide as the longest name, estimated at 0.6 em per character).
    out += "<g class=\"legend\" fill=\"\(foreground)\">\n"
    var y = top + plotHeight + axisBand + 8
    let longest = series.map { ExportText.strippingControls($0.name).count }.max() ?? 0
    let charWidth = fontSize * 0.6
    let valuesX = max(min(left + 36 + Double(longest) * charWidth + 16, w - 190), left + 36 + 60)
    // Names longer than their column are cut in the middle (runs often differ at their ends),
    // so they never run under the values.
    let nameRoom = max(4, Int((valuesX - 16 - (left + 36)) / charWidth))
    func fitted(_ name: String) -> String {
      let chars = Array(ExportText.strippingControls(name))
      guard chars.count > nameRoom else { return String(chars) }
      let head = (nameRoom - 1 + 1) / 2
      let tail = nameRoom - 1 - head
      return String(chars.prefix(head)) + "…" + String(chars.suffix(tail))
    }
    for s in series {
      let colour = Self.colour(run: s.run, theme: theme)
      let dash = Self.dash(s.datasetIndex).map { " stroke-dasharray=\"\($0)\"" } ?? ""
      out +=
        "<line x1=\"\(Self.fmt(left))\" y1=\"\(Self.fmt(y))\" x2=\"\(Self.fmt(left + 28))\" "
        + "y2=\"\(Self.fmt(y))\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>\n"
      out +=
        "<text x=\"\(Self.fmt(left + 36))\" y=\"\(Self.fmt(y + 4))\">"
        + "\(ExportText.xml(fitted(s.name)))</text>\n"
      let finite = s.ys.filter { $0.isFinite }
      let values: String
      if let last = finite.last, let low = finite.min() {
        values =
          String(format: "last %.3f", last) + "</tspan><tspan x=\"\(Self.fmt(valuesX + 90))\">"
          + String(format: "min %.3f", low)
      } else {
        values = "no finite values"
      }
      out +=
        "<text y=\"\(Self.fmt(y + 4))\"><tspan x=\"\(Self.fmt(valuesX))\">\(values)</tspan></text>\n"
      y += legendLine
    }
    out += "</g>\n</svg>\n"
    return out
  }
}
