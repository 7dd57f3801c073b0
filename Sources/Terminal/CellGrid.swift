// An in-memory screen: width×height cells, each a Unicode scalar and a style. Screens draw into it;
// golden tests read it back with `render()`; the curses backend copies the cells that changed.

/// A rectangle of cells.
public struct Rect: Sendable, Hashable {
  public var x: Int
  public var y: Int
  public var width: Int
  public var height: Int

  public init(x: Int, y: Int, width: Int, height: Int) {
    self.x = x
    self.y = y
    self.width = max(0, width)
    self.height = max(0, height)
  }

  public var maxX: Int { x + width }
  public var maxY: Int { y + height }
  public var isEmpty: Bool { width <= 0 || height <= 0 }

  /// The rectangle shrunk by `d` cells on every side.
  public func inset(by d: Int) -> Rect {
    Rect(x: x + d, y: y + d, width: width - 2 * d, height: height - 2 * d)
  }

  public func intersection(_ o: Rect) -> Rect {
    let x0 = max(x, o.x)
    let y0 = max(y, o.y)
    return Rect(x: x0, y: y0, width: min(maxX, o.maxX) - x0, height: min(maxY, o.maxY) - y0)
  }
}

/// One cell. A wide character fills its first cell; the cell after it holds `Cell.continuation`.
public struct Cell: Sendable, Hashable {
  public var scalar: Unicode.Scalar
  public var style: Style

  public init(_ scalar: Unicode.Scalar = " ", _ style: Style = .plain) {
    self.scalar = scalar
    self.style = style
  }

  /// Marks the right half of a wide character.
  public static let continuationScalar: Unicode.Scalar = "\u{0}"
  public var isContinuation: Bool { scalar == Cell.continuationScalar }
}

/// The characters used for lines and boxes: Unicode box drawing, or ASCII when the terminal's
/// locale cannot show anything else.
public struct Glyphs: Sendable {
  public var horizontal: Unicode.Scalar
  public var vertical: Unicode.Scalar
  public var topLeft: Unicode.Scalar
  public var topRight: Unicode.Scalar
  public var bottomLeft: Unicode.Scalar
  public var bottomRight: Unicode.Scalar
  public var tickLeft: Unicode.Scalar  // ┤ on a Y axis
  public var tickDown: Unicode.Scalar  // ┬ on an X axis
  public var axisCorner: Unicode.Scalar  // └ where the axes meet
  public var dottedVertical: Unicode.Scalar  // stage markers
  public var ellipsis: String
  public var bullet: String  // the separator in status lines
  public var legendLine: String  // the sample line before a legend entry

  public static let unicode = Glyphs(
    horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└",
    bottomRight: "┘", tickLeft: "┤", tickDown: "┬", axisCorner: "└", dottedVertical: "┊",
    ellipsis: "…", bullet: "·", legendLine: "━━")

  public static let ascii = Glyphs(
    horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+",
    bottomRight: "+", tickLeft: "+", tickDown: "+", axisCorner: "+", dottedVertical: ":",
    ellipsis: "~", bullet: "|", legendLine: "--")
}

/// The in-memory screen.
public struct CellGrid: Sendable, Equatable {
  public private(set) var width: Int
  public private(set) var height: Int
  public private(set) var cells: [Cell]
  /// True when only ASCII can be shown (non-UTF-8 locale): text is transliterated, charts use
  /// ASCII dots instead of braille.
  public var asciiOnly: Bool

  public init(width: Int, height: Int, asciiOnly: Bool = false) {
    self.width = max(0, width)
    self.height = max(0, height)
    self.asciiOnly = asciiOnly
    cells = Array(repeating: Cell(), count: self.width * self.height)
  }

  public var glyphs: Glyphs { asciiOnly ? .ascii : .unicode }
  public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

  public subscript(x: Int, y: Int) -> Cell {
    get { cells[y * width + x] }
    set { cells[y * width + x] = newValue }
  }

  /// Resizes and blanks the grid.
  public mutating func reset(width: Int, height: Int) {
    self.width = max(0, width)
    self.height = max(0, height)
    cells = Array(repeating: Cell(), count: self.width * self.height)
  }

  /// Blanks every cell with `style`.
  public mutating func clear(_ style: Style = .plain) {
    for i in cells.indices { cells[i] = Cell(" ", style) }
  }

  /// Sets one narrow scalar; out-of-bounds writes are ignored. A wide character that this
  /// overwrites half of is blanked.
  @inline(__always)
  public mutating func set(_ x: Int, _ y: Int, _ scalar: Unicode.Scalar, _ style: Style) {
    guard x >= 0, y >= 0, x < width, y < height else { return }
    let i = y * width + x
    if cells[i].isContinuation, x > 0 { cells[i - 1].scalar = " " }
    if x + 1 < width, cells[i + 1].isContinuation { cells[i + 1].scalar = " " }
    cells[i] = Cell(scalar, style)
  }

  /// Fills a rectangle (clipped to the grid).
  public mutating func fill(_ rect: Rect, _ scalar: Unicode.Scalar = " ", _ style: Style = .plain) {
    let r = rect.intersection(bounds)
    guard !r.isEmpty else { return }
    for y in r.y..<r.maxY {
      for x in r.x..<r.maxX { set(x, y, scalar, style) }
    }
  }

