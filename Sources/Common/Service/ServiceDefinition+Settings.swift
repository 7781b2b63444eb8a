extension SettingsLoader {
    /// A service's settings: defaults, then `settings/<service>.yaml` (or `--config`, or `<PREFIX>_WS_CONFIG`),
    /// then the environment, then command-line `flags` by YAML key name (docs/operations.md).
    public static func load(
        service: ServiceDefinition, configPath: String?, environment: [String: String], flags: [String: String]
    ) throws(SettingsError) -> Settings {
        let scope = SettingsScope(
            name: service.name, defaultPort: service.defaultPort, environmentPrefix: service.environmentPrefix,
            environmentAliases: service.environmentAliases, hasMetricsStream: service.metricsStream != nil)
        return try load(service: scope, configPath: configPath, environment: environment, flags: flags)
    }
}
