import Foundation
import Testing

@testable import Corpus

/// Inputs the libFuzzer targets (fuzz/, scripts/fuzz) found crashing, kept as tests.
@Suite struct TokenizerFuzzRegressions {
  /// A byte's token as a JSON string (its byte-level name may be `"` or `\\`).
  static func quoted(_ bytes: [UInt8]) -> String {
    let name = ByteLevel.encodeToken(bytes)
    return "\""
      + name.replacingOccurrences(of: "\\", with: "\\\\")
      .replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  /// fuzz/tokenizer crash-46dd0026: ids outside the vocabulary (299 of 300 when training stopped
  /// short, 65 792, -1) trapped on an array index; they now decode to U+FFFD.
  @Test func idsOutsideTheVocabularyDecodeToReplacement() {
    let tok = BPETokenizer.bytes
    #expect(
      tok.decode([0x74, 65_792, 0x68, -1]) == [0x74, 0xEF, 0xBF, 0xBD, 0x68, 0xEF, 0xBF, 0xBD])
    #expect(tok.decodeText([Int.max, Int.min, 256]) == "\u{FFFD}\u{FFFD}\u{FFFD}")
    #expect(tok.decodeText([0x61]) == "a")
  }

  /// fuzz/tokenizer crash-c886d439: a vocabulary id of 6666666666666666666655 sized an array of
  /// that many entries; ids outside 0..<count (or fractional) are now refused with a message.
  @Test(arguments: ["6666666666666666666655", "1e300", "-3", "256.5", "257"])
  func hugeOrOddVocabularyIdsAreRefused(id: String) throws {
    var vocab = (0..<256).map { "\(Self.quoted([UInt8($0)])): \($0)" }
    vocab.append("\"Ġt\": \(id)")
    let json = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\(vocab.joined(separator: ", "))}}}"
    #expect(throws: TokenizerFileError.self) { try BPETokenizer.load(json: Data(json.utf8)) }
  }

  @Test func aValidVocabularyStillLoads() throws {
    var vocab = (0..<256).map { "\(Self.quoted([UInt8($0)])): \($0)" }
    vocab.append("\"Ġt\": 256")
    let json = """
      {"model": {"type": "BPE", "vocab": {\(vocab.joined(separator: ", "))}, "merges": ["Ġ t"]}}
      """
    let tok = try BPETokenizer.load(json: Data(json.utf8))
    #expect(tok.vocabSize == 257)
    #expect(tok.encode(" t") == [256])
  }
}
