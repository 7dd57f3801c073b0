import Foundation
import Testing

@testable import Corpus

/// This test folder (generated fixture sources are written here; no bundle resources needed).
let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

/// The training text of the fixture tokenizer: synthetic documents of three kinds plus a hand-made
/// paragraph with contractions, digits, German, symbols and odd white space.
func fixtureTrainingText() -> String {
  var text = ""
  for language in SyntheticLanguage.allCases {
    for d in SyntheticCorpus(language: language, seed: 7).documents(totalBytes: 20_000) {
      text += d
    }
  }
  text += """
    It's the king's horse, isn't it? We'll see; they'd say "no" -- 42 times, 3.14159!
    Die Straße über den Fluss: Größe 12, Grüße aus Köln.   \tTabs\tand  spaces   
    def f(x):\n    return x ** 2  # square
    """
  return text
}

func trainFixtureTokenizer() -> BPETokenizer {
  var trainer = BPETrainer()
  trainer.add(fixtureTrainingText())
  return trainer.train(vocabSize: 400)
}

@Suite struct SHA256Tests {
  @Test(arguments: [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
  ])
  func knownVectors(input: String, digest: String) {
    #expect(SHA256.hex(Array(input.utf8)) == digest)
  }

  @Test func millionA() {
    var h = SHA256()
    let chunk = [UInt8](repeating: 0x61, count: 1000)
    for _ in 0..<1000 { chunk.withUnsafeBytes { h.update(buffer: $0) } }
    #expect(
      SHA256.hexString(h.finalize())
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test func splitUpdatesAgree() {
    let data = (0..<1000).map { UInt8($0 % 251) }
    var h = SHA256()
    h.update(data[0..<3])
    h.update(data[3..<130])
    h.update(data[130...])
    #expect(SHA256.hexString(h.finalize()) == SHA256.hex(data))
  }
}

@Suite struct PreTokenizerTests {
  @Test(arguments: [
    ("Hello world", ["Hello", " world"]),
    ("I'm here, it's fine", ["I", "'m", " here", ",", " it", "'s", " fine"]),
    ("they're we've we'll he'd", ["they", "'re", " we", "'ve", " we", "'ll", " he", "'d"]),
    ("don't", ["don", "'t"]),
    ("It'S", ["It", "'", "S"]),
    ("abc123def", ["abc", "123", "def"]),
    ("  two spaces", [" ", " two", " spaces"]),
    ("end   ", ["end", "   "]),
    ("a\n\nb", ["a", "\n", "\n", "b"]),
    ("a \n b", ["a", " \n", " b"]),
    ("x   \ty", ["x", "   ", "\t", "y"]),
    ("hi!!! ?", ["hi", "!!!", " ?"]),
    ("$100.50", ["$", "100", ".", "50"]),
    ("Größe über", ["Größe", " über"]),
    ("日本語 テキスト", ["日本語", " テキスト"]),
    ("½ Ⅻ 7", ["½", " Ⅻ", " 7"]),
    ("emoji 🙂🙂 ok", ["emoji", " 🙂🙂", " ok"]),
    ("\u{00A0}nbsp", ["\u{00A0}", "nbsp"]),
    ("a\u{3000}b", ["a", "\u{3000}", "b"]),
    (" 's", [" '", "s"]),
    ("", []),
    (" ", [" "]),
  ])
  func splitsLikeGPT2(text: String, pieces: [String]) {
    #expect(ByteLevel.pretokenize(text) == pieces)
  }

  @Test func invalidBytesAreSymbols() {
    // 0xFF and a lone continuation byte join punctuation runs; pieces cover the input.
    let bytes: [UInt8] = [0x61, 0x62, 0xFF, 0x21, 0x80, 0x20, 0xC3, 0x63]
    let pieces = ByteLevel.pretokenize(bytes: bytes)
    #expect(pieces == [[0x61, 0x62], [0xFF, 0x21, 0x80], [0x20, 0xC3], [0x63]])
    #expect(pieces.flatMap { $0 } == bytes)
  }

