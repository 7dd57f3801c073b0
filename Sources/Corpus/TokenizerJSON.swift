import Foundation

/// Errors reading a `tokenizer.json`.
public enum TokenizerFileError: Error, CustomStringConvertible {
  case notJSON(String)
  case unsupported(String)
  /// A tokenizer file that could not be read or parsed: its path and why.
  case inFile(path: String, reason: String)

  public var description: String {
    switch self {
    case .notJSON(let m): return "tokenizer.json is not valid JSON: \(m)"
    case .unsupported(let m): return "unsupported tokenizer.json: \(m)"
    case .inFile(let path, let reason): return "\(path): \(reason)"
    }
  }

  /// The reason alone, without naming a file.
  var reason: String {
    switch self {
    case .notJSON(let m): return "not valid JSON (\(m))"
    case .unsupported(let m): return "not a tokenizer cptui reads: \(m)"
    case .inFile(_, let reason): return reason
    }
  }
}

extension BPETokenizer {
  /// The Hugging Face `tokenizers` JSON form: a BPE model (vocab + merges), the ByteLevel
  /// pre-tokenizer (GPT-2 regex, no prefix space) and the ByteLevel decoder. `Tokenizer.from_file`
  /// loads it and encodes valid UTF-8 text to the same ids as cptui.
  public func huggingFaceJSON() -> String {
    func quote(_ s: String) -> String {
      var out = "\""
      for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default:
          if u.value < 0x20 || u.value == 0x7f {
            out += String(format: "\\u%04x", u.value)
          } else {
            out.unicodeScalars.append(u)
          }
        }
      }
      return out + "\""
    }
    let names = tokenBytes.map { ByteLevel.encodeToken($0) }
    var s = "{\n"
    s += "  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
    s += "  \"added_tokens\": [],\n  \"normalizer\": null,\n"
    s += "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
    s += "\"trim_offsets\": true, \"use_regex\": true},\n"
    s += "  \"post_processor\": null,\n"
    s += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
    s += "\"trim_offsets\": true, \"use_regex\": true},\n"
    s +=
      "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
    s += "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
    s += "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n"
    s += "    \"vocab\": {\n"
    for (id, name) in names.enumerated() {
      s += "      \(quote(name)): \(id)" + (id + 1 < names.count ? ",\n" : "\n")
    }
    s += "    },\n    \"merges\": [\n"
    for (r, m) in merges.enumerated() {
      s += "      [\(quote(names[m.0])), \(quote(names[m.1]))]"
      s += r + 1 < merges.count ? ",\n" : "\n"
    }
    s += "    ]\n  }\n}\n"
    return s
  }

  /// Writes `tokenizer.json` (see ``huggingFaceJSON()``).
  public func save(to url: URL) throws {
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(huggingFaceJSON().utf8).write(to: url, options: .atomic)
  }

  /// Reads a byte-level BPE `tokenizer.json` (written by cptui or by Hugging Face `tokenizers`;
  /// merges as `"a b"` strings or `["a", "b"]` pairs). Added/special tokens are ignored.
  public static func load(from url: URL) throws -> BPETokenizer {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
      throw TokenizerFileError.inFile(path: url.path, reason: "no such file")
    }
    guard !isFolder.boolValue else {
      throw TokenizerFileError.inFile(path: url.path, reason: "is a folder, not a tokenizer.json")
    }
    guard let data = try? Data(contentsOf: url) else {
      throw TokenizerFileError.inFile(path: url.path, reason: "cannot be read")
    }
    do {
      return try load(json: data)
    } catch let error as TokenizerFileError {
      throw TokenizerFileError.inFile(path: url.path, reason: error.reason)
    }
  }

  /// Parses `tokenizer.json` contents.
  public static func load(json data: Data) throws -> BPETokenizer {
    let root: Any
    do {
      root = try JSONSerialization.jsonObject(with: data)
    } catch {
      // JSONSerialization's own description is a whole NSError dump; its debug text is one line.
      let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
      throw TokenizerFileError.notJSON(detail.map { String($0.prefix(120)) } ?? "unreadable")
    }
    guard let object = root as? [String: Any], let model = object["model"] as? [String: Any] else {
      throw TokenizerFileError.unsupported("no \"model\" object")
    }
    if let type = model["type"] as? String, type != "BPE" {
      throw TokenizerFileError.unsupported("model type \(type), expected BPE")
    }
    if let pre = object["pre_tokenizer"] as? [String: Any], let type = pre["type"] as? String,
      type != "ByteLevel"
    {
      throw TokenizerFileError.unsupported("pre-tokenizer \(type), expected ByteLevel")
    }
    guard let vocab = model["vocab"] as? [String: Any] else {
      throw TokenizerFileError.unsupported("no vocab")
    }
    var ids: [String: Int] = [:]
    var maxId = -1
    for (name, value) in vocab {
      // Ids are 0..<count when contiguous: anything else (huge, fractional) is refused before
      // it can size an allocation.
      guard let number = (value as? NSNumber)?.doubleValue, number >= 0,
        number < Double(vocab.count), number == number.rounded()
      else {
        throw TokenizerFileError.unsupported(
          "bad id for \(name.prefix(40)) (ids must be 0..<\(vocab.count))")
      }
      let id = Int(number)
      ids[name] = id
      maxId = max(maxId, id)
    }
    var tokenBytes = [[UInt8]?](repeating: nil, count: maxId + 1)
    for (name, id) in ids {
      guard let bytes = ByteLevel.decodeToken(name) else {
        throw TokenizerFileError.unsupported("token \(name) is not byte-level")
      }
      tokenBytes[id] = bytes
    }
    guard !tokenBytes.contains(where: { $0 == nil }) else {
      throw TokenizerFileError.unsupported("vocabulary ids are not contiguous")
    }
    var merges: [(Int, Int)] = []
    var results: [Int] = []
    for item in model["merges"] as? [Any] ?? [] {
      let pair: [String]
      if let s = item as? String {
        pair = s.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
      } else if let a = item as? [String] {
        pair = a
      } else {
        throw TokenizerFileError.unsupported("bad merge \(item)")
      }
      guard pair.count == 2, let l = ids[pair[0]], let r = ids[pair[1]],
        let m = ids[pair[0] + pair[1]]
      else {
        throw TokenizerFileError.unsupported("merge \(pair) refers to unknown tokens")
      }
      merges.append((l, r))
      results.append(m)
    }
    let bytes = tokenBytes.map { $0! }
    var present = Set<UInt8>()
    for t in bytes where t.count == 1 { present.insert(t[0]) }
    guard present.count == 256 else {
      throw TokenizerFileError.unsupported("the vocabulary lacks some of the 256 byte tokens")
    }
    return BPETokenizer(tokenBytes: bytes, merges: merges, mergeResults: results)
  }
}
