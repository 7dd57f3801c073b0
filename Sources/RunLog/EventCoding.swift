import Foundation

/// Why one line could not be read as an event.
public struct EventDecodingError: Error, CustomStringConvertible, Equatable, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

// MARK: - Event → JSON

/// Builds a JSON object, leaving out nil fields.
private struct ObjectBuilder {
  var members: [JSONMember] = []

  mutating func add(_ key: String, _ value: JSONValue?) {
    if let value { members.append(JSONMember(key, value)) }
  }
  mutating func add(_ key: String, _ value: Int?) {
    if let value { members.append(JSONMember(key, .int(value))) }
  }
  mutating func add(_ key: String, _ value: Double?) {
    if let value { members.append(JSONMember(key, .number(value))) }
  }
  mutating func add(_ key: String, _ value: String?) {
    if let value { members.append(JSONMember(key, .string(value))) }
  }
  mutating func add(_ key: String, _ value: Bool?) {
    if let value { members.append(JSONMember(key, .bool(value))) }
  }
  mutating func add(_ key: String, _ value: [String]?) {
    if let value { members.append(JSONMember(key, .array(value.map { .string($0) }))) }
  }
}

extension RunEvent {
  /// The event as the JSON object of its log line; `type` comes first.
  public var jsonValue: JSONValue {
    var object = ObjectBuilder()
    object.add("type", typeName)
    switch self {
    case .header(let header):
      object.add("schemaVersion", header.schemaVersion)
      object.add("runName", header.runName)
      object.add("startTime", header.startTime)
      object.add("seed", header.seed)
      object.add("cptuiVersion", header.cptuiVersion)
      object.add("producer", header.producer)
      object.add("command", header.command)
      if let machine = header.machine {
        var facts = ObjectBuilder()
        facts.add("blasKernel", machine.blasKernel)
        facts.add("blasConfig", machine.blasConfig)
        facts.add("threads", machine.threads)
        facts.add("cpu", machine.cpu)
        facts.add("cores", machine.cores)
        facts.add("os", machine.os)
        facts.add("hostname", machine.hostname)
        object.add("machine", JSONValue.object(facts.members))
      }
      object.add("datasets", header.datasets)
      object.add("config", header.config)
      object.add("data", header.data)
    case .step(let event):
      object.add("stage", event.stage)
      object.add("step", event.step)
      object.add("stageStep", event.stageStep)
      object.add("tokens", event.tokens)
      object.add("lr", event.lr)
      object.add("loss", event.loss)
      object.add("gradNorm", event.gradNorm)
      object.add("tokensPerSecond", event.tokensPerSecond)
      object.add("time", event.time)
    case .eval(let event):
      object.add("stage", event.stage)
      object.add("step", event.step)
      object.add("tokens", event.tokens)
      object.add(
        "losses", JSONValue.object(event.losses.map { JSONMember($0.dataset, .number($0.loss)) }))
      object.add("time", event.time)
    case .stageStart(let event):
      object.add("stage", event.stage)
      object.add("name", event.name)
      object.add("dataset", event.dataset)
      object.add("steps", event.steps)
      object.add("tokens", event.tokens)
      object.add("startStep", event.startStep)
      object.add("startTokens", event.startTokens)
      object.add("schedule", event.schedule)
      object.add("scheduleParameters", event.scheduleParameters)
      object.add("warmupFraction", event.warmupFraction)
      object.add("lrMax", event.lrMax)
      object.add("lrMin", event.lrMin)
      object.add("replayPercent", event.replayPercent)
      object.add("replayFrom", event.replayFrom)
      object.add("optimizerState", event.optimizerState.rawValue)
      object.add("replayOrder", event.replayOrder)
      object.add("time", event.time)
    case .stageEnd(let event):
      object.add("stage", event.stage)
      object.add("step", event.step)
      object.add("tokens", event.tokens)
      object.add("reason", event.reason.rawValue)
      object.add("replayedTokens", event.replayedTokens)
      object.add("time", event.time)
    case .checkpoint(let event):
      object.add("path", event.path)
      object.add("step", event.step)
      object.add("stage", event.stage)
      object.add("tokens", event.tokens)
      object.add("time", event.time)
    case .note(let event):
      object.add("text", event.text)
      object.add("step", event.step)
      object.add("time", event.time)
    case .error(let event):
      object.add("kind", event.kind.rawValue)
      object.add("message", event.message)
      object.add("stage", event.stage)
      object.add("step", event.step)
      object.add("value", event.value)
      object.add("time", event.time)
    case .resume(let event):
      object.add("step", event.step)
      object.add("tokens", event.tokens)
      object.add("checkpoint", event.checkpoint)
      object.add("threads", event.threads)
      object.add("stageEnded", event.stageEnded)
      object.add("time", event.time)
    case .runEnd(let event):
      object.add("status", event.status.rawValue)
      object.add("step", event.step)
      object.add("tokens", event.tokens)
      object.add("message", event.message)
      object.add("time", event.time)
    }
    return .object(object.members)
  }

  /// The event as one log line (compact JSON, no trailing newline).
  public var jsonLine: String { JSONText.encode(jsonValue) }
}

