/// "Did you mean …?" for every place that reads a name a person typed: config keys and values,
/// command names, theme roles and colours. One rule, so a typo is caught the same way everywhere.
public enum Spelling {
  /// Edits between `a` and `b`: inserting, deleting or replacing one character, or swapping two
  /// neighbours, each counts one (optimal string alignment distance). Case counts as written.
  public static func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    // Three rows of the (a.count + 1) × (b.count + 1) table: two back, one back, this one.
    var twoBack = [Int](repeating: 0, count: b.count + 1)
    var oneBack = Array(0...b.count)
    var row = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      row[0] = i
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        row[j] = min(oneBack[j] + 1, row[j - 1] + 1, oneBack[j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
          row[j] = min(row[j], twoBack[j - 2] + 1)
        }
      }
      (twoBack, oneBack, row) = (oneBack, row, twoBack)
    }
    return oneBack[b.count]
  }

  /// The edits a candidate name tolerates: one for short names, about a third of the name for
  /// longer ones, never more than three (`lr` → none closer than 1, `schedule` → 2).
  public static func defaultAllowance(for candidate: String) -> Int {
    max(1, min(3, candidate.count / 3))
  }

  /// The candidate closest to `word`, ignoring case (so `Schedule` finds `schedule`), if it is
  /// within its allowance; the first listed wins a tie. Nil when nothing is close.
  public static func suggestion(
    for word: String, among candidates: [String],
    allowance: (String) -> Int = defaultAllowance(for:)
  ) -> String? {
    let lower = word.lowercased()
    var best: (name: String, edits: Int)?
    for candidate in candidates {
      let edits = distance(lower, candidate.lowercased())
      if edits <= allowance(candidate), edits < (best?.edits ?? .max) {
        best = (candidate, edits)
      }
    }
    return best?.name
  }
}
