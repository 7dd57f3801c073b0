/// A shortcut for the commonest line of a log, a step event as cptui writes it: no white space,
/// `type` first, keys without escapes. It reads the fields straight from the bytes (no JSON tree,
/// no strings). Anything unusual returns nil and the line goes the general way, which also gives
/// the proper error message; so this changes speed, never results.
enum FastStep {
  static let prefix: [UInt8] = Array(#"{"type":"step","#.utf8)

  static func decode(_ line: UnsafeBufferPointer<UInt8>) -> StepEvent? {
    guard line.count > prefix.count, let base = line.baseAddress else { return nil }
    for index in 0..<prefix.count where base[index] != prefix[index] { return nil }
    var parser = JSONParser(bytes: line)
    parser.position = prefix.count
    var stage: Int?
    var step: Int?
    var stageStep: Int?
    var tokens: Int?
    var lr: Double?
    var loss: Double?
    var gradNorm: Double?
    var tokensPerSecond: Double?
    var time: Double?
    while true {
      guard parser.position < line.count, line[parser.position] == UInt8(ascii: "\"") else {
        return nil
      }
      let keyStart = parser.position + 1
      var keyEnd = keyStart
      while keyEnd < line.count, line[keyEnd] != UInt8(ascii: "\"") {
        if line[keyEnd] == UInt8(ascii: "\\") { return nil }
        keyEnd += 1
      }
      guard keyEnd + 1 < line.count, line[keyEnd + 1] == UInt8(ascii: ":") else { return nil }
      parser.position = keyEnd + 2
      let key = Key(UnsafeBufferPointer(rebasing: line[keyStart..<keyEnd]))
      guard let value = number(&parser) else { return nil }
      switch key {
      case .stage:
        // Stage 0 or below, or past 100000, goes the general way, which names the problem.
        guard let integer = value.int, (1...100_000).contains(integer) else { return nil }
        stage = integer
      case .step:
        guard let integer = value.int else { return nil }
        step = integer
      case .stageStep:
        guard let integer = value.int else { return nil }
        stageStep = integer
      case .tokens:
        guard let integer = value.int else { return nil }
        tokens = integer
      case .lr: lr = value.double
      case .loss: loss = value.double
      case .gradNorm: gradNorm = value.double
      case .tokensPerSecond: tokensPerSecond = value.double
      case .time: time = value.double
      case .other: return nil
      }
      guard parser.position < line.count else { return nil }
      let next = line[parser.position]
      parser.position += 1
      if next == UInt8(ascii: "}") { break }
      guard next == UInt8(ascii: ",") else { return nil }
    }
    guard parser.position == line.count, let stage, let step, let tokens, let lr, let loss else {
      return nil
    }
    return StepEvent(
      stage: stage, step: step, stageStep: stageStep, tokens: tokens, lr: lr, loss: loss,
      gradNorm: gradNorm, tokensPerSecond: tokensPerSecond, time: time)
  }

  /// A number as read: an integer literal or anything else.
  enum Number {
    case int(Int)
    case double(Double)

    /// The value when it is a whole number (`12` or `12.0`).
    var int: Int? {
      switch self {
      case .int(let integer): return integer
      case .double(let double): return JSONValue.double(double).intValue
      }
    }

    var double: Double {
      switch self {
      case .int(let integer): return Double(integer)
      case .double(let double): return double
      }
    }
  }

  /// A number, or one of the strings "NaN", "Infinity", "-Infinity".
  static func number(_ parser: inout JSONParser) -> Number? {
    guard parser.position < parser.bytes.count else { return nil }
    let first = parser.bytes[parser.position]
    if first == UInt8(ascii: "\"") {
      guard let text = try? parser.parseString(), let value = JSONValue.nonFiniteNumber(text) else {
        return nil
      }
      return .double(value)
    }
    guard first == UInt8(ascii: "-") || (first &- UInt8(ascii: "0")) < 10,
      let value = try? parser.parseNumber()
    else { return nil }
    switch value {
    case .int(let integer): return .int(integer)
    case .double(let double): return .double(double)
    default: return nil
    }
  }

  enum Key {
    case stage, step, stageStep, tokens, lr, loss, gradNorm, tokensPerSecond, time, other

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
      func equals(_ text: StaticString) -> Bool {
        guard text.utf8CodeUnitCount == bytes.count else { return false }
        let start = text.utf8Start
        for index in 0..<bytes.count where bytes[index] != start[index] { return false }
        return true
      }
      switch bytes.count {
      case 2: self = equals("lr") ? .lr : .other
      case 4:
        self = equals("step") ? .step : equals("loss") ? .loss : equals("time") ? .time : .other
      case 5: self = equals("stage") ? .stage : .other
      case 6: self = equals("tokens") ? .tokens : .other
      case 8: self = equals("gradNorm") ? .gradNorm : .other
      case 9: self = equals("stageStep") ? .stageStep : .other
      case 15: self = equals("tokensPerSecond") ? .tokensPerSecond : .other
      default: self = .other
      }
    }
  }
}
