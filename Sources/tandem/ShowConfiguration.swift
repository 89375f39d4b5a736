import ArgumentParser
import Foundation

/// `tandem config`: prints the effective configuration as JSON.
struct ShowConfiguration: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective configuration (defaults, file, environment and flags merged) as JSON."
    )

    @OptionGroup var options: ServerOptions

    func run() throws {
        let config: ServerConfiguration
        do {
            config = try ServerConfiguration.resolve(configFile: options.config,
                                                     environment: ProcessInfo.processInfo.environment,
                                                     flags: options.flags)
        } catch {
            throw Console.fail(error.description)
        }
        let data = try JSONSerialization.data(withJSONObject: config.jsonObject, options: [.prettyPrinted, .sortedKeys])
        Console.out(String(decoding: data, as: UTF8.self))
    }
}
