/// A generated corpus that needs no download: sentences from a seeded template grammar in one of
/// several made-up "languages" with their own lexicon, spelling and word order, so that a
/// distribution shift exists offline (``SyntheticLanguage/alpha`` → ``SyntheticLanguage/beta`` is a
/// strong shift; ``SyntheticLanguage/code`` is a code-like domain). Output is identical on every
/// machine for the same seed.
public enum SyntheticLanguage: String, Sendable, CaseIterable, Codable {
  /// English-like words, subject–verb–object.
  case alpha
  /// German-like words with umlauts and capitalised nouns, verb-final clauses.
  case beta
  /// A small code-like language: assignments, calls, loops.
  case code
}

/// Generator of synthetic documents.
public struct SyntheticCorpus: Sendable {
  public var language: SyntheticLanguage
  public var seed: UInt64

  public init(language: SyntheticLanguage, seed: UInt64 = 1) {
    self.language = language
    self.seed = seed
  }

  private static let alphaNouns = [
    "river", "stone", "garden", "king", "window", "letter", "forest", "engine", "city", "child",
    "teacher", "market", "bridge", "ship", "song", "winter", "table", "road", "horse", "lamp",
    "book", "mountain", "friend", "village", "machine", "bird", "house", "clock", "storm", "field",
  ]
  private static let alphaVerbs = [
    "finds", "carries", "watches", "builds", "opens", "follows", "paints", "remembers", "sells",
    "crosses", "hears", "keeps", "breaks", "writes", "loves", "leaves",
  ]
  private static let alphaAdjectives = [
    "old", "quiet", "bright", "small", "heavy", "green", "broken", "distant", "warm", "strange",
    "careful", "golden", "empty", "early",
  ]
  private static let alphaLinks = ["and then", "because", "while", "but", "so", "although"]

  private static let betaNouns = [
    "Fluss", "Stein", "Garten", "König", "Fenster", "Brief", "Wald", "Motor", "Stadt", "Kind",
    "Lehrerin", "Markt", "Brücke", "Schiff", "Lied", "Winter", "Tisch", "Straße", "Pferd", "Lampe",
    "Buch", "Gebirge", "Freund", "Dorf", "Maschine", "Vogel", "Haus", "Uhr", "Sturm", "Feld",
  ]
  private static let betaVerbs = [
    "findet", "trägt", "beobachtet", "baut", "öffnet", "folgt", "malt", "erinnert", "verkauft",
    "überquert", "hört", "behält", "zerbricht", "schreibt", "liebt", "verlässt",
  ]
  private static let betaAdjectives = [
    "alte", "stille", "helle", "kleine", "schwere", "grüne", "zerbrochene", "ferne", "warme",
    "seltsame", "vorsichtige", "goldene", "leere", "frühe",
  ]
  private static let betaLinks = ["weil", "während", "obwohl", "damit", "sodass", "als"]

  private static let codeNames = [
    "count", "total", "items", "index", "value", "buffer", "result", "node", "left", "right",
    "size", "offset", "name", "key", "width", "height",
  ]
  private static let codeFunctions = [
    "append", "len", "max", "min", "sorted", "sum", "parse", "load", "store", "update", "merge",
  ]

  private func pick(_ words: [String], _ rng: inout CorpusRNG) -> String {
    words[rng.below(words.count)]
  }

  private func alphaSentence(_ rng: inout CorpusRNG) -> String {
    func phrase(_ rng: inout CorpusRNG) -> String {
      let det = rng.below(3) == 0 ? "a" : "the"
      if rng.below(2) == 0 {
        return "\(det) \(pick(Self.alphaAdjectives, &rng)) \(pick(Self.alphaNouns, &rng))"
      }
      return "\(det) \(pick(Self.alphaNouns, &rng))"
    }
    var s = "\(phrase(&rng)) \(pick(Self.alphaVerbs, &rng)) \(phrase(&rng))"
    if rng.below(3) == 0 {
      s += " \(pick(Self.alphaLinks, &rng)) \(phrase(&rng)) \(pick(Self.alphaVerbs, &rng))"
      s += " \(phrase(&rng))"
    }
    if rng.below(5) == 0 { s += " \(rng.below(1000)) times" }
    return s.prefix(1).uppercased() + s.dropFirst() + (rng.below(8) == 0 ? "!" : ".")
  }

  private func betaSentence(_ rng: inout CorpusRNG) -> String {
    func phrase(_ rng: inout CorpusRNG) -> String {
      let det = rng.below(3) == 0 ? "eine" : "die"
      if rng.below(2) == 0 {
        return "\(det) \(pick(Self.betaAdjectives, &rng)) \(pick(Self.betaNouns, &rng))"
      }
      return "\(det) \(pick(Self.betaNouns, &rng))"
    }
    var s = "\(phrase(&rng)) \(pick(Self.betaVerbs, &rng)) \(phrase(&rng))"
    if rng.below(3) == 0 {
      s += ", \(pick(Self.betaLinks, &rng)) \(phrase(&rng)) \(phrase(&rng))"
      s += " \(pick(Self.betaVerbs, &rng))"
    }
    if rng.below(5) == 0 { s += " \(rng.below(1000))-mal" }
    return s.prefix(1).uppercased() + s.dropFirst() + (rng.below(8) == 0 ? "!" : ".")
  }

  private func codeBlock(_ rng: inout CorpusRNG) -> String {
    let f = pick(Self.codeFunctions, &rng)
    let a = pick(Self.codeNames, &rng)
    let b = pick(Self.codeNames, &rng)
    var s = "def \(f)_\(a)(\(a), \(b)):\n"
    for _ in 0..<(1 + rng.below(4)) {
      switch rng.below(4) {
      case 0:
        s += "    \(pick(Self.codeNames, &rng)) = \(a) + \(rng.below(100))\n"
      case 1:
        s += "    for \(b) in range(\(rng.below(64))):\n"
        s += "        \(a).\(pick(Self.codeFunctions, &rng))(\(b))\n"
      case 2:
        s += "    if \(a) > \(b):\n        return \(pick(Self.codeFunctions, &rng))(\(a))\n"
      default:
        s += "    \(b) = \(pick(Self.codeFunctions, &rng))(\(a), \(b))\n"
      }
    }
    s += "    return \(b)\n"
    return s
  }

  /// Document `index` (documents are independent: each has its own generator state). A document is
  /// a few paragraphs of sentences (or a few functions for `code`), 300–3000 bytes.
  public func document(_ index: Int) -> String {
    var rng = CorpusRNG(seed: seed &* 0x9E37_79B9 &+ UInt64(index) &* 7919 &+ 17)
    var text = ""
    switch language {
    case .code:
      for _ in 0..<(2 + rng.below(6)) { text += codeBlock(&rng) + "\n" }
    case .alpha, .beta:
      for _ in 0..<(1 + rng.below(4)) {
        var paragraph: [String] = []
        for _ in 0..<(2 + rng.below(6)) {
          paragraph.append(language == .alpha ? alphaSentence(&rng) : betaSentence(&rng))
        }
        text += paragraph.joined(separator: " ") + "\n\n"
      }
    }
    return text
  }

  /// Documents until at least `bytes` bytes of UTF-8 are produced.
  public func documents(totalBytes bytes: Int) -> [String] {
    var out: [String] = []
    var total = 0
    var i = 0
    while total < bytes {
      let d = document(i)
      total += d.utf8.count
      out.append(d)
      i += 1
    }
    return out
  }
}
