import Foundation

/// Text extraction: files on disk → documents (UTF-8 bytes).
enum Extract {
  /// Fortune records: split at lines that are exactly `%`; backspace overstrikes are removed.
  static func fortuneRecords(_ text: String) -> [[UInt8]] {
    var docs: [[UInt8]] = []
    var current: [Substring] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line == "%" || line == "%\r" {
        docs.append(Array(removeOverstrike(current.joined(separator: "\n")).utf8))
        current = []
      } else {
        current.append(line)
      }
    }
    docs.append(Array(removeOverstrike(current.joined(separator: "\n")).utf8))
    return docs.filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 } }
  }

  /// Removes `x\b` overstrike pairs (bold/underline in old fortune files).
  static func removeOverstrike(_ s: String) -> String {
    guard s.contains("\u{8}") else { return s }
    var out: [Character] = []
    for c in s {
      if c == "\u{8}" {
        if !out.isEmpty { out.removeLast() }
      } else {
        out.append(c)
      }
    }
    return String(out)
  }

  /// Shakespeare markdown: a new document starts at each `### ` (scene) heading once the current
  /// document already holds a scene; trailing spaces (markdown line breaks) are removed.
  static func scenes(_ text: String) -> [[UInt8]] {
    var docs: [[UInt8]] = []
    var current: [Substring] = []
    var hasScene = false
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      var line = raw
      while line.last == " " { line = line.dropLast() }
      if line.hasPrefix("### ") {
        if hasScene {
          docs.append(Array(current.joined(separator: "\n").utf8))
          current = []
        }
        hasScene = true
      }
      current.append(line)
    }
    docs.append(Array(current.joined(separator: "\n").utf8))
    return docs
  }

  /// King James Bible as printed by `bible`: chapter headings are lines like `Genesis 1` with
  /// verses `  N text` below; one chapter per document.
  static func bibleChapters(_ text: String) -> [[UInt8]] {
    var docs: [[UInt8]] = []
    var current: [Substring] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let isHeading = !line.isEmpty && !line.hasPrefix(" ") && line.last?.isNumber == true
      if isHeading && current.contains(where: { !$0.isEmpty }) {
        docs.append(Array(current.joined(separator: "\n").utf8))
        current = []
      }
      current.append(line)
    }
    docs.append(Array(current.joined(separator: "\n").utf8))
    return docs
  }

  /// User text: a file is cut into documents at blank lines, paragraphs being grouped until a
  /// document has at least `targetBytes` bytes (so one big file still gives a validation split).
  /// Text without blank lines (one sentence per line, a log, a CSV) is cut at a line end once a
  /// document reaches 8 × `targetBytes`. Line ends may be LF, CRLF or CR; documents use LF.
  static func paragraphDocuments(_ text: String, targetBytes: Int = 2048) -> [[UInt8]] {
    var docs: [[UInt8]] = []
    var current: [UInt8] = []
    var blank = false
    // Lines by bytes: in a Swift String "\r\n" is one Character, so splitting at "\n" would find
    // no line end at all in a CRLF file.
    let bytes = Array(text.utf8)
    var start = 0
    var lines: [ArraySlice<UInt8>] = []
    var i = 0
    while i < bytes.count {
      if bytes[i] == 0x0A || bytes[i] == 0x0D {
        lines.append(bytes[start..<i])
        if bytes[i] == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 1 }
        start = i + 1
      }
      i += 1
    }
    lines.append(bytes[start..<bytes.count])
    let longest = 8 * targetBytes
    for line in lines {
      let isBlank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
      if isBlank {
        blank = true
      } else {
        if (blank && current.count >= targetBytes) || current.count >= longest {
          docs.append(current)
          current = []
        }
        blank = false
      }
      current.append(contentsOf: line)
      current.append(0x0A)
    }
    docs.append(current)
    return docs
  }

  // MARK: HTML

  private static let blockTags: Set<String> = [
    "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "pre", "ul", "ol",
    "dt", "dd", "dl", "section", "header", "footer", "td", "th", "blockquote",
  ]

  private static let entities: [String: String] = [
    "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©",
    "reg": "®", "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "laquo": "«",
    "raquo": "»", "bull": "•", "rarr": "→", "larr": "←", "auml": "ä", "ouml": "ö", "uuml": "ü",
    "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü", "szlig": "ß",
  ]

  /// Debian Reference chapters (DocBook HTML): navigation header/footer removed, one document per
  /// section or subsection (split before each `<h2 class="title"` / `<h3 class="title"`).
  static func debianReferenceSections(_ html: String) -> [[UInt8]] {
    var body = Substring(html)
    if let start = body.range(of: "<body") { body = body[start.lowerBound...] }
    if let nav = body.range(of: "<div class=\"navheader\"") {
      let rest = body[nav.upperBound...]
      if let content = rest.range(of: "<div class=\"") {
        // Skip the navigation header: continue at the next top-level div after its table.
        if let after = rest.range(of: "</div>") {
          body = body[after.upperBound...]
        } else {
          body = rest[content.lowerBound...]
        }
      }
    }
    if let foot = body.range(of: "<div class=\"navfooter\"") { body = body[..<foot.lowerBound] }
    var pieces: [Substring] = []
    var rest = body
    while let r = rest.dropFirst().range(of: "<h[23] class=\"title\"", options: .regularExpression)
    {
      pieces.append(rest[..<r.lowerBound])
      rest = rest[r.lowerBound...]
    }
    pieces.append(rest)
    return pieces.map { Array(htmlToText(String($0)).utf8) }
  }

  /// Plain text of an HTML page: for LibreOffice help only the `DisplayArea` part; tags removed,
  /// block tags become line breaks, `script`/`style` dropped, entities decoded, runs of spaces
  /// collapsed, at most one blank line in a row.
  static func htmlToText(_ html: String) -> String {
    var body = Substring(html)
    if let start = body.range(of: "<div id=\"DisplayArea\"") {
      body = body[start.lowerBound...]
    } else if let start = body.range(of: "<body") {
      body = body[start.lowerBound...]
    }
    for marker in ["<div id=\"SearchFrame\"", "<footer"] {
      if let end = body.range(of: marker) { body = body[..<end.lowerBound] }
    }
    var out = ""
    var i = body.startIndex
    var pendingSpace = false
    func emit(_ s: String) {
      if pendingSpace && !out.isEmpty && out.last != "\n" { out += " " }
      pendingSpace = false
      out += s
    }
    while i < body.endIndex {
      let c = body[i]
      if c == "<" {
        guard let close = body[i...].firstIndex(of: ">") else { break }
        let tag = body[body.index(after: i)..<close]
        var name = tag.prefix { $0 != " " && $0 != "/" && $0 != "\n" && $0 != "\t" }
        if name.isEmpty, tag.hasPrefix("/") {
          name = tag.dropFirst().prefix { $0 != " " && $0 != ">" }
        }
        let lower = name.lowercased()
        if (lower == "script" || lower == "style") && !tag.hasPrefix("/") {
          if let end = body[close...].range(of: "</\(lower)>", options: .caseInsensitive) {
            i = end.upperBound
            continue
          }
        }
        if blockTags.contains(lower) {
          out += "\n"
          pendingSpace = false
        }
        i = body.index(after: close)
        continue
      }
      if c == "&" {
        if let semi = body[i...].prefix(12).firstIndex(of: ";") {
          let ent = String(body[body.index(after: i)..<semi])
          var decoded: String?
          if ent.hasPrefix("#x") || ent.hasPrefix("#X") {
            decoded = UInt32(ent.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map {
              String($0)
            }
          } else if ent.hasPrefix("#") {
            decoded = UInt32(ent.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
          } else {
            decoded = entities[ent]
          }
          if let decoded {
            emit(decoded)
            i = body.index(after: semi)
            continue
          }
        }
      }
      if c.isWhitespace {
        pendingSpace = true
      } else {
        emit(String(c))
      }
      i = body.index(after: i)
    }
    // Trim lines and collapse blank lines.
    var lines: [Substring] = []
    var lastBlank = true
    for line in out.split(separator: "\n", omittingEmptySubsequences: false) {
      let t = line.drop { $0 == " " }
      var trimmed = t
      while trimmed.last == " " { trimmed = trimmed.dropLast() }
      if trimmed.isEmpty {
        if !lastBlank { lines.append("") }
        lastBlank = true
      } else {
        lines.append(trimmed)
        lastBlank = false
      }
    }
    return lines.joined(separator: "\n")
  }
}
