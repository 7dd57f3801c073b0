/// Lines made of parts (`name (cosine · replay 25% · stages 2)`) fitted into a column budget by
/// leaving whole parts out rather than cutting one mid-word: those most lines share go first, as
/// they tell the fewest lines apart, so what makes a line differ from the others stays readable.
public struct PartedLine: Sendable, Equatable {
  /// Text before the parts (`name (`), kept whole.
  public var head: String
  public var parts: [String]
  /// Text after the parts (`)`, ` [stopped]`), kept whole.
  public var tail: String

  public init(head: String, parts: [String], tail: String) {
    self.head = head
    self.parts = parts
    self.tail = tail
  }

  /// The line with the parts whose indices are in `left` out, each run of them one `ellipsis`.
  func text(separator: String, ellipsis: String, leaving left: Set<Int> = []) -> String {
    var shown: [String] = []
    for (i, part) in parts.enumerated() {
      if !left.contains(i) {
        shown.append(part)
      } else if i == 0 || !left.contains(i - 1) {
        shown.append(ellipsis)
      }
    }
    return head + shown.joined(separator: separator) + tail
  }

  /// Each line in at most `width` columns. A line too long leaves out parts, most shared first
  /// (ties: the longer, then the later); one still too long with every part but one left out is
  /// cut in the middle (`middleTruncated`).
  public static func fitted(
    _ lines: [PartedLine], toWidth width: Int, separator: String = " · ", ellipsis: String = "…"
  ) -> [String] {
    var sharedBy: [String: Int] = [:]
    for line in lines {
      for part in Set(line.parts) { sharedBy[part, default: 0] += 1 }
    }
    return lines.map { line in
      var text = line.text(separator: separator, ellipsis: ellipsis)
      let order = line.parts.indices.sorted { a, b in
        let (pa, pb) = (line.parts[a], line.parts[b])
        if sharedBy[pa]! != sharedBy[pb]! { return sharedBy[pa]! > sharedBy[pb]! }
        if pa.terminalWidth != pb.terminalWidth { return pa.terminalWidth > pb.terminalWidth }
        return a > b
      }
      var left: Set<Int> = []
      for i in order.dropLast() where text.terminalWidth > width {
        left.insert(i)
        text = line.text(separator: separator, ellipsis: ellipsis, leaving: left)
      }
      return text.middleTruncated(toWidth: width, ellipsis: ellipsis)
    }
  }
}
