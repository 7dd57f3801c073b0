import ArgumentParser
import Model

/// Model-size options shared by `bench` and other engine commands. Defaults are reference config B.
struct ModelOptions: ParsableArguments {
  @Option(help: "Transformer blocks (L).") var layers = 4
  @Option(help: "Attention heads per block (H).") var heads = 4
  @Option(help: "Residual width (C).") var width = 128
  @Option(help: "Context length in tokens (T).") var context = 128
  @Option(help: "Vocabulary size (V).") var vocab = 512
  @Option(help: "Share of each head's dimensions with rotary embedding.") var rotaryFraction = 0.25

  var config: ModelConfig {
    ModelConfig(
      layers: layers, heads: heads, width: width, context: context, vocab: vocab,
      rotaryFraction: rotaryFraction)
  }

  func validate() throws {
    do {
      try config.validate()
    } catch {
      throw ValidationError("--\(error.field.kebabCased): \(error.message)")
    }
  }
}

extension String {
  /// `rotaryFraction` → `rotary-fraction`, for naming command-line options in messages.
  var kebabCased: String {
    var out = ""
    for ch in self {
      if ch.isUppercase {
        out += "-" + ch.lowercased()
      } else {
        out.append(ch)
      }
    }
    return out
  }
}
