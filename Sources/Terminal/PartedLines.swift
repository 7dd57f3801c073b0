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
  /// (ties: the longer, then the later), and first not a part whose leaving would make the line's
  /// remaining parts all found in another line (it could then be read as that one). A line too
  /// long with every part but one left out is cut in the middle (`middleTruncated`); so is every
  /// line when leaving parts out would still make two different lines read the same.
  public static func fitted(
    _ lines: [PartedLine], toWidth width: Int, separator: String = " · ", ellipsis: String = "…"
  ) -> [String] {
    let full = lines.map { $0.text(separator: separator, ellipsis: ellipsis) }
    let parted = leavingPartsOut(lines, toWidth: width, separator: separator, ellipsis: ellipsis)
    return Set(parted).count == Set(full).count
      ? parted : full.map { $0.middleTruncated(toWidth: width, ellipsis: ellipsis) }
  }

  private static func leavingPartsOut(
    _ lines: [PartedLine], toWidth width: Int, separator: String, ellipsis: String
  ) -> [String] {
    var sharedBy: [String: Int] = [:]
    for line in lines {
      for part in Set(line.parts) { sharedBy[part, default: 0] += 1 }
    }
    let partSets = lines.map { Set($0.parts) }
    return lines.enumerated().map { index, line in
      // Whether these parts of the line are not all in any other line.
      func tellsApart(_ kept: Set<String>) -> Bool {
        partSets.indices.allSatisfy { other in
          other == index || partSets[other] == partSets[index]
            || !kept.isSubset(of: partSets[other])
        }
      }
      var text = line.text(separator: separator, ellipsis: ellipsis)
      let order = line.parts.indices.sorted { a, b in
        let (pa, pb) = (line.parts[a], line.parts[b])
        if sharedBy[pa]! != sharedBy[pb]! { return sharedBy[pa]! > sharedBy[pb]! }
        if pa.terminalWidth != pb.terminalWidth { return pa.terminalWidth > pb.terminalWidth }
        return a > b
      }
      var left: Set<Int> = []
      func kept(_ left: Set<Int>) -> Set<String> {
        Set(line.parts.indices.filter { !left.contains($0) }.map { line.parts[$0] })
      }
      // First only parts the line is told apart without; then, if it is still too long, any.
      for careful in [true, false] {
        for i in order where text.terminalWidth > width && left.count < line.parts.count - 1 {
          guard !left.contains(i) else { continue }
          let trial = left.union([i])
          if careful && !tellsApart(kept(trial)) && tellsApart(kept(left)) { continue }
          left = trial
          text = line.text(separator: separator, ellipsis: ellipsis, leaving: left)
        }
      }
      return text.middleTruncated(toWidth: width, ellipsis: ellipsis)
    }
  }
}
