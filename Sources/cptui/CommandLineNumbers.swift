/// Negative numbers as option values: ArgumentParser reads `--width -1` as an option `-1` and
/// says "Missing value for '--width'"; joined into `--width=-1`, the command's own check says what
/// is wrong with the value ("--width must be 400 or more, got -1").
enum CommandLineNumbers {
  static func joined(_ arguments: [String]) -> [String] {
    var out: [String] = []
    var i = 0
    while i < arguments.count {
      let argument = arguments[i]
      if argument.hasPrefix("--"), argument.count > 2, !argument.contains("="),
        i + 1 < arguments.count, isNegativeNumber(arguments[i + 1])
      {
        out.append(argument + "=" + arguments[i + 1])
        i += 2
        continue
      }
      if argument == "--" {  // everything after it is positional
        out += arguments[i...]
        break
      }
      out.append(argument)
      i += 1
    }
    return out
  }

  /// "-1", "-0.5", "-3e-4", "-.5".
  static func isNegativeNumber(_ text: String) -> Bool {
    guard text.hasPrefix("-"), text.count > 1 else { return false }
    return Double(text) != nil
  }
}
