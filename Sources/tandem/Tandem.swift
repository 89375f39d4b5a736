import ArgumentParser
import TandemBase

@main
struct Tandem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem",
        abstract: "Tandem: an IP PBX and media server.",
        discussion: """
            Settings come from built-in defaults, then a JSON file (--config or TANDEM_CONFIG), then \
            TANDEM_* environment variables, then flags; later sources win. Run 'tandem config' to see \
            the effective settings.
            """,
        version: TandemVersion.current,
        subcommands: [Serve.self, Media.self, ShowConfiguration.self, Admin.self],
        defaultSubcommand: nil
    )
}

/// Flags shared by the subcommands that read the server configuration.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("JSON configuration file.", discussion: "Env: TANDEM_CONFIG.", valueName: "FILE"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Data directory for the database and files (default ./data). Env: TANDEM_DATA.", valueName: "DIR"))
    var data: String?

    @Option(name: .long, help: ArgumentHelp("HTTP API, /health and /metrics (default 0.0.0.0:8888). Env: TANDEM_HTTP.", valueName: "HOST:PORT"))
    var http: String?

    @Option(name: .long, help: ArgumentHelp("SIP over UDP and TCP (default 0.0.0.0:5060). Env: TANDEM_SIP.", valueName: "HOST:PORT"))
    var sip: String?

    @Option(name: .customLong("sip-tls"), help: ArgumentHelp("SIP over TLS (default 0.0.0.0:5061). Env: TANDEM_SIP_TLS.", valueName: "HOST:PORT"))
    var sipTLS: String?

    @Option(name: .customLong("sip-ws"), help: ArgumentHelp("SIP over WebSocket (default 0.0.0.0:5062). Env: TANDEM_SIP_WS.", valueName: "HOST:PORT"))
    var sipWS: String?

    @Option(name: .customLong("sip-wss"), help: ArgumentHelp("SIP over secure WebSocket (default 0.0.0.0:5065). Env: TANDEM_SIP_WSS.", valueName: "HOST:PORT"))
    var sipWSS: String?

    @Option(name: .customLong("rtp-ports"), help: ArgumentHelp("RTP/RTCP port range (default 20000-39999). Env: TANDEM_RTP_PORTS.", valueName: "FIRST-LAST"))
    var rtpPorts: String?

    @Option(name: .customLong("tls-certificate"), help: ArgumentHelp("PEM certificate (chain) for SIP over TLS and WSS; with --tls-key. Default: a self-signed pair generated in DIR/tls at first start. Env: TANDEM_TLS_CERTIFICATE.", valueName: "FILE"))
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key for --tls-certificate. Env: TANDEM_TLS_KEY.", valueName: "FILE"))
    var tlsKey: String?

    @Option(name: .long, help: ArgumentHelp("Media worker threads (default: one per CPU). Env: TANDEM_WORKERS.", valueName: "N"))
    var workers: String?

    @Option(name: .customLong("log-format"), help: ArgumentHelp("Log format: text or json (default text). Env: TANDEM_LOG_FORMAT.", valueName: "FORMAT"))
    var logFormat: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default info). Env: TANDEM_LOG_LEVEL.", valueName: "LEVEL"))
    var logLevel: String?

    /// The flags that were given, by setting.
    var flags: [ServerConfiguration.Key: String] {
        var result: [ServerConfiguration.Key: String] = [:]
        result[.data] = data
        result[.http] = http
        result[.sip] = sip
        result[.sipTLS] = sipTLS
        result[.sipWS] = sipWS
        result[.sipWSS] = sipWSS
        result[.rtpPorts] = rtpPorts
        result[.tlsCertificate] = tlsCertificate
        result[.tlsKey] = tlsKey
        result[.workers] = workers
        result[.logFormat] = logFormat
        result[.logLevel] = logLevel
        return result
    }
}
