// A dot canvas: each cell holds 2×4 dots, shown as one braille character (U+2800 + bits), or as an
// ASCII approximation when braille cannot be shown. Each cell remembers which line drew it last, so
// it takes that line's style; a line on a higher layer (a smoothed curve) wipes the dots of a lower
// one (its faint raw curve) in the cells it passes through.

import Terminal

public struct BrailleCanvas {
  public let columns: Int
  public let rows: Int
  public var bits: [UInt8]
  public var owner: [Int16]
  var layer: [UInt8]

  public init(columns: Int, rows: Int) {
    self.columns = max(0, columns)
    self.rows = max(0, rows)
    bits = Array(repeating: 0, count: self.columns * self.rows)
    owner = Array(repeating: -1, count: self.columns * self.rows)
    layer = Array(repeating: 0, count: self.columns * self.rows)
  }

  public var dotWidth: Int { columns * 2 }
  public var dotHeight: Int { rows * 4 }

  /// The bit for dot (dx, dy) inside a cell, dx in 0...1, dy in 0...3 (Unicode's braille block: dots 1–3 and 7 left, 4–6 and 8 right).
  @inline(__always)
  public static func bit(dx: Int, dy: Int) -> UInt8 {
    if dy == 3 { return dx == 0 ? 0x40 : 0x80 }
    return UInt8(1 << (dy + 3 * dx))
  }

  /// The braille character for a cell's bits.
  public static func character(_ bits: UInt8) -> Unicode.Scalar {
    Unicode.Scalar(0x2800 + UInt32(bits))!
  }

  /// An ASCII character that suggests where a cell's dots are.
  public static func asciiCharacter(_ bits: UInt8) -> Unicode.Scalar {
    if bits == 0 { return " " }
    var rowsUsed = 0
    var firstRow = 4
    var lastRow = -1
    for dy in 0..<4 where bits & (bit(dx: 0, dy: dy) | bit(dx: 1, dy: dy)) != 0 {
      rowsUsed += 1
      firstRow = min(firstRow, dy)
      lastRow = max(lastRow, dy)
    }
    if lastRow - firstRow >= 2 { return "|" }
    switch firstRow {
    case 0: return "'"
    case 3: return "."
    default: return lastRow == 3 ? "." : "-"
    }
  }

  /// Sets dot (x, y) in dot coordinates for line `line` on `lineLayer`; ignores dots outside.
  @inline(__always)
  public mutating func set(_ x: Int, _ y: Int, line: Int16, lineLayer: UInt8) {
    guard x >= 0, y >= 0, x < dotWidth, y < dotHeight else { return }
    let i = (y >> 2) * columns + (x >> 1)
    let l = layer[i]
    if lineLayer < l { return }
    if lineLayer > l {
      bits[i] = 0
      layer[i] = lineLayer
    }
    bits[i] |= BrailleCanvas.bit(dx: x & 1, dy: y & 3)
    owner[i] = line
  }

  /// Draws a line between two dots (Bresenham), clipped to the canvas first, broken up by `dash`
  /// from dot number `phase` on. Returns the phase for a segment going on from this one's end (the
  /// shared dot counted once), so a dash pattern runs on along a polyline of short segments.
  @discardableResult
  public mutating func line(
    _ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, line id: Int16, lineLayer: UInt8,
    dash: LineDash = .solid, phase: Int = 0
  ) -> Int {
    guard
      let (ax, ay, bx, by) = BrailleCanvas.clip(
        x0, y0, x1, y1, maxX: Double(dotWidth - 1), maxY: Double(dotHeight - 1))
    else { return phase }
    var x = Int(ax.rounded())
    var y = Int(ay.rounded())
    let ex = Int(bx.rounded())
    let ey = Int(by.rounded())
    let dx = abs(ex - x)
    let dy = -abs(ey - y)
    let sx = x < ex ? 1 : -1
    let sy = y < ey ? 1 : -1
    var err = dx + dy
    var n = phase
    while true {
      if dash.draws(n) { set(x, y, line: id, lineLayer: lineLayer) }
      if x == ex && y == ey { return n }
      n += 1
      let e2 = 2 * err
      if e2 >= dy {
        err += dy
        x += sx
      }
      if e2 <= dx {
        err += dx
        y += sy
      }
    }
  }

  /// Liang–Barsky clipping of a segment to [0, maxX]×[0, maxY].
  static func clip(
    _ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, maxX: Double, maxY: Double
  ) -> (Double, Double, Double, Double)? {
    guard maxX >= 0, maxY >= 0, x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite else {
      return nil
    }
    var t0 = 0.0
    var t1 = 1.0
    let dx = x1 - x0
    let dy = y1 - y0
    let checks: [(Double, Double)] = [(-dx, x0), (dx, maxX - x0), (-dy, y0), (dy, maxY - y0)]
    for (p, q) in checks {
      if p == 0 {
        if q < 0 { return nil }
      } else {
        let r = q / p
        if p < 0 {
          if r > t1 { return nil }
          t0 = max(t0, r)
        } else {
          if r < t0 { return nil }
          t1 = min(t1, r)
        }
      }
    }
    return (x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy)
  }
}