// MARK: - JSON → Event

/// Reads typed fields out of one event object.
private struct Fields {
  let members: [JSONMember]

  func value(_ key: String) -> JSONValue? {
    // Last one wins if a key repeats, as in most JSON readers.
    for member in members.reversed() where member.key == key {
      if case .null = member.value { return nil }
      return member.value
    }
    return nil
  }

  /// The `stage` field: stages count from 1.
  func stage() throws(EventDecodingError) -> Int {
    let stage = try int("stage")
    guard stage >= 1 else {
      throw EventDecodingError(
        "field \"stage\" must be 1 or more (stages count from 1), got \(stage)")
    }
    // No run has this many stages: a damaged number would have readers plan every one of them.
    guard stage <= 100_000 else {
      throw EventDecodingError("field \"stage\" must be at most 100000, got \(stage)")
    }
    return stage
  }

  func optionalStage() throws(EventDecodingError) -> Int? {
    guard value("stage") != nil else { return nil }
    return try stage()
  }

  func int(_ key: String) throws(EventDecodingError) -> Int {
    guard let value = value(key) else { throw EventDecodingError("missing field \"\(key)\"") }
    guard let number = value.intValue else {
      throw EventDecodingError("field \"\(key)\" is not an integer")
    }
    return number
  }

  func optionalInt(_ key: String) throws(EventDecodingError) -> Int? {
    guard value(key) != nil else { return nil }
    return try int(key)
  }

  func optionalBool(_ key: String) throws(EventDecodingError) -> Bool? {
    guard let value = value(key) else { return nil }
    guard let flag = value.boolValue else {
      throw EventDecodingError("field \"\(key)\" is not true or false")
    }
    return flag
  }

  func double(_ key: String) throws(EventDecodingError) -> Double {
    guard let value = value(key) else { throw EventDecodingError("missing field \"\(key)\"") }
    guard let number = value.doubleValue else {
      throw EventDecodingError("field \"\(key)\" is not a number")
    }
    return number
  }

  func optionalDouble(_ key: String) throws(EventDecodingError) -> Double? {
    guard value(key) != nil else { return nil }
    return try double(key)
  }

  func string(_ key: String) throws(EventDecodingError) -> String {
    guard let value = value(key) else { throw EventDecodingError("missing field \"\(key)\"") }
    guard let text = value.stringValue else {
      throw EventDecodingError("field \"\(key)\" is not a string")
    }
    return text
  }

  func optionalString(_ key: String) throws(EventDecodingError) -> String? {
    guard value(key) != nil else { return nil }
    return try string(key)
  }

  func strings(_ key: String) throws(EventDecodingError) -> [String]? {
    guard let value = value(key) else { return nil }
    guard let items = value.arrayValue else {
      throw EventDecodingError("field \"\(key)\" is not a list")
    }
    var texts: [String] = []
    for item in items {
      guard let text = item.stringValue else {
        throw EventDecodingError("field \"\(key)\" holds something other than strings")
      }
      texts.append(text)
    }
    return texts
  }
}