  @Test func piecesCoverRandomBytes() {
    var rng = CorpusRNG(seed: 3)
    for _ in 0..<200 {
      let bytes = (0..<rng.below(300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      #expect(ByteLevel.pretokenize(bytes: bytes).flatMap { $0 } == bytes)
    }
  }

  @Test func byteTableIsGPT2() {
    #expect(ByteLevel.byteToScalar[0x20] == "Ġ")
    #expect(ByteLevel.byteToScalar[0x0A] == "Ċ")
    #expect(ByteLevel.byteToScalar[0x41] == "A")
    #expect(Set(ByteLevel.byteToScalar).count == 256)
    #expect(ByteLevel.decodeToken(ByteLevel.encodeToken([0, 32, 200, 255])) == [0, 32, 200, 255])
  }
}

@Suite struct BPETests {
  @Test func firstMergeIsMostFrequentPair() {
    var trainer = BPETrainer()
    trainer.add("ab ab ab xy")
    let tok = trainer.train(vocabSize: 258)
    #expect(tok.vocabSize == 258)
    #expect(tok.merges[0] == (0x61, 0x62))
    #expect(tok.tokenBytes[256] == [0x61, 0x62])
    #expect(tok.encode("ab") == [256])
    #expect(tok.merges[1] == (0x20, 256))
    #expect(tok.encode(" ab ab") == [257, 257])
    #expect(tok.encode("xy") == [0x78, 0x79])
  }

  @Test func mergesApplyInRankOrder() {
    // merges: (a,b)→256, (b,c)→257, (256,c)→258. "abc": (a,b) has the lower rank, then (ab,c).
    let base = (0..<256).map { [UInt8($0)] }
    let tok = BPETokenizer(
      tokenBytes: base + [[0x61, 0x62], [0x62, 0x63], [0x61, 0x62, 0x63]],
      merges: [(0x61, 0x62), (0x62, 0x63), (256, 0x63)], mergeResults: [256, 257, 258])
    #expect(tok.encode("abc") == [258])
    #expect(tok.encode("bcab") == [257, 256])
    #expect(tok.encode("aaa") == [0x61, 0x61, 0x61])
  }

  @Test func byteTokenizerIsIdentity() {
    let bytes: [UInt8] = [0, 1, 255, 0x20, 0x61]
    #expect(BPETokenizer.bytes.encode(bytes: bytes) == bytes.map { Int($0) })
    #expect(BPETokenizer.bytes.vocabSize == 256)
  }

  @Test func trainingStopsAtVocabularySize() {
    let tok = trainFixtureTokenizer()
    #expect(tok.vocabSize == 400)
    #expect(tok.merges.count == 144)
    // Every merge result is the concatenation of its parts.
    for (r, m) in tok.merges.enumerated() {
      #expect(tok.tokenBytes[tok.mergeResults[r]] == tok.tokenBytes[m.0] + tok.tokenBytes[m.1])
    }
  }

  @Test func roundTripRandomBytes() {
    let tok = trainFixtureTokenizer()
    var rng = CorpusRNG(seed: 11)
    let encoder = BPEEncoder(tok)
    for trial in 0..<300 {
      let n = rng.below(400)
      var bytes: [UInt8]
      if trial % 2 == 0 {
        bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      } else {
        // Text-like bytes with some invalid UTF-8 sprinkled in.
        let text = Array(fixtureTrainingText().utf8)
        let start = rng.below(text.count - n)
        bytes = Array(text[start..<start + n])
        if n > 0 { bytes[rng.below(n)] = 0xFF }
      }
      var ids: [Int32] = []
      bytes.withUnsafeBufferPointer { encoder.encode($0, into: &ids) }
      #expect(tok.decode(ids.map { Int($0) }) == bytes)
      #expect(tok.encode(bytes: bytes) == ids.map { Int($0) })
    }
  }

  @Test func compressesTrainingText() {
    let tok = trainFixtureTokenizer()
    let text = fixtureTrainingText()
    #expect(tok.encode(text).count * 3 < text.utf8.count * 2)
  }

  @Test func saveLoadRoundTrip() throws {
    let tok = trainFixtureTokenizer()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-tok-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("tokenizer.json")
    try tok.save(to: url)
    let loaded = try BPETokenizer.load(from: url)
    #expect(loaded == tok)
    #expect(loaded.hash == tok.hash)
    #expect(tok.hash.count == 16)
    #expect(BPETokenizer.bytes.hash != tok.hash)
  }

  @Test func loadsStringMerges() throws {
    let json = """
      {"model": {"type": "BPE", "vocab": \(byteVocabJSON(extra: ["ab": 256])),
       "merges": ["a b"]}, "pre_tokenizer": {"type": "ByteLevel"}}
      """
    let tok = try BPETokenizer.load(json: Data(json.utf8))
    #expect(tok.encode("ab") == [256])
  }

  @Test func rejectsNonByteLevel() {
    let json = #"{"model": {"type": "WordPiece", "vocab": {}}}"#
    #expect(throws: TokenizerFileError.self) { try BPETokenizer.load(json: Data(json.utf8)) }
  }

  /// The fixture tokenizer is reproducible: training again gives the committed JSON
  /// (FixtureTokenizer.swift). Set CPTUI_WRITE_FIXTURES=1 to rewrite that file, then run
  /// `scripts/check-tokenizer.py --fixture` to regenerate HuggingFaceReference.swift.
  @Test func fixtureTokenizerIsReproducible() throws {
    let tok = trainFixtureTokenizer()
    let json = tok.huggingFaceJSON()
    if ProcessInfo.processInfo.environment["CPTUI_WRITE_FIXTURES"] == "1" {
      let source =
        "// Generated by the test fixtureTokenizerIsReproducible (CPTUI_WRITE_FIXTURES=1); do not\n"
        + "// edit. scripts/check-tokenizer.py --fixture reads the JSON below.\n"
        + "let fixtureTokenizerJSON = ##\"\"\"\n" + json + "\"\"\"##\n"
      try Data(source.utf8).write(to: testsFolder.appendingPathComponent("FixtureTokenizer.swift"))
    }
    #expect(fixtureTokenizerJSON + "\n" == json)
  }

  /// Ids produced by the Python `tokenizers` package (scripts/check-tokenizer.py --fixture) for the
  /// fixture tokenizer must equal ours.
  @Test func matchesHuggingFaceReference() throws {
    let tok = try BPETokenizer.load(json: Data(fixtureTokenizerJSON.utf8))
    #expect(tok == trainFixtureTokenizer())
    #expect(huggingFaceReference.count >= 10)
    for c in huggingFaceReference {
      #expect(tok.encode(c.text) == c.ids, "text: \(c.text)")
      #expect(tok.decodeText(c.ids) == c.text)
    }
  }
}

func byteVocabJSON(extra: [String: Int]) -> String {
  var entries: [String] = []
  for b in 0..<256 {
    let name = ByteLevel.encodeToken([UInt8(b)])
    let escaped = name == "\"" ? "\\\"" : (name == "\\" ? "\\\\" : name)
    entries.append("\"\(escaped)\": \(b)")
  }
  for (k, v) in extra { entries.append("\"\(k)\": \(v)") }
  return "{" + entries.joined(separator: ", ") + "}"
}

@Suite struct LongPieceTests {
  /// The heap-based merging of long pieces gives the same ids as the simple loop.
  @Test func heapAndLoopAgree() {
    let tok = trainFixtureTokenizer()
    var rng = CorpusRNG(seed: 21)
    let alphabet = Array("aeioust nrl'".utf8) + [0xC3, 0xBC]
    for _ in 0..<200 {
      let n = 2 + rng.below(120)
      let bytes = (0..<n).map { _ in alphabet[rng.below(alphabet.count)] }
      var viaLoop: [Int32] = []
      var viaHeap: [Int32] = bytes.map { Int32(tok.byteTokens[Int($0)]) }
      bytes.withUnsafeBufferPointer { p in
        // Force the loop: encode in chunks below the threshold is not equivalent, so call the
        // loop directly through a tokenizer view with a large threshold.
        tok.encodePieceLoop(p, 0, p.count, into: &viaLoop)
      }
      tok.mergeLong(&viaHeap)
      #expect(viaLoop == viaHeap)
    }
  }

  @Test func longRunIsFast() {
    let tok = trainFixtureTokenizer()
    let bytes = [UInt8](repeating: 0x61, count: 200_000) + Array(" the end".utf8)
    let ids = tok.encode(bytes: bytes)
    #expect(tok.decode(ids) == bytes)
  }
}

@Suite struct TrainerReferenceTests {
  /// A naive trainer: recount every pair after every merge. Same tie rule (count, then smaller
  /// (left, right)). The incremental trainer must learn exactly the same merges.
  func naiveMerges(_ text: String, vocabSize: Int) -> [[Int]] {
    var counts: [[Int]: Int] = [:]
    for piece in ByteLevel.pretokenize(bytes: Array(text.utf8)) {
      counts[piece.map { Int($0) }, default: 0] += 1
    }
    var words = counts.map { (symbols: $0.key, count: $0.value) }
    var merges: [[Int]] = []
    var next = 256
    while next < vocabSize {
      var pairs: [[Int]: Int] = [:]
      for w in words where w.symbols.count > 1 {
        for i in 0..<(w.symbols.count - 1) {
          pairs[[w.symbols[i], w.symbols[i + 1]], default: 0] += w.count
        }
      }
      guard
        let best = pairs.filter({ $0.value >= 2 }).max(by: { a, b in
          a.value != b.value ? a.value < b.value : a.key.lexicographicallyPrecedes(b.key) == false
        })
      else { break }
      merges.append(best.key)
      for k in words.indices {
        var s = words[k].symbols
        var out: [Int] = []
        var i = 0
        while i < s.count {
          if i + 1 < s.count && s[i] == best.key[0] && s[i + 1] == best.key[1] {
            out.append(next)
            i += 2
          } else {
            out.append(s[i])
            i += 1
          }
        }
        s = out
        words[k].symbols = s
      }
      next += 1
    }
    return merges
  }

  @Test(arguments: [1, 2, 3, 4])
  func incrementalEqualsNaive(seed: UInt64) {
    var rng = CorpusRNG(seed: seed)
    let words = ["aa", "ab", "ba", "aaa", "abab", "b", "the", "a'b", "ü"]
    var text = ""
    for _ in 0..<400 {
      text += words[rng.below(words.count)] + (rng.below(5) == 0 ? "  " : " ")
    }
    var trainer = BPETrainer()
    trainer.add(text)
    let tok = trainer.train(vocabSize: 300)
    let naive = naiveMerges(text, vocabSize: 300)
    #expect(tok.merges.map { [$0.0, $0.1] } == naive)
  }
}
