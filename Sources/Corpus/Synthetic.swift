import Foundation

/// A generated corpus that needs no download: sentences from a seeded template grammar in one of
/// several made-up "languages" with their own lexicon (a few hundred hand-written and syllable-made
/// words per word class, drawn with Zipf-like frequencies), spelling and word order, so that a
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
  /// Version of the generator; prepared synthetic text of another version is generated again.
  public static let version = 2

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

  /// A word from a lexicon with Zipf-like frequencies (rank k has probability ∝ about 1/(k+1)), so
  /// the text has a long tail of rare words like natural language.
  private func zipf(_ words: [String], _ rng: inout CorpusRNG) -> String {
    let k = Int(pow(Double(words.count + 1), rng.unit()))
    return words[min(words.count, max(1, k)) - 1]
  }

  /// Made-up words from syllables: `count` distinct words, the hand-written `base` words first.
  private static func lexicon(
    base: [String], onsets: [String], nuclei: [String], codas: [String], count: Int,
    seed: UInt64, shape: (String, inout CorpusRNG) -> String
  ) -> [String] {
    var rng = CorpusRNG(seed: seed)
    var seen = Set(base)
    var out = base
    while out.count < count {
      var w = ""
      for _ in 0..<(1 + rng.below(3)) {
        w +=
          onsets[rng.below(onsets.count)] + nuclei[rng.below(nuclei.count)]
          + codas[rng.below(codas.count)]
      }
      w = shape(w, &rng)
      if seen.insert(w).inserted { out.append(w) }
    }
    return out
  }

  private static let alphaSyllables = (
    onsets: [
      "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "w", "st", "tr", "br", "ch",
      "sh", "th", "pl", "gr",
    ],
    nuclei: ["a", "e", "i", "o", "u", "ea", "oo", "ai", "ou"],
    codas: ["", "", "n", "r", "t", "s", "ck", "nd", "st", "ll", "ng", "m"]
  )
  private static let betaSyllables = (
    onsets: [
      "b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "w", "z", "sch", "st", "sp",
      "pf", "kr", "gr", "br", "fr",
    ],
    nuclei: ["a", "e", "i", "o", "u", "ä", "ö", "ü", "ei", "au", "ie", "eu"],
    codas: ["", "", "n", "r", "t", "s", "ch", "ck", "ng", "nd", "rt", "lz", "ß", "tz"]
  )

  private static let alphaNounLexicon = lexicon(
    base: alphaNouns, onsets: alphaSyllables.onsets, nuclei: alphaSyllables.nuclei,
    codas: alphaSyllables.codas, count: 800, seed: 101
  ) { w, _ in w }
  private static let alphaVerbLexicon = lexicon(
    base: alphaVerbs, onsets: alphaSyllables.onsets, nuclei: alphaSyllables.nuclei,
    codas: alphaSyllables.codas, count: 400, seed: 102
  ) { w, rng in w + ["s", "es", "ed"][rng.below(3)] }
  private static let alphaAdjectiveLexicon = lexicon(
    base: alphaAdjectives, onsets: alphaSyllables.onsets, nuclei: alphaSyllables.nuclei,
    codas: alphaSyllables.codas, count: 400, seed: 103
  ) { w, rng in w + ["y", "ish", "ful", "ous", "en", ""][rng.below(6)] }

  private static let betaNounLexicon = lexicon(
    base: betaNouns, onsets: betaSyllables.onsets, nuclei: betaSyllables.nuclei,
    codas: betaSyllables.codas, count: 800, seed: 201
  ) { w, rng in
    let noun = w.prefix(1).uppercased() + w.dropFirst()
    return noun + ["", "", "ung", "heit", "er", "chen"][rng.below(6)]
  }
  private static let betaVerbLexicon = lexicon(
    base: betaVerbs, onsets: betaSyllables.onsets, nuclei: betaSyllables.nuclei,
    codas: betaSyllables.codas, count: 400, seed: 202
  ) { w, rng in ["", "ver", "be", "zer", "über"][rng.below(5)] + w + ["t", "et"][rng.below(2)] }
  private static let betaAdjectiveLexicon = lexicon(
    base: betaAdjectives, onsets: betaSyllables.onsets, nuclei: betaSyllables.nuclei,
    codas: betaSyllables.codas, count: 400, seed: 203
  ) { w, rng in w + ["e", "ige", "liche", "ische"][rng.below(4)] }

  private static let codeNameLexicon = lexicon(
    base: codeNames, onsets: alphaSyllables.onsets, nuclei: alphaSyllables.nuclei,
    codas: alphaSyllables.codas, count: 300, seed: 301
  ) { w, rng in rng.below(3) == 0 ? w + "_" + codeNames[rng.below(codeNames.count)] : w }

  private func alphaSentence(_ rng: inout CorpusRNG) -> String {
    func phrase(_ rng: inout CorpusRNG) -> String {
      let det = rng.below(3) == 0 ? "a" : "the"
      if rng.below(2) == 0 {
        return
          "\(det) \(zipf(Self.alphaAdjectiveLexicon, &rng)) \(zipf(Self.alphaNounLexicon, &rng))"
      }
      return "\(det) \(zipf(Self.alphaNounLexicon, &rng))"
    }
    var s = "\(phrase(&rng)) \(zipf(Self.alphaVerbLexicon, &rng)) \(phrase(&rng))"
    if rng.below(3) == 0 {
      s += " \(pick(Self.alphaLinks, &rng)) \(phrase(&rng)) \(zipf(Self.alphaVerbLexicon, &rng))"
      s += " \(phrase(&rng))"
    }
    if rng.below(5) == 0 { s += " \(rng.below(1000)) times" }
    return s.prefix(1).uppercased() + s.dropFirst() + (rng.below(8) == 0 ? "!" : ".")
  }

  private func betaSentence(_ rng: inout CorpusRNG) -> String {
    func phrase(_ rng: inout CorpusRNG) -> String {
      let det = rng.below(3) == 0 ? "eine" : "die"
      if rng.below(2) == 0 {
        return "\(det) \(zipf(Self.betaAdjectiveLexicon, &rng)) \(zipf(Self.betaNounLexicon, &rng))"
      }
      return "\(det) \(zipf(Self.betaNounLexicon, &rng))"
    }
    var s = "\(phrase(&rng)) \(zipf(Self.betaVerbLexicon, &rng)) \(phrase(&rng))"
    if rng.below(3) == 0 {
      s += ", \(pick(Self.betaLinks, &rng)) \(phrase(&rng)) \(phrase(&rng))"
      s += " \(zipf(Self.betaVerbLexicon, &rng))"
    }
    if rng.below(5) == 0 { s += " \(rng.below(1000))-mal" }
    return s.prefix(1).uppercased() + s.dropFirst() + (rng.below(8) == 0 ? "!" : ".")
  }

  private func codeBlock(_ rng: inout CorpusRNG) -> String {
    let f = pick(Self.codeFunctions, &rng)
    let a = zipf(Self.codeNameLexicon, &rng)
    let b = zipf(Self.codeNameLexicon, &rng)
    var s = "def \(f)_\(a)(\(a), \(b)):\n"
    for _ in 0..<(1 + rng.below(4)) {
      switch rng.below(4) {
      case 0:
        s += "    \(zipf(Self.codeNameLexicon, &rng)) = \(a) + \(rng.below(100))\n"
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
