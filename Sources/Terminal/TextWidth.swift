// Display width of Unicode scalars (a small wcwidth): 0 for combining and format characters, 2 for
// East Asian wide and fullwidth characters and most emoji, 1 otherwise.

extension Unicode.Scalar {
  /// Columns this scalar takes on a terminal.
  public var terminalWidth: Int {
    let v = value
    if v < 0x300 { return v < 0x20 || (v >= 0x7F && v < 0xA0) ? 0 : 1 }
    if (0x2800...0x28FF).contains(v) || (0x2500...0x257F).contains(v) { return 1 }
    switch properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format, .control: return 0
    default: break
    }
    if v == 0x200B { return 0 }
    if (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v)
      || (0x3041...0x33FF).contains(v) || (0x3400...0x4DBF).contains(v)
      || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
      || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v)
      || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
      || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v)
      || (0x1F680...0x1F6FF).contains(v) || (0x1F900...0x1F9FF).contains(v)
      || (0x1FA70...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v)
    {
      return 2
    }
    return 1
  }
}

extension StringProtocol {
  /// Columns this text takes on a terminal.
  public var terminalWidth: Int {
    var w = 0
    for s in unicodeScalars { w += s.terminalWidth }
    return w
  }
}

extension String {
  /// The text in at most `width` columns: whole characters only, and when it is cut, an ellipsis
  /// in the middle, so that names differing only at their ends ("…-A", "…-B") stay apart.
  public func middleTruncated(toWidth width: Int, ellipsis: String = "…") -> String {
    guard terminalWidth > width else { return self }
    let room = width - ellipsis.terminalWidth
    guard room > 0 else { return String(ellipsis.prefix(max(width, 0))) }
    let chars = Array(self)
    var head = ""
    var tail = ""
    var headWidth = 0
    var tailWidth = 0
    var i = 0
    var j = chars.count - 1
    // Alternate: the head gets the odd column, the tail the rest.
    while i <= j {
      let takeHead = headWidth <= tailWidth
      let c = takeHead ? chars[i] : chars[j]
      let w = String(c).terminalWidth
      if (takeHead ? headWidth : tailWidth) + w > (takeHead ? (room + 1) / 2 : room / 2) { break }
      if takeHead {
        head.append(c)
        headWidth += w
        i += 1
      } else {
        tail = String(c) + tail
        tailWidth += w
        j -= 1
      }
    }
    return head + ellipsis + tail
  }
}