extension RunEvent {
  /// Reads an event from its JSON object. Unknown fields are ignored. Returns nil for an object
  /// whose `type` this version does not know (so the format can grow); throws when the object is
  /// not an event or a known event misses a required field.
  public init?(json: JSONValue) throws(EventDecodingError) {
    guard case .object(let members) = json else {
      throw EventDecodingError("not a JSON object")
    }
    let fields = Fields(members: members)
    guard let typeValue = fields.value("type") else {
      throw EventDecodingError("no \"type\" field")
    }
    guard let type = typeValue.stringValue else {
      throw EventDecodingError("field \"type\" is not a string")
    }
    switch type {
    case "step":
      self = .step(
        StepEvent(
          stage: try fields.stage(), step: try fields.int("step"),
          stageStep: try fields.optionalInt("stageStep"), tokens: try fields.int("tokens"),
          lr: try fields.double("lr"), loss: try fields.double("loss"),
          gradNorm: try fields.optionalDouble("gradNorm"),
          tokensPerSecond: try fields.optionalDouble("tokensPerSecond"),
          time: try fields.optionalDouble("time")))
    case "eval":
      guard let lossesValue = fields.value("losses") else {
        throw EventDecodingError("missing field \"losses\"")
      }
      guard let lossMembers = lossesValue.objectValue else {
        throw EventDecodingError("field \"losses\" is not an object")
      }
      var losses: [DatasetLoss] = []
      for member in lossMembers {
        if case .null = member.value { continue }
        guard let loss = member.value.doubleValue else {
          throw EventDecodingError("loss of \"\(member.key)\" is not a number")
        }
        losses.append(DatasetLoss(member.key, loss))
      }
      self = .eval(
        EvalEvent(
          stage: try fields.stage(), step: try fields.int("step"),
          tokens: try fields.int("tokens"), losses: losses, time: try fields.optionalDouble("time")
        ))
    case "header":
      var machine: MachineFacts?
      if let machineValue = fields.value("machine") {
        guard let machineMembers = machineValue.objectValue else {
          throw EventDecodingError("field \"machine\" is not an object")
        }
        let facts = Fields(members: machineMembers)
        machine = MachineFacts(
          blasKernel: try facts.optionalString("blasKernel"),
          blasConfig: try facts.optionalString("blasConfig"),
          threads: try facts.optionalInt("threads"), cpu: try facts.optionalString("cpu"),
          cores: try facts.optionalInt("cores"), os: try facts.optionalString("os"),
          hostname: try facts.optionalString("hostname"))
      }
      self = .header(
        RunHeader(
          schemaVersion: try fields.int("schemaVersion"),
          runName: try fields.optionalString("runName") ?? "",
          startTime: try fields.optionalString("startTime") ?? "",
          seed: try fields.optionalInt("seed"),
          cptuiVersion: try fields.optionalString("cptuiVersion"),
          producer: try fields.optionalString("producer"), command: try fields.strings("command"),
          machine: machine, datasets: try fields.strings("datasets") ?? [],
          config: fields.value("config"), data: fields.value("data")))
    case "stageStart":
      let steps = try fields.int("steps")
      // At most 2^36 steps (far past any CPU run), so that steps × tokens per step cannot overflow.
      guard (0...(1 << 36)).contains(steps) else {
        throw EventDecodingError("field \"steps\" must be 0 to 2^36, got \(steps)")
      }
      self = .stageStart(
        StageStartEvent(
          stage: try fields.stage(), name: try fields.optionalString("name"),
          dataset: try fields.string("dataset"), steps: steps,
          tokens: try fields.optionalInt("tokens") ?? 0,
          startStep: try fields.optionalInt("startStep") ?? 0,
          startTokens: try fields.optionalInt("startTokens") ?? 0,
          schedule: try fields.optionalString("schedule") ?? "cosine",
          scheduleParameters: fields.value("scheduleParameters"),
          warmupFraction: try fields.optionalDouble("warmupFraction") ?? 0,
          lrMax: try fields.double("lrMax"), lrMin: try fields.double("lrMin"),
          replayPercent: try fields.optionalDouble("replayPercent") ?? 0,
          replayFrom: try fields.strings("replayFrom") ?? [],
          optimizerState: OptimizerStateAction(
            try fields.optionalString("optimizerState") ?? "reset"),
          time: try fields.optionalDouble("time")))
      if case .stageStart(var start) = self {
        start.replayOrder = try fields.optionalString("replayOrder")
        self = .stageStart(start)
      }
    case "stageEnd":
      self = .stageEnd(
        StageEndEvent(
          stage: try fields.stage(), step: try fields.int("step"),
          tokens: try fields.optionalInt("tokens") ?? 0,
          reason: StageEndReason(try fields.optionalString("reason") ?? "completed"),
          time: try fields.optionalDouble("time")))
      if case .stageEnd(var end) = self {
        end.replayedTokens = try fields.optionalInt("replayedTokens")
        self = .stageEnd(end)
      }
    case "checkpoint":
      self = .checkpoint(
        CheckpointEvent(
          path: try fields.string("path"), step: try fields.int("step"),
          stage: try fields.optionalStage(), tokens: try fields.optionalInt("tokens"),
          time: try fields.optionalDouble("time")))
    case "note":
      self = .note(
        NoteEvent(
          text: try fields.string("text"), step: try fields.optionalInt("step"),
          time: try fields.optionalDouble("time")))
    case "error":
      self = .error(
        ErrorEvent(
          kind: ErrorKind(try fields.optionalString("kind") ?? "other"),
          message: try fields.optionalString("message") ?? "",
          stage: try fields.optionalStage(), step: try fields.optionalInt("step"),
          value: try fields.optionalDouble("value"), time: try fields.optionalDouble("time")))
    case "resume":
      self = .resume(
        ResumeEvent(
          step: try fields.int("step"), tokens: try fields.optionalInt("tokens"),
          checkpoint: try fields.optionalString("checkpoint"),
          threads: try fields.optionalInt("threads"),
          stageEnded: try fields.optionalBool("stageEnded"),
          time: try fields.optionalDouble("time")))
    case "runEnd":
      self = .runEnd(
        RunEndEvent(
          status: RunEndStatus(try fields.optionalString("status") ?? "completed"),
          step: try fields.optionalInt("step"), tokens: try fields.optionalInt("tokens"),
          message: try fields.optionalString("message"), time: try fields.optionalDouble("time")))
    default:
      return nil
    }
  }

  /// Reads an event from one log line (see `init?(json:)`).
  public init?(jsonLine: String) throws(EventDecodingError) {
    let json: JSONValue
    do {
      json = try JSONText.parse(jsonLine)
    } catch {
      throw EventDecodingError("not JSON: \(error)")
    }
    try self.init(json: json)
  }
}

extension RunEvent: Codable {
  /// Decodes the log representation (as `init?(json:)`); unknown types are a decoding error here.
  public init(from decoder: any Decoder) throws {
    let json = try JSONValue(from: decoder)
    guard let event = try RunEvent(json: json) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "unknown event type"))
    }
    self = event
  }

  /// Encodes the log representation.
  public func encode(to encoder: any Encoder) throws {
    try jsonValue.encode(to: encoder)
  }
}