  /// Writes text from (x, y) to the right, at most `maxWidth` columns and never past the grid's
  /// edge. Unsafe scalars are dropped, zero-width ones skipped, a wide character that does not fit
  /// is not drawn. In ASCII mode, text is transliterated. Returns the columns used.
  @discardableResult
  public mutating func put(
    _ text: String, x: Int, y: Int, style: Style = .plain, maxWidth: Int = Int.max
  ) -> Int {
    guard y >= 0, y < height, maxWidth > 0 else { return 0 }
    let limit = x + min(maxWidth, width - x)
    var col = x
    for s in text.unicodeScalars {
      if TextSanitizer.isUnsafe(s) { continue }
      if asciiOnly && s.value >= 0x80 {
        for a in CellGrid.transliterate(s).unicodeScalars {
          if col >= limit { return col - x }
          set(col, y, a, style)
          col += 1
        }
        continue
      }
      let w = s.terminalWidth
      if w == 0 { continue }
      if col + w > limit { break }
      if col >= 0 {
        set(col, y, s, style)
        if w == 2 {
          set(col + 1, y, " ", style)
          cells[y * width + col + 1].scalar = Cell.continuationScalar
        }
      }
      col += w
    }
    return max(0, col - x)
  }

  /// Writes text cut to `width` columns, ending in an ellipsis when it was cut.
  @discardableResult
  public mutating func putTruncated(
    _ text: String, x: Int, y: Int, width maxWidth: Int, style: Style = .plain
  ) -> Int {
    guard maxWidth > 0 else { return 0 }
    let shown = asciiOnly ? CellGrid.asciiVersion(of: text) : text
    if shown.terminalWidth <= maxWidth {
      return put(shown, x: x, y: y, style: style, maxWidth: maxWidth)
    }
    let e = glyphs.ellipsis
    let n = put(shown, x: x, y: y, style: style, maxWidth: maxWidth - e.count)
    return n + put(e, x: x + n, y: y, style: style, maxWidth: e.count)
  }

  /// Draws a box border, with an optional title in the top edge.
  public mutating func box(
    _ r: Rect, title: String? = nil, style: Style = Style(.border),
    titleStyle: Style = Style(.title)
  ) {
    guard r.width >= 2, r.height >= 2 else { return }
    let g = glyphs
    for x in (r.x + 1)..<(r.maxX - 1) {
      set(x, r.y, g.horizontal, style)
      set(x, r.maxY - 1, g.horizontal, style)
    }
    for y in (r.y + 1)..<(r.maxY - 1) {
      set(r.x, y, g.vertical, style)
      set(r.maxX - 1, y, g.vertical, style)
    }
    set(r.x, r.y, g.topLeft, style)
    set(r.maxX - 1, r.y, g.topRight, style)
    set(r.x, r.maxY - 1, g.bottomLeft, style)
    set(r.maxX - 1, r.maxY - 1, g.bottomRight, style)
    if let title, r.width > 4 {
      putTruncated(" " + title + " ", x: r.x + 1, y: r.y, width: r.width - 3, style: titleStyle)
    }
  }

  /// The grid as text, one line per row, trailing spaces removed (for golden files).
  public func render() -> String {
    var lines: [String] = []
    lines.reserveCapacity(height)
    for y in 0..<height {
      var line = String.UnicodeScalarView()
      for x in 0..<width {
        let c = cells[y * width + x]
        if !c.isContinuation { line.append(c.scalar) }
      }
      var s = String(line)
      while s.last == " " { s.removeLast() }
      lines.append(s)
    }
    return lines.joined(separator: "\n")
  }

  /// The text of one row (for tests).
  public func row(_ y: Int) -> String {
    guard y >= 0, y < height else { return "" }
    var line = String.UnicodeScalarView()
    for x in 0..<width where !cells[y * width + x].isContinuation {
      line.append(cells[y * width + x].scalar)
    }
    return String(line)
  }

  /// An ASCII stand-in for a scalar that cannot be shown.
  public static func transliterate(_ s: Unicode.Scalar) -> String {
    switch s {
    case "η": return "eta"
    case "Δ": return "d"
    case "·", "•": return "|"
    case "…": return "~"
    case "−", "–", "—", "─", "━": return "-"
    case "←": return "<-"
    case "→": return "->"
    case "↑": return "^"
    case "↓": return "v"
    case "×": return "x"
    case "≈": return "~"
    case "✓": return "+"
    case "µ", "μ": return "u"
    case "ä": return "ae"
    case "ö": return "oe"
    case "ü": return "ue"
    case "ß": return "ss"
    case "Ä": return "Ae"
    case "Ö": return "Oe"
    case "Ü": return "Ue"
    case "é", "è", "ê": return "e"
    default: return s.terminalWidth == 0 ? "" : "?"
    }
  }

  /// Text transliterated to ASCII.
  public static func asciiVersion(of text: String) -> String {
    var out = ""
    for s in text.unicodeScalars {
      if s.value < 0x80 { out.unicodeScalars.append(s) } else { out += transliterate(s) }
    }
    return out
  }
}
